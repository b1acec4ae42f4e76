-- A README cut short in the data gave no sign of it: Helm readme files keep the first 2,000
-- characters of a chart's README (assets/SOURCES.md), so most READMEs stop mid-sentence. Ours:
-- the importer records that the text is only the start of the real one, and the detail says so.
ALTER TABLE cloud.bitnami_packages ADD COLUMN readme_cut boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN cloud.bitnami_packages.readme_cut IS
    'fleetdeck: readme holds only the start of the chart''s README (the source kept its first characters)';
