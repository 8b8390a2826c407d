"""The gateway's own spans, through the real Envoy: rendered with an OTLP endpoint it exports a
server span per request and a client span per upstream call to the local trace receiver, and
sends the client span's traceparent upstream. A caller may continue its own trace but cannot
force one past the sampling rate. Without an endpoint the config has no tracing at all."""

from __future__ import annotations

import asyncio
import pathlib
import subprocess
import tempfile
import time

import grpc
import pytest
import pytest_asyncio
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mivaa_cli import auth
from mivaa_cli.localmesh import traces
from tests.gateway.harness import ENVOY, Envoy, gateway_render, start_upstream
from tests.gateway.test_gateway_security import GET_DOCUMENT, bearer, call, token

SERVER, CLIENT = 2, 3  # OTLP span kinds
CALLER_TRACE = "0af7651916cd43dd8448eb211c80319c"
CALLER_SPAN = "b7ad6b7169203331"


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    directory = tmp_path_factory.mktemp("keys")
    auth.init_keys(directory, "ES256")
    return (directory,)


@pytest.fixture(scope="module")
def state_dir():
    # Short: the receiver's unix socket path has a length limit that pytest's tmp_path can pass.
    with tempfile.TemporaryDirectory(prefix="mivaa-gw-traces-") as folder:
        yield pathlib.Path(folder)


@pytest.fixture(scope="module")
def receiver(state_dir):
    process = traces.start_trace_receiver(state_dir, state_dir / "logs")
    yield state_dir
    process.stop()


async def traced_gateway(workdir: pathlib.Path, state_dir: pathlib.Path, keys, sampling: float):
    upstream = await start_upstream()
    envoy = Envoy(
        workdir,
        upstream.port,
        jwks_path=str(keys[0] / auth.JWKS),
        otlp_endpoint=f"unix://{traces.socket_path(state_dir)}",
        trace_sampling_percent=sampling,
    )
    envoy.start()
    try:
        await envoy.wait_ready()
    except BaseException:
        envoy.stop()
        raise
    return envoy, upstream


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def gateway(receiver, keys, tmp_path_factory):
    envoy, upstream = await traced_gateway(tmp_path_factory.mktemp("envoy"), receiver, keys, 100)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{envoy.port}") as channel:
            yield upstream, channel
    finally:
        envoy.stop()
        await upstream.server.stop(None)


def parse_traceparent(value: str) -> tuple[str, str, str]:
    version, trace_id, span_id, flags = value.split("-")
    assert version == "00"
    return trace_id, span_id, flags


async def stored_trace(state_dir: pathlib.Path, trace_id: str, count: int, timeout: float = 20.0) -> list[dict]:
    """The trace's spans once `count` are stored (Envoy exports in batches, every 5 s at most)."""
    deadline = time.monotonic() + timeout
    while True:
        spans = [span for span in traces.read_spans(state_dir) if span["trace"] == trace_id]
        if len(spans) >= count or time.monotonic() > deadline:
            return spans
        await asyncio.sleep(0.25)


async def test_a_request_gets_a_server_and_a_client_span_whose_id_goes_upstream(gateway, receiver, keys):
    upstream, channel = gateway
    await call(channel, GET_DOCUMENT, bearer(token(keys, tenant="acme")))
    seen = upstream.last("GetDocument").metadata
    trace_id, parent_id, flags = parse_traceparent(seen["traceparent"])
    assert flags == "01"
    spans = await stored_trace(receiver, trace_id, 2)
    by_kind = {span["kind"]: span for span in spans}
    assert sorted(by_kind) == [SERVER, CLIENT], spans
    server, client = by_kind[SERVER], by_kind[CLIENT]
    assert {server["service"], client["service"]} == {"gateway"}
    assert server["parent"] == "" and server["name"] == GET_DOCUMENT
    assert client["parent"] == server["span"] and client["name"] == f"search {GET_DOCUMENT}"
    # The upstream's parent is the gateway's client span: the service's server span hangs under it.
    assert parent_id == client["span"]
    assert server["attributes"]["grpc.path"] == GET_DOCUMENT
    assert client["attributes"]["upstream_cluster"] == "search"
    assert server["attributes"]["guid:x-request-id"] == seen["x-request-id"]
    assert "authorization" not in str(server["attributes"]).lower()  # no credential in a span
    assert seen["x-mivaa-tenant"] == "acme"


async def test_health_checks_are_not_traced(gateway, receiver, keys):
    upstream, channel = gateway
    for _ in range(3):
        await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    await call(channel, GET_DOCUMENT, bearer(token(keys)))
    trace_id = parse_traceparent(upstream.last("GetDocument").metadata["traceparent"])[0]
    assert len(await stored_trace(receiver, trace_id, 2)) == 2  # exported after the checks' would be
    names = {span["name"] for span in traces.read_spans(receiver)}
    assert not any("grpc.health" in name for name in names), names


