-- Custom key/value metadata the document's owner sets (UpdateDocument): a JSON object of
-- string values. Filters match pairs exactly with @>, which the jsonb_path_ops GIN index serves.
ALTER TABLE documents ADD COLUMN custom_metadata jsonb NOT NULL DEFAULT '{}'::jsonb;
CREATE INDEX documents_custom_metadata_idx ON documents USING gin (custom_metadata jsonb_path_ops);
