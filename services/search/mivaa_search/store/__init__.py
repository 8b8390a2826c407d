"""Documents, their chunks, pages and images in PostgreSQL with pgvector: one repository per
aggregate over one connection pool.

Plain SQL over psycopg 3 (async). Migrations run once at open(), in their own transaction
(schema.py); the embedding dimension is fixed by the first run. Every read and write names
its tenant (a required keyword). Domain errors come from mivaa_platform.errors: connection
trouble is Unavailable, a value the database refuses InvalidArgument. No grpc, no protos.
"""

from __future__ import annotations

import psycopg
from pgvector.psycopg import register_vector_async
from psycopg_pool import AsyncConnectionPool

from mivaa_platform.errors import InvalidArgument
from mivaa_search.store._common import CheckAfterIdle, Connections, database_errors
from mivaa_search.store.chunks import ChunkRepository
from mivaa_search.store.documents import DocumentRepository
from mivaa_search.store.entities import EntityRepository
from mivaa_search.store.images import ImageRepository
from mivaa_search.store.maintenance import IndexMaintenance
from mivaa_search.store.originals import OriginalRepository
from mivaa_search.store.pages import PageRepository
from mivaa_search.store.records import (
    DOCUMENT_STATES,
    DOMAIN,
    MAX_DIMENSION,
    MAX_HIT_TITLE_CHARS,
    ChunkHit,
    ChunkRank,
    ChunkRecord,
    DocumentContent,
    DocumentFilter,
    DocumentRecord,
    EntityMention,
    EntityRef,
    ImageHit,
    ImageInfo,
    ImageRecord,
    NewDocument,
    PlacementRecord,
    SearchFilter,
)
from mivaa_search.store.reembedding import ReembeddingRecord, ReembeddingRepository
from mivaa_search.store.related import RelatedRepository
from mivaa_search.store.retention import RetentionRecord, RetentionRepository
from mivaa_search.store.retrieval import VectorTuning
from mivaa_search.store.schema import migrate
from mivaa_search.store.usage import TenantUsage, UsageRepository

__all__ = [
    "DOCUMENT_STATES",
    "MAX_HIT_TITLE_CHARS",
    "ChunkHit",
    "ChunkRank",
    "ChunkRecord",
    "DocumentContent",
    "DocumentFilter",
    "DocumentRecord",
    "EntityMention",
    "EntityRef",
    "ImageHit",
    "ImageInfo",
    "ImageRecord",
    "NewDocument",
    "PlacementRecord",
    "ReembeddingRecord",
    "RetentionRecord",
    "SearchFilter",
    "SearchStore",
    "TenantUsage",
    "VectorTuning",
]


class SearchStore:
    """The repositories of one database: documents, chunks (and search), pages, images."""

    def __init__(self, pool: AsyncConnectionPool, dimension: int):
        """Use SearchStore.open()."""
        self._pool = pool
        self.dimension = dimension
        connections = Connections(pool)
        self.documents = DocumentRepository(connections)
        self.originals = OriginalRepository(connections)
        self.chunks = ChunkRepository(connections, dimension)
        self.pages = PageRepository(connections)
        self.images = ImageRepository(connections)
        self.maintenance = IndexMaintenance(connections, dimension)
        self.entities = EntityRepository(connections)
        self.related = RelatedRepository(connections)
        self.usage = UsageRepository(connections)
        self.retention = RetentionRepository(connections)
        self.reembeddings = ReembeddingRepository(connections, dimension)

    @classmethod
    async def open(cls, dsn: str, dimension: int, min_size: int = 1, max_size: int = 10) -> SearchStore:
        """Apply migrations, check the embedding dimension, and open the pool."""
        if isinstance(dimension, bool) or not isinstance(dimension, int) or not 1 <= dimension <= MAX_DIMENSION:
            raise InvalidArgument(
                "INVALID_EMBEDDING_DIMENSION",
                f"The embedding dimension must be between 1 and {MAX_DIMENSION}.",
                domain=DOMAIN,
                metadata={"dimension": str(dimension)},
            )
        with database_errors():
            async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                await migrate(conn, dimension)
            idle_check = CheckAfterIdle()  # a search's statement groups reuse connections unchecked
            pool = AsyncConnectionPool(
                dsn,
                min_size=min_size,
                max_size=max_size,
                kwargs={"autocommit": True},  # multi-statement work uses explicit transactions
                configure=register_vector_async,
                check=idle_check.check,
                name="mivaa-search",
                open=False,
            )
            try:
                await pool.open(wait=True, timeout=30)
            except BaseException:
                await pool.close()
                raise
        return cls(pool, dimension)

    async def close(self) -> None:
        await self._pool.close()

    def pool_stats(self) -> dict[str, int]:
        """The connection pool's counts (pool_size, pool_available, requests_waiting, ...) for metrics."""
        return self._pool.get_stats()

    async def ping(self) -> bool:
        """True when a pooled connection answers a trivial query within two seconds (health)."""
        async with self._pool.connection(timeout=2.0) as conn:
            await conn.execute("SELECT 1")
        return True

    async def __aenter__(self) -> SearchStore:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()
