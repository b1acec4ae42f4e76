-- Seed 001: the Hyphrki orchestrator's users, organisations, AI agents, workflows and executions.

CREATE TABLE platform.users (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email             varchar(255) UNIQUE NOT NULL,
    password_hash     varchar(255) NOT NULL,
    first_name        varchar(100) NOT NULL,
    last_name         varchar(100) NOT NULL,
    subscription_tier varchar(20) NOT NULL CHECK (subscription_tier IN ('basic', 'pro', 'enterprise')),
    created_at        timestamptz DEFAULT now(),
    updated_at        timestamptz DEFAULT now(),
    last_login_at     timestamptz,
    is_active         boolean DEFAULT true,
    email_verified    boolean DEFAULT false
);

CREATE TABLE platform.organizations (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name              varchar(255) NOT NULL,
    slug              varchar(100) UNIQUE NOT NULL,
    subscription_tier varchar(20) NOT NULL CHECK (subscription_tier IN ('basic', 'pro', 'enterprise')),
    created_at        timestamptz DEFAULT now(),
    updated_at        timestamptz DEFAULT now(),
    is_active         boolean DEFAULT true
);

CREATE TABLE platform.organization_members (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES platform.organizations (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES platform.users (id) ON DELETE CASCADE,
    role            varchar(20) NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    joined_at       timestamptz DEFAULT now(),
    UNIQUE (organization_id, user_id)
);

CREATE TABLE platform.agents (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            varchar(255) NOT NULL,
    description     text,
    owner_type      varchar(20) NOT NULL CHECK (owner_type IN ('user', 'organization')),
    owner_id        uuid NOT NULL,
    framework       varchar(50) NOT NULL CHECK (framework IN ('langgraph', 'agno', 'crewai', 'n8n')),
    agent_type      varchar(20) NOT NULL CHECK (agent_type IN ('visual', 'code')),
    status          varchar(20) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'inactive', 'error')),
    version         varchar(20) NOT NULL DEFAULT '1.0.0',
    created_at      timestamptz DEFAULT now(),
    updated_at      timestamptz DEFAULT now(),
    deployed_at     timestamptz,
    container_id    varchar(255),
    resource_limits jsonb,
    metadata        jsonb
);

-- The seed's fk_agent_owner is a CHECK with a subquery, which PostgreSQL does not allow.
-- The same rule as a trigger. SECURITY DEFINER: the owner must exist, whether or not row-level
-- security lets the acting user see it.
CREATE FUNCTION platform.check_agent_owner() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, platform
AS $$
BEGIN
    IF NEW.owner_type = 'user'
        AND NOT EXISTS (SELECT 1 FROM platform.users u WHERE u.id = NEW.owner_id) THEN
        RAISE EXCEPTION 'agent owner % does not exist: no user has that id', NEW.owner_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'fk_agent_owner',
                  TABLE = 'agents', COLUMN = 'owner_id';
    ELSIF NEW.owner_type = 'organization'
        AND NOT EXISTS (SELECT 1 FROM platform.organizations o WHERE o.id = NEW.owner_id) THEN
        RAISE EXCEPTION 'agent owner % does not exist: no organization has that id', NEW.owner_id
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'fk_agent_owner',
                  TABLE = 'agents', COLUMN = 'owner_id';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER fk_agent_owner BEFORE INSERT OR UPDATE OF owner_type, owner_id ON platform.agents
    FOR EACH ROW EXECUTE FUNCTION platform.check_agent_owner();

CREATE TABLE platform.workflows (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id      uuid NOT NULL REFERENCES platform.agents (id) ON DELETE CASCADE,
    name          varchar(255) NOT NULL,
    description   text,
    workflow_data jsonb NOT NULL,
    workflow_type varchar(20) NOT NULL CHECK (workflow_type IN ('visual', 'code')),
    framework     varchar(50) NOT NULL CHECK (framework IN ('langgraph', 'agno', 'crewai', 'n8n')),
    version       varchar(20) NOT NULL DEFAULT '1.0.0',
    created_at    timestamptz DEFAULT now(),
    updated_at    timestamptz DEFAULT now(),
    is_active     boolean DEFAULT true
);

CREATE TABLE platform.workflow_executions (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workflow_id         uuid NOT NULL REFERENCES platform.workflows (id) ON DELETE CASCADE,
    agent_id            uuid NOT NULL REFERENCES platform.agents (id) ON DELETE CASCADE,
    status              varchar(20) NOT NULL DEFAULT 'queued' CHECK (status IN
                            ('queued', 'pending', 'running', 'paused', 'completed', 'failed', 'cancelled', 'timeout')),
    status_message      text,
    started_at          timestamptz DEFAULT now(),
    completed_at        timestamptz,
    paused_at           timestamptz,
    resumed_at          timestamptz,
    execution_data      jsonb,
    execution_logs      jsonb,
    error_message       text,
    error_code          varchar(50),
    retry_count         integer DEFAULT 0,
    max_retries         integer DEFAULT 3,
    resource_usage      jsonb,
    performance_metrics jsonb,
    correlation_id      uuid NOT NULL,
    parent_execution_id uuid REFERENCES platform.workflow_executions (id),
    created_at          timestamptz DEFAULT now(),
    updated_at          timestamptz DEFAULT now(),
    -- Seed rule "each execution must have a unique correlation ID".
    CONSTRAINT workflow_executions_correlation_id_key UNIQUE (correlation_id)
);

