"""OCR service: page images to text with pluggable engines (Tesseract, EasyOCR) in a process pool."""
