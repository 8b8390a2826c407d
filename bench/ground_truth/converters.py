"""Office documents and HTML pages to PDF with LibreOffice and Chromium (Debian packages), cached by content.

Both tools are installed by tools/install_bench_docs.sh (`make test`, `make bench`). Each conversion
runs with a timeout and, for LibreOffice, a private user profile under /tmp so parallel runs and a
desktop session never share (or lock) one. A PDF is reused while the `.key` file beside it holds the
hash of the source that made it, so the set is built once and rebuilt only when a generator changes.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence

CONVERT_TIMEOUT_S = 180.0
_CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


class ConverterMissing(RuntimeError):
    """A converter (soffice, chromium) is not installed: the families that need it are skipped."""


def pdflatex_path() -> str | None:
    return shutil.which("pdflatex")


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def chromium_path() -> str | None:
    configured = os.environ.get("CHROMIUM_PATH")
    if configured and os.access(configured, os.X_OK):
        return configured
    return next((found for name in _CHROMIUM_CANDIDATES if (found := shutil.which(name))), None)


def missing_converter(tool: str) -> str | None:
    """Why `tool` ("soffice", "chromium" or "pdflatex") cannot run here, or None when it can."""
    found = {"soffice": soffice_path, "chromium": chromium_path, "pdflatex": pdflatex_path}[tool]()
    if found:
        return None
    return f"{tool} not found (bash tools/install_bench_docs.sh installs it)"


def content_key(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


def is_cached(pdf: pathlib.Path, key: str) -> bool:
    marker = pdf.with_suffix(".key")
    return pdf.is_file() and marker.is_file() and marker.read_text().strip() == key


def mark_cached(pdf: pathlib.Path, key: str) -> None:
    pdf.with_suffix(".key").write_text(key + "\n")


def _run_with_profile(tool: str, command: Callable[[str], list[str]]) -> subprocess.CompletedProcess[str]:
    """Runs `command(profile_dir)` with a fresh private profile folder and the conversion timeout."""
    with tempfile.TemporaryDirectory(prefix=f"mivaa-{tool}-profile-") as profile:
        return subprocess.run(command(profile), capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S, check=False)


def soffice_to_pdf(sources: Sequence[pathlib.Path], out_dir: pathlib.Path) -> None:
    """Converts office documents to PDFs of the same stem in `out_dir`, all in one LibreOffice start."""
    if not sources:
        return
    binary = soffice_path()
    if binary is None:
        raise ConverterMissing(missing_converter("soffice"))
    completed = _run_with_profile(
        "soffice",
        lambda profile: [
            binary,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            *map(str, sources),
        ],
    )
    missing = [s.name for s in sources if not (out_dir / f"{s.stem}.pdf").is_file()]
    if completed.returncode != 0 or missing:
        raise RuntimeError(f"soffice failed ({completed.returncode}) for {missing}: {completed.stderr[-400:]}")


def chromium_to_pdf(html: pathlib.Path, pdf: pathlib.Path) -> None:
    """Prints one HTML file to PDF with headless Chromium (no header/footer, backgrounds off)."""
    binary = chromium_path()
    if binary is None:
        raise ConverterMissing(missing_converter("chromium"))
    completed = _run_with_profile(
        "chromium",
        lambda profile: [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),
        ],
    )
    if completed.returncode != 0 or not pdf.is_file():
        raise RuntimeError(f"chromium failed ({completed.returncode}) for {html.name}: {completed.stderr[-400:]}")


def pdflatex_to_pdf(tex: pathlib.Path) -> None:
    """Typesets `tex` into the PDF beside it (one pass: the sources use no cross-references)."""
    binary = pdflatex_path()
    if binary is None:
        raise ConverterMissing(missing_converter("pdflatex"))
    command = [binary, "-interaction=nonstopmode", "-halt-on-error", "-output-directory", str(tex.parent), str(tex)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S, check=False)
    if completed.returncode != 0 or not tex.with_suffix(".pdf").is_file():
        raise RuntimeError(f"pdflatex failed ({completed.returncode}) for {tex.name}: {completed.stdout[-400:]}")
