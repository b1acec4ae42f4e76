-- Maintenance is an operator's decision, not a fault (SEMANTICS.md, seed 000): the host's status
-- is Inactive, and this table records who put it in maintenance, when and why. Its health is
-- `maintenance`, counted apart from healthy, stale and offline; activating the host ends it.

CREATE TABLE fleetdeck.host_maintenance (
    host_id uuid PRIMARY KEY REFERENCES edge.host (id) ON DELETE CASCADE,
    since   timestamptz NOT NULL DEFAULT now(),
    set_by  text NOT NULL,
    reason  text
);

GRANT SELECT, INSERT, UPDATE, DELETE ON fleetdeck.host_maintenance TO authenticated;

-- Like every shared table (migration 19): a user who is nobody's owner, admin or member may only
-- read it.
CREATE TRIGGER host_maintenance_refuse_readers BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON fleetdeck.host_maintenance FOR EACH STATEMENT EXECUTE FUNCTION fleetdeck.refuse_readers();
