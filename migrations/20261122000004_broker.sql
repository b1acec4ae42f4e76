-- Seed 002: the Brokkr broker's generators, stacks, cluster agents and deployment objects.

CREATE TABLE broker.generators (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz,
    name           varchar(255) NOT NULL,
    description    text,
    api_key_hash   text,                      -- lowercase hex SHA-256 of the key's secret part
    last_active_at timestamptz,
    is_active      boolean NOT NULL DEFAULT true,
    CONSTRAINT generators_api_key_hash_format CHECK (api_key_hash IS NULL OR api_key_hash ~ '^[0-9a-f]{64}$')
);
CREATE UNIQUE INDEX unique_generator_name ON broker.generators (name) WHERE deleted_at IS NULL;

CREATE TABLE broker.stacks (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz,
    name         varchar(255) NOT NULL,
    description  text,
    generator_id uuid NOT NULL REFERENCES broker.generators (id),
    CONSTRAINT stacks_name_not_empty CHECK (name <> '')
);
CREATE UNIQUE INDEX unique_stack_name ON broker.stacks (name) WHERE deleted_at IS NULL;
CREATE INDEX stacks_generator_id_idx ON broker.stacks (generator_id);
CREATE INDEX stacks_updated_at_id_idx ON broker.stacks (updated_at, id);

CREATE TABLE broker.agents (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    deleted_at     timestamptz,
    name           varchar(255) NOT NULL,
    cluster_name   varchar(255) NOT NULL,
    last_heartbeat timestamptz,
    status         varchar(50) NOT NULL DEFAULT 'INACTIVE',
    pak_hash       text,                      -- lowercase hex SHA-256 of the key's secret part
    CONSTRAINT agents_status_check CHECK (status IN ('ACTIVE', 'INACTIVE')),
    CONSTRAINT agents_pak_hash_format CHECK (pak_hash IS NULL OR pak_hash ~ '^[0-9a-f]{64}$')
);
CREATE UNIQUE INDEX unique_agent_cluster ON broker.agents (name, cluster_name) WHERE deleted_at IS NULL;
CREATE INDEX agents_cluster_name_idx ON broker.agents (cluster_name);
CREATE INDEX agents_updated_at_id_idx ON broker.agents (updated_at, id);

CREATE TABLE broker.deployment_objects (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    deleted_at         timestamptz,
    sequence_id        bigserial NOT NULL UNIQUE,
    stack_id           uuid NOT NULL REFERENCES broker.stacks (id),
    yaml_content       text NOT NULL,
    yaml_checksum      text NOT NULL,
    submitted_at       timestamptz NOT NULL DEFAULT now(),
    is_deletion_marker boolean NOT NULL DEFAULT false,
    generator_id       uuid NOT NULL REFERENCES broker.generators (id),
    CONSTRAINT deployment_objects_checksum_is_sha256
        CHECK (yaml_checksum = encode(sha256(convert_to(yaml_content, 'UTF8')), 'hex'))
);
-- The desired state of a stack: its live object with the highest sequence_id.
CREATE INDEX deployment_objects_stack_sequence_idx ON broker.deployment_objects (stack_id, sequence_id DESC);
CREATE INDEX deployment_objects_generator_id_idx ON broker.deployment_objects (generator_id);

CREATE TABLE broker.agent_events (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    deleted_at           timestamptz,
    agent_id             uuid NOT NULL REFERENCES broker.agents (id),
    deployment_object_id uuid NOT NULL REFERENCES broker.deployment_objects (id),
    event_type           varchar(50) NOT NULL,   -- DEPLOY (applying a deletion marker is a DEPLOY too)
    status               varchar(10) NOT NULL,
    message              text,                   -- the error text on failure
    CONSTRAINT agent_events_status_check CHECK (status IN ('SUCCESS', 'FAILURE'))
);
CREATE INDEX agent_events_agent_id_idx ON broker.agent_events (agent_id, created_at DESC);
CREATE INDEX agent_events_deployment_object_id_idx ON broker.agent_events (deployment_object_id, agent_id);

CREATE TABLE broker.agent_targets (
    id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id uuid NOT NULL REFERENCES broker.agents (id),
    stack_id uuid NOT NULL REFERENCES broker.stacks (id),
    CONSTRAINT unique_agent_stack UNIQUE (agent_id, stack_id)
);
CREATE INDEX agent_targets_stack_id_idx ON broker.agent_targets (stack_id);

-- Labels are 1-64 characters; annotation keys and values are 1-64 characters with no white space.
CREATE TABLE broker.stack_labels (
    id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    stack_id uuid NOT NULL REFERENCES broker.stacks (id) ON DELETE CASCADE,
    label    varchar(64) NOT NULL,
    CONSTRAINT stack_labels_label_length CHECK (char_length(label) BETWEEN 1 AND 64),
    CONSTRAINT unique_stack_label UNIQUE (stack_id, label)
);
CREATE INDEX stack_labels_label_idx ON broker.stack_labels (label);

CREATE TABLE broker.stack_annotations (
    id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    stack_id uuid NOT NULL REFERENCES broker.stacks (id) ON DELETE CASCADE,
    key      varchar(64) NOT NULL,
    value    varchar(64) NOT NULL,
    CONSTRAINT stack_annotations_key_format CHECK (key ~ '^\S{1,64}$'),
    CONSTRAINT stack_annotations_value_format CHECK (value ~ '^\S{1,64}$'),
    CONSTRAINT unique_stack_annotation UNIQUE (stack_id, key)
);
CREATE INDEX stack_annotations_key_value_idx ON broker.stack_annotations (key, value);

