-- Where a chunk's text came from: the PDF's text layer or OCR of a rendered page,
-- and for OCR the lowest mean page confidence in the chunk.
ALTER TABLE chunks
    ADD COLUMN IF NOT EXISTS text_source text NOT NULL DEFAULT 'TEXT_LAYER'
        CHECK (text_source IN ('TEXT_LAYER', 'OCR')),
    ADD COLUMN IF NOT EXISTS ocr_confidence real;
