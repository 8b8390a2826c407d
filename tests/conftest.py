"""Shared fixtures: the corpus (skipped with a reason when absent) and the real local mesh."""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile

import pytest
import pytest_asyncio

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
CORPUS_DIR = REPO_ROOT.parent / "shared" / "corpus"
MODEL_DIR = REPO_ROOT / "models" / "all-MiniLM-L6-v2"
MAX_UPLOAD_BYTES = 24 * 1024 * 1024


@pytest.fixture(scope="session")
def corpus_dir() -> pathlib.Path:
    if not CORPUS_DIR.is_dir():
        pytest.skip(f"../shared/corpus not found at {CORPUS_DIR}: corpus tests need the shared PDFs")
    return CORPUS_DIR


@pytest.fixture(scope="session")
def model_dir() -> pathlib.Path:
    if not (MODEL_DIR / "manifest.json").exists():
        pytest.skip(f"no exported model at {MODEL_DIR}: run `make models`")
    return MODEL_DIR


@pytest.fixture(scope="session")
def mesh_models_dir(model_dir, tmp_path_factory) -> pathlib.Path:
    """The models the test mesh serves: the text model and, when the export venv exists, a tiny random CLIP.

    Assembled from links, so a developer's own exports in models/ do not change what tests see.
    """
    from tests.embedder.clip_fixture import ExportVenvMissing, build_tiny_clip

    folder = tmp_path_factory.mktemp("mesh-models")
    (folder / model_dir.name).symlink_to(model_dir, target_is_directory=True)
    try:
        (folder / "tiny-clip").symlink_to(build_tiny_clip(), target_is_directory=True)
    except ExportVenvMissing as missing:
        print(f"test mesh without an image model: {missing}")
    return folder


@pytest.fixture(scope="session")
def mesh(model_dir, mesh_models_dir):
    """The whole mesh as real processes on free ports: NATS, PostgreSQL, services, Envoy, Prometheus."""
    from mivaa_cli.localmesh.mesh import LocalMesh, MeshPorts

    state_dir = pathlib.Path(tempfile.mkdtemp(prefix="mivaa-test-mesh-"))
    mesh = LocalMesh(
        state_dir,
        MeshPorts.free(),
        models_dir=mesh_models_dir,
        workers=1,
        extra_env={
            # Short ack wait so a killed worker's task comes back within seconds.
            "EXTRACTOR_ACK_WAIT_SECONDS": "4",
            "EXTRACTOR_MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
            # Webhook tests receive on a plain-HTTP loopback server; private ranges stay refused.
            "EXTRACTOR_WEBHOOK_ALLOW_LOOPBACK": "true",
            "EXTRACTOR_WEBHOOK_ALLOW_HTTP": "true",
            # URL imports fetch from a loopback test server (tests/e2e/test_url_import.py); private ranges stay refused.
            "EXTRACTOR_IMPORT_ALLOW_LOOPBACK": "true",
            "MIVAA_LOG_LEVEL": os.environ.get("MIVAA_LOG_LEVEL", "INFO"),
        },
    )
    try:
        mesh.start()
        yield mesh
    finally:
        mesh.stop()
        if os.environ.get("MIVAA_KEEP_TEST_STATE"):
            print(f"mesh state kept in {state_dir}")
        else:
            shutil.rmtree(state_dir, ignore_errors=True)


@pytest_asyncio.fixture(scope="session")
async def client(mesh):
    from mivaa_cli.client import MeshClient

    # Through the gateway as a user of tenant "default" with read and write scopes.
    async with MeshClient(mesh.gateway_address, token=mesh.token(), ca=mesh.ca_path.read_bytes()) as client:
        yield client
