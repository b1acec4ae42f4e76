-- Seed 001's migration phase 4 ("data partitioning for large tables", "archival strategies for
-- execution history") and its Data Archival Strategy: the executions partitioned by month of
-- creation, an archive they move to after 30 days, both cleaned up by `fleetdeck archive`.
--
-- What a partitioned table cannot have, and what stands in for it:
-- - A primary key or unique constraint must include the partition key. The key is (id,
--   created_at); `platform.execution_ids` holds every execution's id and correlation id, in the
--   table or in its archive, with the seed's "each execution has a unique correlation ID" as its
--   unique constraint (same name as before) and the ids' uniqueness as its primary key.
-- - A foreign key must point at a unique constraint: the retry chain's parent_execution_id points
--   at `platform.execution_ids`, so a parent moved to the archive is still a parent. It is
--   checked at commit, so one statement can write a parent and its retry.
-- The state machine, the retry rule, the row-level policy, the seed's indexes and the maintained
-- counts are restated on the partitioned table as they were.

-- 1. The table as it was, out of the way of the new one's names.
ALTER TABLE platform.workflow_executions RENAME TO workflow_executions_unpartitioned;
ALTER INDEX platform.workflow_executions_pkey RENAME TO workflow_executions_unpartitioned_pkey;
ALTER TABLE platform.workflow_executions_unpartitioned
    RENAME CONSTRAINT workflow_executions_correlation_id_key TO workflow_executions_unpartitioned_correlation_key;

-- 2. The partitioned table: the seed's columns, created_at required (it places the row).
CREATE TABLE platform.workflow_executions (
    id                  uuid NOT NULL DEFAULT gen_random_uuid(),
    workflow_id         uuid NOT NULL REFERENCES platform.workflows (id) ON DELETE CASCADE,
    agent_id            uuid NOT NULL REFERENCES platform.agents (id) ON DELETE CASCADE,
    status              varchar(20) NOT NULL DEFAULT 'queued' CHECK (status IN
                            ('queued', 'pending', 'running', 'paused', 'completed', 'failed', 'cancelled', 'timeout')),
    status_message      text,
    started_at          timestamptz DEFAULT now(),
    completed_at        timestamptz,
    paused_at           timestamptz,
    resumed_at          timestamptz,
    execution_data      jsonb,
    execution_logs      jsonb,
    error_message       text,
    error_code          varchar(50),
    retry_count         integer DEFAULT 0,
    max_retries         integer DEFAULT 3,
    resource_usage      jsonb,
    performance_metrics jsonb,
    correlation_id      uuid NOT NULL,
    parent_execution_id uuid,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz DEFAULT now(),
    CONSTRAINT workflow_executions_pkey PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);

-- Rows no monthly partition takes (a clock far off, an import from long ago) land here, so an
-- insert never fails for want of a partition.
CREATE TABLE platform.workflow_executions_default PARTITION OF platform.workflow_executions DEFAULT;

