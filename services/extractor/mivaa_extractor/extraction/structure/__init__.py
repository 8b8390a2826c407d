"""Structured extraction: a PDF's pages as typed blocks in reading order, with tables, images and metadata.

Layers, after docling's split: `model` (the result types), the PyMuPDF backend
that reads a page's raw lines, images and drawings, the page stages (tables,
images, reading order, headings, lists, page furniture), and `document`,
which composes them for one page (`analyze_page`) or a whole file in process
(`extract_document`, for tests and benchmarks). The extractor service runs
`analyze_page` in supervised worker processes instead (text_extraction.py).
"""
