"""The upload and jobs API (EXTRACTOR_ROLES=api): the gRPC servicer and the upload use case."""