CREATE TABLE broker.agent_labels (
    id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id uuid NOT NULL REFERENCES broker.agents (id) ON DELETE CASCADE,
    label    varchar(64) NOT NULL,
    CONSTRAINT agent_labels_label_length CHECK (char_length(label) BETWEEN 1 AND 64),
    CONSTRAINT unique_agent_label UNIQUE (agent_id, label)
);
CREATE INDEX agent_labels_label_idx ON broker.agent_labels (label);

CREATE TABLE broker.agent_annotations (
    id       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agent_id uuid NOT NULL REFERENCES broker.agents (id) ON DELETE CASCADE,
    key      varchar(64) NOT NULL,
    value    varchar(64) NOT NULL,
    CONSTRAINT agent_annotations_key_format CHECK (key ~ '^\S{1,64}$'),
    CONSTRAINT agent_annotations_value_format CHECK (value ~ '^\S{1,64}$'),
    CONSTRAINT unique_agent_annotation UNIQUE (agent_id, key)
);
CREATE INDEX agent_annotations_key_value_idx ON broker.agent_annotations (key, value);

-- updated_at on every main table.
CREATE TRIGGER generators_updated_at BEFORE UPDATE ON broker.generators
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();
CREATE TRIGGER stacks_updated_at BEFORE UPDATE ON broker.stacks
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();
CREATE TRIGGER agents_updated_at BEFORE UPDATE ON broker.agents
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();
CREATE TRIGGER deployment_objects_updated_at BEFORE UPDATE ON broker.deployment_objects
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();
CREATE TRIGGER agent_events_updated_at BEFORE UPDATE ON broker.agent_events
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.set_updated_at();

-- Deployment objects are immutable: an UPDATE may only soft-delete (deleted_at null -> value,
-- nothing else changed) or change a deletion marker that stays a deletion marker.
CREATE FUNCTION broker.prevent_deployment_object_changes() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL
        AND (NEW.id, NEW.created_at, NEW.sequence_id, NEW.stack_id, NEW.yaml_content, NEW.yaml_checksum,
             NEW.submitted_at, NEW.is_deletion_marker, NEW.generator_id)
            IS NOT DISTINCT FROM
            (OLD.id, OLD.created_at, OLD.sequence_id, OLD.stack_id, OLD.yaml_content, OLD.yaml_checksum,
             OLD.submitted_at, OLD.is_deletion_marker, OLD.generator_id) THEN
        RETURN NEW;
    END IF;
    IF OLD.is_deletion_marker AND NEW.is_deletion_marker THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'deployment objects cannot be modified except for soft deletion or updating deletion markers'
        USING ERRCODE = 'integrity_constraint_violation', TABLE = 'deployment_objects',
              CONSTRAINT = 'deployment_objects_immutable';
END
$$;
CREATE TRIGGER deployment_objects_immutable BEFORE UPDATE ON broker.deployment_objects
    FOR EACH ROW EXECUTE FUNCTION broker.prevent_deployment_object_changes();

-- Soft-deleting a stack soft-deletes its objects and inserts one live deletion marker.
CREATE FUNCTION broker.handle_stack_soft_delete() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE broker.deployment_objects
       SET deleted_at = NEW.deleted_at
     WHERE stack_id = NEW.id AND deleted_at IS NULL;
    INSERT INTO broker.deployment_objects
           (stack_id, yaml_content, yaml_checksum, submitted_at, is_deletion_marker, generator_id)
    VALUES (NEW.id, '', encode(sha256(''::bytea), 'hex'), NEW.deleted_at, true, NEW.generator_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER stack_soft_delete AFTER UPDATE OF deleted_at ON broker.stacks
    FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
    EXECUTE FUNCTION broker.handle_stack_soft_delete();

-- Hard-deleting a stack deletes its targets, the events of its objects, then its objects.
CREATE FUNCTION broker.handle_stack_hard_delete() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    DELETE FROM broker.agent_targets WHERE stack_id = OLD.id;
    DELETE FROM broker.agent_events
     WHERE deployment_object_id IN (SELECT id FROM broker.deployment_objects WHERE stack_id = OLD.id);
    DELETE FROM broker.deployment_objects WHERE stack_id = OLD.id;
    RETURN OLD;
END
$$;
CREATE TRIGGER stack_hard_delete BEFORE DELETE ON broker.stacks
    FOR EACH ROW EXECUTE FUNCTION broker.handle_stack_hard_delete();

-- Soft-deleting an agent soft-deletes its events.
CREATE FUNCTION broker.handle_agent_soft_delete() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE broker.agent_events
       SET deleted_at = NEW.deleted_at
     WHERE agent_id = NEW.id AND deleted_at IS NULL;
    RETURN NEW;
END
$$;
CREATE TRIGGER agent_soft_delete AFTER UPDATE OF deleted_at ON broker.agents
    FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
    EXECUTE FUNCTION broker.handle_agent_soft_delete();

-- Hard-deleting an agent deletes its targets and events.
CREATE FUNCTION broker.handle_agent_hard_delete() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    DELETE FROM broker.agent_targets WHERE agent_id = OLD.id;
    DELETE FROM broker.agent_events WHERE agent_id = OLD.id;
    RETURN OLD;
END
$$;
CREATE TRIGGER agent_hard_delete BEFORE DELETE ON broker.agents
    FOR EACH ROW EXECUTE FUNCTION broker.handle_agent_hard_delete();

-- Soft-deleting a generator soft-deletes its stacks (which fires the stack rule).
CREATE FUNCTION broker.handle_generator_soft_delete() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    UPDATE broker.stacks
       SET deleted_at = NEW.deleted_at
     WHERE generator_id = NEW.id AND deleted_at IS NULL;
    RETURN NEW;
END
$$;
CREATE TRIGGER generator_soft_delete AFTER UPDATE OF deleted_at ON broker.generators
    FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
    EXECUTE FUNCTION broker.handle_generator_soft_delete();
