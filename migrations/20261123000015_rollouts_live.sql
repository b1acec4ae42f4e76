-- The Rollouts pane live: an agent's report, a new deployment object or a change of explicit
-- targets wakes open dashboards (the payload names the list, as in migration 11), and a stack's
-- row counts as changed when its desired object got a report (the list's delta poll reads
-- `fleetdeck.stack_changed_at`), so progress moves as agents report.

CREATE TRIGGER agent_events_notify AFTER INSERT OR UPDATE OR DELETE ON broker.agent_events
    FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.notify_change('stacks');
CREATE TRIGGER deployment_objects_notify AFTER INSERT OR UPDATE OR DELETE ON broker.deployment_objects
    FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.notify_change('stacks');
CREATE TRIGGER agent_targets_notify AFTER INSERT OR UPDATE OR DELETE ON broker.agent_targets
    FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.notify_change('stacks');

-- The newest report on an object in one index probe.
CREATE INDEX agent_events_object_created_idx ON broker.agent_events (deployment_object_id, created_at DESC);

-- When the stack last changed as the Rollouts list sees it: its row, or the newest report on its
-- desired object.
CREATE FUNCTION fleetdeck.stack_changed_at(stack uuid, updated timestamptz)
    RETURNS timestamptz
    LANGUAGE sql STABLE AS $$
    SELECT greatest(updated, (
        SELECT ev.created_at
          FROM broker.agent_events ev
         WHERE ev.deployment_object_id = (
                SELECT o.id FROM broker.deployment_objects o
                 WHERE o.stack_id = stack AND o.deleted_at IS NULL
                 ORDER BY o.sequence_id DESC LIMIT 1)
         ORDER BY ev.created_at DESC
         LIMIT 1))
$$;
