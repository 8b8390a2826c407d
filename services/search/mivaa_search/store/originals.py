"""Stored originals: one row each (table `originals`), held by the documents that reference it.

Originals are shared by content (sha256) across tenants. A document's insert takes its reference
(`original_references`, a trigger in the insert's transaction) and its delete releases it (cascade);
the bytes live in the NATS object store, which no transaction covers. The rules:

1. Taking a reference upserts the original's row, which locks it, and sets it back to 'stored'.
2. Releasing the last one locks the row, sees no other reference (a later statement: its snapshot
   has every reference committed before the lock), and marks the row 'deleting' (a tombstone),
   in the documents delete's transaction. Nothing is deleted from the object store yet.
3. After that commit, `finish_deletion` locks the row again, checks it is still an unreferenced
   tombstone, deletes the object while holding the lock, and removes the row in that transaction.
   A failure leaves the tombstone for the sweep, which runs the same step.

How they interleave with an upload B of the same bytes (B's catalog insert comes before it
stores or reads any bytes; the upload then stores them unless the object exists):
- B's insert commits first: the release in 2 sees B's reference; nothing becomes a tombstone.
- 2 commits, then B inserts before 3: B's upsert revives the row; 3 finds it 'stored' and leaves
  the object alone. B's upload finds the bytes still there.
- 3 holds the lock: B's upsert waits until the object is gone and the row removed, then inserts a
  fresh row; B's upload finds no object and stores the bytes again.
- 3's object delete fails halfway (or its commit does): the row stays a tombstone, so B revives it
  and finds the object missing or marked deleted, and stores the bytes again.
So an object is deleted only while its row is locked as an unreferenced tombstone, and a reference
taker either sees the bytes it relies on kept or waits until they are gone and stores them anew.

The sweep (usecases.originals) also adopts objects that have no row (an upload whose document was
deleted before its bytes landed, a crash between the two): it inserts a tombstone for one older than
a grace period, which a concurrent upload's upsert revives, and then finishes it as in 3.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from mivaa_search.store._common import Connections, check_sha256, scalar

# Deletes the stored object with this sha256 (mivaa_platform.messaging.OriginalsStore.delete).
RemoveOriginal = Callable[[str], Awaitable[None]]

STORED, DELETING = "stored", "deleting"
_HELD = "SELECT EXISTS (SELECT 1 FROM original_references WHERE sha256 = %s)"


class OriginalRepository:
    def __init__(self, connections: Connections):
        self._connections = connections

    async def references(self, sha256: str) -> int:
        """How many documents, of every tenant, hold these bytes."""
        async with self._connections.connection() as conn:
            count = await scalar(
                conn, "SELECT count(*) FROM original_references WHERE sha256 = %s", [check_sha256(sha256)]
            )
        return int(count)

    async def state(self, sha256: str) -> str | None:
        """'stored', 'deleting', or None when there is no row."""
        async with self._connections.connection() as conn:
            cur = await conn.execute("SELECT state FROM originals WHERE sha256 = %s", [check_sha256(sha256)])
            row = await cur.fetchone()
        return row[0] if row is not None else None

    async def finish_deletion(self, sha256: str, remove: RemoveOriginal) -> bool:
        """Step 3 of the module docstring: True when the object was deleted and its row removed."""
        async with self._connections.connection() as conn, conn.transaction():
            cur = await conn.execute("SELECT state FROM originals WHERE sha256 = %s FOR UPDATE", [sha256])
            row = await cur.fetchone()
            if row is None or row[0] != DELETING:
                return False
            if await scalar(conn, _HELD, [sha256]):  # never left so by the triggers; repaired, not deleted
                await conn.execute(
                    "UPDATE originals SET state = %s, delete_time = NULL WHERE sha256 = %s", [STORED, sha256]
                )
                return False
            await remove(sha256)
            await conn.execute("DELETE FROM originals WHERE sha256 = %s", [sha256])
        return True

    async def tombstones(self, limit: int) -> list[str]:
        """Originals whose deletion is due, oldest first."""
        async with self._connections.connection() as conn:
            cur = await conn.execute(
                "SELECT sha256 FROM originals WHERE state = %s ORDER BY delete_time LIMIT %s", [DELETING, limit]
            )
            return [row[0] for row in await cur.fetchall()]

    async def count_tombstones(self) -> int:
        async with self._connections.connection() as conn:
            return int(await scalar(conn, "SELECT count(*) FROM originals WHERE state = %s", [DELETING]))

    async def unreferenced(self, limit: int) -> list[str]:
        """'stored' rows no document holds (none should exist; the sweep retires them)."""
        async with self._connections.connection() as conn:
            cur = await conn.execute(
                """
                SELECT o.sha256 FROM originals o
                WHERE o.state = %s AND NOT EXISTS (SELECT 1 FROM original_references r WHERE r.sha256 = o.sha256)
                ORDER BY o.create_time LIMIT %s
                """,
                [STORED, limit],
            )
            return [row[0] for row in await cur.fetchall()]

    async def retire_if_unreferenced(self, sha256: str) -> bool:
        """Makes an unreferenced 'stored' row a tombstone: locked first, then checked (as the trigger does)."""
        async with self._connections.connection() as conn, conn.transaction():
            cur = await conn.execute("SELECT state FROM originals WHERE sha256 = %s FOR UPDATE", [sha256])
            row = await cur.fetchone()
            if row is None or row[0] != STORED or await scalar(conn, _HELD, [sha256]):
                return False
            await conn.execute(
                "UPDATE originals SET state = %s, delete_time = now() WHERE sha256 = %s", [DELETING, sha256]
            )
        return True

    async def known(self, digests: Iterable[str]) -> set[str]:
        """Which of these sha256 have a row."""
        async with self._connections.connection() as conn:
            cur = await conn.execute("SELECT sha256 FROM originals WHERE sha256 = ANY(%s)", [list(digests)])
            return {row[0] for row in await cur.fetchall()}

    async def adopt_orphan(self, sha256: str, size_bytes: int) -> bool:
        """A tombstone for a stored object without a row; False when a row exists (an upload took it)."""
        async with self._connections.connection() as conn:
            cur = await conn.execute(
                """
                INSERT INTO originals (sha256, size_bytes, state, delete_time) VALUES (%s, %s, %s, now())
                ON CONFLICT (sha256) DO NOTHING RETURNING sha256
                """,
                [check_sha256(sha256), max(size_bytes, 0), DELETING],
            )
            return await cur.fetchone() is not None

    async def audit(self) -> dict[str, int]:
        """Counts that should all be zero: documents without a reference, references to tombstones."""
        async with self._connections.connection() as conn:
            cur = await conn.execute(
                """
                SELECT
                  (SELECT count(*) FROM documents d
                    WHERE NOT EXISTS (SELECT 1 FROM original_references r WHERE r.document = d.id)),
                  (SELECT count(*) FROM original_references r JOIN originals o USING (sha256)
                    WHERE o.state <> %s)
                """,
                [STORED],
            )
            row = await cur.fetchone()
        assert row is not None
        return {"documents_without_reference": int(row[0]), "references_to_tombstones": int(row[1])}
