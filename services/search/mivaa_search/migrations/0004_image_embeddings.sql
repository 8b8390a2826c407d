-- Image vectors from image models (CLIP). Models differ in dimension, so the
-- column is an unsized vector with the dimension beside it; each dimension in
-- use gets its own partial HNSW index on the sized cast, created on first use
-- (DocumentStore._ensure_image_index).
CREATE TABLE IF NOT EXISTS image_embeddings (
    document_id uuid    NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    sha256      text    NOT NULL,
    model       text    NOT NULL,
    dimension   integer NOT NULL CHECK (dimension BETWEEN 1 AND 2000),
    embedding   vector  NOT NULL,
    PRIMARY KEY (document_id, sha256, model)
);
