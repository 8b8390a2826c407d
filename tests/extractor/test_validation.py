"""validate_pdf / check_signature on PDFs generated here (known ground truth) and on the corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pymupdf
import pytest

from mivaa_extractor.extraction.validation import (
    DOMAIN,
    SIGNATURE_WINDOW,
    PdfInfo,
    check_signature,
    mupdf_warnings,
    validate_pdf,
)
from mivaa_platform.errors import ErrorKind, MivaaError
from tests.conftest import CORPUS_DIR

LIMITS = {"max_bytes": 10_000_000, "max_pages": 1000}


def make_pdf(pages: int = 3, *, title: str = "Ground Truth", **save_options) -> bytes:
    doc = pymupdf.open()
    for number in range(1, pages + 1):
        page = doc.new_page()
        page.insert_text((72, 72), f"Page {number} carries the phrase marker{number}.")
    doc.set_metadata({"title": title, "producer": "mivaa-tests"})
    data = doc.tobytes(**save_options)
    doc.close()
    return data


def encrypted_pdf(user_pw: str = "s3cret", owner_pw: str = "owner-pw") -> bytes:
    return make_pdf(
        2,
        encryption=pymupdf.PDF_ENCRYPT_AES_256,
        user_pw=user_pw,
        owner_pw=owner_pw,
        permissions=pymupdf.PDF_PERM_PRINT,
    )


def expect_error(data: bytes, reason: str, *, password: str | None = None, **limits) -> MivaaError:
    with pytest.raises(MivaaError) as caught:
        validate_pdf(data, password=password, **{**LIMITS, **limits})
    error = caught.value
    assert error.reason == reason, error
    assert error.domain == DOMAIN
    assert error.message and error.message[0].isupper()
    return error


def assert_no_library_text(error: MivaaError) -> None:
    lowered = error.message.lower()
    for raw in ("syntax error", "format error", "fzerror", "code=", "mupdf", "traceback", "cannot "):
        assert raw not in lowered, error.message


# --- a good file ---------------------------------------------------------------------


def test_valid_pdf_gives_page_count_and_metadata():
    info = validate_pdf(make_pdf(5), password=None, **LIMITS)
    assert info == PdfInfo(page_count=5, title="Ground Truth", encrypted=False, producer="mivaa-tests")


def test_title_may_be_empty():
    assert validate_pdf(make_pdf(1, title=""), password=None, **LIMITS).title == ""


def test_password_for_an_unencrypted_file_is_ignored():
    assert validate_pdf(make_pdf(2), password="whatever", **LIMITS).page_count == 2


def test_limits_are_inclusive():
    data = make_pdf(4)
    info = validate_pdf(data, password=None, max_bytes=len(data), max_pages=4)
    assert info.page_count == 4


# --- size and signature --------------------------------------------------------------


def test_empty_file():
    expect_error(b"", "EMPTY_FILE")


def test_file_too_large_reports_the_limit():
    data = make_pdf(1)
    error = expect_error(data, "FILE_TOO_LARGE", max_bytes=len(data) - 1)
    assert error.kind is ErrorKind.INVALID_ARGUMENT
    assert error.metadata["max_bytes"] == str(len(data) - 1)
    assert error.metadata["size_bytes"] == str(len(data))


@pytest.mark.parametrize(
    "data",
    [
        b"hello, world",
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000,
        b"PK\x03\x04" + b"x" * 5000,
        b"%PD",
        b"x" * SIGNATURE_WINDOW + b"%PDF-1.7\n",  # signature beyond the first KiB
    ],
    ids=["text", "png", "zip", "short", "late-signature"],
)
def test_not_a_pdf(data: bytes):
    error = expect_error(data, "NOT_A_PDF")
    assert error.kind is ErrorKind.INVALID_ARGUMENT


def test_signature_after_leading_junk_is_accepted():
    data = b"\x00junk prepended by a mail gateway\n" + make_pdf(2)
    assert validate_pdf(data, password=None, **LIMITS).page_count == 2


def test_check_signature_on_a_first_chunk():
    first_chunk = make_pdf(1)[:SIGNATURE_WINDOW]
    check_signature(first_chunk)  # no error
    check_signature(b" " * 1000 + b"%PDF-")  # still within the window
    with pytest.raises(MivaaError) as caught:
        check_signature(b"GIF89a" + b"\x00" * 4096)
    assert caught.value.reason == "NOT_A_PDF"
    assert caught.value.domain == DOMAIN


# --- encryption ----------------------------------------------------------------------


def test_encrypted_without_password():
    error = expect_error(encrypted_pdf(), "PDF_ENCRYPTED")
    assert error.kind is ErrorKind.FAILED_PRECONDITION
    assert error.metadata == {"password_supplied": "false"}


def test_encrypted_with_empty_password_counts_as_none():
    error = expect_error(encrypted_pdf(), "PDF_ENCRYPTED", password="")
    assert error.metadata == {"password_supplied": "false"}


def test_encrypted_with_wrong_password_has_a_different_message():
    missing = expect_error(encrypted_pdf(), "PDF_ENCRYPTED")
    wrong = expect_error(encrypted_pdf(), "PDF_ENCRYPTED", password="not-it")
    assert wrong.kind is ErrorKind.FAILED_PRECONDITION
    assert wrong.metadata == {"password_supplied": "true"}
    assert wrong.message != missing.message
    assert "not-it" not in wrong.message


def test_encrypted_with_user_or_owner_password():
    for password in ("s3cret", "owner-pw"):
        info = validate_pdf(encrypted_pdf(), password=password, **LIMITS)
        assert info.page_count == 2
        assert info.encrypted is True
        assert info.title == "Ground Truth"


# --- broken files --------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n" + bytes(range(256)) * 8,
        b"%PDF-1.4\n%%EOF\n",
        b"%PDF-",
        b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
    ],
    ids=["garbage", "header-only", "signature-only", "no-pages"],
)
def test_unreadable(data: bytes):
    error = expect_error(data, "PDF_UNREADABLE")
    assert error.kind is ErrorKind.INVALID_ARGUMENT
    assert_no_library_text(error)


def test_truncated_pdf_is_rejected_or_repaired_never_crashes():
    data = make_pdf(5)
    assert_no_library_text(expect_error(data[:200], "PDF_UNREADABLE"))
    for cut in (len(data) // 3, len(data) // 2, len(data) - 40):
        try:
            info = validate_pdf(data[:cut], password=None, **LIMITS)
        except MivaaError as error:
            assert error.reason == "PDF_UNREADABLE"
            assert_no_library_text(error)
        else:  # MuPDF rebuilt what it could from the objects it found
            assert info.repaired is True
            assert 1 <= info.page_count <= 5


def test_repairable_file_is_accepted_and_mupdf_warnings_are_kept(capfd):
    data = make_pdf(5)
    damaged = data[: data.rindex(b"startxref")] + b"%%EOF\n"  # no xref pointer: MuPDF must repair
    info = validate_pdf(damaged, password=None, **LIMITS)
    assert info.page_count == 5
    assert info.repaired is True
    assert any("repair" in line for line in info.warnings)
    # ... and nothing of it reached stderr.
    assert capfd.readouterr().err == ""


def test_mupdf_stays_quiet_on_garbage(capfd):
    expect_error(b"%PDF-1.7\n" + b"\xff\x00garbage" * 500, "PDF_UNREADABLE")
    assert capfd.readouterr().err == ""
    mupdf_warnings(reset=True)


def test_too_many_pages_reports_the_limit():
    error = expect_error(make_pdf(6), "TOO_MANY_PAGES", max_pages=5)
    assert error.kind is ErrorKind.INVALID_ARGUMENT
    assert error.metadata == {"max_pages": "5", "page_count": "6"}


@pytest.mark.parametrize("attribute", ["page_count", "is_repaired"])
def test_page_count_or_metadata_access_failure_is_unreadable(monkeypatch, attribute: str):
    def broken(self):
        raise RuntimeError("code=2: internal detail that must not leak")

    data = make_pdf(1)
    monkeypatch.setattr(pymupdf.Document, attribute, property(broken))
    error = expect_error(data, "PDF_UNREADABLE")
    assert "internal detail" not in error.message


# --- corpus --------------------------------------------------------------------------


def corpus_pdfs() -> list[str]:
    root = CORPUS_DIR
    return sorted(str(p.relative_to(root)) for p in [*root.glob("*.pdf"), *root.glob("unstructured/*.pdf")])


@pytest.mark.corpus
def test_corpus_encrypted_libreoffice(corpus: Path):
    data = (corpus / "libreoffice-writer-password.pdf").read_bytes()
    missing = expect_error(data, "PDF_ENCRYPTED")
    assert missing.metadata == {"password_supplied": "false"}
    wrong = expect_error(data, "PDF_ENCRYPTED", password="password")
    assert wrong.metadata == {"password_supplied": "true"}
    for password in ("openpassword", "permissionpassword"):  # user and owner passwords
        info = validate_pdf(data, password=password, **LIMITS)
        assert info.page_count == 1
        assert info.encrypted is True
        assert info.producer == "LibreOffice 6.4"


@pytest.mark.corpus
def test_corpus_encrypted_unstructured(corpus: Path):
    data = (corpus / "unstructured" / "password.pdf").read_bytes()
    assert expect_error(data, "PDF_ENCRYPTED").metadata == {"password_supplied": "false"}
    assert expect_error(data, "PDF_ENCRYPTED", password="openpassword").metadata == {"password_supplied": "true"}
    info = validate_pdf(data, password="password", **LIMITS)
    assert (info.page_count, info.encrypted) == (1, True)


@pytest.mark.corpus
def test_corpus_unreadable_metadata(corpus: Path, capfd):
    # MuPDF repairs the broken cross-reference table but finds no page tree: 0 pages.
    error = expect_error((corpus / "unreadablemetadata.pdf").read_bytes(), "PDF_UNREADABLE")
    assert_no_library_text(error)
    assert capfd.readouterr().err == ""


@pytest.mark.corpus
@pytest.mark.parametrize("name", corpus_pdfs())
def test_every_corpus_file_behaves(corpus: Path, name: str):
    data = (corpus / name).read_bytes()
    expected_pages = {
        Path(entry["path"]).name: entry["pages"] for entry in json.loads((corpus / "files.json").read_text())["data"]
    }
    if name == "unreadablemetadata.pdf":
        expect_error(data, "PDF_UNREADABLE")
    elif name in ("libreoffice-writer-password.pdf", "unstructured/password.pdf"):
        expect_error(data, "PDF_ENCRYPTED")
    else:
        info = validate_pdf(data, password=None, **LIMITS)
        assert info.page_count >= 1
        if name in expected_pages:
            assert info.page_count == expected_pages[name]
        assert "\x00" not in info.title and "\x00" not in info.producer
        if info.page_count > 1:
            too_many = expect_error(data, "TOO_MANY_PAGES", max_pages=info.page_count - 1)
            assert too_many.metadata["page_count"] == str(info.page_count)
