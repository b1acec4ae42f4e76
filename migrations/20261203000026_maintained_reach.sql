-- Which live agents each live stack reaches (by target, label and annotation) and what each
-- reached agent last reported on the stack's desired object, kept by the database as targets,
-- labels, annotations, agents, stacks, objects and events change, instead of reckoned per stack
-- on every read (about 0.3 ms a stack: the Rollouts pane's `state=` filter read 667 ms, `rollout
-- list` 858 ms). What depends on the clock (an unreported agent offline by heartbeat age) is
-- joined at read time through the partial index of the unreported pairs.
--
-- fleetdeck.stack_reach holds one row per reached pair. Its per-stack and per-agent counts are
-- insert-only deltas folded as they come, as fleetdeck.execution_counts are (migration 23), so
-- writers reporting on one busy stack never queue behind each other's counter row.
--
-- Concurrency (READ COMMITTED, as every writer here uses). A change of who reaches whom (a
-- target, label, annotation, an agent or stack deleted or restored) or of a stack's desired
-- object takes an exclusive transaction lock and then reckons the pairs it touches from the base
-- tables in a fresh statement, so it sees every change committed before it. A report takes the
-- same lock shared: reports run beside each other, and a change of reach waits for the reports in
-- flight (and they for it), so a pair made while a report on it commits is never judged without
-- that report. A report moves its pair only forward, to the latest (created_at, id), so two
-- reports on one pair land in either order.

CREATE TABLE fleetdeck.stack_reach (
    stack_id      uuid NOT NULL,
    agent_id      uuid NOT NULL,
    by_target     boolean NOT NULL,
    by_label      boolean NOT NULL,
    by_annotation boolean NOT NULL,
    -- The stack's desired object (its live object with the highest sequence_id), if any.
    object_id     uuid,
    -- The agent's latest live report on that object: NULL while it has not reported.
    event_id      uuid,
    status        text,
    reported_at   timestamptz,
    PRIMARY KEY (stack_id, agent_id)
);
CREATE INDEX stack_reach_agent ON fleetdeck.stack_reach (agent_id);
CREATE INDEX stack_reach_unreported ON fleetdeck.stack_reach (stack_id) INCLUDE (agent_id) WHERE status IS NULL;

CREATE TABLE fleetdeck.stack_reach_counts (
    stack_id      uuid NOT NULL,
    agents        bigint NOT NULL,
    by_target     bigint NOT NULL,
    by_label      bigint NOT NULL,
    by_annotation bigint NOT NULL,
    success       bigint NOT NULL,
    failure       bigint NOT NULL,
    unreported    bigint NOT NULL
);
CREATE INDEX stack_reach_counts_stack ON fleetdeck.stack_reach_counts (stack_id)
    INCLUDE (agents, by_target, by_label, by_annotation, success, failure, unreported);

CREATE TABLE fleetdeck.agent_reach_counts (
    agent_id      uuid NOT NULL,
    stacks        bigint NOT NULL,
    by_target     bigint NOT NULL,
    by_label      bigint NOT NULL,
    by_annotation bigint NOT NULL,
    -- Reached stacks with a desired object the agent has not reported on.
    pending       bigint NOT NULL
);
CREATE INDEX agent_reach_counts_agent ON fleetdeck.agent_reach_counts (agent_id)
    INCLUDE (stacks, by_target, by_label, by_annotation, pending);

-- Each agent's latest live report (on any object): the cluster agents' LAST EVENT, sortable
-- without a probe per agent. A report moves it forward (a row lock on the agent's row only);
-- a report withdrawn has the agent's reckoned again.
CREATE TABLE fleetdeck.agent_last_event (
    agent_id   uuid PRIMARY KEY,
    last_event timestamptz NOT NULL
);
CREATE INDEX agent_last_event_at ON fleetdeck.agent_last_event (last_event);

-- The failures of the last hour, for FAIL 1H over every agent at once: a range of this index.
CREATE INDEX agent_events_failures_at_idx ON broker.agent_events (created_at) INCLUDE (agent_id)
    WHERE status = 'FAILURE' AND deleted_at IS NULL;

GRANT SELECT ON fleetdeck.stack_reach, fleetdeck.stack_reach_counts, fleetdeck.agent_reach_counts,
    fleetdeck.agent_last_event TO authenticated;

-- The pairs touching `stacks` or `agents`, reckoned from the base tables: every live agent a live
-- stack in `stacks` reaches and every live stack reaching a live agent in `agents`, with the
-- routes, the stack's desired object and the agent's latest live report on it. The definition
-- the maintained rows are held to (the tests compare them over every stack).
CREATE FUNCTION fleetdeck.reach_fresh(stacks uuid[], agents uuid[])
    RETURNS TABLE (stack_id uuid, agent_id uuid, by_target boolean, by_label boolean, by_annotation boolean,
                   object_id uuid, event_id uuid, status text, reported_at timestamptz)
    LANGUAGE sql STABLE AS $$
    WITH routes AS (
        SELECT t.stack_id, t.agent_id, 't' AS route FROM broker.agent_targets t WHERE t.stack_id = ANY (stacks)
        UNION ALL
        SELECT t.stack_id, t.agent_id, 't' FROM broker.agent_targets t WHERE t.agent_id = ANY (agents)
        UNION ALL
        SELECT sl.stack_id, al.agent_id, 'l'
          FROM broker.stack_labels sl JOIN broker.agent_labels al ON al.label = sl.label
         WHERE sl.stack_id = ANY (stacks)
        UNION ALL
        SELECT sl.stack_id, al.agent_id, 'l'
          FROM broker.agent_labels al JOIN broker.stack_labels sl ON sl.label = al.label
         WHERE al.agent_id = ANY (agents)
        UNION ALL
        SELECT sa.stack_id, aa.agent_id, 'a'
          FROM broker.stack_annotations sa JOIN broker.agent_annotations aa ON aa.key = sa.key AND aa.value = sa.value
         WHERE sa.stack_id = ANY (stacks)
        UNION ALL
        SELECT sa.stack_id, aa.agent_id, 'a'
          FROM broker.agent_annotations aa JOIN broker.stack_annotations sa ON sa.key = aa.key AND sa.value = aa.value
         WHERE aa.agent_id = ANY (agents)
    ), pairs AS (
        SELECT r.stack_id, r.agent_id,
               bool_or(r.route = 't') AS by_target, bool_or(r.route = 'l') AS by_label, bool_or(r.route = 'a') AS by_annotation
          FROM routes r
          JOIN broker.stacks st ON st.id = r.stack_id AND st.deleted_at IS NULL
          JOIN broker.agents ag ON ag.id = r.agent_id AND ag.deleted_at IS NULL
         GROUP BY r.stack_id, r.agent_id
    ), desired AS (
        SELECT s.stack_id,
               (SELECT o.id FROM broker.deployment_objects o
                 WHERE o.stack_id = s.stack_id AND o.deleted_at IS NULL
                 ORDER BY o.sequence_id DESC LIMIT 1) AS object_id
          FROM (SELECT DISTINCT p.stack_id FROM pairs p) s
    )
    SELECT p.stack_id, p.agent_id, p.by_target, p.by_label, p.by_annotation, d.object_id, e.id, e.status, e.created_at
      FROM pairs p
      JOIN desired d ON d.stack_id = p.stack_id
      LEFT JOIN LATERAL (
            SELECT ev.id, ev.status::text AS status, ev.created_at
              FROM broker.agent_events ev
             WHERE ev.deployment_object_id = d.object_id AND ev.agent_id = p.agent_id AND ev.deleted_at IS NULL
             ORDER BY ev.created_at DESC, ev.id DESC
             LIMIT 1) e ON true
$$;

-- Bring the pairs touching `stacks` or `agents` to what reach_fresh says: rows gone are deleted,
-- new ones inserted, changed ones updated (and only those, so the counts move only for them).
CREATE FUNCTION fleetdeck.reach_refresh(stacks uuid[], agents uuid[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck
AS $$
BEGIN
    stacks := coalesce(stacks, '{}');
    agents := coalesce(agents, '{}');
    IF cardinality(stacks) = 0 AND cardinality(agents) = 0 THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('fleetdeck.stack_reach'));
    WITH want AS MATERIALIZED (
        SELECT * FROM fleetdeck.reach_fresh(stacks, agents)
    ), gone AS (
        DELETE FROM fleetdeck.stack_reach r
         WHERE (r.stack_id = ANY (stacks) OR r.agent_id = ANY (agents))
           AND NOT EXISTS (SELECT 1 FROM want w WHERE w.stack_id = r.stack_id AND w.agent_id = r.agent_id)
    )
    INSERT INTO fleetdeck.stack_reach AS r
    SELECT * FROM want
    ON CONFLICT (stack_id, agent_id) DO UPDATE
       SET by_target = excluded.by_target, by_label = excluded.by_label, by_annotation = excluded.by_annotation,
           object_id = excluded.object_id, event_id = excluded.event_id, status = excluded.status,
           reported_at = excluded.reported_at
     WHERE (r.by_target, r.by_label, r.by_annotation, r.object_id, r.event_id)
           IS DISTINCT FROM
           (excluded.by_target, excluded.by_label, excluded.by_annotation, excluded.object_id, excluded.event_id);
END
$$;

-- The latest live report of each agent in `agents`, reckoned from the events.
CREATE FUNCTION fleetdeck.last_event_refresh(agents uuid[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck
AS $$
BEGIN
    DELETE FROM fleetdeck.agent_last_event WHERE agent_id = ANY (agents);
    INSERT INTO fleetdeck.agent_last_event (agent_id, last_event)
    SELECT a.id, e.created_at
      FROM unnest(agents) a(id)
      CROSS JOIN LATERAL (SELECT ev.created_at FROM broker.agent_events ev
                           WHERE ev.agent_id = a.id AND ev.deleted_at IS NULL
                           ORDER BY ev.created_at DESC LIMIT 1) e
    ON CONFLICT (agent_id) DO UPDATE SET last_event = excluded.last_event;
END
$$;

-- Every pair from scratch: when the migration runs, after a load without triggers, after a
-- truncate.
CREATE FUNCTION fleetdeck.rebuild_reach() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('fleetdeck.stack_reach'));
    DELETE FROM fleetdeck.stack_reach;
    DELETE FROM fleetdeck.stack_reach_counts;
    DELETE FROM fleetdeck.agent_reach_counts;
    PERFORM fleetdeck.reach_refresh(ARRAY(SELECT id FROM broker.stacks WHERE deleted_at IS NULL), '{}');
    DELETE FROM fleetdeck.agent_last_event;
    INSERT INTO fleetdeck.agent_last_event (agent_id, last_event)
    SELECT agent_id, max(created_at) FROM broker.agent_events WHERE deleted_at IS NULL GROUP BY agent_id;
END
$$;

-- A statement changed reach or a desired object: refresh the stacks named by column TG_ARGV[0]
-- and the agents named by column TG_ARGV[1] ('-' for none) of the rows it changed, before and
-- after. Dynamic statements, because an INSERT trigger has no old rows to name.
CREATE FUNCTION fleetdeck.reach_touched() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck
AS $$
DECLARE
    sides text[] := CASE TG_OP WHEN 'INSERT' THEN '{new_rows}' WHEN 'DELETE' THEN '{old_rows}'
                    ELSE '{old_rows,new_rows}' END;
    side text;
    ids uuid[];
    stacks uuid[] := '{}';
    agents uuid[] := '{}';
BEGIN
    FOREACH side IN ARRAY sides LOOP
        IF TG_ARGV[0] <> '-' THEN
            EXECUTE format('SELECT ARRAY(SELECT DISTINCT %I FROM %I)', TG_ARGV[0], side) INTO ids;
            stacks := stacks || ids;
        END IF;
        IF TG_ARGV[1] <> '-' THEN
            EXECUTE format('SELECT ARRAY(SELECT DISTINCT %I FROM %I)', TG_ARGV[1], side) INTO ids;
            agents := agents || ids;
        END IF;
    END LOOP;
    PERFORM fleetdeck.reach_refresh(stacks, agents);
    RETURN NULL;
END
$$;

-- A stack or an agent deleted or restored (row triggers, so that heartbeats pass untouched).
CREATE FUNCTION fleetdeck.reach_touched_row() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck
AS $$
BEGIN
    IF TG_ARGV[0] = 'stack' THEN
        PERFORM fleetdeck.reach_refresh(ARRAY[NEW.id], '{}');
    ELSE
        PERFORM fleetdeck.reach_refresh('{}', ARRAY[NEW.id]);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION fleetdeck.reach_truncated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck
AS $$
BEGIN
    PERFORM fleetdeck.rebuild_reach();
    RETURN NULL;
END
$$;

-- New reports: each pair they concern moves to its latest live report, if it is on the pair's
-- desired object and later than the one held.
CREATE FUNCTION fleetdeck.reach_reported() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck, broker
AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtext('fleetdeck.stack_reach'));
    UPDATE fleetdeck.stack_reach r
       SET event_id = n.id, status = n.status, reported_at = n.created_at
      FROM (SELECT DISTINCT ON (n.deployment_object_id, n.agent_id)
                   n.id, n.deployment_object_id, n.agent_id, n.status::text AS status, n.created_at
              FROM new_rows n
             WHERE n.deleted_at IS NULL
             ORDER BY n.deployment_object_id, n.agent_id, n.created_at DESC, n.id DESC) n
      JOIN broker.deployment_objects o ON o.id = n.deployment_object_id
     WHERE r.stack_id = o.stack_id AND r.agent_id = n.agent_id AND r.object_id = n.deployment_object_id
       AND (r.reported_at IS NULL OR (r.reported_at, r.event_id) < (n.created_at, n.id));
    INSERT INTO fleetdeck.agent_last_event AS l (agent_id, last_event)
    SELECT n.agent_id, max(n.created_at) FROM new_rows n WHERE n.deleted_at IS NULL GROUP BY n.agent_id
    ON CONFLICT (agent_id) DO UPDATE SET last_event = excluded.last_event
     WHERE l.last_event < excluded.last_event;
    RETURN NULL;
END
$$;

-- The counts: each statement on stack_reach adds one row per stack and per agent it changed,
-- with the difference, and folds those keys' rows unless another transaction is folding.
CREATE FUNCTION fleetdeck.reach_counted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck
AS $$
DECLARE
    changed text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, * FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT -1 AS sign, * FROM old_rows'
        ELSE 'SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows' END;
    touched_stacks uuid[];
    touched_agents uuid[];
BEGIN
    EXECUTE format($q$
        WITH d AS (%s), s AS (
            INSERT INTO fleetdeck.stack_reach_counts
            SELECT stack_id, sum(sign), sum(sign * by_target::int), sum(sign * by_label::int),
                   sum(sign * by_annotation::int),
                   sum(CASE WHEN status = 'SUCCESS' THEN sign ELSE 0 END),
                   sum(CASE WHEN status = 'FAILURE' THEN sign ELSE 0 END),
                   sum(CASE WHEN status IS NULL THEN sign ELSE 0 END)
              FROM d GROUP BY stack_id
            HAVING sum(sign) <> 0 OR sum(sign * by_target::int) <> 0 OR sum(sign * by_label::int) <> 0
                OR sum(sign * by_annotation::int) <> 0 OR sum(CASE WHEN status IS NULL THEN sign ELSE 0 END) <> 0
                OR sum(CASE WHEN status = 'SUCCESS' THEN sign ELSE 0 END) <> 0
                OR sum(CASE WHEN status = 'FAILURE' THEN sign ELSE 0 END) <> 0
            RETURNING stack_id
        ), a AS (
            INSERT INTO fleetdeck.agent_reach_counts
            SELECT agent_id, sum(sign), sum(sign * by_target::int), sum(sign * by_label::int),
                   sum(sign * by_annotation::int),
                   sum(CASE WHEN status IS NULL AND object_id IS NOT NULL THEN sign ELSE 0 END)
              FROM d GROUP BY agent_id
            HAVING sum(sign) <> 0 OR sum(sign * by_target::int) <> 0 OR sum(sign * by_label::int) <> 0
                OR sum(sign * by_annotation::int) <> 0
                OR sum(CASE WHEN status IS NULL AND object_id IS NOT NULL THEN sign ELSE 0 END) <> 0
            RETURNING agent_id
        )
        SELECT ARRAY(SELECT stack_id FROM s), ARRAY(SELECT agent_id FROM a)$q$, changed)
        INTO touched_stacks, touched_agents;
    IF (cardinality(touched_stacks) > 0 OR cardinality(touched_agents) > 0)
       AND pg_try_advisory_xact_lock(hashtext('fleetdeck.reach_counts')) THEN
        WITH gone AS (
            DELETE FROM fleetdeck.stack_reach_counts c WHERE c.stack_id = ANY (touched_stacks) RETURNING c.*
        )
        INSERT INTO fleetdeck.stack_reach_counts
        SELECT stack_id, sum(agents), sum(by_target), sum(by_label), sum(by_annotation), sum(success),
               sum(failure), sum(unreported)
          FROM gone GROUP BY stack_id HAVING sum(agents) <> 0;
        WITH gone AS (
            DELETE FROM fleetdeck.agent_reach_counts c WHERE c.agent_id = ANY (touched_agents) RETURNING c.*
        )
        INSERT INTO fleetdeck.agent_reach_counts
        SELECT agent_id, sum(stacks), sum(by_target), sum(by_label), sum(by_annotation), sum(pending)
          FROM gone GROUP BY agent_id HAVING sum(stacks) <> 0;
    END IF;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t record;
    op text;
BEGIN
    -- Tables whose rows say who reaches whom, or which object is desired: (table, stack column,
    -- agent column). A target changes one pair, reckoned from the agent's side (fewer pairs).
    FOR t IN SELECT * FROM (VALUES
            ('agent_targets', '-', 'agent_id'),
            ('stack_labels', 'stack_id', '-'),
            ('agent_labels', '-', 'agent_id'),
            ('stack_annotations', 'stack_id', '-'),
            ('agent_annotations', '-', 'agent_id'),
            ('deployment_objects', 'stack_id', '-')) v(name, stack_col, agent_col) LOOP
        FOREACH op IN ARRAY ARRAY['INSERT', 'UPDATE', 'DELETE'] LOOP
            EXECUTE format(
                'CREATE TRIGGER %I AFTER %s ON broker.%I REFERENCING %s FOR EACH STATEMENT '
                'EXECUTE FUNCTION fleetdeck.reach_touched(%L, %L)',
                t.name || '_reach_' || lower(op), op, t.name,
                CASE op WHEN 'INSERT' THEN 'NEW TABLE AS new_rows' WHEN 'DELETE' THEN 'OLD TABLE AS old_rows'
                        ELSE 'OLD TABLE AS old_rows NEW TABLE AS new_rows' END,
                t.stack_col, t.agent_col);
        END LOOP;
    END LOOP;
    FOR t IN SELECT * FROM (VALUES
            ('agent_targets'), ('stack_labels'), ('agent_labels'), ('stack_annotations'),
            ('agent_annotations'), ('deployment_objects'), ('stacks'), ('agents'), ('agent_events')) v(name) LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON broker.%I FOR EACH STATEMENT '
                       'EXECUTE FUNCTION fleetdeck.reach_truncated()', t.name || '_reach_truncate', t.name);
    END LOOP;
    FOREACH op IN ARRAY ARRAY['INSERT', 'UPDATE', 'DELETE'] LOOP
        EXECUTE format(
            'CREATE TRIGGER %I AFTER %s ON fleetdeck.stack_reach REFERENCING %s FOR EACH STATEMENT '
            'EXECUTE FUNCTION fleetdeck.reach_counted()',
            'stack_reach_counted_' || lower(op), op,
            CASE op WHEN 'INSERT' THEN 'NEW TABLE AS new_rows' WHEN 'DELETE' THEN 'OLD TABLE AS old_rows'
                    ELSE 'OLD TABLE AS old_rows NEW TABLE AS new_rows' END);
    END LOOP;
END
$$;

CREATE TRIGGER stacks_reach_update AFTER UPDATE OF deleted_at ON broker.stacks
    FOR EACH ROW WHEN (OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
    EXECUTE FUNCTION fleetdeck.reach_touched_row('stack');
CREATE TRIGGER agents_reach_update AFTER UPDATE OF deleted_at ON broker.agents
    FOR EACH ROW WHEN (OLD.deleted_at IS DISTINCT FROM NEW.deleted_at)
    EXECUTE FUNCTION fleetdeck.reach_touched_row('agent');
CREATE TRIGGER stacks_reach_delete AFTER DELETE ON broker.stacks
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.reach_touched('id', '-');
CREATE TRIGGER agents_reach_delete AFTER DELETE ON broker.agents
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.reach_touched('-', 'id');
CREATE TRIGGER agent_events_reach_insert AFTER INSERT ON broker.agent_events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.reach_reported();
-- A report deleted or changed (rare: an agent soft-deleted) is reckoned again from the agent's
-- side, and so is the agent's last event.
CREATE FUNCTION fleetdeck.reach_withdrawn() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck
AS $$
DECLARE
    agents uuid[];
BEGIN
    SELECT ARRAY(SELECT DISTINCT agent_id FROM old_rows) INTO agents;
    PERFORM fleetdeck.reach_refresh('{}', agents);
    PERFORM fleetdeck.last_event_refresh(agents);
    RETURN NULL;
END
$$;
CREATE TRIGGER agent_events_reach_update AFTER UPDATE ON broker.agent_events
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.reach_withdrawn();
CREATE TRIGGER agent_events_reach_delete AFTER DELETE ON broker.agent_events
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.reach_withdrawn();

-- The readers, on the maintained rows. Same names and columns as before, so every caller and
-- test of them now reads (and checks) what the database keeps.
CREATE OR REPLACE FUNCTION fleetdeck.stack_agents(stack uuid)
    RETURNS TABLE (agent_id uuid, by_target boolean, by_label boolean, by_annotation boolean)
    LANGUAGE sql STABLE AS $$
    SELECT r.agent_id, r.by_target, r.by_label, r.by_annotation FROM fleetdeck.stack_reach r WHERE r.stack_id = stack
$$;

CREATE OR REPLACE FUNCTION fleetdeck.agent_stacks(agent uuid)
    RETURNS TABLE (stack_id uuid, by_target boolean, by_label boolean, by_annotation boolean)
    LANGUAGE sql STABLE AS $$
    SELECT r.stack_id, r.by_target, r.by_label, r.by_annotation FROM fleetdeck.stack_reach r WHERE r.agent_id = agent
$$;

CREATE OR REPLACE FUNCTION fleetdeck.stack_reports(stack uuid, offline_after interval, at timestamptz)
    RETURNS TABLE (agent_id uuid, by_target boolean, by_label boolean, by_annotation boolean,
                   status text, message text, reported_at timestamptz, online boolean)
    LANGUAGE sql STABLE AS $$
    SELECT r.agent_id, r.by_target, r.by_label, r.by_annotation, r.status, ev.message, r.reported_at,
           coalesce(ag.status = 'ACTIVE' AND ag.last_heartbeat > at - offline_after, false)
      FROM fleetdeck.stack_reach r
      JOIN broker.agents ag ON ag.id = r.agent_id
      LEFT JOIN broker.agent_events ev ON ev.id = r.event_id
     WHERE r.stack_id = stack
$$;

-- A stack's counts, kept: its reach by route and what the reached agents reported on the desired
-- object. `unreported` = pending + offline, which does not depend on the clock.
DROP FUNCTION fleetdeck.stack_progress(uuid, interval, timestamptz);
CREATE FUNCTION fleetdeck.stack_counts(stack uuid)
    RETURNS TABLE (agents bigint, by_target bigint, by_label bigint, by_annotation bigint,
                   success bigint, failure bigint, unreported bigint)
    LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(k.agents), 0)::bigint, coalesce(sum(k.by_target), 0)::bigint,
           coalesce(sum(k.by_label), 0)::bigint, coalesce(sum(k.by_annotation), 0)::bigint,
           coalesce(sum(k.success), 0)::bigint, coalesce(sum(k.failure), 0)::bigint,
           coalesce(sum(k.unreported), 0)::bigint
      FROM fleetdeck.stack_reach_counts k WHERE k.stack_id = stack
$$;

-- A stack's rollout in one row: the kept counts, and the unreported split into pending and
-- offline (inactive, or silent for `offline_after`) at `at`: read at the reader's clock, through
-- the unreported pairs' index.
CREATE FUNCTION fleetdeck.stack_rollup(stack uuid, offline_after interval, at timestamptz)
    RETURNS TABLE (agents bigint, by_target bigint, by_label bigint, by_annotation bigint,
                   success bigint, failure bigint, unreported bigint, pending bigint, offline bigint)
    LANGUAGE sql STABLE AS $$
    SELECT c.agents, c.by_target, c.by_label, c.by_annotation, c.success, c.failure, c.unreported,
           c.unreported - o.offline, o.offline
      FROM fleetdeck.stack_counts(stack) c
     CROSS JOIN LATERAL (
            SELECT CASE WHEN c.unreported = 0 THEN 0::bigint ELSE (
                SELECT count(*) FROM fleetdeck.stack_reach r JOIN broker.agents ag ON ag.id = r.agent_id
                 WHERE r.stack_id = stack AND r.status IS NULL
                   AND NOT coalesce(ag.status = 'ACTIVE' AND ag.last_heartbeat > at - offline_after, false)) END AS offline
             OFFSET 0) o -- reckoned once a row (pending and offline both read it)
$$;

-- An agent's counts, kept: the stacks reaching it (all, and by each route) and the desired
-- objects it has not reported on.
CREATE FUNCTION fleetdeck.agent_counts(agent uuid)
    RETURNS TABLE (stacks integer, by_target integer, by_label integer, by_annotation integer, pending integer)
    LANGUAGE sql STABLE AS $$
    SELECT coalesce(sum(k.stacks), 0)::integer, coalesce(sum(k.by_target), 0)::integer,
           coalesce(sum(k.by_label), 0)::integer, coalesce(sum(k.by_annotation), 0)::integer,
           coalesce(sum(k.pending), 0)::integer
      FROM fleetdeck.agent_reach_counts k WHERE k.agent_id = agent
$$;

CREATE OR REPLACE FUNCTION fleetdeck.agent_rollup(agent uuid, at timestamptz)
    RETURNS TABLE (stacks integer, by_target integer, by_label integer, by_annotation integer,
                   pending integer, last_event timestamptz, failures_1h integer)
    LANGUAGE sql STABLE AS $$
    SELECT c.stacks, c.by_target, c.by_label, c.by_annotation, c.pending,
           (SELECT l.last_event FROM fleetdeck.agent_last_event l WHERE l.agent_id = agent),
           (SELECT count(*) FROM broker.agent_events e
             WHERE e.agent_id = agent AND e.status = 'FAILURE' AND e.deleted_at IS NULL
               AND e.created_at > at - interval '1 hour' AND e.created_at <= at)::integer
      FROM fleetdeck.agent_counts(agent) c
$$;

CREATE OR REPLACE FUNCTION fleetdeck.agent_rollup(agent uuid)
    RETURNS TABLE (stacks integer, by_target integer, by_label integer, by_annotation integer,
                   pending integer, last_event timestamptz, failures_1h integer)
    LANGUAGE sql STABLE AS $$
    SELECT * FROM fleetdeck.agent_rollup(agent, now())
$$;

CREATE OR REPLACE FUNCTION fleetdeck.after_bulk_load(loaded regclass) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck
AS $$
BEGIN
    IF loaded = 'platform.workflow_executions'::regclass THEN
        PERFORM fleetdeck.recount_executions();
    ELSIF loaded = 'edge.host'::regclass THEN
        PERFORM fleetdeck.reread_host_hardware();
    ELSIF loaded::text LIKE 'broker.%' THEN
        PERFORM fleetdeck.rebuild_reach();
    END IF;
END
$$;

SELECT fleetdeck.rebuild_reach();
