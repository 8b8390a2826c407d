"""OCR quality and throughput per engine on generated pages (ground truth by construction).

    .venv/bin/python bench/ocr_quality.py [--engines tesseract,easyocr] [--processes 0] [--pages 8]
    .venv/bin/python bench/ocr_quality.py --scripts-only      # only the per-script table

Scripts: one clean 200-DPI page of known text in each major script (Latin, Hangul, Cyrillic, Greek,
Arabic, Hebrew, Devanagari, simplified and traditional Chinese, Japanese; tests/ocr/script_pages.py),
read by Tesseract without a language, so each page goes through script detection. Prints CER per
script with the script detected on the page, how, and the language data used; target CER <= 3%.


Renders three paragraphs of English with PyMuPDF at 200 DPI, degrades them
(rotation 90/180/270, 3 degree skew, blur, noise, JPEG quality 30, 100 DPI)
and reads every page through the OCR worker pool with orientation correction.
Prints CER (character error rate, edit distance on whitespace-normalised text)
and word accuracy per engine and page, then pages/s per engine on this
machine's cores (the pool's default: one worker per core).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pathlib
import sys
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
try:
    import mivaa_ocr  # noqa: F401
except ImportError:
    sys.path.insert(0, str(REPO_ROOT / "services" / "ocr"))

from mivaa_ocr.engines.factory import installed_engines  # noqa: E402
from mivaa_ocr.pool import OcrPool, RecognizeOptions  # noqa: E402
from tests.ocr.groundtruth import cer, clean_page, degraded_pages, word_accuracy  # noqa: E402
from tests.ocr.script_pages import SAMPLES, fonts_missing, render, script_cer  # noqa: E402

SCRIPT_TARGET_CER = 0.03


async def quality(pool: OcrPool, engine: str, pages) -> dict[str, tuple[float, float, int, float, float]]:
    options = RecognizeOptions(engine=engine, correct_orientation=True)
    results = await asyncio.gather(*(pool.recognize(p.name, p.png, p.dpi, options) for p in pages))
    return {
        page.name: (
            cer(page.text, r.text),
            word_accuracy(page.text, r.text),
            r.rotation_degrees,
            r.skew_degrees,
            r.seconds,
        )
        for page, r in zip(pages, results, strict=True)
    }


async def scripts(pool: OcrPool) -> None:
    """CER per script on clean pages read without a language (script detection chooses)."""
    print(f"\n{'page':<20} {'truth':<11} {'detected':<11} {'how':<8} {'languages':<16} {'CER':>7} {'conf':>5} {'s':>5}")
    failures = []
    for name, sample in SAMPLES.items():
        missing = fonts_missing(sample)
        if missing:
            print(f"{name:<20} skipped: {missing}")
            continue
        page = render(sample)
        r = await pool.recognize(
            name, page.png, page.dpi, RecognizeOptions(engine="tesseract", correct_orientation=True)
        )
        error = script_cer(sample, r.text)
        if error > SCRIPT_TARGET_CER or r.detected_script != sample.script:
            failures.append(name)
        print(
            f"{name:<20} {sample.script:<11} {r.detected_script or '-':<11} {r.script_method or '-':<8} "
            f"{'+'.join(r.languages):<16} {error * 100:>6.2f}% {r.confidence:>5.2f} {r.seconds:>5.1f}"
            + (f"  flagged {r.flag_reason}" if r.flag_reason else "")
        )
    print(
        f"target CER <= {SCRIPT_TARGET_CER:.0%} and the right script: "
        + (f"missed on {', '.join(failures)}" if failures else "met on every page")
    )


async def throughput(pool: OcrPool, engine: str, page, count: int, correct_orientation: bool) -> float:
    options = RecognizeOptions(engine=engine, correct_orientation=correct_orientation)
    started = time.perf_counter()
    await asyncio.gather(*(pool.recognize(str(i), page.png, page.dpi, options) for i in range(count)))
    return count / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default=",".join(installed_engines()))
    parser.add_argument("--processes", type=int, default=0)
    parser.add_argument("--pages", type=int, default=8, help="pages per throughput run (EasyOCR: half)")
    parser.add_argument("--scripts-only", action="store_true", help="only the per-script table (Tesseract)")
    args = parser.parse_args()
    engines = ["tesseract"] if args.scripts_only else [e for e in args.engines.split(",") if e]

    pool = OcrPool(engines, processes=args.processes)
    started = time.perf_counter()
    await pool.start()
    print(
        f"{pool.processes} workers on {os.cpu_count()} cores, engines loaded in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{i.name} ({i.device})" for i in pool.engines())
    )
    pages = [clean_page(), *degraded_pages()]
    try:
        if "tesseract" in engines:
            await scripts(pool)
        if args.scripts_only:
            return
        table = {engine: await quality(pool, engine, pages) for engine in engines}
        header = f"{'page':<14}" + "".join(
            f"| {e + ' CER':>15} {'word acc':>9} {'rot':>4} {'skew':>5} " for e in engines
        )
        print()
        print(header)
        print("-" * len(header))
        for page in pages:
            row = f"{page.name:<14}"
            for engine in engines:
                error, words, rotation, skew, _ = table[engine][page.name]
                row += f"| {error * 100:>14.2f}% {words * 100:>8.1f}% {rotation:>4} {skew:>5.1f} "
            print(row)
        row = f"{'mean':<14}"
        for engine in engines:
            values = list(table[engine].values())
            row += (
                f"| {sum(v[0] for v in values) / len(values) * 100:>14.2f}% "
                f"{sum(v[1] for v in values) / len(values) * 100:>8.1f}% {'':>4} {'':>5} "
            )
        print(row)
        print()
        print(f"{'engine':<10} {'pages/s (clean 200 DPI)':>24} {'pages/s with orientation':>25}")
        for engine in engines:
            count = args.pages if engine == "tesseract" else max(2, args.pages // 2)
            plain = await throughput(pool, engine, pages[0], count, False)
            oriented = await throughput(pool, engine, pages[0], count, True)
            print(f"{engine:<10} {plain:>24.2f} {oriented:>25.2f}")
    finally:
        await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
