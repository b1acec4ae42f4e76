-- What a platform user acting through fleetdeck --as (the role "authenticated") may change, and
-- which secret columns that role cannot read. The database itself refuses: fleetdeck's own checks
-- are not what stands between a viewer and a write.
--
-- SEMANTICS.md: owners, admins and members of an organisation may act on its agents' executions;
-- viewers may only read. The fleet, the rollouts and the catalogues are shared by every
-- organisation: changing them takes an owner, admin or member of at least one organisation.

-- The organisation (its name) in which the acting user is only a viewer, for an agent owned by
-- an organisation; NULL when the user may act (or acts as the operator).
CREATE FUNCTION auth.viewer_of(owner_type text, owner_id uuid) RETURNS text
    LANGUAGE sql STABLE
AS $$
    SELECT o.name
    FROM platform.organization_members m
    JOIN platform.organizations o ON o.id = m.organization_id
    WHERE owner_type = 'organization' AND m.organization_id = owner_id
      AND m.user_id = auth.uid() AND m.role = 'viewer'
$$;

-- May the acting user change what all organisations share?
CREATE FUNCTION auth.may_operate() RETURNS boolean
    LANGUAGE sql STABLE
AS $$
    SELECT EXISTS (
        SELECT 1 FROM platform.organization_members
        WHERE user_id = auth.uid() AND role IN ('owner', 'admin', 'member')
    )
$$;

-- Rows of an organisation's agents, workflows and executions: a viewer's change is refused.
CREATE FUNCTION fleetdeck.refuse_viewer_row() RETURNS trigger
    LANGUAGE plpgsql
AS $$
DECLARE
    r jsonb;
    org text;
BEGIN
    IF current_user <> 'authenticated' THEN
        RETURN coalesce(NEW, OLD);
    END IF;
    r := to_jsonb(coalesce(NEW, OLD));
    IF TG_TABLE_NAME = 'agents' THEN
        org := auth.viewer_of(r ->> 'owner_type', (r ->> 'owner_id')::uuid);
    ELSE
        SELECT auth.viewer_of(a.owner_type, a.owner_id) INTO org
        FROM platform.agents a WHERE a.id = (r ->> 'agent_id')::uuid;
    END IF;
    IF org IS NOT NULL THEN
        RAISE EXCEPTION 'viewers of % may only read %', org, replace(TG_TABLE_NAME, 'workflow_', '')
            USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA;
    END IF;
    RETURN coalesce(NEW, OLD);
END
$$;

CREATE TRIGGER agents_refuse_viewers BEFORE INSERT OR UPDATE OR DELETE ON platform.agents
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.refuse_viewer_row();
CREATE TRIGGER workflows_refuse_viewers BEFORE INSERT OR UPDATE OR DELETE ON platform.workflows
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.refuse_viewer_row();
CREATE TRIGGER workflow_executions_refuse_viewers BEFORE INSERT OR UPDATE OR DELETE ON platform.workflow_executions
    FOR EACH ROW EXECUTE FUNCTION fleetdeck.refuse_viewer_row();

-- Shared tables: a statement by a user who is nobody's owner, admin or member is refused, even
-- when it would change no row.
CREATE FUNCTION fleetdeck.refuse_readers() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    IF current_user = 'authenticated' AND NOT auth.may_operate() THEN
        RAISE EXCEPTION 'viewers may only read % (changing it takes an owner, admin or member of an organisation)',
                TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA;
    END IF;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    t record;
BEGIN
    FOR t IN
        SELECT c.oid::regclass AS rel, c.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND n.nspname IN ('catalog', 'edge', 'broker', 'ergon', 'platform')
          AND (n.nspname, c.relname) NOT IN (('platform', 'agents'), ('platform', 'workflows'),
                                             ('platform', 'workflow_executions'))
    LOOP
        EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.refuse_readers()',
                       left(t.relname, 40) || '_refuse_readers', t.rel);
    END LOOP;
END
$$;

-- Who belongs where, the organisations and the users are not fleetdeck's to change: a user could
-- otherwise make themself an owner.
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON platform.organization_members, platform.organizations, platform.users
    FROM authenticated;

-- Secrets: the agents' and generators' key hashes are not readable by the role (every other
-- column is). Provider credentials were never granted (migration 7).
REVOKE SELECT ON broker.agents, broker.generators FROM authenticated;
DO $$
DECLARE
    cols text;
BEGIN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
    FROM pg_attribute WHERE attrelid = 'broker.agents'::regclass AND attnum > 0 AND NOT attisdropped
      AND attname <> 'pak_hash';
    EXECUTE format('GRANT SELECT (%s) ON broker.agents TO authenticated', cols);
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
    FROM pg_attribute WHERE attrelid = 'broker.generators'::regclass AND attnum > 0 AND NOT attisdropped
      AND attname <> 'api_key_hash';
    EXECUTE format('GRANT SELECT (%s) ON broker.generators TO authenticated', cols);
END
$$;
