"""The web console in Debian's Chromium (Playwright) against the real mesh through Envoy.

The mesh serves console/dist on the gateway's origin; this test starts it with the
`mesh` fixture, writes a generated PDF, and runs `npx playwright test` in console/ with
the gateway URL and tokens in its environment. Screenshots land in console/test-artifacts/.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import time
import uuid

import pymupdf
import pytest

from tests.console.oidc_provider import TENANT as OIDC_TENANT
from tests.console.oidc_provider import oidc_signin
from tests.support.pdfs import make_pdf, make_scanned_pdf, page_phrase
from tests.support.structured_pdfs import make_structured_pdf

CONSOLE = pathlib.Path(__file__).resolve().parents[2] / "console"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _ready() -> str | None:
    if not (CONSOLE / "dist" / "index.html").is_file():
        return "console/dist not built: npm ci && npm run build in console/ (make console)"
    if not (CONSOLE / "node_modules" / ".bin" / "playwright").exists():
        return "console/node_modules missing: npm ci in console/ (make console)"
    if not shutil.which(CHROMIUM):
        return f"no Chromium at {CHROMIUM}: tools/install_console.sh installs Debian's"
    return None


@pytest.fixture(scope="module")
def console_mesh(mesh):
    missing = _ready()
    if missing:
        pytest.fail(missing)  # the test command builds the console first; a missing build is a failure
    assert mesh.serves_console, "the mesh did not serve the built console"
    return mesh


@pytest.fixture(scope="module")
def oidc(console_mesh, tmp_path_factory):
    """The gateway also takes a real OpenID provider's tokens while the console is tested."""
    with oidc_signin(console_mesh, tmp_path_factory.mktemp("oidc")) as provider:
        yield provider


def structured_pdf_titled(title: str) -> bytes:
    """The structured test PDF (headings, a table, a figure, an outline) under a title of this run's own."""
    doc = pymupdf.open(stream=make_structured_pdf().data, filetype="pdf")
    doc.set_metadata({**doc.metadata, "title": title, "author": "Ada Keeper; Ben Lamp"})
    data = doc.tobytes(garbage=3, deflate=True)
    doc.close()
    return data


def figure_png(pdf: bytes) -> bytes:
    """The first picture of a PDF, as PNG: a query that finds its own stored image (cosine 1)."""
    doc = pymupdf.open(stream=pdf, filetype="pdf")
    try:
        xref = next(image[0] for page in doc for image in page.get_images(full=True))
        return pymupdf.Pixmap(doc, xref).tobytes("png")
    finally:
        doc.close()


def extras_files(mesh, tmp_path: pathlib.Path) -> dict[str, str]:
    """extras.spec.ts: image search, the reconnecting watch and the admin screen."""
    images_title = f"Harbour Charts {uuid.uuid4().hex[:8]}"
    images = structured_pdf_titled(images_title)
    files = {
        "console-images.pdf": images,
        "figure.png": figure_png(images),
        # Long enough (seconds of work) to be still running when the gateway drops, or queued behind another.
        "console-long.pdf": make_pdf("consolelong", 300),
        **{f"console-long-{x}.pdf": make_pdf(f"consolelong{x}", 150) for x in ("a", "b")},
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return {
        "MIVAA_IMAGES_PDF": str(tmp_path / "console-images.pdf"),
        "MIVAA_IMAGES_TITLE": images_title,
        "MIVAA_FIGURE_PNG": str(tmp_path / "figure.png"),
        "MIVAA_LONG_PDF": str(tmp_path / "console-long.pdf"),
        "MIVAA_LONG_PDF_A": str(tmp_path / "console-long-a.pdf"),
        "MIVAA_LONG_PDF_B": str(tmp_path / "console-long-b.pdf"),
        "MIVAA_ADMIN_TOKEN": mesh.token(subject="console-admin", scopes=("read", "write", "admin")),
    }


def chart_png(marker: int = 0) -> bytes:
    """A picture with colours and words: red and blue halves over a white band reading HARBOUR 42.
    `marker` changes one pixel, so two copies are different files that look alike."""
    doc = pymupdf.open()
    page = doc.new_page(width=480, height=280)
    page.draw_rect(pymupdf.Rect(0, 0, 240, 180), color=None, fill=(220 / 255, 30 / 255, 30 / 255))
    page.draw_rect(pymupdf.Rect(240, 0, 480, 180), color=None, fill=(30 / 255, 60 / 255, 220 / 255))
    page.insert_text((40, 250), "HARBOUR 42", fontsize=52, fontname="helv")
    pixmap = page.get_pixmap(alpha=False)
    if marker:
        pixmap.set_pixel(0, 279, (marker % 256, 255, 255))
    doc.close()
    return pixmap.tobytes("png")


def analysis_files(tmp_path: pathlib.Path) -> dict[str, str]:
    """images.spec.ts: a PDF holding the chart, and the chart itself (one pixel apart) as a PNG upload."""
    title = f"Tide Atlas {uuid.uuid4().hex[:8]}"
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), title, fontsize=20, fontname="helv")
    page.insert_text((72, 100), "The harbour chart below shows the two basins.", fontsize=11, fontname="helv")
    page.insert_image(pymupdf.Rect(72, 120, 312, 260), stream=chart_png())
    doc.set_metadata({**doc.metadata, "title": title})
    pdf = tmp_path / "tide-atlas.pdf"
    pdf.write_bytes(doc.tobytes(garbage=3, deflate=True))
    doc.close()
    png = tmp_path / "tide-chart.png"
    png.write_bytes(chart_png(marker=int(uuid.uuid4().int % 255) + 1))
    return {"MIVAA_ANALYSIS_PDF": str(pdf), "MIVAA_ANALYSIS_TITLE": title, "MIVAA_ANALYSIS_PNG": str(png)}


