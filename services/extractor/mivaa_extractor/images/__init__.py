"""Image analysis (ImageAnalysisService): properties, colours, text, tags and similar images; no grpc here."""
