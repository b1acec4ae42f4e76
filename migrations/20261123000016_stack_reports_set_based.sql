-- Each reached agent's latest report on the desired object, read as one pass over the object's
-- reports (DISTINCT ON) instead of one index probe per agent: a page of 200 stacks' progress on
-- the large demo falls from about 400 ms to about 55 ms (BENCHMARKS.md, `cargo bench --bench
-- rollouts`). Same columns and meaning as migration 13.
CREATE OR REPLACE FUNCTION fleetdeck.stack_reports(stack uuid, offline_after interval, at timestamptz)
    RETURNS TABLE (agent_id uuid, by_target boolean, by_label boolean, by_annotation boolean,
                   status text, message text, reported_at timestamptz, online boolean)
    LANGUAGE sql STABLE AS $$
    WITH desired AS (
        SELECT o.id
          FROM broker.deployment_objects o
         WHERE o.stack_id = stack AND o.deleted_at IS NULL
         ORDER BY o.sequence_id DESC
         LIMIT 1
    ), latest AS (
        SELECT DISTINCT ON (ev.agent_id) ev.agent_id, ev.status::text AS status, ev.message, ev.created_at
          FROM broker.agent_events ev
          JOIN desired d ON ev.deployment_object_id = d.id
         WHERE ev.deleted_at IS NULL
         ORDER BY ev.agent_id, ev.created_at DESC
    )
    SELECT r.agent_id, r.by_target, r.by_label, r.by_annotation, e.status, e.message, e.created_at,
           -- A probe per agent: a join here is planned as a hash over every agent, per stack.
           coalesce((SELECT ag.status = 'ACTIVE' AND ag.last_heartbeat > at - offline_after
                       FROM broker.agents ag WHERE ag.id = r.agent_id), false)
      FROM fleetdeck.stack_agents(stack) r
      LEFT JOIN latest e ON e.agent_id = r.agent_id
$$;
