-- What each stored original is, told by its signature at upload: a PDF, or a picture (PNG, JPEG,
-- TIFF) read as image-only pages. Documents stored before pictures were taken are all PDFs.
ALTER TABLE documents ADD COLUMN media_type text NOT NULL DEFAULT 'application/pdf';
