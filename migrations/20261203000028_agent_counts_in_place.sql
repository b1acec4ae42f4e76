-- The cluster agents sorted by STACKS, PENDING, LAST EVENT or FAIL 1H summed every agent's delta
-- rows in agent_reach_counts before the sort (a lateral sum per agent, 20,000 times): 49-54 ms
-- against a goal of 30 (issue 25). Now each agent has one row, kept in place: the list joins it
-- by hash and sorts.
--
-- Writers: a statement on stack_reach adds its difference to each agent's row it changes
-- (INSERT ... ON CONFLICT DO UPDATE, in agent order), a row lock on those agents only. The
-- writers that change many agents at once (a route, a desired object) already hold the
-- exclusive reach lock (fleetdeck.reach_refresh), which reports wait for (they hold it shared);
-- a report already locks its agent's row in agent_last_event. So no new kind of wait is added.
-- The stacks' counts keep their delta rows: their pages never read every stack's.

-- Fold the delta rows (no writer runs meanwhile: the migration holds the table).
LOCK TABLE fleetdeck.agent_reach_counts IN EXCLUSIVE MODE;
WITH gone AS (DELETE FROM fleetdeck.agent_reach_counts RETURNING *)
INSERT INTO fleetdeck.agent_reach_counts
SELECT agent_id, sum(stacks), sum(by_target), sum(by_label), sum(by_annotation), sum(pending)
  FROM gone GROUP BY agent_id
HAVING sum(stacks) <> 0 OR sum(by_target) <> 0 OR sum(by_label) <> 0 OR sum(by_annotation) <> 0
    OR sum(pending) <> 0;
DROP INDEX fleetdeck.agent_reach_counts_agent;
ALTER TABLE fleetdeck.agent_reach_counts ADD PRIMARY KEY (agent_id);

CREATE OR REPLACE FUNCTION fleetdeck.reach_counted() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, fleetdeck
AS $$
DECLARE
    changed text := CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, * FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT -1 AS sign, * FROM old_rows'
        ELSE 'SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows' END;
    touched_stacks uuid[];
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
            INSERT INTO fleetdeck.agent_reach_counts AS c
            SELECT agent_id, sum(sign), sum(sign * by_target::int), sum(sign * by_label::int),
                   sum(sign * by_annotation::int),
                   sum(CASE WHEN status IS NULL AND object_id IS NOT NULL THEN sign ELSE 0 END)
              FROM d GROUP BY agent_id
            HAVING sum(sign) <> 0 OR sum(sign * by_target::int) <> 0 OR sum(sign * by_label::int) <> 0
                OR sum(sign * by_annotation::int) <> 0
                OR sum(CASE WHEN status IS NULL AND object_id IS NOT NULL THEN sign ELSE 0 END) <> 0
             ORDER BY agent_id
            ON CONFLICT (agent_id) DO UPDATE
               SET stacks = c.stacks + excluded.stacks, by_target = c.by_target + excluded.by_target,
                   by_label = c.by_label + excluded.by_label,
                   by_annotation = c.by_annotation + excluded.by_annotation,
                   pending = c.pending + excluded.pending
        )
        SELECT ARRAY(SELECT stack_id FROM s)$q$, changed)
        INTO touched_stacks;
    IF cardinality(touched_stacks) > 0 AND pg_try_advisory_xact_lock(hashtext('fleetdeck.reach_counts')) THEN
        WITH gone AS (
            DELETE FROM fleetdeck.stack_reach_counts c WHERE c.stack_id = ANY (touched_stacks) RETURNING c.*
        )
        INSERT INTO fleetdeck.stack_reach_counts
        SELECT stack_id, sum(agents), sum(by_target), sum(by_label), sum(by_annotation), sum(success),
               sum(failure), sum(unreported)
          FROM gone GROUP BY stack_id HAVING sum(agents) <> 0;
    END IF;
    RETURN NULL;
END
$$;

-- An agent's counts: its one row (none: no stack has reached it).
CREATE OR REPLACE FUNCTION fleetdeck.agent_counts(agent uuid)
    RETURNS TABLE (stacks integer, by_target integer, by_label integer, by_annotation integer, pending integer)
    LANGUAGE sql STABLE AS $$
    SELECT coalesce(max(k.stacks), 0)::integer, coalesce(max(k.by_target), 0)::integer,
           coalesce(max(k.by_label), 0)::integer, coalesce(max(k.by_annotation), 0)::integer,
           coalesce(max(k.pending), 0)::integer
      FROM fleetdeck.agent_reach_counts k WHERE k.agent_id = agent
$$;
