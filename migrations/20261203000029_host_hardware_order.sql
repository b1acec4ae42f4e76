-- The hosts' list sorted by ARCH, CORES, MEMORY or STORAGE walks one of these in order and
-- stops at the page's end. Without them a `/` filter matching many hosts read every match and
-- sorted it: 56-95 ms for `/h9` (40,951 of 100,000 hosts), against a goal of 16 ms (issue 25).
-- They are on host_hardware, which only a change of a host's metadata or site writes: on
-- edge.host itself, every heartbeat would write each of them (a heartbeat is never a heap-only
-- update there), and seven such indexes made 5,000 heartbeats 50-60 % slower (BENCHMARKS.md).
-- The sort keys are the typed values (memory and storage in bytes), as the fit rule reads them,
-- with -1 or '' for a host that does not say: the list's sort expressions (listing/tables/fleet.rs).
CREATE INDEX host_hardware_architecture_order ON fleetdeck.host_hardware ((coalesce(architecture, '')), host_id);
CREATE INDEX host_hardware_cores_order ON fleetdeck.host_hardware ((coalesce(cores, -1)), host_id);
CREATE INDEX host_hardware_memory_order ON fleetdeck.host_hardware ((coalesce(memory, -1)), host_id);
CREATE INDEX host_hardware_storage_order ON fleetdeck.host_hardware ((coalesce(storage, -1)), host_id);