-- The execution state machine, enforced for every writer (SEMANTICS.md, seed 001):
--   queued -> pending -> running -> completed | failed | timeout
--   running -> paused -> running
--   queued | pending | running | paused -> cancelled
--   completed, failed, cancelled, timeout are final.
CREATE FUNCTION platform.execution_transition_allowed(from_status text, to_status text) RETURNS boolean
    LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE from_status
        WHEN 'queued'  THEN to_status IN ('pending', 'cancelled')
        WHEN 'pending' THEN to_status IN ('running', 'cancelled')
        WHEN 'running' THEN to_status IN ('completed', 'failed', 'timeout', 'paused', 'cancelled')
        WHEN 'paused'  THEN to_status IN ('running', 'cancelled')
        ELSE false
    END
$$;

CREATE FUNCTION platform.check_execution_transition() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status
        AND NOT platform.execution_transition_allowed(OLD.status, NEW.status) THEN
        RAISE EXCEPTION 'execution % cannot go from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation', CONSTRAINT = 'workflow_executions_status_transition',
                  TABLE = 'workflow_executions', COLUMN = 'status',
                  HINT = CASE WHEN OLD.status IN ('completed', 'failed', 'cancelled', 'timeout')
                              THEN OLD.status || ' is a final state'
                              ELSE 'allowed from ' || OLD.status || ': ' || (
                                  SELECT string_agg(s, ', ')
                                  FROM unnest(ARRAY['pending', 'running', 'paused', 'completed', 'failed',
                                                    'cancelled', 'timeout']) AS s
                                  WHERE platform.execution_transition_allowed(OLD.status, s))
                         END;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER workflow_executions_status_transition BEFORE UPDATE OF status ON platform.workflow_executions
    FOR EACH ROW EXECUTE FUNCTION platform.check_execution_transition();

CREATE TABLE platform.marketplace_integrations (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id             uuid NOT NULL REFERENCES platform.agents (id) ON DELETE CASCADE,
    marketplace_name     varchar(50) NOT NULL DEFAULT 'hyphrki',
    marketplace_agent_id varchar(255),
    status               varchar(20) NOT NULL DEFAULT 'pending'
                             CHECK (status IN ('pending', 'published', 'unpublished', 'error')),
    published_at         timestamptz,
    unpublished_at       timestamptz,
    usage_metrics        jsonb,
    created_at           timestamptz DEFAULT now(),
    updated_at           timestamptz DEFAULT now()
);

CREATE TABLE platform.container_resources (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id          uuid NOT NULL REFERENCES platform.agents (id) ON DELETE CASCADE,
    subscription_tier varchar(20) NOT NULL CHECK (subscription_tier IN ('basic', 'pro', 'enterprise')),
    cpu_limit         integer NOT NULL,
    memory_limit_mb   integer NOT NULL,
    network_isolation varchar(20) NOT NULL CHECK (network_isolation IN ('shared', 'isolated')),
    created_at        timestamptz DEFAULT now(),
    updated_at        timestamptz DEFAULT now()
);

ALTER TABLE platform.container_resources
    ADD CONSTRAINT check_resource_limits CHECK (
        (subscription_tier = 'basic' AND cpu_limit = 1 AND memory_limit_mb = 2048) OR
        (subscription_tier = 'pro' AND cpu_limit = 4 AND memory_limit_mb = 8192) OR
        (subscription_tier = 'enterprise' AND cpu_limit = 16 AND memory_limit_mb = 32768)
    );
ALTER TABLE platform.container_resources
    ADD CONSTRAINT check_network_isolation CHECK (
        (subscription_tier = 'enterprise' AND network_isolation = 'isolated') OR
        (subscription_tier IN ('basic', 'pro') AND network_isolation = 'shared')
    );

-- Indexes named in the seed.
CREATE INDEX idx_workflow_executions_status ON platform.workflow_executions (status);
CREATE INDEX idx_workflow_executions_agent_status ON platform.workflow_executions (agent_id, status);
CREATE INDEX idx_workflow_executions_correlation ON platform.workflow_executions (correlation_id);
CREATE INDEX idx_workflow_executions_started ON platform.workflow_executions (started_at);

