"""The local trace store: a real OTLP exporter sends to the receiver on its unix socket; the file
stays bounded; `mivaa trace`'s tree keeps a span whose parent was not stored."""

from __future__ import annotations

import pathlib
import tempfile

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from mivaa_cli.localmesh import traces
from mivaa_cli.trace_cmd import job_traces, render_tree


@pytest.fixture
def state_dir():
    # Short: a unix socket's path has a length limit that pytest's tmp_path can pass.
    with tempfile.TemporaryDirectory(prefix="mivaa-traces-") as folder:
        yield pathlib.Path(folder)


def test_spans_exported_over_otlp_are_stored_and_printed_as_a_tree(state_dir):
    receiver = traces.start_trace_receiver(state_dir, state_dir / "logs")
    try:
        endpoint = traces.trace_env(state_dir, "unit")["OTEL_EXPORTER_OTLP_ENDPOINT"]
        provider = TracerProvider(resource=Resource.create({"service.name": "unit"}))
        provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint, insecure=True)))
        tracer = provider.get_tracer("test")
        upload_attributes = {"mivaa.job": "jobs/abc", "mivaa.pages": 3}
        with (
            tracer.start_as_current_span("upload", attributes=upload_attributes),
            tracer.start_as_current_span("stage"),
        ):
            pass
        provider.shutdown()
    finally:
        receiver.stop()
    spans = traces.read_spans(state_dir)
    assert [span["name"] for span in spans] == ["stage", "upload"]
    assert spans[1]["attributes"] == {"mivaa.job": "jobs/abc", "mivaa.pages": 3}
    assert {span["service"] for span in spans} == {"unit"}
    assert job_traces(spans, "jobs/abc") == [spans[0]["trace"]] and not job_traces(spans, "jobs/other")
    lines = render_tree(spans)
    assert lines[0].startswith("upload  [unit]  ") and lines[1].startswith("  stage  [unit]  ")
    assert (traces.spans_path(state_dir).stat().st_mode & 0o777) == 0o600


def test_the_store_rotates_once_and_skips_a_torn_line(state_dir, monkeypatch):
    monkeypatch.setattr(traces, "MAX_FILE_BYTES", 100)
    store = traces.SpanFile(traces.spans_path(state_dir))
    record = {"trace": "t", "span": "s", "parent": "", "name": "n", "start": 1, "end": 2, "attributes": {"x": "y" * 80}}
    for _ in range(3):
        store.append([record])
    with traces.spans_path(state_dir).open("a") as out:
        out.write('{"trace": "cut sho')
    assert len(traces.read_spans(state_dir)) == 2  # the third file's worth went with the second rotation


def test_a_span_whose_parent_was_not_stored_is_a_root():
    spans = [
        {
            "trace": "t",
            "span": "a",
            "parent": "gone",
            "name": "orphan",
            "service": "s",
            "start": 5,
            "end": 9,
            "status": 0,
        },
        {"trace": "t", "span": "b", "parent": "a", "name": "child", "service": "s", "start": 6, "end": 7, "status": 2},
    ]
    assert render_tree(spans) == ["orphan  [s]  0.0 ms  (+0 ms)", "  child  [s]  0.0 ms  (+0 ms)  ERROR"]
