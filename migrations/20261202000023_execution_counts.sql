-- The Executions pane's total and status header under a filter on workflows, agents or
-- organisations, without counting the executions: how many executions each (workflow, agent,
-- status) has, maintained by the database.
--
-- Insert-only deltas, not counters updated in place: an UPDATE of a counter row locks it until
-- the writer commits, so every writer of a busy workflow would queue behind the others (and two
-- transactions touching two workflows in opposite orders would deadlock). Each statement on the
-- executions adds one row per key it changed, with the difference; the reader sums. The same
-- statement folds its keys' rows into one when no other transaction is folding (a try-lock, so
-- a writer never waits for it): the sum of the deleted rows is inserted in the same
-- transaction, so the sums are right whatever runs beside it.
CREATE TABLE fleetdeck.execution_counts (
    workflow_id uuid NOT NULL,
    agent_id    uuid NOT NULL,
    status      text NOT NULL,
    n           bigint NOT NULL
);
CREATE INDEX execution_counts_key ON fleetdeck.execution_counts (workflow_id, agent_id, status) INCLUDE (n);
CREATE INDEX execution_counts_status ON fleetdeck.execution_counts (status) INCLUDE (n);
GRANT SELECT ON fleetdeck.execution_counts TO authenticated;
-- A member counts what they may see: the executions' own policy, which reads only the workflow.
-- (The triggers and folds run as the owner, who is not bound by it.)
ALTER TABLE fleetdeck.execution_counts ENABLE ROW LEVEL SECURITY;
CREATE POLICY execution_counts_workflow_access ON fleetdeck.execution_counts
    FOR SELECT TO authenticated
    USING (
        workflow_id IN (
            SELECT w.id FROM platform.workflows w
            JOIN platform.agents a ON w.agent_id = a.id
            WHERE
                (a.owner_type = 'user' AND a.owner_id = auth.uid()) OR
                (a.owner_type = 'organization' AND a.owner_id IN (
                    SELECT organization_id
                    FROM platform.organization_members
                    WHERE user_id = auth.uid()
                ))
        )
    );

-- Fold the rows of the keys in `keys` (workflow, agent, status), unless another transaction is
-- folding now.
CREATE FUNCTION fleetdeck.fold_execution_counts(keys jsonb) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck
AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('fleetdeck.execution_counts')) THEN
        RETURN;
    END IF;
    WITH k AS (
        SELECT (x ->> 0)::uuid AS workflow_id, (x ->> 1)::uuid AS agent_id, x ->> 2 AS status
        FROM jsonb_array_elements(keys) x
    ), gone AS (
        DELETE FROM fleetdeck.execution_counts c USING k
        WHERE c.workflow_id = k.workflow_id AND c.agent_id = k.agent_id AND c.status = k.status
        RETURNING c.workflow_id, c.agent_id, c.status, c.n
    )
    INSERT INTO fleetdeck.execution_counts (workflow_id, agent_id, status, n)
    SELECT workflow_id, agent_id, status, sum(n) FROM gone GROUP BY 1, 2, 3 HAVING sum(n) <> 0;
END
$$;

-- A function per operation: a statement naming a transition table the trigger lacks fails
-- when planned, so one function for all three cannot branch on TG_OP.
CREATE FUNCTION fleetdeck.count_executions_inserted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck, platform
AS $$
DECLARE
    keys jsonb;
BEGIN
    WITH d AS (
        INSERT INTO fleetdeck.execution_counts (workflow_id, agent_id, status, n)
        SELECT workflow_id, agent_id, status::text, count(*) FROM new_rows GROUP BY 1, 2, 3
        RETURNING workflow_id, agent_id, status
    )
    SELECT jsonb_agg(jsonb_build_array(workflow_id, agent_id, status)) INTO keys FROM d;
    IF keys IS NOT NULL THEN
        PERFORM fleetdeck.fold_execution_counts(keys);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION fleetdeck.count_executions_deleted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck, platform
AS $$
DECLARE
    keys jsonb;
BEGIN
    WITH d AS (
        INSERT INTO fleetdeck.execution_counts (workflow_id, agent_id, status, n)
        SELECT workflow_id, agent_id, status::text, -count(*) FROM old_rows GROUP BY 1, 2, 3
        RETURNING workflow_id, agent_id, status
    )
    SELECT jsonb_agg(jsonb_build_array(workflow_id, agent_id, status)) INTO keys FROM d;
    IF keys IS NOT NULL THEN
        PERFORM fleetdeck.fold_execution_counts(keys);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION fleetdeck.count_executions_updated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck, platform
AS $$
DECLARE
    keys jsonb;
BEGIN
    WITH d AS (
        INSERT INTO fleetdeck.execution_counts (workflow_id, agent_id, status, n)
        SELECT workflow_id, agent_id, status, sum(n)
        FROM (
            SELECT workflow_id, agent_id, status::text AS status, 1 AS n FROM new_rows
            UNION ALL
            SELECT workflow_id, agent_id, status::text, -1 FROM old_rows
        ) x
        GROUP BY 1, 2, 3 HAVING sum(n) <> 0
        RETURNING workflow_id, agent_id, status
    )
    SELECT jsonb_agg(jsonb_build_array(workflow_id, agent_id, status)) INTO keys FROM d;
    IF keys IS NOT NULL THEN
        PERFORM fleetdeck.fold_execution_counts(keys);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION fleetdeck.count_executions_truncated() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck
AS $$
BEGIN
    DELETE FROM fleetdeck.execution_counts;
    RETURN NULL;
END
$$;

CREATE TRIGGER workflow_executions_counted_ins AFTER INSERT ON platform.workflow_executions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.count_executions_inserted();
CREATE TRIGGER workflow_executions_counted_upd AFTER UPDATE ON platform.workflow_executions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.count_executions_updated();
CREATE TRIGGER workflow_executions_counted_del AFTER DELETE ON platform.workflow_executions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.count_executions_deleted();
CREATE TRIGGER workflow_executions_counted_trunc AFTER TRUNCATE ON platform.workflow_executions
    FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.count_executions_truncated();

-- The counts from scratch: after a load that ran without triggers (`BulkLoad` as a superuser
-- sets session_replication_role = replica), and for the executions already there now. Writers
-- wait while it runs (SHARE lock), so no change falls between the count and the swap.
CREATE FUNCTION fleetdeck.recount_executions() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck, platform
AS $$
BEGIN
    LOCK TABLE platform.workflow_executions IN SHARE MODE;
    DELETE FROM fleetdeck.execution_counts;
    INSERT INTO fleetdeck.execution_counts (workflow_id, agent_id, status, n)
    SELECT workflow_id, agent_id, status::text, count(*) FROM platform.workflow_executions GROUP BY 1, 2, 3;
END
$$;

-- What `BulkLoad` calls after a load without triggers: whatever the database maintains from
-- that table is reckoned again.
CREATE FUNCTION fleetdeck.after_bulk_load(loaded regclass) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck
AS $$
BEGIN
    IF loaded = 'platform.workflow_executions'::regclass THEN
        PERFORM fleetdeck.recount_executions();
    END IF;
END
$$;

SELECT fleetdeck.recount_executions();
