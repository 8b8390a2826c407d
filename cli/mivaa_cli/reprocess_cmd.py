"""Processing options on the command line (`mivaa ingest`, `mivaa reprocess`) and `mivaa reprocess DOCUMENT`."""

from __future__ import annotations

import argparse

from mivaa.extractor.v1 import extractor_service_pb2 as extractor_pb
from mivaa.jobs.v1 import job_pb2
from mivaa.jobs.v1 import processing_options_pb2 as options_pb2
from mivaa_cli.client import MeshClient
from mivaa_cli.progress import ProgressBoard
from mivaa_cli.terminal import printable

OCR_MODES = {"auto": options_pb2.OCR_MODE_AUTO, "force": options_pb2.OCR_MODE_FORCE, "off": options_pb2.OCR_MODE_OFF}
DONE = (job_pb2.JOB_STATE_SUCCEEDED, job_pb2.JOB_STATE_PARTIALLY_SUCCEEDED)


def add_option_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("processing options (default: the server's)")
    group.add_argument("--ocr", choices=sorted(OCR_MODES), help="auto: pages without text; force: every page; off")
    group.add_argument("--ocr-lang", action="append", default=[], help="Tesseract language (eng, deu...); repeatable")
    group.add_argument("--no-images", action="store_true", help="store and embed no images")
    group.add_argument("--no-tables", action="store_true", help="tables become plain paragraphs")
    group.add_argument("--chunk-tokens", type=int, default=0, help="tokens per chunk, 32 to 256")


def options_from_args(args: argparse.Namespace) -> options_pb2.ProcessingOptions | None:
    """The options given on the command line; None when none was (the server's or the stored ones hold)."""
    if not (args.ocr or args.ocr_lang or args.no_images or args.no_tables or args.chunk_tokens):
        return None
    return options_pb2.ProcessingOptions(
        ocr_mode=OCR_MODES[args.ocr] if args.ocr else options_pb2.OCR_MODE_UNSPECIFIED,
        ocr_languages=args.ocr_lang,
        images=options_pb2.IMAGE_EXTRACTION_OFF if args.no_images else options_pb2.IMAGE_EXTRACTION_UNSPECIFIED,
        tables=options_pb2.TABLE_EXTRACTION_OFF if args.no_tables else options_pb2.TABLE_EXTRACTION_UNSPECIFIED,
        chunk_tokens=args.chunk_tokens,
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "reprocess", help="process a stored document again (new options or its own); it stays searchable meanwhile"
    )
    parser.add_argument("document", help="documents/<id>")
    parser.add_argument("--password", help="password of an encrypted PDF")
    parser.add_argument("--no-wait", action="store_true", help="print the job and return")
    add_option_arguments(parser)


async def run(args: argparse.Namespace, client: MeshClient) -> int:
    request = extractor_pb.ReprocessDocumentRequest(
        name=args.document, options=options_from_args(args), password=args.password or ""
    )
    response = await client.extractor.ReprocessDocument(request, timeout=120)
    job = response.job
    print(printable(f"{args.document}: job {job.name}"))
    if args.no_wait:
        return 0
    board = ProgressBoard([args.document])
    async for update in client.watch(job.name):
        job = update.event.job
        board.progress(args.document, job)
    detail = job_pb2.JobState.Name(job.state).removeprefix("JOB_STATE_").lower()
    if job.error.reason:
        detail += f": {job.error.reason}"
    board.finish(args.document, f"{detail}, {job.chunks_indexed} chunks", ok=job.state in DONE)
    board.close()
    return 0 if job.state in DONE else 1
