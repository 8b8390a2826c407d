-- Structured extraction: metadata and outline on documents, the pages'
-- structure (a serialized mivaa.search.v1.Page per page), unique images with
-- their bytes, and where each image is shown. Pages, images and placements
-- are replaced together with the chunks, in one transaction.

ALTER TABLE documents
    ADD COLUMN IF NOT EXISTS metadata bytea,      -- serialized mivaa.search.v1.DocumentMetadata
    ADD COLUMN IF NOT EXISTS outline bytea,       -- serialized repeated OutlineEntry (as an UpsertChunksHeader)
    ADD COLUMN IF NOT EXISTS image_count integer NOT NULL DEFAULT 0;

ALTER TABLE chunks
    ADD COLUMN IF NOT EXISTS section_path text[] NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS block_types text[] NOT NULL DEFAULT '{}';

CREATE TABLE IF NOT EXISTS pages (
    document_id uuid    NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    number      integer NOT NULL CHECK (number >= 1),
    layout      bytea   NOT NULL,
    PRIMARY KEY (document_id, number)
);

CREATE TABLE IF NOT EXISTS images (
    document_id uuid    NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    sha256      text    NOT NULL,
    ordinal     integer NOT NULL,  -- order of first appearance in the document
    mime_type   text    NOT NULL,
    width       integer NOT NULL,
    height      integer NOT NULL,
    data        bytea   NOT NULL,
    PRIMARY KEY (document_id, sha256)
);

CREATE INDEX IF NOT EXISTS images_document_ordinal_idx ON images (document_id, ordinal);

CREATE TABLE IF NOT EXISTS image_placements (
    document_id uuid    NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    sha256      text    NOT NULL,
    page        integer NOT NULL,
    x0 real NOT NULL, y0 real NOT NULL, x1 real NOT NULL, y1 real NOT NULL,
    caption     text    NOT NULL DEFAULT ''
);

CREATE INDEX IF NOT EXISTS image_placements_image_idx ON image_placements (document_id, sha256, page);
