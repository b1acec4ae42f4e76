-- The hosts' list sorted by HEARTBEAT walks this index in order (forward or backward) and stops
-- at the page's end. Without it a `/` filter matching many hosts read every live host and sorted
-- them: 49 ms for `/h9` (40,951 of 100,000 hosts) against 2.6-2.9 ms with it (BENCHMARKS.md,
-- issue 25). The expression is the list's sort key for the column (listing/tables/fleet.rs).
-- A heartbeat already leaves the heap-only path (host_active_heartbeat_idx holds last_heartbeat);
-- 5,000 heartbeats in one statement took 198-283 ms with this index and 232-284 ms without it.
CREATE INDEX host_heartbeat_list_idx
    ON edge.host ((coalesce(last_heartbeat, '-infinity'::timestamptz)), id)
    WHERE deleted_at IS NULL;
