-- Versions (issue 16): new bytes uploaded under an existing document become the next version of
-- its chain. Each version is its own documents row (own chunks, pages, images, job and reference
-- to its original); `version_of` names the chain's first version (NULL on a first version), and
-- `chain` is the chain's key, the first version's id, kept by PostgreSQL. There is no foreign key
-- on version_of: deleting one version (even the first) leaves the others' chain key unchanged.
-- Searches see a chain's highest READY version unless asked for all (store.versions).
ALTER TABLE documents ADD COLUMN version_of uuid;
ALTER TABLE documents ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1);
ALTER TABLE documents ADD COLUMN chain uuid GENERATED ALWAYS AS (COALESCE(version_of, id)) STORED;
-- One row per version number in a chain; it serves "newer version of this chain" lookups too.
CREATE UNIQUE INDEX IF NOT EXISTS documents_tenant_chain_version_idx ON documents (tenant, chain, version);
-- replace_by_filename: the tenant's newest document of a file name.
CREATE INDEX IF NOT EXISTS documents_tenant_filename_idx ON documents (tenant, filename, create_time);
