"""One replica for test_replicas.py: a gRPC server on a free loopback port, with the search service's
certificate (mTLS, as in the cluster), that answers /mivaa.test.v1.Replica/Name with its own name.

    python tests/deploy/replica_server.py NAME CERT_DIR      (prints the port, serves until killed)
"""

from __future__ import annotations

import asyncio
import pathlib
import sys

import grpc


async def serve(name: str, cert_dir: pathlib.Path) -> None:
    async def answer(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return name.encode()

    server = grpc.aio.server()
    handler = grpc.unary_unary_rpc_method_handler(answer)  # bytes in, bytes out: no message types needed
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("mivaa.test.v1.Replica", {"Name": handler}),))
    credentials = grpc.ssl_server_credentials(
        [((cert_dir / "search-key.pem").read_bytes(), (cert_dir / "search.pem").read_bytes())],
        root_certificates=(cert_dir / "ca.pem").read_bytes(),
        require_client_auth=True,
    )
    port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    print(port, flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], pathlib.Path(sys.argv[2])))