async def test_a_callers_traceparent_is_continued_and_grants_nothing(gateway, receiver, keys):
    upstream, channel = gateway
    caller = [("traceparent", f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"), ("x-mivaa-tenant", "evil-corp")]
    await call(channel, GET_DOCUMENT, bearer(token(keys, tenant="acme")) + caller)
    seen = upstream.last("GetDocument").metadata
    trace_id, parent_id, _ = parse_traceparent(seen["traceparent"])
    assert trace_id == CALLER_TRACE and parent_id != CALLER_SPAN
    spans = await stored_trace(receiver, CALLER_TRACE, 2)
    server = next(span for span in spans if span["kind"] == SERVER)
    assert server["parent"] == CALLER_SPAN
    assert seen["x-mivaa-tenant"] == "acme"  # the token's tenant, whatever the caller's headers


async def test_a_caller_cannot_force_a_trace_past_the_sampling_rate(receiver, keys, tmp_path_factory):
    envoy, upstream = await traced_gateway(tmp_path_factory.mktemp("unsampled"), receiver, keys, 0)
    replayed = "4bcec1ef-3a1a-933c-826b-6ef618695c96"  # the 14th nibble (9) once meant "sampled"
    attempts = [
        [("traceparent", f"00-{'1' * 32}-{CALLER_SPAN}-01")],
        [("x-client-trace-id", "caller-chosen")],
        [("x-envoy-force-trace", "true"), ("x-forwarded-for", "10.0.0.1")],
        [("x-request-id", replayed), ("x-forwarded-for", "10.0.0.1")],
    ]
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{envoy.port}") as channel:
            for headers in attempts:
                await call(channel, GET_DOCUMENT, bearer(token(keys)) + headers)
                seen = upstream.last("GetDocument").metadata
                assert parse_traceparent(seen["traceparent"])[2] == "00", headers  # not sampled
                assert seen["x-request-id"] != replayed  # the request id is always Envoy's own
    finally:
        envoy.stop()
        await upstream.server.stop(None)
    assert not await stored_trace(receiver, "1" * 32, 1, timeout=1.0)


# -- the rendered config ------------------------------------------------------------------
def rendered(**options) -> dict:
    return yaml.safe_load(
        gateway_render.render(
            port=8080,
            admin_socket="/run/envoy/admin.sock",
            upstreams={"extractor": "extractor:50051", "search": "search:50051", "embedder": "embedder:50051"},
            cors_origins=[],
            **options,
        )
    )


def manager_and_clusters(config: dict) -> tuple[dict, dict[str, dict]]:
    [listener] = config["static_resources"]["listeners"]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    return manager, {cluster["name"]: cluster for cluster in config["static_resources"]["clusters"]}


def test_without_an_endpoint_there_is_no_tracing():
    manager, clusters = manager_and_clusters(rendered())
    assert "tracing" not in manager and "early_header_mutation_extensions" not in manager
    assert "otlp_collector" not in clusters
    assert "tracing" not in str(manager["route_config"])


def test_a_unix_endpoint_is_a_pipe_cluster_sampled_as_asked():
    manager, clusters = manager_and_clusters(rendered(otlp_endpoint="unix:///run/mivaa/traces.sock"))
    tracing = manager["tracing"]
    assert tracing["random_sampling"] == {"value": 100.0} and tracing["client_sampling"] == {"value": 0}
    assert tracing["spawn_upstream_span"] is True
    provider = tracing["provider"]
    assert provider["name"] == "envoy.tracers.opentelemetry"
    assert provider["typed_config"]["service_name"] == "gateway"
    assert provider["typed_config"]["grpc_service"]["envoy_grpc"] == {"cluster_name": "otlp_collector"}
    [mutation] = manager["early_header_mutation_extensions"]
    assert mutation["typed_config"]["mutations"] == [{"remove": "x-request-id"}]
    collector = clusters["otlp_collector"]
    assert collector["type"] == "STATIC"
    [endpoint] = collector["load_assignment"]["endpoints"][0]["lb_endpoints"]
    assert endpoint["endpoint"]["address"] == {"pipe": {"path": "/run/mivaa/traces.sock"}}
    assert "http2_protocol_options" in str(collector["typed_extension_protocol_options"])
    health = [
        route
        for host in manager["route_config"]["virtual_hosts"]
        for route in host["routes"]
        if route["match"].get("path") == "/grpc.health.v1.Health/Check" and "route" in route
    ]
    assert health and all(route["tracing"] == {"overall_sampling": {"numerator": 0}} for route in health)
    sampled = manager_and_clusters(rendered(otlp_endpoint="unix:///t.sock", trace_sampling_percent=2.5))[0]
    assert sampled["tracing"]["random_sampling"] == {"value": 2.5}


def test_a_host_endpoint_is_resolved_and_envoy_accepts_the_config(tmp_path):
    _, clusters = manager_and_clusters(rendered(otlp_endpoint="otel-collector:4317"))
    collector = clusters["otlp_collector"]
    assert collector["type"] == "STRICT_DNS"
    [endpoint] = collector["load_assignment"]["endpoints"][0]["lb_endpoints"]
    assert endpoint["endpoint"]["address"] == {"socket_address": {"address": "otel-collector", "port_value": 4317}}
    assert manager_and_clusters(rendered(otlp_endpoint="10.0.0.7:4317"))[1]["otlp_collector"]["type"] == "STATIC"
    config = tmp_path / "envoy.yaml"
    config.write_text(yaml.safe_dump(rendered(otlp_endpoint="otel-collector:4317", trace_sampling_percent=10)))
    result = subprocess.run(
        [str(ENVOY), "--mode", "validate", "-c", str(config)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("endpoint", "sampling"),
    [
        ("unix://relative.sock", 100),
        (f"unix:///{'x' * 120}", 100),
        ("otel-collector", 100),
        ("otel-collector:http", 100),
        ("otel-collector:70000", 100),
        ("http://otel-collector:4317", 100),
        ("otel-collector:4317", 101),
        ("otel-collector:4317", -1),
    ],
)
def test_a_bad_endpoint_or_sampling_rate_stops_the_render(endpoint, sampling):
    with pytest.raises(SystemExit):
        rendered(otlp_endpoint=endpoint, trace_sampling_percent=sampling)
