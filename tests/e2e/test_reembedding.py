"""Re-embedding a tenant through Envoy on a mesh of its own that serves two real text models of one
dimension: all-MiniLM-L6-v2 (int8 on the CPU, the mesh's default) and its fp32 export under
another name, so vectors of the two differ measurably, and the tiny CLIP's text tower (another
dimension) when it is exported. A search loop runs throughout."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import shutil
import tempfile

import grpc
import pytest

from mivaa.search.v1 import search_service_pb2 as search_pb
from tests.e2e.test_admin_api import caller, expect_error, unique
from tests.e2e.test_operations import mivaa
from tests.search.reembedding_support import clip_dir
from tests.support.pdfs import make_pdf

NEW = "minilm-fp32"
RUNNING, SUCCEEDED = search_pb.Reembedding.STATE_RUNNING, search_pb.Reembedding.STATE_SUCCEEDED
VECTOR = search_pb.SEARCH_MODE_VECTOR

# A user searching 20 times a second, within the gateway's budget (50/s per subject): searches
# no longer compete with the re-embedding for the cores (it yields to them), so an unpaced loop
# would be answered fast enough to spend the budget and get RESOURCE_EXHAUSTED.
SEARCH_INTERVAL_S = 0.05


def _fp32_alias(model_dir: pathlib.Path, folder: pathlib.Path) -> None:
    """The same export under another name with its fp32 variant only (the embedder serves it as fp32)."""
    folder.mkdir()
    manifest = json.loads((model_dir / "manifest.json").read_text())
    manifest["name"] = NEW
    manifest["variants"] = {"fp32": manifest["variants"]["fp32"]}
    manifest["files"] = {name: info for name, info in manifest["files"].items() if name != "model.int8.onnx"}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for path in model_dir.iterdir():
        if path.name not in ("manifest.json", "model.int8.onnx"):
            (folder / path.name).symlink_to(path)


@pytest.fixture(scope="module")
def two_model_mesh(model_dir, tmp_path_factory):
    from mivaa_cli.localmesh.mesh import LocalMesh, MeshPorts

    models = tmp_path_factory.mktemp("reembed-models")
    (models / model_dir.name).symlink_to(model_dir, target_is_directory=True)
    _fp32_alias(model_dir, models / NEW)
    clip = clip_dir()  # the tests' own tiny CLIP export, not one `make clip-tiny` may have left in models/
    if clip is not None:
        (models / "tiny-clip").symlink_to(clip, target_is_directory=True)
    state_dir = pathlib.Path(tempfile.mkdtemp(prefix="mivaa-test-reembed-"))
    mesh = LocalMesh(
        state_dir,
        MeshPorts.free(),
        models_dir=models,
        workers=1,
        extra_env={
            "EMBEDDER_TEXT_MODELS": f"{model_dir.name},{NEW}",
            # One chunk a batch: the re-embedding lasts long enough to be seen running.
            "SEARCH_REEMBED_BATCH_CHUNKS": "1",
            "MIVAA_LOG_LEVEL": os.environ.get("MIVAA_LOG_LEVEL", "INFO"),
        },
    )
    try:
        mesh.start()
        yield mesh
    finally:
        mesh.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


async def _ingest(client, tag: str, pages: int):
    response = await client.upload_bytes(make_pdf(tag, pages), f"{tag}.pdf")
    return await client.wait_for_job(response.job.name, timeout=300)


async def test_reembedding_is_admin_only_and_refuses_what_it_cannot_do(two_model_mesh):
    tenant = unique("reembed-rules")
    async with (
        caller(two_model_mesh, tenant, ("read", "write")) as user,
        caller(two_model_mesh, tenant, ("admin",)) as admin,
    ):
        for call in (
            user.search.StartReembedding(search_pb.StartReembeddingRequest(model=NEW), timeout=10),
            user.search.GetReembedding(search_pb.GetReembeddingRequest(name="reembeddings/latest"), timeout=10),
            user.search.CancelReembedding(search_pb.CancelReembeddingRequest(name="reembeddings/x"), timeout=10),
        ):
            await expect_error(call, grpc.StatusCode.PERMISSION_DENIED)
        for model, reason in (("no-such-model", "MODEL_NOT_SERVED"), ("all-MiniLM-L6-v2", "MODEL_ALREADY_ACTIVE")):
            await expect_error(
                admin.search.StartReembedding(search_pb.StartReembeddingRequest(model=model), timeout=10),
                grpc.StatusCode.INVALID_ARGUMENT,
                reason,
            )
        await expect_error(
            admin.search.GetReembedding(search_pb.GetReembeddingRequest(name="reembeddings/latest"), timeout=10),
            grpc.StatusCode.NOT_FOUND,
            "REEMBEDDING_NOT_FOUND",
        )


async def test_search_answers_throughout_and_switches_to_the_new_model(two_model_mesh):
    mesh = two_model_mesh
    tenant, other = unique("reembed"), unique("reembed-other")
    async with (
        caller(mesh, tenant, ("read", "write")) as user,
        caller(mesh, tenant, ("admin",)) as admin,
        caller(mesh, other, ("read", "write")) as outsider,
    ):
        await _ingest(user, "reembed-lighthouse", 12)
        await _ingest(user, "reembed-orchard", 12)
        await _ingest(outsider, "reembed-elsewhere", 2)
        before = await user.search_chunks("lighthouse keeper", top_k=3)
        assert before.hits and before.model == "all-MiniLM-L6-v2"

        answers: list[int] = []
        done = asyncio.Event()

        async def keep_searching() -> None:
            while not done.is_set():
                answers.append(len((await user.search_chunks("lighthouse keeper", top_k=3)).hits))
                await asyncio.sleep(SEARCH_INTERVAL_S)

        searching = asyncio.create_task(keep_searching())
        started = (
            await admin.search.StartReembedding(search_pb.StartReembeddingRequest(model=NEW), timeout=30)
        ).reembedding
        assert started.state == RUNNING and started.chunks_total >= 24 and started.from_model == "all-MiniLM-L6-v2"
        await expect_error(
            admin.search.StartReembedding(search_pb.StartReembeddingRequest(model=NEW), timeout=30),
            grpc.StatusCode.FAILED_PRECONDITION,
            "REEMBEDDING_RUNNING",
        )
        # The CLI follows it to the end.
        token = mesh.token(tenant=tenant, subject=f"{tenant}-cli", scopes=("admin",))
        watched = await asyncio.to_thread(mivaa, mesh, "admin", "reembed", "--watch", token=token)
        done.set()
        await searching
        assert watched.returncode == 0, watched.stdout + watched.stderr
        assert "succeeded" in watched.stdout.splitlines()[-2], watched.stdout
        assert watched.stdout.splitlines()[-1] == f"searches use {NEW}"
        assert answers and all(answers), f"a search during the re-embedding came back empty: {answers}"

        got = await admin.search.GetReembedding(search_pb.GetReembeddingRequest(name=started.name), timeout=10)
        assert got.reembedding.state == SUCCEEDED and got.active_model == NEW
        assert got.reembedding.chunks_done == got.reembedding.chunks_total >= started.chunks_total
        assert got.reembedding.HasField("switch_time")

        # Queries are embedded with the new model and meet the new vectors: a chunk's own text
        # scores ~1 (the old int8 vectors would score ~0.99 against an fp32 query).
        after = await user.search_chunks("lighthouse keeper", top_k=3)
        assert after.model == NEW and after.hits
        exact = await user.search_chunks(after.hits[0].text, top_k=1, mode=VECTOR)
        assert exact.hits[0].score > 0.9995, exact.hits[0].score
        # A document uploaded after the switch is stored with the tenant's model too.
        await _ingest(user, "reembed-latecomer", 2)
        late = await user.search_chunks("reembed-latecomer", top_k=5)
        texts = [h.text for h in late.hits if "latecomer" in h.text.lower()]
        assert texts, [h.text[:60] for h in late.hits]
        exact = await user.search_chunks(texts[0], top_k=1, mode=VECTOR)
        assert exact.hits[0].score > 0.9995, exact.hits[0].score
        # Another tenant keeps its model.
        assert (await outsider.search_chunks("elsewhere", top_k=1)).model == "all-MiniLM-L6-v2"


CLIP = "tiny-clip"


def _texts_embedded(mesh, model: str) -> float:
    """Texts the embedder has run through `model` (its batch-size histogram's sum)."""
    from mivaa_cli.localmesh.monitoring import METRICS_OFFSETS

    body = mesh.scrape(mesh.ports.metrics_base + METRICS_OFFSETS["embedder"])
    label = f'model="{model}"'
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in body.splitlines()
        if line.startswith("mivaa_embedding_batch_size_sum{") and label in line
    )


