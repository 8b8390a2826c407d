-- Stored originals are shared by content across tenants: who still needs each one.
-- `refs` counts the documents with these bytes and changes in the same transaction as the
-- documents rows (triggers). Deleting the last document locks the row while the stored object
-- is removed, so an upload of the same bytes (whose insert must take that row) waits, and
-- stores its bytes after the removal, never before it.
CREATE TABLE original_references (
    sha256 text    PRIMARY KEY,
    refs   integer NOT NULL CHECK (refs >= 0)
);

INSERT INTO original_references (sha256, refs)
SELECT sha256, count(*) FROM documents GROUP BY sha256;

CREATE FUNCTION mivaa_reference_original() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO original_references (sha256, refs) VALUES (NEW.sha256, 1)
    ON CONFLICT (sha256) DO UPDATE SET refs = original_references.refs + 1;
    RETURN NULL;
END
$$;

CREATE FUNCTION mivaa_release_original() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE original_references SET refs = refs - 1 WHERE sha256 = OLD.sha256;
    RETURN NULL;
END
$$;

CREATE TRIGGER documents_reference_original AFTER INSERT ON documents
    FOR EACH ROW EXECUTE FUNCTION mivaa_reference_original();
CREATE TRIGGER documents_release_original AFTER DELETE ON documents
    FOR EACH ROW EXECUTE FUNCTION mivaa_release_original();
