"""Door: the CLI's terminal. Titles, captions, file names and error details come from documents
and other users; printed raw, their control characters (ESC, CSI, ...) would drive the terminal
of whoever lists them. The CLI prints all of it through mivaa_cli.terminal.printable."""

from __future__ import annotations

import asyncio
import json

import psycopg

from mivaa_cli.client import MeshClient
from mivaa_cli.main import main as cli_main
from mivaa_cli.progress import ProgressBoard
from mivaa_cli.terminal import printable
from tests.support.pdfs import make_pdf, page_phrase

HOSTILE = "Report\x1b]0;pwned\x07\x1b[2J\x9b31m\x7f\u202etxt.exe\r\nfake line\tend"


def test_printable_escapes_controls_and_keeps_ordinary_unicode():
    shown = printable(HOSTILE + " naïve 漢字 — ✓")
    assert shown.isprintable()
    assert not any(ch in shown for ch in "\x1b\x07\x9b\x7f\u202e\r\n\t")
    assert "\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\x7f\\u202etxt.exe\\x0d\\x0afake line\\x09end" in shown
    assert shown.endswith(" naïve 漢字 — ✓")
    assert printable("line one\nline\ttwo\x1b", keep_lines=True) == "line one\nline\ttwo\\x1b"


def test_printable_json_stays_valid_json():
    text = json.dumps({"title": HOSTILE}, ensure_ascii=False)
    shown = printable(text, json=True)
    assert shown.isprintable()
    assert json.loads(shown) == {"title": HOSTILE}


def test_the_progress_board_escapes_names_and_lines(capsys):
    import sys

    board = ProgressBoard(["a\x1b[2Jb.pdf"], stream=sys.stdout)
    board.finish("a\x1b[2Jb.pdf", "rejected: \x1b]0;x\x07", ok=False)
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "a\\x1b[2Jb.pdf: FAILED  rejected: \\x1b]0;x\\x07" in out


async def _document_with_hostile_title(mesh) -> str:
    """A READY document titled HOSTILE. Titles with control characters are refused when stored now, so the
    title is written straight into the database, as a row stored before that limit (or by a bug) would be."""
    ca = mesh.ca_path.read_bytes()
    async with MeshClient(mesh.gateway_address, token=mesh.token(subject="terminal"), ca=ca) as user:
        uploaded = await user.upload_bytes(make_pdf("terminal", 2), "terminal.pdf", labels=["terminal-escape"])
        await user.wait_for_job(uploaded.job.name, timeout=180)
    async with await psycopg.AsyncConnection.connect(mesh.postgres.dsn) as conn:
        document_id = uploaded.document.name.removeprefix("documents/")
        await conn.execute("UPDATE documents SET title = %s WHERE id = %s", [HOSTILE, document_id])
    return uploaded.document.name


def test_cli_listings_and_search_print_hostile_titles_escaped(mesh, monkeypatch, capsys):
    name = asyncio.run(_document_with_hostile_title(mesh))
    monkeypatch.setenv("MIVAA_ADDR", mesh.gateway_address)
    monkeypatch.setenv("MIVAA_TOKEN", mesh.token(subject="terminal"))
    monkeypatch.setenv("MIVAA_CA", str(mesh.ca_path))
    capsys.readouterr()
    assert cli_main(["docs", "list", "--label", "terminal-escape"]) == 0
    listing = capsys.readouterr().out
    assert name in listing
    assert "\x1b" not in listing and "\x9b" not in listing and "\u202e" not in listing
    assert "Report\\x1b]0;pwned\\x07\\x1b[2J" in listing
    assert "fake line" in listing and listing.count("\n") == 1  # the title's CR LF did not start a line

    assert cli_main(["search", page_phrase("terminal", 1), "-k", "3", "--label", "terminal-escape"]) == 0
    found = capsys.readouterr().out
    assert "\x1b" not in found and "Report\\x1b]0;pwned" in found

    assert cli_main(["docs", "get", name]) == 0
    document = capsys.readouterr().out
    assert "\x1b" not in document and json.loads(document)["title"] == HOSTILE
