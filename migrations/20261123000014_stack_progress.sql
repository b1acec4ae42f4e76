-- A stack's rollout in one row: agents reached (all, and by each route) and what they reported
-- for the desired object. The Rollouts list and `fleetdeck rollout list` both read it.
CREATE FUNCTION fleetdeck.stack_progress(stack uuid, offline_after interval, at timestamptz)
    RETURNS TABLE (agents bigint, by_target bigint, by_label bigint, by_annotation bigint,
                   success bigint, failure bigint, pending bigint, offline bigint)
    LANGUAGE sql STABLE AS $$
    SELECT count(*),
           count(*) FILTER (WHERE r.by_target),
           count(*) FILTER (WHERE r.by_label),
           count(*) FILTER (WHERE r.by_annotation),
           count(*) FILTER (WHERE r.status = 'SUCCESS'),
           count(*) FILTER (WHERE r.status = 'FAILURE'),
           count(*) FILTER (WHERE r.status IS NULL AND r.online),
           count(*) FILTER (WHERE r.status IS NULL AND NOT r.online)
      FROM fleetdeck.stack_reports(stack, offline_after, at) r
$$;
