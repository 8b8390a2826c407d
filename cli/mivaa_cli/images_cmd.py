"""`mivaa images list|get|analyze`: a document's images, one image's bytes, and `analyze NAME|FILE`:
a stored image's (or a local picture's) properties, colours, text, tags and look-alikes."""

from __future__ import annotations

import argparse
import pathlib
from collections.abc import Sequence
from typing import cast

from google.protobuf import json_format

from mivaa.images.v1 import image_analysis_service_pb2 as pb
from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli.client import MeshClient
from mivaa_cli.listing import print_pages
from mivaa_cli.terminal import printable

ANALYSES = ("properties", "colors", "text", "tags", "similar")
# Pictures sent in the call: the service's default cap (EXTRACTOR_IMAGE_ANALYSIS_MAX_BYTES) is 20 MiB.
MAX_FILE_BYTES = 64 * 1024 * 1024


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("images", help="list a document's images, fetch or analyze one")
    parser.add_argument("action", choices=["list", "get", "analyze"])
    parser.add_argument(
        "name", help="documents/ID for list, documents/ID/images/SHA256 for get; analyze: that or a picture file"
    )
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--all", action="store_true")
    parser.add_argument("-o", "--output", help="get: file to write (default: the sha256 with .png/.jpg)")
    add_arguments(parser)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--only", action="append", default=[], choices=ANALYSES, help="analyze: these only (repeatable)"
    )
    parser.add_argument("--label", action="append", default=[], help="analyze: a label to tag against (repeatable)")
    parser.add_argument("--threshold", type=float, default=0.0, help="analyze: least similarity of look-alikes")
    parser.add_argument("--limit", type=int, default=0, help="analyze: most look-alikes (default 10)")
    parser.add_argument("--json", action="store_true", help="analyze: print the analysis as JSON")


def _analysis(name: str) -> pb.Analysis:
    return cast(pb.Analysis, pb.Analysis.Value(f"ANALYSIS_{name.upper()}"))


def request_for(args) -> pb.AnalyzeImageRequest:
    """A stored image by name (documents/ID/images/SHA256), or else the picture in a local file."""
    options = pb.AnalysisOptions(
        analyses=[_analysis(a) for a in args.only],
        labels=args.label,
        similarity_threshold=args.threshold,
        similar_limit=args.limit,
    )
    path = pathlib.Path(args.name)
    if not args.name.startswith("documents/") and path.is_file():
        if path.stat().st_size > MAX_FILE_BYTES:
            raise SystemExit(f"{path} is larger than {MAX_FILE_BYTES} bytes")
        return pb.AnalyzeImageRequest(content=path.read_bytes(), options=options)
    return pb.AnalyzeImageRequest(image=args.name, options=options)


def describe(analysis: pb.ImageAnalysis) -> list[str]:
    lines = []
    if analysis.HasField("properties"):
        p = analysis.properties
        lines.append(f"{p.format} {p.width}x{p.height} {p.color_space} {p.bits_per_channel}-bit, {p.size_bytes} bytes")
        if p.file_dpi_x:
            lines.append(f"file dpi: {p.file_dpi_x:g}x{p.file_dpi_y:g}")
        lines += [f"page {r.page}: drawn at {r.dpi_x:g}x{r.dpi_y:g} dpi" for r in p.placements]
    if analysis.colors:
        lines.append("colours: " + ", ".join(f"{c.hex} {c.fraction:.0%}" for c in analysis.colors))
    if analysis.HasField("text"):
        lines.append(f"text ({analysis.text.engine}, confidence {analysis.text.confidence:.2f}):")
        lines += [f"  {line}" for line in analysis.text.text.splitlines() if line.strip()]
    if analysis.tags:
        lines.append("tags: " + ", ".join(f"{t.label} {t.score:.2f}" for t in analysis.tags))
        lines.append(f"  (image model {analysis.image_model}: {analysis.image_model_source})")
    for similar in analysis.similar:
        pages = ",".join(str(p) for p in similar.pages)
        lines.append(f"similar {similar.score:.3f}  {similar.image}  p.{pages}  {similar.document_title}")
    for error in analysis.errors:
        lines.append(f"{pb.Analysis.Name(error.analysis).removeprefix('ANALYSIS_').lower()}: {error.reason}")
    return lines


async def analyze(args, client: MeshClient) -> int:
    response = await client.images.AnalyzeImage(request_for(args), timeout=180)
    if args.json:
        print(json_format.MessageToJson(response.analysis))
        return 0
    for line in describe(response.analysis):
        print(printable(line))
    return 0


async def run(args, client: MeshClient) -> int:
    if args.action == "analyze":
        return await analyze(args, client)
    if args.action == "list":

        async def list_page(token: str) -> tuple[Sequence, str]:
            response = await client.search.ListImages(
                search_pb.ListImagesRequest(parent=args.name, page_size=args.page_size, page_token=token)
            )
            return response.images, response.next_page_token

        def line(image) -> str:
            pages = ",".join(str(p.page) for p in image.placements)
            return f"{image.name}  {image.mime_type:10} {image.width}x{image.height}  p.{pages}  {image.caption}"

        await print_pages(list_page, line, all_pages=args.all)
    else:  # get: the bytes, to a file
        target = pathlib.Path(args.output or args.name.rsplit("/", 1)[-1])
        mime_type = ""
        with open(target, "wb") as handle:  # noqa: ASYNC230 - the CLI has no other work to block
            async for piece in client.search.GetImageContent(search_pb.GetImageContentRequest(name=args.name)):
                mime_type = mime_type or piece.mime_type
                handle.write(piece.data)
        if not target.suffix:
            target = target.rename(  # noqa: ASYNC240 - as above
                target.with_suffix(".jpg" if mime_type == "image/jpeg" else ".png")
            )
        print(printable(f"wrote {target} ({mime_type})"))
    return 0
