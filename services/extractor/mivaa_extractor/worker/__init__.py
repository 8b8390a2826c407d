"""The extraction workers (EXTRACTOR_ROLES=worker): task consumption, fair scheduling, the processing use case."""
