-- Databases filled by `fleetdeck seed --demo` say so: the simulator refuses to touch any other.
CREATE TABLE fleetdeck.demo_seed (
    seeded_at timestamptz NOT NULL DEFAULT now(),
    scale     text NOT NULL,
    seed      bigint NOT NULL
);
