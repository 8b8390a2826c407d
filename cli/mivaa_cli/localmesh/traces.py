"""The local mesh's trace store: an OTLP/gRPC receiver that keeps every span as a JSON line.

Neither Jaeger nor the OpenTelemetry Collector installs from PyPI or Debian, so the mesh runs this
small receiver (opentelemetry-proto's TraceService on grpc.aio). It listens on a unix socket in
the 0700 state folder, like Envoy's admin: only the mesh's own user can send it spans, and
`mivaa trace` (a local operator command) reads what it wrote there. Each service exports to it
through the standard OTEL_* variables (trace_env) with the SDK's batch processor, so a service
pays one export call per batch, not per span.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import sys
import time
from collections.abc import Iterator

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from mivaa_cli.localmesh.processes import ManagedProcess, start_process

SOCKET_NAME = "traces.sock"
SPANS_NAME = "traces/spans.jsonl"
# Past this size the file is rotated once (spans.jsonl.1): the store stays under twice it.
MAX_FILE_BYTES = 64 * 1024 * 1024
# The SDK's batch processor exports at most this long after a span ends (its default is 5 s).
EXPORT_DELAY_MS = 1000


def socket_path(state_dir: pathlib.Path) -> pathlib.Path:
    return state_dir / SOCKET_NAME


def spans_path(state_dir: pathlib.Path) -> pathlib.Path:
    return state_dir / SPANS_NAME


def trace_env(state_dir: pathlib.Path, service: str) -> dict[str, str]:
    """What makes a service's telemetry module (mivaa_platform.telemetry) export to the receiver."""
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"unix://{socket_path(state_dir)}",
        "OTEL_EXPORTER_OTLP_INSECURE": "true",  # a unix socket in the 0700 state folder
        "OTEL_BSP_SCHEDULE_DELAY": str(EXPORT_DELAY_MS),
        "OTEL_SERVICE_NAME": service,
    }


def start_trace_receiver(state_dir: pathlib.Path, log_dir: pathlib.Path, timeout: float = 30.0) -> ManagedProcess:
    socket = socket_path(state_dir)
    socket.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "mivaa_cli.localmesh.traces", str(socket), str(spans_path(state_dir))]
    process = start_process("traces", argv, log_dir=log_dir)
    deadline = time.monotonic() + timeout
    while not socket.exists():
        if not process.alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the trace receiver did not start; see {process.log_path}")
        time.sleep(0.1)
    return process


def _value(value: AnyValue):
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    if kind in (None, "kvlist_value", "bytes_value"):
        return None
    return getattr(value, kind)


def _attributes(pairs: list[KeyValue]) -> dict:
    return {pair.key: _value(pair.value) for pair in pairs}


def span_records(request: trace_service_pb2.ExportTraceServiceRequest) -> Iterator[dict]:
    """One flat record per span, named by its service (the resource's service.name)."""
    for resource_spans in request.resource_spans:
        service = _attributes(list(resource_spans.resource.attributes)).get("service.name", "")
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield {
                    "trace": span.trace_id.hex(),
                    "span": span.span_id.hex(),
                    "parent": span.parent_span_id.hex(),
                    "name": span.name,
                    "service": service,
                    "kind": span.kind,
                    "start": span.start_time_unix_nano,
                    "end": span.end_time_unix_nano,
                    "status": span.status.code,
                    "attributes": _attributes(list(span.attributes)),
                }


class SpanFile:
    """Appends records as JSON lines; one rotation keeps the store bounded."""

    def __init__(self, path: pathlib.Path):
        self.path = path
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)

    def append(self, records: list[dict]) -> None:
        if not records:
            return
        if self.path.exists() and self.path.stat().st_size > MAX_FILE_BYTES:
            self.path.replace(self.path.with_name(self.path.name + ".1"))
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as out:
            out.write("".join(json.dumps(record, separators=(",", ":")) + "\n" for record in records))


class TraceReceiver(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, store: SpanFile):
        self._store = store

    async def Export(self, request, context):  # noqa: N802 - the generated servicer's name
        await asyncio.to_thread(self._store.append, list(span_records(request)))
        return trace_service_pb2.ExportTraceServiceResponse()


async def serve(socket: pathlib.Path, spans: pathlib.Path) -> None:
    server = grpc.aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(TraceReceiver(SpanFile(spans)), server)
    server.add_insecure_port(f"unix://{socket}")
    await server.start()
    await server.wait_for_termination()


def read_spans(state_dir: pathlib.Path) -> list[dict]:
    """Every stored span, oldest file first (a line cut short by a crash is skipped)."""
    path = spans_path(state_dir)
    records = []
    for file in (path.with_name(path.name + ".1"), path):
        if not file.exists():
            continue
        for line in file.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("socket", type=pathlib.Path)
    parser.add_argument("spans", type=pathlib.Path)
    args = parser.parse_args(argv)
    os.umask(0o077)
    asyncio.run(serve(args.socket, args.spans))
    return 0


if __name__ == "__main__":
    sys.exit(main())
