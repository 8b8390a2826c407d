"""Full-text search beside the vectors: a `tsvector` per chunk, in its document's language.

`chunks.language` is the document's detected language (BCP 47 primary tag, "" when unknown,
copied from its metadata: chunks are rewritten with their document, so it never goes stale),
and `mivaa_text_config(language)` the PostgreSQL text search configuration for it (`simple`
when none fits). `chunks.tsv` is generated from both, so every write fills it; the GIN index
serves `@@`. Adding the generated column rewrites the table once, which backfills every chunk.

The function maps only to the configurations this server has (they differ between versions),
so a query and a chunk always agree on how a language is stemmed.
"""

from __future__ import annotations

import psycopg

# BCP 47 primary tag -> PostgreSQL text search configuration (when the server has it).
CONFIGS = {
    "ar": "arabic",
    "hy": "armenian",
    "eu": "basque",
    "ca": "catalan",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "el": "greek",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "ga": "irish",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "no": "norwegian",
    "nb": "norwegian",
    "nn": "norwegian",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "es": "spanish",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}


async def migrate(conn: psycopg.AsyncConnection) -> None:
    cur = await conn.execute("SELECT cfgname FROM pg_ts_config")
    available = {name for (name,) in await cur.fetchall()}
    cases = "\n".join(
        f"        WHEN '{tag}' THEN '{config}'::regconfig"
        for tag, config in sorted(CONFIGS.items())
        if config in available
    )
    await conn.execute(
        f"""
        CREATE FUNCTION mivaa_text_config(language text) RETURNS regconfig
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN CASE language
{cases}
        ELSE 'simple'::regconfig END
        """
    )
    await conn.execute(
        """
        ALTER TABLE chunks ADD COLUMN language text NOT NULL DEFAULT '';
        UPDATE chunks c
        SET language = lower(split_part(d.metadata ->> 'language', '-', 1))
        FROM documents d
        WHERE d.id = c.document_id AND coalesce(d.metadata ->> 'language', '') <> '';
        ALTER TABLE chunks ADD COLUMN tsv tsvector
            GENERATED ALWAYS AS (to_tsvector(mivaa_text_config(language), text)) STORED;
        CREATE INDEX chunks_tsv_idx ON chunks USING gin (tsv);
        """
    )
    # Chunks removed (deleted or replaced) since the vector index was last built: when they
    # pile up, maintenance rebuilds it (HNSW recall falls as deleted nodes accumulate).
    await conn.execute(
        """
        CREATE TABLE index_builds (
            index_name text        PRIMARY KEY,
            removed    bigint      NOT NULL DEFAULT 0,
            built_at   timestamptz NOT NULL DEFAULT now()
        );
        INSERT INTO index_builds (index_name) VALUES ('chunks_embedding_hnsw_idx');
        """
    )
