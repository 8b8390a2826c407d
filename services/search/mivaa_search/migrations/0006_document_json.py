"""Documents' metadata and outline as JSONB (protobuf JSON mapping, field names as in the proto).

Before, `metadata` held a serialized DocumentMetadata and `outline` a serialized
UpsertChunksHeader (a request message) carrying only its outline. Both are decoded here once,
so the store keeps domain data it can read without protos and SQL can query.
"""

from __future__ import annotations

import psycopg
from google.protobuf import json_format
from psycopg.types.json import Jsonb

from mivaa.search.v1 import search_service_pb2 as pb

_BATCH = 500


def metadata_json(data: bytes) -> dict:
    return json_format.MessageToDict(pb.DocumentMetadata.FromString(data), preserving_proto_field_name=True)


def outline_json(data: bytes) -> list[dict]:
    header = pb.UpsertChunksHeader.FromString(data)
    return [json_format.MessageToDict(entry, preserving_proto_field_name=True) for entry in header.outline]


async def migrate(conn: psycopg.AsyncConnection) -> None:
    await conn.execute("ALTER TABLE documents ADD COLUMN metadata_json jsonb, ADD COLUMN outline_json jsonb")
    async with conn.cursor(name="mivaa_document_json") as old:
        await old.execute(
            "SELECT id, metadata, outline FROM documents WHERE metadata IS NOT NULL OR outline IS NOT NULL"
        )
        while rows := await old.fetchmany(_BATCH):
            async with conn.cursor() as cur:
                await cur.executemany(
                    "UPDATE documents SET metadata_json = %s, outline_json = %s WHERE id = %s",
                    [
                        (
                            Jsonb(metadata_json(bytes(metadata))) if metadata is not None else None,
                            Jsonb(outline_json(bytes(outline))) if outline is not None else None,
                            doc_id,
                        )
                        for doc_id, metadata, outline in rows
                    ],
                )
    await conn.execute(
        """
        ALTER TABLE documents DROP COLUMN metadata, DROP COLUMN outline;
        ALTER TABLE documents RENAME COLUMN metadata_json TO metadata;
        ALTER TABLE documents RENAME COLUMN outline_json TO outline;
        """
    )
