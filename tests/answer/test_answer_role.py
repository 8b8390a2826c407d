"""The answer service's database role has the least privilege that works: it owns the schema
`answer` and can read none of the documents' tables."""

from __future__ import annotations

import psycopg
import pytest


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT count(*) FROM public.documents",
        "SELECT count(*) FROM public.chunks",
        "CREATE TABLE public.intruder (id int)",
        "CREATE SCHEMA intruder",
        "CREATE ROLE intruder LOGIN",
    ],
)
def test_the_answer_role_cannot_reach_beyond_its_schema(mesh, statement):
    with (
        psycopg.connect(mesh.postgres.answer_dsn, autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(statement)


def test_the_answer_role_owns_its_schema(mesh):
    with psycopg.connect(mesh.postgres.answer_dsn, autocommit=True) as conn:
        user, owner, superuser = conn.execute(
            """
            SELECT current_user, pg_get_userbyid(n.nspowner), r.rolsuper
            FROM pg_namespace n, pg_roles r WHERE n.nspname = 'answer' AND r.rolname = current_user
            """
        ).fetchone()
        tables = {row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'answer'")}
    assert (user, owner, superuser) == ("mivaa_answer", "mivaa_answer", False)
    assert {"conversations", "turns", "summaries", "schema_migrations"} <= tables
    assert (mesh.postgres.answer_passfile.stat().st_mode & 0o077) == 0
