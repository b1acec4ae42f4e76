-- The marketplace's server-side search reads READMEs with ILIKE '%…%': a trigram index makes
-- that an index scan instead of reading every README.
CREATE INDEX bitnami_packages_readme_trgm_idx ON cloud.bitnami_packages USING gin (readme gin_trgm_ops);