-- The month `month` falls in, as a partition (platform.workflow_executions_pYYYYMM), unless it is
-- there. A month whose rows are already in the default partition is left there (they are
-- served all the same) and reported by a notice. Returns whether it made one.
CREATE FUNCTION fleetdeck.execution_partition(month timestamptz) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, platform
AS $$
DECLARE
    lo timestamptz := date_trunc('month', month AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    hi timestamptz := (date_trunc('month', month AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
    name text := 'workflow_executions_p' || to_char(lo AT TIME ZONE 'UTC', 'YYYYMM');
BEGIN
    IF to_regclass('platform.' || name) IS NOT NULL THEN
        RETURN false;
    END IF;
    IF EXISTS (SELECT 1 FROM platform.workflow_executions_default WHERE created_at >= lo AND created_at < hi) THEN
        RAISE NOTICE 'executions of % are in the default partition; % is not made', to_char(lo, 'YYYY-MM'), name;
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE platform.%I PARTITION OF platform.workflow_executions FOR VALUES FROM (%L) TO (%L)',
                   name, lo, hi);
    RETURN true;
END
$$;

-- A partition for each month from the one `since` falls in to `months_ahead` after this one:
-- how many were made.
CREATE FUNCTION fleetdeck.ensure_execution_partitions(since timestamptz, months_ahead integer) RETURNS integer
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck
AS $$
    SELECT count(*) FILTER (WHERE fleetdeck.execution_partition(m AT TIME ZONE 'UTC'))::integer
    FROM generate_series(date_trunc('month', least(since, now()) AT TIME ZONE 'UTC'),
                         date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => months_ahead),
                         interval '1 month') m;
$$;

-- A partition for each month the executions already span, and three ahead.
SELECT fleetdeck.ensure_execution_partitions(
    coalesce((SELECT min(coalesce(created_at, started_at)) FROM platform.workflow_executions_unpartitioned), now()), 3);

-- 3. The rows, each in its month.
INSERT INTO platform.workflow_executions
SELECT id, workflow_id, agent_id, status, status_message, started_at, completed_at, paused_at, resumed_at,
       execution_data, execution_logs, error_message, error_code, retry_count, max_retries, resource_usage,
       performance_metrics, correlation_id, parent_execution_id, coalesce(created_at, started_at, now()), updated_at
FROM platform.workflow_executions_unpartitioned;

-- 4. Every execution's ids, wherever it lives.
CREATE TABLE platform.execution_ids (
    id             uuid PRIMARY KEY,
    correlation_id uuid NOT NULL,
    -- Seed rule "each execution must have a unique correlation ID", across table and archive.
    CONSTRAINT workflow_executions_correlation_id_key UNIQUE (correlation_id)
);
INSERT INTO platform.execution_ids SELECT id, correlation_id FROM platform.workflow_executions;

DROP TABLE platform.workflow_executions_unpartitioned;

ALTER TABLE platform.workflow_executions
    ADD CONSTRAINT workflow_executions_parent_execution_id_fkey FOREIGN KEY (parent_execution_id)
        REFERENCES platform.execution_ids (id) DEFERRABLE INITIALLY DEFERRED;

-- 5. The archive: the same columns and rules, and when each row came.
CREATE TABLE platform.workflow_executions_archive (
    id                  uuid PRIMARY KEY,
    workflow_id         uuid NOT NULL REFERENCES platform.workflows (id) ON DELETE CASCADE,
    agent_id            uuid NOT NULL REFERENCES platform.agents (id) ON DELETE CASCADE,
    status              varchar(20) NOT NULL CHECK (status IN
                            ('queued', 'pending', 'running', 'paused', 'completed', 'failed', 'cancelled', 'timeout')),
    status_message      text,
    started_at          timestamptz,
    completed_at        timestamptz,
    paused_at           timestamptz,
    resumed_at          timestamptz,
    execution_data      jsonb,
    execution_logs      jsonb,
    error_message       text,
    error_code          varchar(50),
    retry_count         integer,
    max_retries         integer,
    resource_usage      jsonb,
    performance_metrics jsonb,
    correlation_id      uuid NOT NULL,
    parent_execution_id uuid REFERENCES platform.execution_ids (id) DEFERRABLE INITIALLY DEFERRED,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz,
    archived_at         timestamptz NOT NULL DEFAULT now()
);

-- 6. The seed's indexes and ours, on the partitioned table (each partition gets its own).
CREATE INDEX idx_workflow_executions_status ON platform.workflow_executions (status);
CREATE INDEX idx_workflow_executions_agent_status ON platform.workflow_executions (agent_id, status);
CREATE INDEX idx_workflow_executions_correlation ON platform.workflow_executions (correlation_id);
CREATE INDEX idx_workflow_executions_started ON platform.workflow_executions (started_at);
CREATE INDEX idx_executions_workflow_id ON platform.workflow_executions (workflow_id);
CREATE INDEX idx_executions_agent_id ON platform.workflow_executions (agent_id);
CREATE INDEX idx_executions_status ON platform.workflow_executions (status);
CREATE INDEX idx_executions_started_at ON platform.workflow_executions (started_at);
CREATE INDEX idx_executions_correlation_id ON platform.workflow_executions (correlation_id);
CREATE INDEX idx_executions_parent_execution_id ON platform.workflow_executions (parent_execution_id);
CREATE INDEX idx_executions_updated_at_id ON platform.workflow_executions (updated_at, id);
CREATE INDEX idx_executions_status_started ON platform.workflow_executions (status, started_at);
CREATE INDEX workflow_executions_list_idx
    ON platform.workflow_executions ((coalesce(started_at, '-infinity'::timestamptz)), id);
-- What `fleetdeck archive` moves: final executions by when they ended.
-- (The predicate is written as PostgreSQL prints it back, so that an index dropped and made
-- again from its definition, as `BulkLoad` does, is the same index.)
CREATE INDEX workflow_executions_ended_idx ON platform.workflow_executions ((coalesce(completed_at, created_at)))
    WHERE (status)::text = ANY ((ARRAY['completed'::character varying, 'failed'::character varying,
                                       'cancelled'::character varying, 'timeout'::character varying])::text[]);

CREATE INDEX workflow_executions_archive_list_idx
    ON platform.workflow_executions_archive ((coalesce(started_at, '-infinity'::timestamptz)), id);
CREATE INDEX workflow_executions_archive_archived_idx ON platform.workflow_executions_archive (archived_at);
CREATE INDEX workflow_executions_archive_ended_idx
    ON platform.workflow_executions_archive ((coalesce(completed_at, created_at)));
CREATE INDEX workflow_executions_archive_parent_idx ON platform.workflow_executions_archive (parent_execution_id);
CREATE INDEX workflow_executions_archive_workflow_idx ON platform.workflow_executions_archive (workflow_id);
CREATE INDEX workflow_executions_archive_agent_idx ON platform.workflow_executions_archive (agent_id, status);
CREATE INDEX workflow_executions_archive_correlation_idx ON platform.workflow_executions_archive (correlation_id);

-- 7. The triggers the table had, in the same order of effect.
CREATE TRIGGER workflow_executions_status_transition BEFORE UPDATE OF status ON platform.workflow_executions
    FOR EACH ROW EXECUTE FUNCTION platform.check_execution_transition();
CREATE TRIGGER workflow_executions_updated_at BEFORE UPDATE ON platform.workflow_executions
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();
CREATE TRIGGER workflow_executions_refuse_viewers BEFORE INSERT OR UPDATE OR DELETE ON platform.workflow_executions
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.refuse_viewer_row();
CREATE TRIGGER workflow_executions_notify AFTER INSERT OR UPDATE OR DELETE ON platform.workflow_executions
    FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.notify_change('executions');
CREATE TRIGGER workflow_executions_counted_ins AFTER INSERT ON platform.workflow_executions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.count_executions_inserted();
CREATE TRIGGER workflow_executions_counted_upd AFTER UPDATE ON platform.workflow_executions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.count_executions_updated();
CREATE TRIGGER workflow_executions_counted_del AFTER DELETE ON platform.workflow_executions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.count_executions_deleted();
CREATE TRIGGER workflow_executions_counted_trunc AFTER TRUNCATE ON platform.workflow_executions
    FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.count_executions_truncated();
CREATE TRIGGER workflow_executions_archive_notify AFTER INSERT OR UPDATE OR DELETE ON platform.workflow_executions_archive
    FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.notify_change('executions');

-- The ids follow the rows: made with the row, kept while the row is in the table or the archive.
CREATE FUNCTION fleetdeck.execution_ids_inserted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, platform
AS $$
BEGIN
    INSERT INTO platform.execution_ids (id, correlation_id) SELECT id, correlation_id FROM new_rows;
    RETURN NULL;
END
$$;
CREATE FUNCTION fleetdeck.execution_ids_deleted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, platform
AS $$
BEGIN
    DELETE FROM platform.execution_ids i USING old_rows o
    WHERE i.id = o.id
      AND NOT EXISTS (SELECT 1 FROM platform.workflow_executions e WHERE e.id = o.id)
      AND NOT EXISTS (SELECT 1 FROM platform.workflow_executions_archive a WHERE a.id = o.id);
    RETURN NULL;
END
$$;
CREATE FUNCTION fleetdeck.execution_ids_truncated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, platform
AS $$
BEGIN
    DELETE FROM platform.execution_ids i
    WHERE NOT EXISTS (SELECT 1 FROM platform.workflow_executions e WHERE e.id = i.id)
      AND NOT EXISTS (SELECT 1 FROM platform.workflow_executions_archive a WHERE a.id = i.id);
    RETURN NULL;
END
$$;
-- An execution's id and correlation id are what it is known by: they do not change.
CREATE FUNCTION fleetdeck.execution_ids_fixed() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.correlation_id IS DISTINCT FROM OLD.correlation_id THEN
        RAISE EXCEPTION 'an execution''s id and correlation_id do not change (execution %)', OLD.id
            USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER workflow_executions_ids_fixed BEFORE UPDATE OF id, correlation_id
    ON platform.workflow_executions FOR EACH ROW EXECUTE FUNCTION fleetdeck.execution_ids_fixed();
CREATE TRIGGER workflow_executions_ids_ins AFTER INSERT ON platform.workflow_executions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.execution_ids_inserted();
CREATE TRIGGER workflow_executions_ids_del AFTER DELETE ON platform.workflow_executions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.execution_ids_deleted();
CREATE TRIGGER workflow_executions_ids_trunc AFTER TRUNCATE ON platform.workflow_executions
    FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.execution_ids_truncated();
CREATE TRIGGER workflow_executions_archive_ids_del AFTER DELETE ON platform.workflow_executions_archive
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.execution_ids_deleted();

-- A viewer's refused change names the table, not the partition the row is in.
CREATE OR REPLACE FUNCTION fleetdeck.refuse_viewer_row() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    r jsonb;
    org text;
    tab text;
BEGIN
    IF current_user <> 'authenticated' THEN
        RETURN coalesce(NEW, OLD);
    END IF;
    r := to_jsonb(coalesce(NEW, OLD));
    IF TG_TABLE_NAME = 'agents' THEN
        org := auth.viewer_of(r ->> 'owner_type', (r ->> 'owner_id')::uuid);
    ELSE
        SELECT auth.viewer_of(a.owner_type, a.owner_id) INTO org
        FROM platform.agents a WHERE a.id = (r ->> 'agent_id')::uuid;
    END IF;
    IF org IS NOT NULL THEN
        SELECT coalesce((SELECT p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
                         WHERE i.inhrelid = TG_RELID), TG_TABLE_NAME) INTO tab;
        RAISE EXCEPTION 'viewers of % may only read %', org, replace(tab, 'workflow_', '')
            USING ERRCODE = 'insufficient_privilege', TABLE = tab, SCHEMA = TG_TABLE_SCHEMA;
    END IF;
    RETURN coalesce(NEW, OLD);
END
$$;

-- 8. The seed's row-level policy (in migration 25's form), on both.
ALTER TABLE platform.workflow_executions ENABLE ROW LEVEL SECURITY;
CREATE POLICY executions_workflow_access ON platform.workflow_executions
    FOR ALL TO authenticated
    USING (
        workflow_id = ANY (ARRAY(
            SELECT w.id FROM platform.workflows w
            JOIN platform.agents a ON w.agent_id = a.id
            WHERE
                (a.owner_type = 'user' AND a.owner_id = auth.uid()) OR
                (a.owner_type = 'organization' AND a.owner_id = ANY (ARRAY(
                    SELECT organization_id
                    FROM platform.organization_members
                    WHERE user_id = auth.uid()
                )))
        ))
    );
