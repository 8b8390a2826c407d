-- Stored originals, one row each, and who holds them: a row per referencing document, replacing
-- 0010's counter. A reference row names its holder (tenant, document), so a leak or a lost
-- reference can be found by a query and no decrement can be applied twice or missed. Rows change
-- in the same transaction as the documents rows (triggers); how deletion and uploads interleave
-- is in mivaa_search/store/originals.py.
DROP TRIGGER IF EXISTS documents_reference_original ON documents;
DROP TRIGGER IF EXISTS documents_release_original ON documents;
DROP FUNCTION IF EXISTS mivaa_reference_original();
DROP FUNCTION IF EXISTS mivaa_release_original();
DROP TABLE IF EXISTS original_references;

CREATE TABLE originals (
    sha256      text        PRIMARY KEY,
    size_bytes  bigint      NOT NULL CHECK (size_bytes >= 0),
    create_time timestamptz NOT NULL DEFAULT now(),
    -- 'stored': held, or about to be; 'deleting': the last reference went in a committed
    -- transaction and the object store delete is due (a tombstone until it is done).
    state       text        NOT NULL DEFAULT 'stored' CHECK (state IN ('stored', 'deleting')),
    delete_time timestamptz
);

CREATE TABLE original_references (
    document    uuid        PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    sha256      text        NOT NULL REFERENCES originals (sha256),
    tenant      text        NOT NULL,
    create_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX original_references_sha256 ON original_references (sha256);

-- Backfill: every original a document has today, held by each such document.
INSERT INTO originals (sha256, size_bytes, create_time)
SELECT sha256, max(size_bytes), min(create_time) FROM documents GROUP BY sha256;
INSERT INTO original_references (document, sha256, tenant, create_time)
SELECT id, sha256, tenant, create_time FROM documents;

-- A new document takes its reference in its own insert's transaction. The upsert locks the
-- original's row (waiting for a deletion that holds it) and revives a tombstone.
CREATE FUNCTION mivaa_reference_original() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO originals (sha256, size_bytes) VALUES (NEW.sha256, NEW.size_bytes)
    ON CONFLICT (sha256) DO UPDATE SET state = 'stored', delete_time = NULL;
    INSERT INTO original_references (document, sha256, tenant) VALUES (NEW.id, NEW.sha256, NEW.tenant);
    RETURN NULL;
END
$$;

-- A reference going (its document deleted, by cascade): lock the original's row first, then look
-- for other holders in a statement of its own, whose snapshot sees every reference committed
-- before the lock was granted; with none left the row becomes a tombstone.
CREATE FUNCTION mivaa_release_original() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM originals WHERE sha256 = OLD.sha256 FOR UPDATE;
    IF NOT EXISTS (SELECT 1 FROM original_references WHERE sha256 = OLD.sha256) THEN
        UPDATE originals SET state = 'deleting', delete_time = now() WHERE sha256 = OLD.sha256;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER documents_reference_original AFTER INSERT ON documents
    FOR EACH ROW EXECUTE FUNCTION mivaa_reference_original();
CREATE TRIGGER original_references_release AFTER DELETE ON original_references
    FOR EACH ROW EXECUTE FUNCTION mivaa_release_original();
