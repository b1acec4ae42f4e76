-- Seed 004: Ergon's reusable solutions. The seed writes MySQL-style INDEX clauses inside
-- CREATE TABLE; here they are CREATE INDEX statements (GIN where the seed says so).

CREATE TYPE ergon.solution_type AS ENUM ('tool', 'agent', 'mcp_server', 'workflow');
CREATE TYPE ergon.solution_status AS ENUM ('active', 'deprecated', 'experimental', 'archived');
CREATE TYPE ergon.analysis_status AS ENUM ('pending', 'processing', 'completed', 'failed');
CREATE TYPE ergon.config_status AS ENUM ('draft', 'validated', 'deployed', 'archived');

CREATE TABLE ergon.solutions (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                   varchar(255) NOT NULL UNIQUE,
    display_name           varchar(255) NOT NULL,
    type                   ergon.solution_type NOT NULL,
    version                varchar(50) NOT NULL DEFAULT '1.0.0',
    source                 varchar(500) NOT NULL,  -- 'builtin', 'github:owner/repo', 'custom', 'pypi:package'
    description            text,
    long_description       text,                   -- Markdown
    capabilities           jsonb NOT NULL DEFAULT '[]',
    parameters             jsonb DEFAULT '{}',
    dependencies           jsonb DEFAULT '{}',
    configuration_template jsonb DEFAULT '{}',
    usage_count            integer DEFAULT 0,
    success_count          integer DEFAULT 0,
    failure_count          integer DEFAULT 0,
    last_used_at           timestamp,
    author                 varchar(255),
    license                varchar(100),
    homepage_url           varchar(500),
    repository_url         varchar(500),
    documentation_url      varchar(500),
    status                 ergon.solution_status DEFAULT 'active',
    tags                   jsonb DEFAULT '[]',
    created_at             timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at             timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_solutions_type ON ergon.solutions (type);
CREATE INDEX idx_solutions_status ON ergon.solutions (status);
CREATE INDEX idx_solutions_capabilities ON ergon.solutions USING gin (capabilities);
CREATE INDEX idx_solutions_tags ON ergon.solutions USING gin (tags);

CREATE TABLE ergon.capabilities (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                 varchar(255) NOT NULL UNIQUE,  -- "data.csv.parse"
    display_name         varchar(255) NOT NULL,
    category             varchar(100) NOT NULL,         -- "data"
    subcategory          varchar(100),                  -- "csv"
    action               varchar(100) NOT NULL,         -- "parse"
    description          text,
    parent_id            uuid REFERENCES ergon.capabilities (id),
    examples             jsonb DEFAULT '[]',
    related_capabilities jsonb DEFAULT '[]',
    created_at           timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_capabilities_category ON ergon.capabilities (category);
CREATE INDEX idx_capabilities_parent ON ergon.capabilities (parent_id);

CREATE TABLE ergon.integrations (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    solution_id         uuid NOT NULL REFERENCES ergon.solutions (id) ON DELETE CASCADE,
    project_name        varchar(255) NOT NULL,
    project_type        varchar(100),
    configuration       jsonb NOT NULL,
    wrapper_type        varchar(100),
    success             boolean NOT NULL,
    error_message       text,
    performance_metrics jsonb,
    notes               text,
    created_by          varchar(255),
    environment         jsonb,
    created_at          timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_integrations_solution ON ergon.integrations (solution_id);
CREATE INDEX idx_integrations_project ON ergon.integrations (project_name);
CREATE INDEX idx_integrations_success ON ergon.integrations (success);

CREATE TABLE ergon.analyses (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    repository_url         varchar(500) NOT NULL,
    branch                 varchar(100) DEFAULT 'main',
    commit_sha             varchar(40),
    status                 ergon.analysis_status NOT NULL DEFAULT 'pending',
    started_at             timestamp,
    completed_at           timestamp,
    found_components       jsonb DEFAULT '[]',
    dependencies_found     jsonb DEFAULT '{}',
    capabilities_detected  jsonb DEFAULT '[]',
    integration_complexity integer,             -- 1-10 scale
    file_count             integer,
    total_lines            integer,
    primary_language       varchar(50),
    license_detected       varchar(100),
    security_issues        jsonb DEFAULT '[]',
    error_message          text,
    warnings               jsonb DEFAULT '[]',
    created_at             timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    expires_at             timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP + INTERVAL '30 days',
    CONSTRAINT analyses_integration_complexity_range
        CHECK (integration_complexity IS NULL OR integration_complexity BETWEEN 1 AND 10)
);
CREATE INDEX idx_analyses_repository ON ergon.analyses (repository_url);
CREATE INDEX idx_analyses_status ON ergon.analyses (status);
CREATE INDEX idx_analyses_expires ON ergon.analyses (expires_at);

CREATE TABLE ergon.configurations (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name              varchar(255) NOT NULL,
    solution_id       uuid NOT NULL REFERENCES ergon.solutions (id),
    template_used     varchar(100) NOT NULL,
    configuration     jsonb NOT NULL,
    generated_code    text,
    status            ergon.config_status NOT NULL DEFAULT 'draft',
    validation_errors jsonb DEFAULT '[]',
    test_results      jsonb,
    deployment_id     varchar(255),
    deployment_url    varchar(500),
    port              integer,
    times_deployed    integer DEFAULT 0,
    last_deployed_at  timestamp,
    created_at        timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at        timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    created_by        varchar(255)
);
CREATE INDEX idx_configurations_solution ON ergon.configurations (solution_id);
CREATE INDEX idx_configurations_status ON ergon.configurations (status);

CREATE TABLE ergon.templates (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                      varchar(255) NOT NULL UNIQUE,
    display_name              varchar(255) NOT NULL,
    type                      varchar(100) NOT NULL,  -- 'wrapper', 'configuration', 'deployment'
    language                  varchar(50),
    template_content          text NOT NULL,
    example_config            jsonb,
    required_fields           jsonb DEFAULT '[]',
    optional_fields           jsonb DEFAULT '[]',
    description               text,
    use_cases                 jsonb DEFAULT '[]',
    compatible_solution_types jsonb DEFAULT '[]',
    created_at                timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at                timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_templates_type ON ergon.templates (type);

CREATE TABLE ergon.chat_sessions (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_type             varchar(50) NOT NULL,   -- 'tool_chat', 'team_chat'
    messages                 jsonb NOT NULL DEFAULT '[]',
    context                  jsonb DEFAULT '{}',
    solutions_recommended    jsonb DEFAULT '[]',
    configurations_generated jsonb DEFAULT '[]',
    user_satisfaction        integer,                -- 1-5 rating
    created_at               timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at               timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT chat_sessions_user_satisfaction_range
        CHECK (user_satisfaction IS NULL OR user_satisfaction BETWEEN 1 AND 5)
);
CREATE INDEX idx_chat_sessions_type ON ergon.chat_sessions (session_type);
CREATE INDEX idx_chat_sessions_created ON ergon.chat_sessions (created_at);

-- The seed's functions. The tables are named without a schema in the seed, so each function
-- fixes its search_path to ergon.
CREATE OR REPLACE FUNCTION ergon.update_updated_at_column() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at = CURRENT_TIMESTAMP;
    RETURN NEW;
END;
$$;

CREATE TRIGGER update_solutions_updated_at BEFORE UPDATE ON ergon.solutions
    FOR EACH ROW EXECUTE FUNCTION ergon.update_updated_at_column();
CREATE TRIGGER update_configurations_updated_at BEFORE UPDATE ON ergon.configurations
    FOR EACH ROW EXECUTE FUNCTION ergon.update_updated_at_column();
-- Ours: the other tables with updated_at.
CREATE TRIGGER update_templates_updated_at BEFORE UPDATE ON ergon.templates
    FOR EACH ROW EXECUTE FUNCTION ergon.update_updated_at_column();
CREATE TRIGGER update_chat_sessions_updated_at BEFORE UPDATE ON ergon.chat_sessions
    FOR EACH ROW EXECUTE FUNCTION ergon.update_updated_at_column();

CREATE OR REPLACE FUNCTION ergon.increment_solution_usage(solution_id uuid, success boolean) RETURNS void
    LANGUAGE plpgsql SET search_path = ergon, pg_catalog
AS $$
BEGIN
    UPDATE solutions
    SET usage_count = usage_count + 1,
        success_count = CASE WHEN success THEN success_count + 1 ELSE success_count END,
        failure_count = CASE WHEN NOT success THEN failure_count + 1 ELSE failure_count END,
        last_used_at = CURRENT_TIMESTAMP
    WHERE id = solution_id;
END;
$$;

CREATE OR REPLACE FUNCTION ergon.search_solutions_by_capabilities(required_capabilities text[])
    RETURNS TABLE (
        id           uuid,
        name         varchar,
        type         ergon.solution_type,
        capabilities jsonb,
        match_count  integer
    )
    LANGUAGE plpgsql SET search_path = ergon, pg_catalog
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT
        s.id,
        s.name,
        s.type,
        s.capabilities,
        cardinality(
            ARRAY(
                SELECT unnest(required_capabilities)
                INTERSECT
                SELECT jsonb_array_elements_text(s.capabilities)
            )
        ) AS match_count
    FROM solutions s
    WHERE s.status = 'active'
        AND s.capabilities ?| required_capabilities
    ORDER BY match_count DESC, s.usage_count DESC;
END;
$$;

CREATE INDEX idx_solutions_description_fts ON ergon.solutions
    USING gin (to_tsvector('english', description || ' ' || COALESCE(long_description, '')));
CREATE INDEX idx_solutions_type_status ON ergon.solutions (type, status);
CREATE INDEX idx_integrations_solution_success ON ergon.integrations (solution_id, success);
CREATE INDEX idx_analyses_status_created ON ergon.analyses (status, created_at);

-- The seed's initial data.
INSERT INTO ergon.capabilities (name, display_name, category, subcategory, action) VALUES
    ('file.read', 'Read File', 'file', NULL, 'read'),
    ('file.write', 'Write File', 'file', NULL, 'write'),
    ('data.csv.parse', 'Parse CSV', 'data', 'csv', 'parse'),
    ('data.json.parse', 'Parse JSON', 'data', 'json', 'parse'),
    ('chart.generate', 'Generate Chart', 'visualization', 'chart', 'generate'),
    ('api.rest.create', 'Create REST API', 'api', 'rest', 'create');

INSERT INTO ergon.templates (name, display_name, type, language, template_content) VALUES
    ('fastapi_wrapper', 'FastAPI Wrapper', 'wrapper', 'python', '...template content...'),
    ('mcp_adapter', 'MCP Server Adapter', 'wrapper', 'python', '...template content...');
