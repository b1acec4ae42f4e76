-- Keyset pagination of each pane's list: (sort key, id) in display order, so that any page is an
-- index range scan whatever the table's size.
CREATE INDEX bitnami_packages_list_idx ON cloud.bitnami_packages ((coalesce(name, '')), package_id);
CREATE INDEX host_list_idx ON edge.host ((coalesce(hostname, '')), id);
CREATE INDEX stacks_list_idx ON broker.stacks (name, id);
CREATE INDEX workflow_executions_list_idx
    ON platform.workflow_executions ((coalesce(started_at, '-infinity'::timestamptz)), id);