CREATE INDEX idx_users_email ON platform.users (email);
CREATE INDEX idx_users_subscription_tier ON platform.users (subscription_tier);
CREATE INDEX idx_users_created_at ON platform.users (created_at);
CREATE INDEX idx_organizations_slug ON platform.organizations (slug);
CREATE INDEX idx_organizations_subscription_tier ON platform.organizations (subscription_tier);
CREATE INDEX idx_org_members_org_id ON platform.organization_members (organization_id);
CREATE INDEX idx_org_members_user_id ON platform.organization_members (user_id);
CREATE INDEX idx_agents_owner ON platform.agents (owner_type, owner_id);
CREATE INDEX idx_agents_framework ON platform.agents (framework);
CREATE INDEX idx_agents_status ON platform.agents (status);
CREATE INDEX idx_agents_created_at ON platform.agents (created_at);
CREATE INDEX idx_workflows_agent_id ON platform.workflows (agent_id);
CREATE INDEX idx_workflows_framework ON platform.workflows (framework);
CREATE INDEX idx_workflows_active ON platform.workflows (is_active);
CREATE INDEX idx_executions_workflow_id ON platform.workflow_executions (workflow_id);
CREATE INDEX idx_executions_agent_id ON platform.workflow_executions (agent_id);
CREATE INDEX idx_executions_status ON platform.workflow_executions (status);
CREATE INDEX idx_executions_started_at ON platform.workflow_executions (started_at);
CREATE INDEX idx_executions_correlation_id ON platform.workflow_executions (correlation_id);
CREATE INDEX idx_marketplace_agent_id ON platform.marketplace_integrations (agent_id);
CREATE INDEX idx_marketplace_status ON platform.marketplace_integrations (status);
CREATE INDEX idx_container_resources_agent_id ON platform.container_resources (agent_id);
CREATE INDEX idx_container_resources_tier ON platform.container_resources (subscription_tier);

-- Ours: retry chains and delta polling.
CREATE INDEX idx_executions_parent_execution_id ON platform.workflow_executions (parent_execution_id);
CREATE INDEX idx_executions_updated_at_id ON platform.workflow_executions (updated_at, id);

CREATE TRIGGER users_updated_at BEFORE UPDATE ON platform.users
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();
CREATE TRIGGER organizations_updated_at BEFORE UPDATE ON platform.organizations
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();
CREATE TRIGGER agents_updated_at BEFORE UPDATE ON platform.agents
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();
CREATE TRIGGER workflows_updated_at BEFORE UPDATE ON platform.workflows
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();
CREATE TRIGGER workflow_executions_updated_at BEFORE UPDATE ON platform.workflow_executions
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();
CREATE TRIGGER marketplace_integrations_updated_at BEFORE UPDATE ON platform.marketplace_integrations
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();
CREATE TRIGGER container_resources_updated_at BEFORE UPDATE ON platform.container_resources
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();

-- Row-level security, as in the seed. The policies apply to the role "authenticated"; fleetdeck
-- switches to it (with auth.uid() set) when started with --as EMAIL.
ALTER TABLE platform.users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_own_data ON platform.users
    FOR ALL TO authenticated
    USING (id = auth.uid());

ALTER TABLE platform.organizations ENABLE ROW LEVEL SECURITY;
CREATE POLICY org_members_access ON platform.organizations
    FOR ALL TO authenticated
    USING (
        id IN (
            SELECT organization_id
            FROM platform.organization_members
            WHERE user_id = auth.uid()
        )
    );

ALTER TABLE platform.agents ENABLE ROW LEVEL SECURITY;
CREATE POLICY agents_owner_access ON platform.agents
    FOR ALL TO authenticated
    USING (
        (owner_type = 'user' AND owner_id = auth.uid()) OR
        (owner_type = 'organization' AND owner_id IN (
            SELECT organization_id
            FROM platform.organization_members
            WHERE user_id = auth.uid()
        ))
    );

ALTER TABLE platform.workflows ENABLE ROW LEVEL SECURITY;
CREATE POLICY workflows_agent_access ON platform.workflows
    FOR ALL TO authenticated
    USING (
        agent_id IN (
            SELECT id FROM platform.agents WHERE
                (owner_type = 'user' AND owner_id = auth.uid()) OR
                (owner_type = 'organization' AND owner_id IN (
                    SELECT organization_id
                    FROM platform.organization_members
                    WHERE user_id = auth.uid()
                ))
        )
    );

ALTER TABLE platform.workflow_executions ENABLE ROW LEVEL SECURITY;
CREATE POLICY executions_workflow_access ON platform.workflow_executions
    FOR ALL TO authenticated
    USING (
        workflow_id IN (
            SELECT w.id FROM platform.workflows w
            JOIN platform.agents a ON w.agent_id = a.id
            WHERE
                (a.owner_type = 'user' AND a.owner_id = auth.uid()) OR
                (a.owner_type = 'organization' AND a.owner_id IN (
                    SELECT organization_id
                    FROM platform.organization_members
                    WHERE user_id = auth.uid()
                ))
        )
    );
