"""Every corpus PDF through what the extractor service does: validate_pdf, then PageExtractor.iter_pages.

The contract: a file is either rejected with a MivaaError whose reason is
UPPER_SNAKE_CASE, or extracted into pages 1..N in order, each without error or
with one of the known page error reasons. Born-digital files (all but the
image-only ones listed in CORPUS_WITHOUT_TEXT and the known-broken one) must
also yield body text. Encrypted files open with the passwords the corpus
READMEs give and are rejected with PDF_ENCRYPTED without (or with a wrong) one.

One PageExtractor(workers=2) serves the whole module, on pytest-asyncio's
session event loop (every async test here runs on it; the pool belongs to the
loop it is first used on). The files are listed at collection time, so each is
its own test id; without ../shared/corpus each test skips through the
`corpus_dir` fixture. The whole corpus (1,300+ pages) takes ~10 s on 2 cores.
"""

from __future__ import annotations

import pathlib

import pytest
import pytest_asyncio

from mivaa_extractor.extraction.text_extraction import PageExtractor
from mivaa_extractor.extraction.validation import validate_pdf
from mivaa_platform.errors import MivaaError
from tests.support.pdf_mutations import (
    CORPUS_PASSWORDS,
    CORPUS_WITHOUT_TEXT,
    PAGE_ERROR_REASONS,
    SERVICE_MAX_BYTES,
    SERVICE_MAX_PAGES,
    is_reason,
)

pytestmark = pytest.mark.corpus

# Where tests/conftest.py looks for the corpus; only used to list the files at collection time.
_CORPUS = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
_FILES = (
    sorted(p.relative_to(_CORPUS).as_posix() for p in _CORPUS.rglob("*") if p.is_file() and p.suffix.lower() == ".pdf")
    if _CORPUS.is_dir()
    else []
)

# Files the corpus README says must be rejected, and how.
EXPECTED_REJECTIONS = {"unreadablemetadata.pdf": "PDF_UNREADABLE"}
ENCRYPTED = ("libreoffice-writer-password.pdf", "unstructured/password.pdf")


def _password(relative: str) -> str | None:
    return CORPUS_PASSWORDS.get(pathlib.PurePosixPath(relative).name)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def extractor():
    pages = PageExtractor(workers=2)
    try:
        await pages.warm_up()
        yield pages
    finally:
        await pages.aclose()


def _corpus_file(corpus_dir: pathlib.Path, relative: str) -> pathlib.Path:
    path = corpus_dir / relative
    if not path.is_file():
        pytest.skip(f"{relative} is not in {corpus_dir}")
    return path


def test_corpus_has_pdfs(corpus_dir: pathlib.Path):
    assert _FILES, f"no PDF found under {corpus_dir}"


@pytest.mark.parametrize("relative", _FILES or ["<no corpus>"])
async def test_corpus_file_keeps_the_contract(corpus_dir: pathlib.Path, extractor: PageExtractor, relative: str):
    path = _corpus_file(corpus_dir, relative)
    password = _password(relative)

    try:
        info = validate_pdf(
            path.read_bytes(), password=password, max_bytes=SERVICE_MAX_BYTES, max_pages=SERVICE_MAX_PAGES
        )
    except MivaaError as error:
        assert is_reason(error.reason), f"{relative}: rejected with a malformed reason {error!r}"
        assert error.message, f"{relative}: rejected without a message"
        assert relative in EXPECTED_REJECTIONS, f"{relative} was rejected at validation: {error!r}"
        assert error.reason == EXPECTED_REJECTIONS[relative]
        return
    assert relative not in EXPECTED_REJECTIONS, f"{relative} should have been rejected, validated as {info}"
    assert info.page_count > 0

    pages = []
    try:
        async for batch in extractor.iter_pages(path, password, info.page_count):
            pages.extend(batch)
    except MivaaError as error:
        assert is_reason(error.reason), f"{relative}: extraction failed with a malformed reason {error!r}"
        pytest.fail(f"{relative} validated ({info.page_count} pages) but extraction was rejected: {error!r}")

    assert [page.number for page in pages] == list(range(1, info.page_count + 1)), relative
    for page in pages:
        if page.error is not None:
            assert page.error.reason in PAGE_ERROR_REASONS, f"{relative} page {page.number}: {page.error!r}"
            assert page.error.message
    if relative not in CORPUS_WITHOUT_TEXT:
        body = "".join(page.text for page in pages if page.error is None)
        assert body.strip(), f"{relative} is born-digital but no body text came back"


@pytest.mark.parametrize("relative", ENCRYPTED)
@pytest.mark.parametrize("password", [None, "", "not-the-password"])
async def test_encrypted_file_without_its_password_is_rejected(
    corpus_dir: pathlib.Path, extractor: PageExtractor, relative: str, password: str | None
):
    path = _corpus_file(corpus_dir, relative)
    with pytest.raises(MivaaError) as raised:
        validate_pdf(path.read_bytes(), password=password, max_bytes=SERVICE_MAX_BYTES, max_pages=SERVICE_MAX_PAGES)
    assert raised.value.reason == "PDF_ENCRYPTED"
    assert raised.value.metadata["password_supplied"] == ("true" if password else "false")

    # The extractor, handed the file anyway, refuses it the same way (never a worker failure).
    with pytest.raises(MivaaError) as raised:
        async for _batch in extractor.iter_pages(path, password or None, 1):
            pass
    assert raised.value.reason == "PDF_ENCRYPTED"


@pytest.mark.parametrize("relative", ENCRYPTED)
async def test_encrypted_file_with_its_password_extracts(
    corpus_dir: pathlib.Path, extractor: PageExtractor, relative: str
):
    path = _corpus_file(corpus_dir, relative)
    password = _password(relative)
    assert password, f"no known password for {relative}"
    info = validate_pdf(path.read_bytes(), password=password, max_bytes=SERVICE_MAX_BYTES, max_pages=SERVICE_MAX_PAGES)
    assert info.encrypted
    pages = [page async for batch in extractor.iter_pages(path, password, info.page_count) for page in batch]
    assert [page.number for page in pages] == list(range(1, info.page_count + 1))
    assert all(page.error is None for page in pages)
    assert "".join(page.text for page in pages).strip()
