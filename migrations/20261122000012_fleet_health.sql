-- The Fleet pane: soft-deleted hosts, health counts over large fleets, and what reaches an agent.

-- Hosts can be soft-deleted like agents (ours: seed 000 has no deleted_at on edge.host). A
-- soft-deleted host leaves every list and count; the row stays for the record.
ALTER TABLE edge.host ADD COLUMN deleted_at timestamptz;

-- Health counts (healthy and stale are ranges of last_heartbeat among active, live rows; offline
-- is the rest) and the health filter read these partial indexes, not the whole table.
DROP INDEX edge.host_active_heartbeat_idx;
CREATE INDEX host_active_heartbeat_idx ON edge.host (last_heartbeat) WHERE status = 'Active' AND deleted_at IS NULL;
CREATE INDEX host_live_site_idx ON edge.host (site_id) WHERE deleted_at IS NULL;
CREATE INDEX agents_list_idx ON broker.agents (name, id) WHERE deleted_at IS NULL;
CREATE INDEX agents_cluster_list_idx ON broker.agents (cluster_name, name, id) WHERE deleted_at IS NULL;
-- Failures in the last hour, per agent.
CREATE INDEX agent_events_agent_failures_idx ON broker.agent_events (agent_id, created_at)
    WHERE status = 'FAILURE' AND deleted_at IS NULL;

-- The live stacks that reach a live agent, and by which routes (SEMANTICS.md, seed 002): an
-- agent_targets row, a label both carry (exact string), an annotation both carry (exact key and
-- value). Soft-deleted stacks and agents reach nothing.
CREATE FUNCTION fleetdeck.agent_stacks(agent uuid)
    RETURNS TABLE (stack_id uuid, by_target boolean, by_label boolean, by_annotation boolean)
    LANGUAGE sql STABLE AS $$
    SELECT r.stack_id, bool_or(r.route = 't'), bool_or(r.route = 'l'), bool_or(r.route = 'a')
      FROM (
            SELECT t.stack_id, 't' AS route
              FROM broker.agent_targets t
             WHERE t.agent_id = agent
            UNION ALL
            SELECT sl.stack_id, 'l'
              FROM broker.agent_labels al
              JOIN broker.stack_labels sl ON sl.label = al.label
             WHERE al.agent_id = agent
            UNION ALL
            SELECT sa.stack_id, 'a'
              FROM broker.agent_annotations aa
              JOIN broker.stack_annotations sa ON sa.key = aa.key AND sa.value = aa.value
             WHERE aa.agent_id = agent
           ) r
      JOIN broker.stacks st ON st.id = r.stack_id AND st.deleted_at IS NULL
      JOIN broker.agents ag ON ag.id = agent AND ag.deleted_at IS NULL
     GROUP BY r.stack_id
$$;

-- One line per agent for the Fleet pane: stacks reaching it (all, and by each route), desired
-- objects it has not reported on yet (pending), its last event and its failures in the hour.
CREATE FUNCTION fleetdeck.agent_rollup(agent uuid)
    RETURNS TABLE (stacks integer, by_target integer, by_label integer, by_annotation integer,
                   pending integer, last_event timestamptz, failures_1h integer)
    LANGUAGE sql STABLE AS $$
    WITH reach AS (SELECT * FROM fleetdeck.agent_stacks(agent)),
    desired AS (
        SELECT (SELECT o.id
                  FROM broker.deployment_objects o
                 WHERE o.stack_id = reach.stack_id AND o.deleted_at IS NULL
                 ORDER BY o.sequence_id DESC
                 LIMIT 1) AS object_id
          FROM reach
    )
    SELECT (SELECT count(*) FROM reach)::integer,
           (SELECT count(*) FILTER (WHERE by_target) FROM reach)::integer,
           (SELECT count(*) FILTER (WHERE by_label) FROM reach)::integer,
           (SELECT count(*) FILTER (WHERE by_annotation) FROM reach)::integer,
           (SELECT count(*)
              FROM desired d
             WHERE d.object_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM broker.agent_events e
                                WHERE e.deployment_object_id = d.object_id AND e.agent_id = agent
                                  AND e.deleted_at IS NULL))::integer,
           (SELECT max(e.created_at) FROM broker.agent_events e
             WHERE e.agent_id = agent AND e.deleted_at IS NULL),
           (SELECT count(*) FROM broker.agent_events e
             WHERE e.agent_id = agent AND e.status = 'FAILURE' AND e.deleted_at IS NULL
               AND e.created_at > now() - interval '1 hour')::integer
$$;
