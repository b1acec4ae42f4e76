-- The Rollouts pane: which live agents a live stack reaches, and by which routes (the reverse of
-- fleetdeck.agent_stacks), and what each reached agent reported for the stack's desired object.

CREATE FUNCTION fleetdeck.stack_agents(stack uuid)
    RETURNS TABLE (agent_id uuid, by_target boolean, by_label boolean, by_annotation boolean)
    LANGUAGE sql STABLE AS $$
    SELECT r.agent_id, bool_or(r.route = 't'), bool_or(r.route = 'l'), bool_or(r.route = 'a')
      FROM (
            SELECT t.agent_id, 't' AS route
              FROM broker.agent_targets t
             WHERE t.stack_id = stack
            UNION ALL
            SELECT al.agent_id, 'l'
              FROM broker.stack_labels sl
              JOIN broker.agent_labels al ON al.label = sl.label
             WHERE sl.stack_id = stack
            UNION ALL
            SELECT aa.agent_id, 'a'
              FROM broker.stack_annotations sa
              JOIN broker.agent_annotations aa ON aa.key = sa.key AND aa.value = sa.value
             WHERE sa.stack_id = stack
           ) r
      JOIN broker.agents ag ON ag.id = r.agent_id AND ag.deleted_at IS NULL
      JOIN broker.stacks st ON st.id = stack AND st.deleted_at IS NULL
     GROUP BY r.agent_id
$$;

-- Each agent a stack reaches, with its latest live report on the desired object (the stack's live
-- object with the highest sequence_id): SUCCESS, FAILURE, or NULL while pending. `online` is
-- false when the agent is INACTIVE or silent for `offline_after` at `at`.
CREATE FUNCTION fleetdeck.stack_reports(stack uuid, offline_after interval, at timestamptz)
    RETURNS TABLE (agent_id uuid, by_target boolean, by_label boolean, by_annotation boolean,
                   status text, message text, reported_at timestamptz, online boolean)
    LANGUAGE sql STABLE AS $$
    WITH desired AS (
        SELECT o.id
          FROM broker.deployment_objects o
         WHERE o.stack_id = stack AND o.deleted_at IS NULL
         ORDER BY o.sequence_id DESC
         LIMIT 1
    )
    SELECT r.agent_id, r.by_target, r.by_label, r.by_annotation, e.status, e.message, e.created_at,
           coalesce(ag.status = 'ACTIVE' AND ag.last_heartbeat > at - offline_after, false)
      FROM fleetdeck.stack_agents(stack) r
      JOIN broker.agents ag ON ag.id = r.agent_id
      LEFT JOIN LATERAL (
            SELECT ev.status::text AS status, ev.message, ev.created_at
              FROM broker.agent_events ev, desired d
             WHERE ev.deployment_object_id = d.id AND ev.agent_id = r.agent_id AND ev.deleted_at IS NULL
             ORDER BY ev.created_at DESC
             LIMIT 1
           ) e ON true
$$;