async def test_a_tenant_switches_to_a_model_of_another_dimension(two_model_mesh):
    """MiniLM (384) to the CLIP text tower (its own dimension): vector searches answer throughout,
    then use the new model; a later upload is embedded once, with it; another tenant is untouched."""
    mesh = two_model_mesh
    if not (mesh.models_dir / CLIP).exists():
        pytest.skip("no tiny CLIP: its export needs the export venv (`make export-venv`)")
    tenant, other = unique("reembed-clip"), unique("reembed-clip-other")
    async with (
        caller(mesh, tenant, ("read", "write")) as user,
        caller(mesh, tenant, ("admin",)) as admin,
        caller(mesh, other, ("read", "write")) as outsider,
    ):
        await _ingest(user, "clip-lighthouse", 12)
        await _ingest(outsider, "clip-elsewhere", 2)
        before = await user.search_chunks("lighthouse keeper", top_k=3, mode=VECTOR)
        assert before.hits and before.model == "all-MiniLM-L6-v2"

        answers: list[int] = []
        failures: list[grpc.aio.AioRpcError] = []
        done = asyncio.Event()

        async def keep_searching() -> None:
            while not done.is_set():  # vectors only: keyword hits would hide an empty vector search
                try:
                    answers.append(len((await user.search_chunks("lighthouse keeper", top_k=3, mode=VECTOR)).hits))
                except grpc.aio.AioRpcError as failure:
                    failures.append(failure)
                await asyncio.sleep(SEARCH_INTERVAL_S)

        searching = asyncio.create_task(keep_searching())
        started = (
            await admin.search.StartReembedding(search_pb.StartReembeddingRequest(model=CLIP), timeout=30)
        ).reembedding
        assert started.state == RUNNING and started.chunks_total >= 12
        got = None
        for _ in range(600):
            got = await admin.search.GetReembedding(search_pb.GetReembeddingRequest(name=started.name), timeout=10)
            if got.reembedding.state != RUNNING:
                break
            await asyncio.sleep(0.5)
        done.set()
        await searching
        assert got is not None and got.reembedding.state == SUCCEEDED and got.active_model == CLIP, got
        assert not failures, failures[0]
        assert answers and all(answers), f"a search during the re-embedding came back empty: {answers}"

        after = await user.search_chunks("lighthouse keeper", top_k=3, mode=VECTOR)
        assert after.model == CLIP and after.hits
        exact = await user.search_chunks(after.hits[0].text, top_k=1, mode=VECTOR)
        assert exact.model == CLIP and exact.hits[0].score > 0.999, exact.hits[0].score
        # Another tenant keeps its model and its vectors.
        elsewhere = await outsider.search_chunks("elsewhere", top_k=1, mode=VECTOR)
        assert elsewhere.model == "all-MiniLM-L6-v2" and elsewhere.hits

        # An upload after the switch: the worker embeds its chunks once, with the tenant's model,
        # and search stores them as they come (nothing through MiniLM, nothing twice).
        clip_before, minilm_before = _texts_embedded(mesh, f"{CLIP}-texts"), _texts_embedded(mesh, "all-MiniLM-L6-v2")
        job = await _ingest(user, "clip-latecomer", 2)
        assert job.chunks_indexed > 0
        assert _texts_embedded(mesh, f"{CLIP}-texts") - clip_before == job.chunks_indexed
        assert _texts_embedded(mesh, "all-MiniLM-L6-v2") == minilm_before
        late = await user.search_chunks("clip-latecomer", top_k=5)
        texts = [h.text for h in late.hits if "latecomer" in h.text.lower()]
        assert texts, [h.text[:60] for h in late.hits]
        exact = await user.search_chunks(texts[0], top_k=1, mode=VECTOR)
        assert exact.hits[0].score > 0.999, exact.hits[0].score


async def test_cancelling_a_switch_to_another_dimension_keeps_the_old_model(two_model_mesh):
    mesh = two_model_mesh
    if not (mesh.models_dir / CLIP).exists():
        pytest.skip("no tiny CLIP: its export needs the export venv (`make export-venv`)")
    tenant = unique("reembed-clip-cancel")
    async with caller(mesh, tenant, ("read", "write")) as user, caller(mesh, tenant, ("admin",)) as admin:
        await _ingest(user, "clip-cancelled", 12)
        started = (
            await admin.search.StartReembedding(search_pb.StartReembeddingRequest(model=CLIP), timeout=30)
        ).reembedding
        cancelled = (
            await admin.search.CancelReembedding(search_pb.CancelReembeddingRequest(name=started.name), timeout=10)
        ).reembedding
        assert cancelled.state == search_pb.Reembedding.STATE_CANCELLED
        got = await admin.search.GetReembedding(search_pb.GetReembeddingRequest(name=started.name), timeout=10)
        assert got.active_model == "all-MiniLM-L6-v2"
        results = await user.search_chunks("clip-cancelled page 3", top_k=3, mode=VECTOR)
        assert results.model == "all-MiniLM-L6-v2" and results.hits
