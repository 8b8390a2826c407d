-- Tenants: every document belongs to one; chunks, pages, images and their
-- vectors belong to it through their document. Rows that predate tenancy
-- belong to 'default' (the tenant of requests that name none).
-- The same bytes uploaded by two tenants are two documents, so sha256 is
-- unique per tenant only; stored originals stay content-addressed and shared
-- (the search service deletes one only when no document references it).

ALTER TABLE documents ADD COLUMN IF NOT EXISTS tenant text NOT NULL DEFAULT 'default';

ALTER TABLE documents DROP CONSTRAINT IF EXISTS documents_sha256_key;
ALTER TABLE documents ADD CONSTRAINT documents_tenant_sha256_key UNIQUE (tenant, sha256);
-- "Does any tenant still reference this original?"
CREATE INDEX IF NOT EXISTS documents_sha256_idx ON documents (sha256);

-- Newest-first keyset pagination within a tenant walks this index.
DROP INDEX IF EXISTS documents_create_time_id_idx;
CREATE INDEX IF NOT EXISTS documents_tenant_create_time_id_idx ON documents (tenant, create_time DESC, id DESC);
