"""One trace per job, across the real mesh: the gateway's spans (Envoy), the upload's span, the
worker's stages over NATS, and the embedder and search services' spans over gRPC, stored by the
mesh's receiver and printed by `mivaa trace`."""

from __future__ import annotations

import asyncio
import stat
import time

import pytest

from mivaa_cli.localmesh.traces import read_spans
from mivaa_cli.localmesh.traces import socket_path as socket_path_of
from mivaa_cli.trace_cmd import job_traces
from tests.e2e.test_ingest_and_search import DONE, ingest
from tests.e2e.test_operations import mivaa
from tests.security.other_user import connect_unix_socket_as_other_user
from tests.security.test_local_doors import _listening_tcp_ports
from tests.support.pdfs import make_pdf, make_scanned_pdf

SERVER, CLIENT = 2, 3  # OTLP span kinds
WORKER_STAGES = ("wait in queue", "extract document", "validate task", "extract pages", "embed chunks", "commit index")


async def job_spans(mesh, job: str, expected: set[tuple[str, str]], timeout: float = 30.0) -> list[dict]:
    """The spans of the job's trace once each expected (service, name) is stored: every service
    exports in its own batches. An empty name stands for any span of that service."""
    deadline = time.monotonic() + timeout
    while True:
        spans = read_spans(mesh.state_dir)
        traces = job_traces(spans, job)
        found = [span for span in spans if traces and span["trace"] == traces[0]]
        stored = {(span["service"], name) for span in found for name in (span["name"], "")}
        if expected <= stored or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


def named(spans: list[dict], name: str) -> dict:
    matches = [span for span in spans if span["name"] == name]
    assert matches, f"no span {name!r} in {sorted({span['name'] for span in spans})}"
    return matches[0]


async def test_a_job_has_one_trace_from_upload_through_indexing(mesh, client):
    response, events = await ingest(client, make_pdf("tracing", 2), "traced.pdf")
    assert events[-1].state in DONE, events[-1]
    job = response.job.name
    upload_method = "/mivaa.extractor.v1.ExtractorService/UploadDocument"
    expected = {
        ("gateway", upload_method),
        ("gateway", f"extractor {upload_method}"),
        ("extractor", upload_method),
        *(("worker-0", stage) for stage in WORKER_STAGES),
    }
    calls = {
        ("embedder", "/mivaa.embedder.v1.EmbedderService/EmbedTexts"),
        ("search", "/mivaa.search.v1.SearchService/UpsertChunks"),
    }
    spans = await job_spans(mesh, job, expected | calls)
    assert len(job_traces(read_spans(mesh.state_dir), job)) == 1
    assert len({span["trace"] for span in spans}) == 1
    by_id = {span["span"]: span for span in spans}

    # The trace starts at the gateway: Envoy's server span, its client span to the extractor,
    # and under that the extractor's server span (Envoy's traceparent, continued by the service).
    [gateway] = [span for span in spans if span["service"] == "gateway" and span["kind"] == SERVER]
    [to_extractor] = [span for span in spans if span["service"] == "gateway" and span["kind"] == CLIENT]
    assert gateway["name"] == upload_method and gateway["parent"] not in by_id  # the root
    assert gateway["attributes"]["upstream_cluster"] == "extractor"
    assert to_extractor["parent"] == gateway["span"] and to_extractor["name"] == f"extractor {upload_method}"
    [upload] = [span for span in spans if span["service"] == "extractor" and span["name"] == upload_method]
    assert upload["kind"] == SERVER and upload["parent"] == to_extractor["span"]
    assert upload["attributes"]["mivaa.job"] == job
    validate, enqueue = named(spans, "validate upload"), named(spans, "enqueue job")
    assert validate["parent"] == upload["span"] and enqueue["parent"] == upload["span"]

    # Across NATS: the worker's spans hang under the span that published the work item.
    worker = {name: named(spans, name) for name in WORKER_STAGES}
    assert {span["service"] for span in worker.values()} == {"worker-0"}
    assert worker["wait in queue"]["parent"] == enqueue["span"]
    assert worker["extract document"]["parent"] == enqueue["span"]
    assert worker["extract document"]["attributes"]["mivaa.job"] == job
    for stage in ("validate task", "extract pages", "embed chunks", "commit index"):
        assert worker[stage]["parent"] == worker["extract document"]["span"], stage
    assert worker["extract pages"]["attributes"]["mivaa.pages"] == 2

    # Across gRPC: each service's server span is the child of the worker's client span for it.
    for service, method in calls:
        served = [
            span for span in spans if span["kind"] == SERVER and (span["service"], span["name"]) == (service, method)
        ]
        assert served, f"no {service} span for {method}"
        for call in served:
            caller = by_id[call["parent"]]
            assert caller["kind"] == CLIENT and caller["service"] == "worker-0", caller
            assert by_id[caller["parent"]]["service"] == "worker-0"
    for span in spans:
        assert span["parent"] == "" or span["parent"] in by_id, f"{span['name']} has no stored parent"
        assert span["end"] >= span["start"]

    printed = await asyncio.to_thread(mivaa, mesh, "trace", job, "--state-dir", str(mesh.state_dir))
    assert printed.returncode == 0, printed.stderr
    lines = printed.stdout.splitlines()
    assert lines[0] == f"trace {upload['trace']}"
    assert lines[1].startswith(f"{upload_method}  [gateway]  ") and " ms" in lines[1]
    assert lines[2].startswith(f"  extractor {upload_method}  [gateway]  ")
    assert lines[3].startswith(f"    {upload_method}  [extractor]  ")
    assert any(line.startswith("        extract document  [worker-0]") for line in lines), printed.stdout
    for name in (*WORKER_STAGES, "validate upload", "[embedder]", "[search]"):
        assert name in printed.stdout, name

    unknown = await asyncio.to_thread(mivaa, mesh, "trace", "jobs/nosuchjob", "--state-dir", str(mesh.state_dir))
    assert unknown.returncode == 1 and "no trace of jobs/nosuchjob" in unknown.stderr


async def test_an_ocr_job_traces_its_recognition_to_the_ocr_service(mesh, client):
    if not mesh.ocr:
        pytest.skip("the OCR service is not installed here (make ocr installs Tesseract and tesserocr)")
    response, events = await ingest(client, make_scanned_pdf("traced-scan", 1), "traced-scan.pdf")
    assert events[-1].state in DONE, events[-1]
    spans = await job_spans(mesh, response.job.name, {("worker-0", "ocr pages"), ("ocr", "")})
    by_id = {span["span"]: span for span in spans}
    recognition = named(spans, "ocr pages")
    assert recognition["service"] == "worker-0" and recognition["attributes"]["mivaa.pages"] == 1
    assert by_id[recognition["parent"]]["name"] == "extract pages"
    ocr_calls = [span for span in spans if span["service"] == "ocr" and span["kind"] == SERVER]
    assert ocr_calls, sorted({(span["service"], span["name"]) for span in spans})
    for call in ocr_calls:
        assert by_id[by_id[call["parent"]]["parent"]]["span"] == recognition["span"]


def test_the_trace_receiver_has_no_port_and_its_socket_is_out_of_reach(mesh):
    """Door: the receiver takes spans only from the mesh's user, on a socket in the state folder."""
    socket_path = socket_path_of(mesh.state_dir)
    assert stat.S_ISSOCK(socket_path.stat().st_mode) and stat.S_IMODE(socket_path.stat().st_mode) & 0o077 == 0
    assert _listening_tcp_ports(mesh.processes["traces"].pid) == set()
    assert connect_unix_socket_as_other_user(socket_path) == "PermissionError"
