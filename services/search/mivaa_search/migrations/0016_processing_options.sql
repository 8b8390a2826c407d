-- How each document is processed (OCR mode and languages, images, tables, chunk size), as its
-- upload or latest reprocess asked, in the protobuf JSON mapping of mivaa.jobs.v1.ProcessingOptions.
-- NULL: the server's defaults (every document stored before options existed).
ALTER TABLE documents ADD COLUMN processing_options jsonb;
