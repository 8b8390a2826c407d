"""Tenants' retention policies, and the documents a policy has outlived."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from mivaa_search.store._common import Connections


@dataclass(frozen=True)
class RetentionRecord:
    tenant: str
    max_age_seconds: int
    update_time: datetime.datetime


class RetentionRepository:
    def __init__(self, connections: Connections):
        self._connections = connections

    async def get(self, *, tenant: str) -> RetentionRecord | None:
        async with self._connections.connection() as conn:
            cur = await conn.execute(
                "SELECT tenant, max_age_seconds, update_time FROM retention_policies WHERE tenant = %s", (tenant,)
            )
            row = await cur.fetchone()
        return RetentionRecord(*row) if row else None

    async def set(self, max_age_seconds: int, *, tenant: str) -> RetentionRecord | None:
        """Sets the policy (0 clears it); returns what is stored now."""
        async with self._connections.connection() as conn:
            if max_age_seconds <= 0:
                await conn.execute("DELETE FROM retention_policies WHERE tenant = %s", (tenant,))
                return None
            cur = await conn.execute(
                """
                INSERT INTO retention_policies (tenant, max_age_seconds) VALUES (%s, %s)
                ON CONFLICT (tenant) DO UPDATE SET max_age_seconds = EXCLUDED.max_age_seconds, update_time = now()
                RETURNING tenant, max_age_seconds, update_time
                """,
                (tenant, max_age_seconds),
            )
            row = await cur.fetchone()
        assert row is not None, "INSERT ... RETURNING returned no row"
        return RetentionRecord(*row)

    async def all(self) -> list[RetentionRecord]:
        async with self._connections.connection() as conn:
            cur = await conn.execute("SELECT tenant, max_age_seconds, update_time FROM retention_policies")
            return [RetentionRecord(*row) for row in await cur.fetchall()]

    async def expired_documents(self, policy: RetentionRecord, *, limit: int) -> list[str]:
        """Ids of the tenant's documents older than its policy allows, oldest first (the
        database's clock, so every replica agrees). Documents still being processed are left
        to finish; they are taken by a later sweep."""
        async with self._connections.connection() as conn:
            cur = await conn.execute(
                """
                SELECT id::text FROM documents
                WHERE tenant = %s AND create_time < now() - make_interval(secs => %s)
                  AND state IN ('READY', 'FAILED')
                ORDER BY create_time, id LIMIT %s
                """,
                (policy.tenant, policy.max_age_seconds, limit),
            )
            return [row[0] for row in await cur.fetchall()]
