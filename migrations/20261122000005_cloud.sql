-- Seed 003: compute instance prices and the package marketplace (Stack8s, Artifact Hub shapes),
-- and the public schema's chat tables. pgvector is not available here: embeddings are real[].

CREATE TABLE cloud.instances (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider              varchar,
    instance_id           varchar,
    name                  varchar,
    instance_type         varchar,
    cpu_cores             integer,
    cpu_threads           integer,
    cpu_manufacturer      varchar,
    cpu_model             varchar,
    cpu_mhz               integer,
    memory_mb             integer,
    memory_gb             numeric,
    disk_gb               integer,
    disk_type             varchar,
    disk_count            integer,
    bandwidth_mbps        integer,
    transfer_tb           numeric,
    networking_throughput integer,
    inbound_bandwidth     integer,
    outbound_bandwidth    integer,
    price_monthly         numeric,
    price_hourly          numeric,
    price_currency        varchar,
    gpu_count             integer,
    gpu_model             varchar,
    gpu_memory_gb         integer,
    gpu_manufacturer      varchar,
    regions               jsonb,             -- array of cloud.regions.region_id
    available             boolean,
    stock_status          varchar,
    description           text,
    capabilities          jsonb,
    os_type               varchar,
    quota                 integer,
    created_at            timestamp DEFAULT now(),
    updated_at            timestamp DEFAULT now(),
    data_source_timestamp timestamp,
    raw_data              jsonb,
    embedding             real[],
    CONSTRAINT instances_regions_array CHECK (regions IS NULL OR jsonb_typeof(regions) = 'array')
);
-- One row per (provider, instance type): re-imports update in place.
CREATE UNIQUE INDEX instances_provider_name_key ON cloud.instances (provider, name);
CREATE INDEX instances_regions_idx ON cloud.instances USING gin (regions);
CREATE INDEX instances_gpu_model_idx ON cloud.instances (gpu_model) WHERE gpu_count > 0;
CREATE TRIGGER instances_updated_at BEFORE UPDATE ON cloud.instances
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();

CREATE TABLE cloud.bitnami_categories (
    category_id integer PRIMARY KEY,
    name        text,
    total       integer,
    created_at  timestamptz DEFAULT now(),
    updated_at  timestamptz DEFAULT now()
);
-- Artifact Hub's categories (0, not stored, means unknown).
INSERT INTO cloud.bitnami_categories (category_id, name, total) VALUES
    (1, 'AI / Machine learning', 0),
    (2, 'Database', 0),
    (3, 'Integration and delivery', 0),
    (4, 'Monitoring and logging', 0),
    (5, 'Networking', 0),
    (6, 'Security', 0),
    (7, 'Storage', 0),
    (8, 'Streaming and messaging', 0);
CREATE TRIGGER bitnami_categories_updated_at BEFORE UPDATE ON cloud.bitnami_categories
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();

CREATE TABLE cloud.bitnami_operator_capabilities (
    capability_id text PRIMARY KEY,
    name          text,
    total         integer,
    created_at    timestamptz DEFAULT now(),
    updated_at    timestamptz DEFAULT now()
);
-- The operator capability levels, in Artifact Hub's spelling.
INSERT INTO cloud.bitnami_operator_capabilities (capability_id, name, total) VALUES
    ('basic install', 'Basic Install', 0),
    ('seamless upgrades', 'Seamless Upgrades', 0),
    ('full lifecycle', 'Full Lifecycle', 0),
    ('deep insights', 'Deep Insights', 0),
    ('auto pilot', 'Auto Pilot', 0);
CREATE TRIGGER bitnami_operator_capabilities_updated_at BEFORE UPDATE ON cloud.bitnami_operator_capabilities
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();