ALTER TABLE platform.workflow_executions_archive ENABLE ROW LEVEL SECURITY;
CREATE POLICY executions_archive_workflow_access ON platform.workflow_executions_archive
    FOR SELECT TO authenticated
    USING (
        workflow_id = ANY (ARRAY(
            SELECT w.id FROM platform.workflows w
            JOIN platform.agents a ON w.agent_id = a.id
            WHERE
                (a.owner_type = 'user' AND a.owner_id = auth.uid()) OR
                (a.owner_type = 'organization' AND a.owner_id = ANY (ARRAY(
                    SELECT organization_id
                    FROM platform.organization_members
                    WHERE user_id = auth.uid()
                )))
        ))
    );

-- A platform user works on the table as before; the archive is read-only to them (only
-- `fleetdeck archive`, as the database's owner, moves and deletes).
GRANT SELECT, INSERT, UPDATE, DELETE ON platform.workflow_executions TO authenticated;
GRANT SELECT ON platform.workflow_executions_archive TO authenticated;

-- 9. One batch of `fleetdeck archive`, each a transaction of its own (the caller's statement):
-- at most `batch` final executions (of `statuses`) that ended before `cutoff`, moved to the
-- archive. Rows another transaction holds are skipped (and taken by a later batch), so no
-- writer waits on it and it waits on none. Returns how many moved.
CREATE FUNCTION fleetdeck.archive_executions(cutoff timestamptz, statuses text[], batch integer) RETURNS integer
    LANGUAGE plpgsql SET search_path = pg_catalog, platform
AS $$
DECLARE
    moved integer;
BEGIN
    IF NOT statuses <@ ARRAY['completed', 'failed', 'cancelled', 'timeout'] THEN
        RAISE EXCEPTION 'only final executions are archived (completed, failed, cancelled, timeout), not %', statuses
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    WITH batch AS (
        SELECT id, created_at FROM platform.workflow_executions
        WHERE status IN ('completed', 'failed', 'cancelled', 'timeout') AND status = ANY (statuses)
          AND coalesce(completed_at, created_at) < cutoff
        ORDER BY coalesce(completed_at, created_at)
        LIMIT batch
        FOR UPDATE SKIP LOCKED
    ), copied AS (
        INSERT INTO platform.workflow_executions_archive
            (id, workflow_id, agent_id, status, status_message, started_at, completed_at, paused_at, resumed_at,
             execution_data, execution_logs, error_message, error_code, retry_count, max_retries, resource_usage,
             performance_metrics, correlation_id, parent_execution_id, created_at, updated_at)
        SELECT e.id, e.workflow_id, e.agent_id, e.status, e.status_message, e.started_at, e.completed_at,
               e.paused_at, e.resumed_at, e.execution_data, e.execution_logs, e.error_message, e.error_code,
               e.retry_count, e.max_retries, e.resource_usage, e.performance_metrics, e.correlation_id,
               e.parent_execution_id, e.created_at, e.updated_at
        FROM platform.workflow_executions e JOIN batch b ON b.id = e.id AND b.created_at = e.created_at
        RETURNING id, created_at
    )
    DELETE FROM platform.workflow_executions e USING copied c WHERE c.id = e.id AND c.created_at = e.created_at;
    GET DIAGNOSTICS moved = ROW_COUNT;
    RETURN moved;
END
$$;

-- One batch of the archive's cleanup: at most `batch` archived executions that ended before
-- `cutoff` and that no execution (in the table or the archive) names as its parent, deleted.
-- A parent goes in a later batch than its last retry, so a retry chain is never broken.
CREATE FUNCTION fleetdeck.purge_archived_executions(cutoff timestamptz, batch integer) RETURNS integer
    LANGUAGE plpgsql SET search_path = pg_catalog, platform
AS $$
DECLARE
    gone integer;
BEGIN
    DELETE FROM platform.workflow_executions_archive a
    WHERE a.id IN (
        SELECT x.id FROM platform.workflow_executions_archive x
        WHERE coalesce(x.completed_at, x.created_at) < cutoff
          AND NOT EXISTS (SELECT 1 FROM platform.workflow_executions c WHERE c.parent_execution_id = x.id)
          AND NOT EXISTS (SELECT 1 FROM platform.workflow_executions_archive c WHERE c.parent_execution_id = x.id)
        ORDER BY coalesce(x.completed_at, x.created_at)
        LIMIT batch
        FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS gone = ROW_COUNT;
    RETURN gone;
END
$$;

-- 10. The audit log stays append-only, but for its retention: `fleetdeck.purge_audit` deletes
-- rows older than its cutoff, and nothing else may delete a row.
CREATE OR REPLACE FUNCTION fleetdeck.audit_log_append_only() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('fleetdeck.audit_purge_before', true) <> ''
       AND OLD.at < current_setting('fleetdeck.audit_purge_before', true)::timestamptz THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: rows cannot be changed or deleted'
        USING ERRCODE = 'insufficient_privilege', TABLE = 'audit_log';
END
$$;

-- One batch: at most `batch` audit rows older than `cutoff` (which must be 30 days ago or
-- more), deleted.
CREATE FUNCTION fleetdeck.purge_audit(cutoff timestamptz, batch integer) RETURNS integer
    LANGUAGE plpgsql SET search_path = pg_catalog, fleetdeck
AS $$
DECLARE
    gone integer;
BEGIN
    IF cutoff > now() - interval '30 days' THEN
        RAISE EXCEPTION 'audit rows are kept 30 days at least (cutoff % is later)', cutoff
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM set_config('fleetdeck.audit_purge_before', cutoff::text, true);
    DELETE FROM fleetdeck.audit_log WHERE id IN (
        SELECT id FROM fleetdeck.audit_log WHERE at < cutoff ORDER BY at LIMIT batch);
    GET DIAGNOSTICS gone = ROW_COUNT;
    PERFORM set_config('fleetdeck.audit_purge_before', '', true);
    RETURN gone;
END
$$;

-- Monthly partitions wholly before `before` that hold no row, dropped; each waits at most
-- `lock_timeout` for its lock and is left for a later run when it cannot have it. Returns the
-- names dropped.
CREATE FUNCTION fleetdeck.drop_empty_execution_partitions(before timestamptz) RETURNS text[]
    LANGUAGE plpgsql SET search_path = pg_catalog, platform
AS $$
DECLARE
    p record;
    dropped text[] := '{}';
    empty boolean;
BEGIN
    FOR p IN
        SELECT c.relname
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'platform.workflow_executions'::regclass AND c.relname ~ '^workflow_executions_p[0-9]{6}$'
        ORDER BY c.relname
    LOOP
        IF ((to_date(substr(p.relname, 22, 6), 'YYYYMM') + interval '1 month') AT TIME ZONE 'UTC') > before THEN
            CONTINUE;
        END IF;
        EXECUTE format('SELECT NOT EXISTS (SELECT 1 FROM platform.%I)', p.relname) INTO empty;
        IF empty THEN
            BEGIN
                EXECUTE format('DROP TABLE platform.%I', p.relname);
                dropped := dropped || p.relname::text;
            EXCEPTION WHEN lock_not_available THEN
                NULL;
            END;
        END IF;
    END LOOP;
    RETURN dropped;
END
$$;

-- 11. After a load without triggers, the ids too are reckoned again (before the foreign keys
-- are checked: `BulkLoad` calls this first).
CREATE OR REPLACE FUNCTION fleetdeck.after_bulk_load(loaded regclass) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck
AS $$
BEGIN
    IF loaded = 'platform.workflow_executions'::regclass THEN
        INSERT INTO platform.execution_ids (id, correlation_id)
        SELECT id, correlation_id FROM platform.workflow_executions
        ON CONFLICT (id) DO NOTHING;
        PERFORM fleetdeck.recount_executions();
    ELSIF loaded = 'edge.host'::regclass THEN
        PERFORM fleetdeck.reread_host_hardware();
        PERFORM fleetdeck.reread_host_order();
    ELSIF loaded::text LIKE 'broker.%' THEN
        PERFORM fleetdeck.rebuild_reach();
    END IF;
END
$$;

ANALYZE platform.workflow_executions;
ANALYZE platform.execution_ids;
