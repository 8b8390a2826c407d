"""What every repository shares: the pool, the mapping of database errors, ids and vectors."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import numpy as np
import psycopg
from psycopg_pool import AsyncConnectionPool

from mivaa_platform.errors import InvalidArgument, NotFound, Unavailable
from mivaa_search.store._version_sql import LATEST_READY
from mivaa_search.store.records import DOMAIN, MAX_DIMENSION, Vector


class Connections:
    """The pool every repository draws from; connections are autocommit, multi-statement work
    opens an explicit transaction."""

    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection]:
        with database_errors():
            async with self.pool.connection() as conn:
                yield conn


@contextlib.asynccontextmanager
async def snapshot(conn: psycopg.AsyncConnection) -> AsyncIterator[None]:
    """A REPEATABLE READ transaction: every statement in it reads one snapshot (read-only work
    never meets a serialization failure). Begun by one statement (BEGIN ISOLATION LEVEL ...),
    not BEGIN and then SET TRANSACTION: a round trip less for each search."""
    await conn.set_isolation_level(psycopg.IsolationLevel.REPEATABLE_READ)  # no round trip
    try:
        async with conn.transaction():
            yield
    finally:
        # The pooled connection's next transactions are the default kind again (a lost
        # connection is not reused, so it is left as it is).
        if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            await conn.set_isolation_level(None)


class CheckAfterIdle:
    """The pool's check callback: a connection is checked (a round trip) before it is handed out
    only when it was last handed out more than `idle_s` ago.

    Checking on every checkout cost a search four extra round trips (one per statement group).
    A connection handed out moments ago served a statement moments ago; one that sat idle may
    have lost its server (PostgreSQL restarted meanwhile), which the check catches.
    """

    def __init__(self, idle_s: float = 2.0, clock: Callable[[], float] = time.monotonic):
        self.idle_s = idle_s
        self._clock = clock
        self._handed_out: weakref.WeakKeyDictionary[psycopg.AsyncConnection, float] = weakref.WeakKeyDictionary()
        self.checks = 0

    async def check(self, conn: psycopg.AsyncConnection) -> None:
        now, last = self._clock(), self._handed_out.get(conn)
        if last is None or now - last > self.idle_s:
            self.checks += 1
            await AsyncConnectionPool.check_connection(conn)  # raises for a lost connection
        self._handed_out[conn] = now


@contextlib.contextmanager
def database_errors() -> Iterator[None]:
    """A database error as the domain error of its cause: a value the database cannot store is the
    caller's (INVALID_ARGUMENT, never "retry later": it would fail the same way again); losing the
    database is UNAVAILABLE; anything else reaches the interceptor as an unexpected (INTERNAL) error."""
    try:
        yield
    except (psycopg.DataError, psycopg.errors.ProgramLimitExceeded) as exc:
        # DataError: NUL in text, characters outside the encoding, values too long for a column;
        # ProgramLimitExceeded (an OperationalError): e.g. a value too large for a btree index row.
        raise InvalidArgument(
            "VALUE_NOT_STORABLE",
            "A value cannot be stored: it is too large or holds characters the database refuses.",
            domain=DOMAIN,
            metadata={"sqlstate": exc.sqlstate or ""},
        ) from exc
    except psycopg.OperationalError as exc:  # connection lost, server shutting down, psycopg_pool.PoolTimeout
        raise Unavailable(
            "DATABASE_UNAVAILABLE", "The document database is unavailable; retry later.", domain=DOMAIN
        ) from exc


def parse_document_id(value: str) -> uuid.UUID:
    try:
        parsed = uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        parsed = None
    if parsed is None or str(parsed) != value.lower():
        raise InvalidArgument(
            "INVALID_DOCUMENT_NAME", "A document id must be a UUID.", domain=DOMAIN, metadata={"id": str(value)[:100]}
        )
    return parsed


def document_not_found(id: str) -> NotFound:
    return NotFound("DOCUMENT_NOT_FOUND", "No document has this id.", domain=DOMAIN, metadata={"id": id})


async def require_document(conn: psycopg.AsyncConnection, doc_id: uuid.UUID, id: str, *, tenant: str) -> None:
    """DOCUMENT_NOT_FOUND unless `tenant` has this document (another tenant's looks missing)."""
    cur = await conn.execute("SELECT 1 FROM documents WHERE id = %s AND tenant = %s", [doc_id, tenant])
    if await cur.fetchone() is None:
        raise document_not_found(id)


async def scalar(conn: psycopg.AsyncConnection, query: str, params: Sequence[object] = ()) -> Any:
    """The one value of a query that always returns one row (an aggregate, EXISTS, a catalog lookup)."""
    cur = await conn.execute(query, params)
    row = await cur.fetchone()
    assert row is not None, "a single-row query returned no row"
    return row[0]


def check_sha256(value: str) -> str:
    value = value.lower() if isinstance(value, str) else ""
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise InvalidArgument("INVALID_SHA256", "sha256 must be 64 hexadecimal digits.", domain=DOMAIN)
    return value


def check_vector(
    values: Sequence[float], dimension: int, reason: str, dimension_reason: str | None = None
) -> np.ndarray:
    """`values` as float32 of exactly `dimension` finite numbers, or INVALID_ARGUMENT `reason`."""
    try:
        vector = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError):
        raise InvalidArgument(reason, "A vector must be a sequence of numbers.", domain=DOMAIN) from None
    if vector.shape != (dimension,):
        raise InvalidArgument(
            dimension_reason or reason,
            f"A vector must have {dimension} dimensions; got shape {vector.shape}.",
            domain=DOMAIN,
            metadata={"expected_dimension": str(dimension), "actual_shape": str(vector.shape)},
        )
    if not np.all(np.isfinite(vector)):
        raise InvalidArgument(reason, "A vector must hold finite numbers only.", domain=DOMAIN)
    return vector


