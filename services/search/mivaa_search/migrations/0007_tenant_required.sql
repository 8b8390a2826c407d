-- Every document names its tenant: rows written with an empty tenant belong to 'default'
-- (the tenant of requests that name none), and the column has no default any more, so a
-- write that forgets the tenant fails instead of landing in someone's data.
UPDATE documents SET tenant = 'default' WHERE tenant = '';
ALTER TABLE documents ALTER COLUMN tenant DROP DEFAULT;
ALTER TABLE documents ADD CONSTRAINT documents_tenant_not_empty CHECK (tenant <> '');
