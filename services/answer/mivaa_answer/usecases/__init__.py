"""The answer service's use cases: Ask and SummarizeDocument (no grpc, no protos)."""
