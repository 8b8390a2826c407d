"""The extraction domain: PDF checks, pages in supervised processes, structure, chunks.

No grpc, no generated protos, no bus: the API and the workers use it, adapters translate its types.
"""
