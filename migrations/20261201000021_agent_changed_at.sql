-- The Fleet pane's PENDING, LAST EVENT and FAIL 1H lagged events by up to 30 s: an agent's row
-- changes when it reports an event or when a stack reaching it gets a new deployment object,
-- neither of which touches broker.agents.updated_at, so the delta read missed them. This clock
-- is the latest of the three (the stacks list has its own, migration 15).
CREATE FUNCTION fleetdeck.agent_changed_at(agent uuid, updated timestamptz)
    RETURNS timestamptz
    LANGUAGE sql STABLE AS $$
    SELECT greatest(
        updated,
        (SELECT e.created_at FROM broker.agent_events e
          WHERE e.agent_id = agent ORDER BY e.created_at DESC LIMIT 1),
        (SELECT max(o.submitted_at) FROM fleetdeck.agent_stacks(agent) r
           JOIN broker.deployment_objects o ON o.stack_id = r.stack_id))
$$;
