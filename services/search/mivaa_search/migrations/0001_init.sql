-- Documents and their embedded chunks.
-- {dimension} is replaced by the embedding dimension on the first run; it is
-- fixed from then on (DocumentStore.open checks it on every start).

CREATE TABLE documents (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    filename    text        NOT NULL,
    title       text        NOT NULL DEFAULT '',
    labels      text[]      NOT NULL DEFAULT '{}',
    sha256      text        NOT NULL UNIQUE,
    size_bytes  bigint      NOT NULL CHECK (size_bytes >= 0),
    page_count  integer     NOT NULL DEFAULT 0 CHECK (page_count >= 0),
    state       text        NOT NULL DEFAULT 'PENDING'
                            CHECK (state IN ('PENDING', 'PROCESSING', 'READY', 'FAILED')),
    job         text        NOT NULL DEFAULT '',
    chunk_count integer     NOT NULL DEFAULT 0 CHECK (chunk_count >= 0),
    create_time timestamptz NOT NULL DEFAULT now(),
    update_time timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX documents_labels_idx ON documents USING gin (labels);
-- Newest first keyset pagination walks this index.
CREATE INDEX documents_create_time_id_idx ON documents (create_time DESC, id DESC);

CREATE TABLE chunks (
    document_id uuid    NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    chunk_index integer NOT NULL CHECK (chunk_index >= 0),
    text        text    NOT NULL,
    page_start  integer NOT NULL,
    page_end    integer NOT NULL,
    token_count integer NOT NULL DEFAULT 0,
    model       text    NOT NULL,
    embedding   vector({dimension}) NOT NULL,
    PRIMARY KEY (document_id, chunk_index)
);

CREATE INDEX chunks_embedding_hnsw_idx ON chunks USING hnsw (embedding vector_cosine_ops);
