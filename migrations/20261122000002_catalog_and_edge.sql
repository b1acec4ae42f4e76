-- Seed 000, version 3: the Margo edge application catalog and the edge fleet.

CREATE TABLE catalog.application_desc (
    app_id      text PRIMARY KEY,             -- Margo metadata.id
    name        text,
    vendor      text,                         -- catalog.organization[0].name
    version     text,
    category    text,                         -- ours, nullable
    description text,
    icon        text,                         -- catalog.application.icon
    artifacturl text,                         -- ours, nullable
    site        text,                         -- catalog.application.site
    tag_line    text,                         -- catalog.application.tagline
    tags        jsonb,                        -- catalog.application.tags
    published   text,                         -- when it entered the catalog
    CONSTRAINT application_desc_tags_array CHECK (tags IS NULL OR jsonb_typeof(tags) = 'array')
);

CREATE TABLE catalog.deployment_profile (
    id                text PRIMARY KEY,       -- '<app_id>/<profile id>' or '<app_id>/<index>'
    type              text,
    description       text,
    cpu_cores         double precision,
    memory            text,
    storage           text,
    cpu_architectures jsonb,
    peripherals       jsonb,
    interfaces        jsonb,
    app_id            text REFERENCES catalog.application_desc (app_id) ON DELETE CASCADE,
    CONSTRAINT deployment_profile_type_check
        CHECK (type IS NULL OR type IN ('helm.v3', 'docker-compose', 'helm', 'compose')),
    CONSTRAINT deployment_profile_cpu_cores_check CHECK (cpu_cores IS NULL OR cpu_cores > 0),
    CONSTRAINT deployment_profile_memory_check
        CHECK (memory IS NULL OR memory ~ '^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi)$'),
    CONSTRAINT deployment_profile_storage_check
        CHECK (storage IS NULL OR storage ~ '^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei)$'),
    CONSTRAINT deployment_profile_cpu_architectures_check
        CHECK (cpu_architectures IS NULL OR (jsonb_typeof(cpu_architectures) = 'array'
            AND cpu_architectures <@ '["amd64", "arm64", "arm", "riscv64", "other"]'::jsonb)),
    CONSTRAINT deployment_profile_peripherals_check
        CHECK (peripherals IS NULL OR jsonb_typeof(peripherals) = 'array'),
    CONSTRAINT deployment_profile_interfaces_check
        CHECK (interfaces IS NULL OR jsonb_typeof(interfaces) = 'array')
);
CREATE INDEX deployment_profile_app_id_idx ON catalog.deployment_profile (app_id);

CREATE TABLE catalog.component (
    id                    serial PRIMARY KEY,
    deployment_profile_id text REFERENCES catalog.deployment_profile (id) ON DELETE CASCADE,
    name                  text,
    properties            jsonb                -- {repository, revision, wait, timeout, packageLocation, keyLocation}
);
CREATE INDEX component_deployment_profile_id_idx ON catalog.component (deployment_profile_id);

CREATE TABLE edge.orchestrator (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name         varchar,
    type         varchar,                      -- central | local
    region       varchar,
    api_endpoint varchar,
    created_at   timestamptz DEFAULT now(),
    updated_at   timestamptz DEFAULT now(),
    CONSTRAINT orchestrator_type_check CHECK (type IS NULL OR type IN ('central', 'local'))
);

CREATE TABLE edge.site (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    site_id         varchar UNIQUE NOT NULL,   -- logical site identifier, e.g. "site1"
    name            varchar,
    description     text,
    location        varchar,
    orchestrator_id uuid REFERENCES edge.orchestrator (id),
    created_at      timestamptz DEFAULT now(),
    updated_at      timestamptz DEFAULT now()
);
CREATE INDEX site_orchestrator_id_idx ON edge.site (orchestrator_id);

CREATE TABLE edge.host (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    host_id        varchar UNIQUE NOT NULL,    -- unique host identifier (UUID from the agent)
    site_id        uuid NOT NULL REFERENCES edge.site (id),
    hostname       varchar,
    ip_address     text,
    edge_url       varchar,
    status         varchar,                    -- Active | Inactive | Unreachable
    last_heartbeat timestamptz,                -- written by the edge agent
    metadata       jsonb,                      -- architecture, cores, memory, storage, peripherals, interfaces
    created_at     timestamptz DEFAULT now(),
    updated_at     timestamptz DEFAULT now(),
    CONSTRAINT host_status_check CHECK (status IS NULL OR status IN ('Active', 'Inactive', 'Unreachable'))
);
CREATE INDEX host_site_id_idx ON edge.host (site_id);
CREATE INDEX host_updated_at_id_idx ON edge.host (updated_at, id);

CREATE TRIGGER orchestrator_updated_at BEFORE UPDATE ON edge.orchestrator
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();
CREATE TRIGGER site_updated_at BEFORE UPDATE ON edge.site
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();
CREATE TRIGGER host_updated_at BEFORE UPDATE ON edge.host
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();
