"""The schema: migrations applied once at start, in a transaction of their own.

A migration is `migrations/NNNN_name.sql` (`{dimension}` stands for the base embedding dimension,
fixed by the first run; tenants may switch to models of other dimensions, migration 0020) or `migrations/NNNN_name.py` with `async def migrate(conn)` for a
change SQL alone cannot make (decoding old rows). Each runs at most once per database, in
order, under an advisory lock so replicas starting together take turns. Nothing else in the
store runs DDL: data transactions only read and write rows.
"""

from __future__ import annotations

import importlib
import importlib.resources
from collections.abc import Awaitable, Callable

import psycopg

from mivaa_platform.errors import FailedPrecondition
from mivaa_search.store._common import scalar
from mivaa_search.store.records import DOMAIN

# pg_advisory_xact_lock key held while migrating, so replicas starting together take turns.
_MIGRATION_LOCK_KEY = int.from_bytes(b"mivaa-mg", "big") & 0x7FFF_FFFF_FFFF_FFFF
_PACKAGE = "mivaa_search.migrations"

Step = Callable[[psycopg.AsyncConnection, int], Awaitable[None]]


def migrations() -> list[tuple[str, Step]]:
    """(version, step) of every migration, in order."""
    folder = importlib.resources.files(_PACKAGE)
    steps: list[tuple[str, Step]] = []
    for entry in sorted(folder.iterdir(), key=lambda f: f.name):
        name = entry.name
        if name.endswith(".sql"):
            steps.append((name.removesuffix(".sql"), _sql_step(entry.read_text(encoding="utf-8"))))
        elif name.endswith(".py") and name[:4].isdigit():
            module = importlib.import_module(f"{_PACKAGE}.{name.removesuffix('.py')}")
            steps.append((name.removesuffix(".py"), _python_step(module.migrate)))
    return steps


def _sql_step(text: str) -> Step:
    async def run(conn: psycopg.AsyncConnection, dimension: int) -> None:
        await conn.execute(text.replace("{dimension}", str(dimension)))

    return run


def _python_step(migrate: Callable[[psycopg.AsyncConnection], Awaitable[None]]) -> Step:
    async def run(conn: psycopg.AsyncConnection, dimension: int) -> None:
        await migrate(conn)

    return run


async def migrate(conn: psycopg.AsyncConnection, dimension: int) -> None:
    """Apply what this database lacks, then check its embedding dimension is `dimension`."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", [_MIGRATION_LOCK_KEY])
        try:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.errors.InsufficientPrivilege:
            # The service's role is no superuser (as it should be): pgvector is the operator's to create.
            raise FailedPrecondition(
                "VECTOR_EXTENSION_MISSING",
                "The database lacks the pgvector extension and this role may not create it; "
                "a superuser must run CREATE EXTENSION vector in it.",
                domain=DOMAIN,
            ) from None
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    text PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        cur = await conn.execute("SELECT version FROM schema_migrations")
        applied = {version for (version,) in await cur.fetchall()}
        for version, step in migrations():
            if version not in applied:
                await step(conn, dimension)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", [version])
        # The dimension the database was built with (migration 0020; before it, the column's type modifier).
        stored = await scalar(conn, "SELECT dimension FROM text_vector_base")
    if stored != dimension:
        raise FailedPrecondition(
            "EMBEDDING_DIMENSION_MISMATCH",
            f"The database holds {stored}-dimensional embeddings but this service is configured for {dimension}; "
            "use the embedding model the database was built with, or re-index into a new database.",
            domain=DOMAIN,
            metadata={"stored_dimension": str(stored), "configured_dimension": str(dimension)},
        )


async def ensure_image_index(conn: psycopg.AsyncConnection, dimension: int) -> None:
    """A partial HNSW index for the image vectors of one dimension (idempotent), in its own
    transaction after the data that needs it is committed: image models differ in dimension,
    so these indexes cannot all exist from the first migration.

    Looked up first so that the common case takes no lock on the table; the advisory lock
    keeps two writers from creating the same index at once.
    """
    name = f"image_embeddings_hnsw_{int(dimension)}"
    cur = await conn.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
    if await cur.fetchone() is not None:
        return
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", [_IMAGE_INDEX_LOCK_KEY + int(dimension)])
        await conn.execute(
            f"""
            CREATE INDEX IF NOT EXISTS {name}
            ON image_embeddings USING hnsw ((embedding::vector({int(dimension)})) vector_cosine_ops)
            WHERE dimension = {int(dimension)}
            """
        )


# Base of the keys held while creating the image index of one dimension.
_IMAGE_INDEX_LOCK_KEY = int.from_bytes(b"mivaa-ii", "big") & 0x7FFF_FFFF_FFFF_0000
