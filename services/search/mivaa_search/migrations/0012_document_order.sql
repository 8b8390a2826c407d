-- ListDocuments' order_by (AIP-132): one index per orderable field besides create_time (which
-- documents_tenant_create_time_id_idx serves), each with id for the tie-break, so a tenant's
-- page in any order is an index range scan. A B-tree is read either way: asc and desc share one.
-- Titles sort by their first 100 characters (store.records.TITLE_SORT_CHARS): a whole title may
-- be longer than a B-tree entry can be.
CREATE INDEX IF NOT EXISTS documents_tenant_update_time_id_idx ON documents (tenant, update_time, id);
CREATE INDEX IF NOT EXISTS documents_tenant_title_id_idx ON documents (tenant, left(title, 100), id);
CREATE INDEX IF NOT EXISTS documents_tenant_page_count_id_idx ON documents (tenant, page_count, id);
