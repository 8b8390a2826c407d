"""Client channels for service-to-service calls: a deadline on every call, retries on UNAVAILABLE,
calls spread over every address the peer's name resolves to."""

from __future__ import annotations

import json

import grpc

from mivaa_platform.server import MAX_MESSAGE_BYTES
from mivaa_platform.tls import ClientTls

# round_robin: a name that resolves to several addresses (a headless Service's pods, `dns:///search:50051`)
# gets calls spread over all of them; pick_first, gRPC's default, would send every call to one.
_SERVICE_CONFIG = json.dumps(
    {
        "loadBalancingConfig": [{"round_robin": {}}],
        "methodConfig": [
            {
                "name": [{}],
                "retryPolicy": {
                    "maxAttempts": 4,
                    "initialBackoff": "0.2s",
                    "maxBackoff": "3s",
                    "backoffMultiplier": 2,
                    "retryableStatusCodes": ["UNAVAILABLE"],
                },
            }
        ],
    }
)


class _DefaultDeadline(
    grpc.aio.UnaryUnaryClientInterceptor,
    grpc.aio.UnaryStreamClientInterceptor,
    grpc.aio.StreamUnaryClientInterceptor,
    grpc.aio.StreamStreamClientInterceptor,
):
    """Gives every call a deadline; an explicit timeout= on the call wins."""

    def __init__(self, unary_seconds: float, stream_seconds: float):
        self.unary_seconds = unary_seconds
        self.stream_seconds = stream_seconds

    @staticmethod
    def _with_timeout(details: grpc.aio.ClientCallDetails, seconds: float) -> grpc.aio.ClientCallDetails:
        if details.timeout is not None:
            return details
        return grpc.aio.ClientCallDetails(
            method=details.method,
            timeout=seconds,
            metadata=details.metadata,
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
        )

    async def intercept_unary_unary(self, continuation, client_call_details, request):
        return await continuation(self._with_timeout(client_call_details, self.unary_seconds), request)

    async def intercept_unary_stream(self, continuation, client_call_details, request):
        return await continuation(self._with_timeout(client_call_details, self.stream_seconds), request)

    async def intercept_stream_unary(self, continuation, client_call_details, request_iterator):
        return await continuation(self._with_timeout(client_call_details, self.stream_seconds), request_iterator)

    async def intercept_stream_stream(self, continuation, client_call_details, request_iterator):
        return await continuation(self._with_timeout(client_call_details, self.stream_seconds), request_iterator)


def create_channel(
    address: str,
    *,
    unary_seconds: float = 30.0,
    stream_seconds: float = 600.0,
    tls: ClientTls | None = None,
    token: str = "",
) -> grpc.aio.Channel:
    """A channel to a peer; `tls` (ClientTls.from_env(PREFIX) in a service) makes it mutual TLS.

    `token` (a JWT, for calls through the gateway) is sent as `authorization: Bearer` on every
    call; gRPC sends call credentials only over TLS, so it needs `tls` too.
    """
    interceptors = [_DefaultDeadline(unary_seconds, stream_seconds)]
    credentials, options = _channel_settings(tls, token)
    if credentials is None:
        return grpc.aio.insecure_channel(address, interceptors=interceptors, options=options)
    return grpc.aio.secure_channel(address, credentials, interceptors=interceptors, options=options)


def create_blocking_channel(address: str, *, tls: ClientTls | None = None, token: str = "") -> grpc.Channel:
    """The synchronous twin of create_channel, for client-streaming calls whose server may end them
    early: grpc.aio can lose that status to a write still in flight (grpc/grpc#36066) and report
    INTERNAL instead, the synchronous API keeps it. Calls on it need an explicit timeout."""
    credentials, options = _channel_settings(tls, token)
    if credentials is None:
        return grpc.insecure_channel(address, options=options)
    return grpc.secure_channel(address, credentials, options=options)


def _channel_settings(tls: ClientTls | None, token: str) -> tuple[grpc.ChannelCredentials | None, list]:
    options = [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.enable_retries", 1),
        ("grpc.service_config", _SERVICE_CONFIG),
        ("grpc.keepalive_time_ms", 30_000),
    ]
    if tls is None:
        if token:
            raise ValueError("a token is sent only over TLS: give tls= too")
        return None, options
    credentials = tls.channel_credentials()
    if token:
        credentials = grpc.composite_channel_credentials(credentials, grpc.access_token_call_credentials(token))
    return credentials, options + tls.channel_options()


async def wait_until_serving(channel: grpc.aio.Channel, service: str = "", timeout: float = 300.0) -> None:
    """Polls the peer's standard health service until it reports SERVING.

    Used at start-up so a service does not declare itself ready before the
    peers it cannot work without (the embedder loading its model, say).
    """
    import asyncio
    import time

    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from mivaa_platform.errors import Unavailable

    stub = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + timeout
    while True:
        try:
            # types-grpcio-health-checking's HealthStub omits the methods its __init__ sets.
            check = stub.Check  # type: ignore[attr-defined]
            response = await check(health_pb2.HealthCheckRequest(service=service), timeout=5, wait_for_ready=True)
            if response.status == health_pb2.HealthCheckResponse.SERVING:
                return
        except grpc.aio.AioRpcError:
            pass
        if time.monotonic() > deadline:
            raise Unavailable("PEER_NOT_SERVING", f"{service or 'peer'} did not become ready in {timeout:.0f}s.")
        await asyncio.sleep(0.25)
