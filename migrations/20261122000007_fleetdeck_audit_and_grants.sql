-- What the dashboard owns: the audit log. And what the role "authenticated" may touch.

CREATE TABLE fleetdeck.audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor         text NOT NULL,               -- the acting platform user's email, or the OS user
    actor_user_id uuid DEFAULT auth.uid(),     -- set when acting as a platform user
    verb          text NOT NULL,               -- e.g. pause_execution
    target_table  text NOT NULL,               -- schema-qualified, e.g. platform.workflow_executions
    target_id     text,
    from_state    text,
    to_state      text,
    reason        text,
    outcome       text NOT NULL,
    error         text,
    CONSTRAINT audit_log_outcome_check CHECK (outcome IN ('ok', 'conflict', 'refused', 'failed'))
);
CREATE INDEX audit_log_at_idx ON fleetdeck.audit_log (at DESC);
CREATE INDEX audit_log_target_idx ON fleetdeck.audit_log (target_table, target_id, at DESC);

-- The audit log is append-only.
CREATE FUNCTION fleetdeck.audit_log_append_only() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: rows cannot be changed or deleted'
        USING ERRCODE = 'insufficient_privilege', TABLE = 'audit_log';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON fleetdeck.audit_log
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.audit_log_append_only();

-- Privileges of the role "authenticated" (a platform user acting through fleetdeck --as).
GRANT USAGE ON SCHEMA catalog, edge, platform, broker, cloud, ergon, auth, fleetdeck, public TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA catalog, edge, platform, broker, ergon TO authenticated;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA catalog, edge, platform, broker, ergon TO authenticated;
GRANT SELECT ON cloud.instances, cloud.bitnami_packages, cloud.bitnami_categories,
    cloud.bitnami_operator_capabilities, cloud.regions, cloud.data,
    cloud.instances_with_city, cloud.instances_with_country TO authenticated;
-- Provider credentials are secret: no column of cloud.cred, and not providers.provider_credentials.
GRANT SELECT (id, provider, created_at, logo_url) ON cloud.providers TO authenticated;
GRANT SELECT ON public.users, public.conversations, public.messages TO authenticated;
GRANT SELECT, INSERT ON fleetdeck.audit_log TO authenticated;
