"""Conversations and the summary cache in PostgreSQL, in the service's own schema `answer`.

The service's role owns that schema and nothing else: it cannot read the search service's
tables. Migrations (`migrations/NNNN_name.sql`) run once each at start, in order, in one
transaction under an advisory lock so replicas starting together take turns.
"""

from __future__ import annotations

import contextlib
import importlib.resources
import uuid
from collections.abc import AsyncIterator

import psycopg
from psycopg_pool import AsyncConnectionPool

from mivaa_answer.limits import DOMAIN
from mivaa_answer.usecases.ports import Conversation, Summary, Turn
from mivaa_platform.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable

SCHEMA = "answer"
STATEMENT_TIMEOUT_MS = 10_000
_MIGRATION_LOCK_KEY = int.from_bytes(b"mivaa-an", "big") & 0x7FFF_FFFF_FFFF_FFFF


class AnswerStore:
    """ConversationStore and SummaryCache over one connection pool."""

    def __init__(self, pool: AsyncConnectionPool):
        self._pool = pool

    @classmethod
    async def open(cls, dsn: str, *, max_size: int = 5) -> AnswerStore:
        # Every statement has a deadline too: a stuck lock fails the call instead of hanging it.
        kwargs = {"autocommit": True, "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"}
        pool = AsyncConnectionPool(dsn, min_size=1, max_size=max_size, open=False, kwargs=kwargs)
        await pool.open(wait=True, timeout=30)
        store = cls(pool)
        async with store._connection() as conn:
            await migrate(conn)
        return store

    async def close(self) -> None:
        await self._pool.close()

    def pool_stats(self) -> dict[str, int]:
        """The connection pool's counts (pool_size, pool_available, requests_waiting, ...) for metrics."""
        return self._pool.get_stats()

    async def ping(self) -> bool:
        async with self._connection() as conn:
            await conn.execute("SELECT 1")
        return True

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        try:
            async with self._pool.connection(timeout=10) as conn:
                yield conn
        except psycopg.OperationalError as exc:  # connection lost, PoolTimeout
            raise Unavailable(
                "DATABASE_UNAVAILABLE", "The conversation database is unavailable; retry later.", domain=DOMAIN
            ) from exc
        except psycopg.DataError as exc:  # a value the database refuses (too large, bad characters)
            raise InvalidArgument(
                "VALUE_NOT_STORABLE",
                "A value cannot be stored: it is too large or holds characters the database refuses.",
                domain=DOMAIN,
            ) from exc

    # -- conversations -----------------------------------------------------------
    async def create(self, *, tenant: str) -> Conversation:
        id = str(uuid.uuid4())
        async with self._connection() as conn:
            await conn.execute("INSERT INTO answer.conversations (id, tenant) VALUES (%s, %s)", [id, tenant])
        return Conversation(id=id, tenant=tenant)

    async def get(self, id: str, *, tenant: str, last_turns: int) -> Conversation:
        async with self._connection() as conn:
            cur = await conn.execute(
                "SELECT update_time FROM answer.conversations WHERE id = %s AND tenant = %s", [id, tenant]
            )
            row = await cur.fetchone()
            if row is None:
                raise conversation_not_found(id)
            cur = await conn.execute(
                """
                SELECT question, standalone_question, answer, found, generator FROM answer.turns
                WHERE conversation_id = %s ORDER BY turn DESC LIMIT %s
                """,
                [id, last_turns],
            )
            turns = [Turn(*r) for r in reversed(await cur.fetchall())]
        return Conversation(id=id, tenant=tenant, turns=turns, update_time=row[0])

    async def add_turn(self, id: str, turn: Turn, *, tenant: str) -> None:
        async with self._connection() as conn, conn.transaction():
            cur = await conn.execute(
                "UPDATE answer.conversations SET update_time = now() WHERE id = %s AND tenant = %s RETURNING id",
                [id, tenant],
            )
            if await cur.fetchone() is None:
                raise conversation_not_found(id)
            await conn.execute(
                """
                INSERT INTO answer.turns (conversation_id, turn, question, standalone_question, answer, found, generator)
                SELECT %s, coalesce(max(turn), 0) + 1, %s, %s, %s, %s, %s FROM answer.turns WHERE conversation_id = %s
                """,
                [id, turn.question, turn.standalone_question, turn.answer, turn.found, turn.generator, id],
            )

    # -- summaries ---------------------------------------------------------------
    async def get_summary(self, document: str, version: str, generator: str, *, tenant: str) -> Summary | None:
        async with self._connection() as conn:
            cur = await conn.execute(
                """
                SELECT summary, pages FROM answer.summaries
                WHERE tenant = %s AND document = %s AND generator = %s AND version = %s
                """,
                [tenant, document, generator, version],
            )
            row = await cur.fetchone()
        return None if row is None else Summary(row[0], tuple(row[1]), generator)

    async def put_summary(self, document: str, version: str, summary: Summary, *, tenant: str) -> None:
        async with self._connection() as conn:
            await conn.execute(
                """
                INSERT INTO answer.summaries (tenant, document, version, generator, summary, pages)
                VALUES (%s, %s, %s, %s, %s, %s)
                ON CONFLICT (tenant, document, generator) DO UPDATE
                SET version = excluded.version, summary = excluded.summary, pages = excluded.pages,
                    create_time = now()
                """,
                [tenant, document, version, summary.generator, summary.summary, list(summary.pages)],
            )


class SummaryCacheView:
    """The store seen as a SummaryCache (get/put), beside its ConversationStore face."""

    def __init__(self, store: AnswerStore):
        self._store = store

    async def get(self, document: str, version: str, generator: str, *, tenant: str) -> Summary | None:
        return await self._store.get_summary(document, version, generator, tenant=tenant)

    async def put(self, document: str, version: str, summary: Summary, *, tenant: str) -> None:
        await self._store.put_summary(document, version, summary, tenant=tenant)


def conversation_not_found(id: str) -> NotFound:
    """The same answer for a missing conversation and another tenant's: nothing is revealed."""
    return NotFound(
        "CONVERSATION_NOT_FOUND", "No conversation has this id.", domain=DOMAIN, metadata={"conversation": id}
    )


async def migrate(conn: psycopg.AsyncConnection) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", [_MIGRATION_LOCK_KEY])
        cur = await conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [SCHEMA])
        if await cur.fetchone() is None:
            try:
                await conn.execute(f"CREATE SCHEMA {SCHEMA}")
            except psycopg.errors.InsufficientPrivilege:
                raise FailedPrecondition(
                    "ANSWER_SCHEMA_MISSING",
                    f"The database has no schema {SCHEMA!r} and this role may not create it; "
                    f"an administrator must run CREATE SCHEMA {SCHEMA} AUTHORIZATION <the service's role>.",
                    domain=DOMAIN,
                ) from None
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_migrations "
            "(version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        cur = await conn.execute(f"SELECT version FROM {SCHEMA}.schema_migrations")
        applied = {version for (version,) in await cur.fetchall()}
        folder = importlib.resources.files("mivaa_answer.migrations")
        for entry in sorted(folder.iterdir(), key=lambda f: f.name):
            version = entry.name.removesuffix(".sql")
            if entry.name.endswith(".sql") and version not in applied:
                await conn.execute(entry.read_text(encoding="utf-8"))
                await conn.execute(f"INSERT INTO {SCHEMA}.schema_migrations (version) VALUES (%s)", [version])
