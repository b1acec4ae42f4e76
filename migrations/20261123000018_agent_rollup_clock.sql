-- The Fleet pane's FAIL 1H counted failures in the hour before the database's clock while the
-- rest of the row (health, heartbeat age) is judged at the dashboard's clock: the same row could
-- mix two clocks. This version takes the clock; the agents list passes the dashboard's.
CREATE FUNCTION fleetdeck.agent_rollup(agent uuid, at timestamptz)
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
               AND e.created_at > at - interval '1 hour' AND e.created_at <= at)::integer
$$;
