"""OCR engines behind one interface (base_engine.OcrEngine), chosen by name (factory.create_engine)."""
