-- Document intelligence: the named entities of each chunk, and one vector per document.

-- One row per (chunk, entity, page): `mentions` counts the mentions the chunk has of the
-- entity, on the first of its pages only (0 on the others), so sums count each mention once.
-- Rows go with their chunk (and so with their document) through the foreign key.
CREATE TABLE entities (
    tenant      text    NOT NULL,
    document_id uuid    NOT NULL,
    chunk_index integer NOT NULL,
    type        text    NOT NULL CHECK (type IN ('PERSON', 'ORGANIZATION', 'PLACE', 'DATE', 'AMOUNT')),
    text        text    NOT NULL,
    normalized  text    NOT NULL,
    page        integer NOT NULL CHECK (page >= 1),
    mentions    integer NOT NULL CHECK (mentions >= 0),
    PRIMARY KEY (document_id, chunk_index, type, normalized, page),
    FOREIGN KEY (document_id, chunk_index) REFERENCES chunks (document_id, chunk_index) ON DELETE CASCADE
);

-- The search filter looks up the chunks that mention an entity within a tenant.
CREATE INDEX entities_tenant_normalized_idx ON entities (tenant, normalized, type);
-- Listing a document's entities by type walks this index.
CREATE INDEX entities_document_type_idx ON entities (document_id, type, normalized);

-- The normalized mean of a document's chunk vectors, rewritten with its chunks.
CREATE TABLE document_vectors (
    document_id uuid PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    embedding   vector({dimension}) NOT NULL
);

INSERT INTO document_vectors (document_id, embedding)
SELECT document_id, l2_normalize(avg(embedding))
FROM chunks
GROUP BY document_id
HAVING vector_norm(avg(embedding)) > 0;