CREATE TABLE cloud.bitnami_packages (
    package_id                           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                                 text,
    normalized_name                      text,
    category                             integer,   -- cloud.bitnami_categories.category_id (informal), 0 = unknown
    is_operator                          boolean,
    official                             boolean,
    cncf                                 boolean,
    description                          text,
    home_url                             text,
    readme                               text,
    version                              text,
    app_version                          text,
    digest                               text,
    deprecated                           boolean,
    contains_security_updates            boolean,
    prerelease                           boolean,
    signed                               boolean,
    content_url                          text,
    stats_subscriptions                  integer,
    stats_webhooks                       integer,
    production_organizations_count       integer,
    repository_name                      text,
    repository_display_name              text,
    repository_url                       text,
    repository_verified_publisher        boolean,
    repository_official                  boolean,
    logo_image_id                        text,
    internal_logo_url                    text,
    stars                                integer,
    license                              text,
    has_values_schema                    boolean,
    security_report_summary              jsonb,     -- {critical, high, medium, low, unknown}
    security_report_created_at           bigint,    -- epoch seconds
    all_containers_images_whitelisted    boolean,
    ts                                   bigint,    -- epoch seconds
    repository_id                        text,
    repository_kind                      integer,
    repository_scanner_disabled          boolean,
    repository_organization_name         text,
    repository_organization_display_name text,
    keywords                             jsonb,     -- [string]
    links                                jsonb,     -- [{name, url}]
    available_versions                   jsonb,     -- [{version, app_version, contains_security_updates, prerelease, ts}], newest first
    dependencies                         jsonb,
    container_images                     jsonb,     -- [{name, image, whitelisted, platforms[]}]
    security_reports                     jsonb,
    statistics                           jsonb,
    description_embedding                real[],
    readme_embedding                     real[],
    keywords_embedding                   real[],
    search_tsv                           tsvector,  -- maintained: name, description, keywords
    created_at                           timestamptz DEFAULT now(),
    -- Ours: the operator capability level (cloud.bitnami_operator_capabilities.capability_id).
    capabilities                         text,
    CONSTRAINT bitnami_packages_keywords_array CHECK (keywords IS NULL OR jsonb_typeof(keywords) = 'array'),
    CONSTRAINT bitnami_packages_versions_array
        CHECK (available_versions IS NULL OR jsonb_typeof(available_versions) = 'array')
);
-- One package per (repository, chart): re-imports update in place.
CREATE UNIQUE INDEX bitnami_packages_repository_chart_key ON cloud.bitnami_packages (repository_name, name);
CREATE INDEX bitnami_packages_search_tsv_idx ON cloud.bitnami_packages USING gin (search_tsv);
CREATE INDEX bitnami_packages_name_trgm_idx ON cloud.bitnami_packages USING gin (name gin_trgm_ops);
CREATE INDEX bitnami_packages_category_idx ON cloud.bitnami_packages (category);

CREATE FUNCTION cloud.bitnami_packages_search_tsv() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    NEW.search_tsv :=
        setweight(to_tsvector('english', coalesce(NEW.name, '')), 'A') ||
        setweight(jsonb_to_tsvector('english', coalesce(NEW.keywords, '[]'::jsonb), '["string"]'), 'B') ||
        setweight(to_tsvector('english', coalesce(NEW.description, '')), 'C');
    RETURN NEW;
END
$$;
CREATE TRIGGER bitnami_packages_search_tsv BEFORE INSERT OR UPDATE ON cloud.bitnami_packages
    FOR EACH ROW EXECUTE FUNCTION cloud.bitnami_packages_search_tsv();

CREATE TABLE cloud.providers (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider             varchar UNIQUE,
    created_at           timestamptz DEFAULT now(),
    provider_credentials jsonb,                -- secret: never shown, logged or exported
    logo_url             varchar
);

CREATE TABLE cloud.regions (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider   varchar,
    region_id  varchar,
    continent  varchar,
    country    varchar,
    city       varchar,
    status     varchar,
    extra_info jsonb,
    CONSTRAINT regions_provider_region_key UNIQUE (provider, region_id)
);
CREATE INDEX regions_region_id_idx ON cloud.regions (region_id);

CREATE TABLE cloud.cred (
    id                   integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    created_at           timestamptz DEFAULT now(),
    provider             varchar,
    provider_credentials jsonb                 -- secret: never shown, logged or exported
);

CREATE TABLE cloud.data (
    id         serial PRIMARY KEY,
    created_at timestamptz DEFAULT now(),
    provider   varchar,
    key        varchar,
    value      jsonb
);

CREATE VIEW cloud.instances_with_city AS
SELECT i.*, r.city, r.country, r.continent
FROM cloud.instances i
JOIN cloud.regions r ON (
    EXISTS (
        SELECT 1 FROM jsonb_array_elements_text(i.regions) region
        WHERE region.value = r.region_id::text
    )
);

CREATE VIEW cloud.instances_with_country AS
SELECT i.*, r.country
FROM cloud.instances i
JOIN cloud.regions r ON (
    EXISTS (
        SELECT 1 FROM jsonb_array_elements_text(i.regions) region
        WHERE region.value = r.region_id::text
    )
);

-- The public schema's application data.
CREATE TABLE public.users (
    id         integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    email      text,
    first_name text,
    last_name  text,
    created_at timestamp DEFAULT now()
);

CREATE TABLE public.conversations (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    integer REFERENCES public.users (id),
    title      text,
    created_at timestamp DEFAULT now()
);
CREATE INDEX conversations_user_id_idx ON public.conversations (user_id);

CREATE TABLE public.messages (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    conversation_id uuid REFERENCES public.conversations (id),
    role            text CHECK (role IN ('user', 'assistant', 'system')),
    content         text,
    created_at      timestamp DEFAULT now()
);
CREATE INDEX messages_conversation_id_idx ON public.messages (conversation_id);