def processing_files(mesh, tmp_path: pathlib.Path) -> dict[str, str]:
    """processing.spec.ts: a text PDF with enough words per page that the chunk size shows in its chunk
    count, a second version of it (same title, other bytes), and a read-only token."""
    tag = f"options{uuid.uuid4().hex[:8]}"
    first, second = tmp_path / "console-options.pdf", tmp_path / "console-options-v2.pdf"
    first.write_bytes(make_pdf(tag, 3, filler_sentences=20))
    second.write_bytes(make_pdf(tag, 2, filler_sentences=20))
    return {
        "MIVAA_OPTIONS_PDF": str(first),
        "MIVAA_OPTIONS_V2_PDF": str(second),
        "MIVAA_OPTIONS_TITLE": f"Generated {tag} document",
        "MIVAA_READ_TOKEN": mesh.token(subject="console-reader", scopes=("read",)),
    }


def pdf_folder(tmp_path: pathlib.Path) -> str:
    """folder.spec.ts: a folder of two PDFs (one in a subfolder), a broken one and a text file."""
    folder = tmp_path / "console-folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "folder-a.pdf").write_bytes(make_pdf("consolefoldera", 1))
    (folder / "sub" / "folder-b.pdf").write_bytes(make_pdf("consolefolderb", 2))
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n" + b"not a PDF body\n" * 100)
    (folder / "notes.txt").write_text("not uploaded")
    return str(folder)


def test_console_in_chromium(console_mesh, oidc, tmp_path):
    mesh = console_mesh
    tag = "consoletest"
    pdf = tmp_path / "console-upload.pdf"
    pdf.write_bytes(make_pdf(tag, 3))
    locked = tmp_path / "console-locked.pdf"
    locked.write_bytes(make_pdf("consolelocked", 2, password="open-sesame"))
    phrase = page_phrase(tag, 2)
    view_title = f"Lighthouse Survey {uuid.uuid4().hex[:8]}"
    view = tmp_path / "console-view.pdf"
    view.write_bytes(structured_pdf_titled(view_title))
    scanned = tmp_path / "console-scanned.pdf"
    scanned.write_bytes(make_scanned_pdf("consolescan", 1))
    env = {
        **os.environ,
        "MIVAA_CONSOLE_URL": f"https://{mesh.gateway_address}",
        "MIVAA_DEV_TOKEN": mesh.token(subject="console-user"),
        "MIVAA_OTHER_TOKEN": mesh.token(tenant="other", subject="console-other"),
        "MIVAA_SHORT_TOKEN": mesh.token(subject="console-short", ttl=25),
        "MIVAA_TEST_PDF": str(pdf),
        "MIVAA_ENCRYPTED_PDF": str(locked),
        "MIVAA_ENCRYPTED_PASSWORD": "open-sesame",
        "MIVAA_TEST_PHRASE": phrase,
        "MIVAA_TEST_QUESTION": f"What does the {tag} archive tell of day 2?",
        "MIVAA_VIEW_PDF": str(view),
        "MIVAA_VIEW_TITLE": view_title,
        "MIVAA_VIEW_PHRASE": "supplies ordered for the next season",
        "MIVAA_VIEW_QUESTION": "Which supplies are ordered for the next season at the lighthouse?",
        "MIVAA_SCANNED_PDF": str(scanned),
        **extras_files(mesh, tmp_path),
        **analysis_files(tmp_path),
        **processing_files(mesh, tmp_path),
        "MIVAA_PDF_FOLDER": pdf_folder(tmp_path),
        "MIVAA_OIDC_ISSUER": oidc.issuer,
        "MIVAA_OIDC_TENANT": OIDC_TENANT,
        "CHROMIUM_PATH": CHROMIUM,
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
    }
    returncode, output = run_playwright(mesh, env, tmp_path)
    assert returncode == 0, f"playwright failed:\n{output[-16000:]}"


def run_playwright(mesh, env: dict[str, str], tmp_path: pathlib.Path) -> tuple[int, str]:
    """`npx playwright test`; when a spec writes MIVAA_DROP_GATEWAY_FILE the gateway is stopped for a
    few seconds and started again (every stream through it drops), then MIVAA_GATEWAY_BACK_FILE appears."""
    drop, back = tmp_path / "drop-gateway", tmp_path / "gateway-back"
    env = {**env, "MIVAA_DROP_GATEWAY_FILE": str(drop), "MIVAA_GATEWAY_BACK_FILE": str(back)}
    # MIVAA_CONSOLE_SPECS: a developer's shortcut to some specs (e2e/extras.spec.ts); all by default.
    specs = os.environ.get("MIVAA_CONSOLE_SPECS", "").split()
    log = tmp_path / "playwright.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            ["npx", "playwright", "test", *specs], cwd=CONSOLE, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 900
        try:
            while process.poll() is None and time.monotonic() < deadline:
                if drop.exists():
                    drop.unlink()
                    mesh.restart_gateway(down_seconds=3)
                    back.write_text("back")
                time.sleep(0.2)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
    return process.returncode, log.read_text()