def check_any_vector(values: Vector, reason: str, message: str) -> np.ndarray:
    """A non-zero, finite vector of 1..MAX_DIMENSION dimensions (image models differ in size)."""
    try:
        vector = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError):
        raise InvalidArgument(reason, message, domain=DOMAIN) from None
    if vector.ndim != 1 or not 1 <= vector.size <= MAX_DIMENSION or not np.all(np.isfinite(vector)):
        raise InvalidArgument(reason, message, domain=DOMAIN)
    return vector


def search_filters(
    alias: str, tenant: str, document_ids: Sequence[str], labels: Sequence[str], *, all_versions: bool = False
) -> tuple[list[str], dict[str, object]]:
    """WHERE conditions and parameters of a search over `alias` rows joined to documents `d`:
    each version chain's newest READY document only, unless all_versions or documents are named."""
    conditions = ["d.tenant = %(tenant)s", "d.state = 'READY'"]
    if not (all_versions or document_ids):
        conditions.append(LATEST_READY)
    params: dict[str, object] = {"tenant": tenant}
    if document_ids:
        conditions.append(f"{alias}.document_id = ANY(%(document_ids)s)")
        params["document_ids"] = [parse_document_id(i) for i in document_ids]
    if labels:
        conditions.append("d.labels @> %(labels)s::text[]")
        params["labels"] = list(labels)
    return conditions, params


# Select-list items that set, for the transaction, the HNSW candidate list size (parameter
# `ef_search`, text) and iterative scans that go on until enough rows pass the filters (pgvector
# >= 0.8, ignored before). Harmless for an exact scan, which reads no index.
HNSW_SETTINGS = (
    "set_config('hnsw.ef_search', %(ef_search)s, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)"
)


async def prepare_filtered_hnsw_scan(conn: psycopg.AsyncConnection, k: int) -> None:
    """For this transaction: filters are applied to what the HNSW scan yields, and iterative scans
    keep it going until k rows pass them."""
    await conn.execute(f"SELECT {HNSW_SETTINGS}", {"ef_search": str(max(40, 2 * k))})


def created_in(
    column: str, after: dt.datetime | None, before: dt.datetime | None
) -> tuple[list[str], dict[str, object]]:
    """Conditions keeping rows whose `column` is in [after, before); None leaves that end open."""
    conditions: list[str] = []
    params: dict[str, object] = {}
    if after is not None:
        conditions.append(f"{column} >= %(created_after)s")
        params["created_after"] = after
    if before is not None:
        conditions.append(f"{column} < %(created_before)s")
        params["created_before"] = before
    return conditions, params
