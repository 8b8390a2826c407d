-- Re-embedding a tenant's chunks with another text model of the same dimension, without
-- downtime (store/reembedding.py): the new vectors fill a side table beside the live ones,
-- then one transaction copies them over the tenant's chunks and records the tenant's model.
-- Search keeps reading chunks.embedding (and its HNSW index) throughout.

-- A tenant's text model, once it has switched away from the service's configured one.
CREATE TABLE IF NOT EXISTS tenant_text_models (
    tenant      text        PRIMARY KEY,
    model       text        NOT NULL,
    update_time timestamptz NOT NULL DEFAULT now()
);

-- One re-embedding per row; at most one RUNNING per tenant.
CREATE TABLE IF NOT EXISTS reembeddings (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant       text        NOT NULL,
    model        text        NOT NULL,
    from_model   text        NOT NULL,
    state        text        NOT NULL DEFAULT 'RUNNING'
                             CHECK (state IN ('RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    chunks_total bigint      NOT NULL DEFAULT 0,
    chunks_done  bigint      NOT NULL DEFAULT 0,
    error        text        NOT NULL DEFAULT '',
    -- A worker holds a re-embedding until this time and renews it every batch; a crashed
    -- worker's lease runs out and another (or the restarted one) resumes from the side table.
    lease_until  timestamptz NOT NULL DEFAULT '-infinity',
    create_time  timestamptz NOT NULL DEFAULT now(),
    update_time  timestamptz NOT NULL DEFAULT now(),
    switch_time  timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS reembeddings_one_running_idx ON reembeddings (tenant) WHERE state = 'RUNNING';
CREATE INDEX IF NOT EXISTS reembeddings_tenant_create_idx ON reembeddings (tenant, create_time DESC);

-- The new vectors, beside the live ones until the switch; removed with it.
CREATE TABLE IF NOT EXISTS chunk_vectors (
    document_id uuid    NOT NULL,
    chunk_index integer NOT NULL,
    model       text    NOT NULL,
    embedding   vector({dimension}) NOT NULL,
    PRIMARY KEY (document_id, chunk_index, model),
    FOREIGN KEY (document_id, chunk_index) REFERENCES chunks (document_id, chunk_index) ON DELETE CASCADE
);
