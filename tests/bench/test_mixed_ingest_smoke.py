"""bench/run.py's mixed documents in short: uploads of several tenants at once, every job to its end."""

from __future__ import annotations

from bench.documents import MIXED_MAX_PAGES, mixed_documents
from bench.run import measure_mixed
from tests.support.pdfs import make_pdf


def test_the_mix_is_every_corpus_pdf_that_opens_without_a_password_up_to_the_page_cap(tmp_path):
    (tmp_path / "letters").mkdir()
    (tmp_path / "letters" / "short.pdf").write_bytes(make_pdf("short", 2))
    (tmp_path / "long.pdf").write_bytes(make_pdf("long", MIXED_MAX_PAGES + 1, filler_sentences=0))
    (tmp_path / "locked.pdf").write_bytes(make_pdf("locked", 1, password="secret"))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7 not really")
    assert [name for name, _ in mixed_documents(tmp_path)] == ["letters/short.pdf"]
    generated = mixed_documents(tmp_path / "absent")
    assert len(generated) > 10 and len({data for _, data in generated}) == len(generated)


async def test_mixed_documents_of_two_tenants_all_end(mesh):
    documents = [(f"mix/{i}.pdf", make_pdf(f"mixsmoke{i}", 1 + i)) for i in range(3)]
    figures = await measure_mixed(mesh, documents, rounds=2)
    assert figures["documents"] == 6 and figures["pages"] == 2 * (1 + 2 + 3)
    assert figures["outcomes"] == {"SUCCEEDED": 6}
    assert figures["total_s"] > 0
