-- Indexes for the platform's workers (oldest execution of a status first) and for heartbeat
-- sweeps over large fleets (who is due, who is stale).
CREATE INDEX idx_executions_status_started ON platform.workflow_executions (status, started_at);
CREATE INDEX host_active_heartbeat_idx ON edge.host (last_heartbeat) WHERE status = 'Active';
CREATE INDEX agents_active_heartbeat_idx ON broker.agents (last_heartbeat)
    WHERE status = 'ACTIVE' AND deleted_at IS NULL;
