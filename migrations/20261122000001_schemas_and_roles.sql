-- fleetdeck: schemas, extensions, the Supabase-style auth shim, shared helpers.
-- One database, one schema per system (see SEMANTICS.md "Layout in PostgreSQL").

CREATE SCHEMA IF NOT EXISTS catalog;    -- seed 000: edge application catalog (Margo)
CREATE SCHEMA IF NOT EXISTS edge;       -- seed 000: orchestrators, sites, hosts
CREATE SCHEMA IF NOT EXISTS platform;   -- seed 001: users, organisations, agents, workflows, executions
CREATE SCHEMA IF NOT EXISTS broker;     -- seed 002: stacks, cluster agents, deployment objects
CREATE SCHEMA IF NOT EXISTS cloud;      -- seed 003: compute prices and the package marketplace
CREATE SCHEMA IF NOT EXISTS ergon;      -- seed 004: reusable solutions
CREATE SCHEMA IF NOT EXISTS auth;       -- auth.uid() and the role "authenticated" for seed 001's RLS
CREATE SCHEMA IF NOT EXISTS fleetdeck;  -- what the dashboard itself owns

-- pg_trgm is a trusted extension: a database owner may create it without superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- The role that seed 001's policies name. Roles are cluster-wide, so another database on the
-- same server may have created it already.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
        BEGIN
            CREATE ROLE authenticated NOLOGIN;
        EXCEPTION
            WHEN duplicate_object THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION 'fleetdeck needs the role "authenticated" and % may not create roles',
                    current_user
                    USING HINT = 'ask an administrator to run: CREATE ROLE authenticated NOLOGIN; GRANT authenticated TO '
                        || quote_ident(current_user) || ';';
        END;
    END IF;
    -- The connecting role switches to "authenticated" (SET ROLE) when fleetdeck acts as a user.
    IF NOT pg_has_role(current_user, 'authenticated', 'MEMBER') THEN
        BEGIN
            EXECUTE format('GRANT authenticated TO %I', current_user);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'could not grant the role "authenticated" to %; --as EMAIL will not work', current_user;
        END;
    END IF;
END
$$;

-- Supabase's auth.uid(): the acting user's id, taken from the request's JWT subject.
-- fleetdeck sets request.jwt.claim.sub on every pooled connection when it acts as a user.
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid
    LANGUAGE sql STABLE
AS $$
    SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid
$$;

-- updated_at maintenance shared by every table that has the column.
CREATE OR REPLACE FUNCTION fleetdeck.set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
