"""`mivaa search`: the request from the command line, and hits printed with their highlights."""

from __future__ import annotations

import argparse
import re
import sys

from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli.client import MeshClient
from mivaa_cli.connection import message_json
from mivaa_cli.docs_cmd import meta_pair
from mivaa_cli.terminal import printable

MODES = {
    "hybrid": search_pb.SEARCH_MODE_HYBRID,
    "vector": search_pb.SEARCH_MODE_VECTOR,
    "keyword": search_pb.SEARCH_MODE_KEYWORD,
}
BLOCK_TYPES = {
    name.removeprefix("BLOCK_TYPE_").lower(): value
    for name, value in search_pb.BlockType.items()
    if value != search_pb.BLOCK_TYPE_UNSPECIFIED
}
SNIPPET_CHARS = 240


def add_parser(sub) -> None:
    parser = sub.add_parser("search", help="search chunks by meaning and words (hybrid), or either alone")
    parser.add_argument("query", help='words, "quoted phrases", or, -excluded (websearch syntax)')
    parser.add_argument("-k", "--top-k", type=int, default=5)
    parser.add_argument("--mode", choices=sorted(MODES), default="hybrid")
    parser.add_argument("--min-score", type=float, default=0.0, help="leave out hits scoring below this")
    parser.add_argument("--pages", type=page_range, default=(0, 0), help="only chunks on these pages: 3, 3-7, 3- or -7")
    parser.add_argument("--type", action="append", default=[], choices=sorted(BLOCK_TYPES), help="block type (repeat)")
    parser.add_argument("--lang", action="append", default=[], help='document language, such as "en" (repeat)')
    parser.add_argument("--label", action="append", default=[])
    parser.add_argument("--document", action="append", default=[], help="documents/ID (repeat)")
    parser.add_argument("--meta", action="append", default=[], type=meta_pair, help="KEY=VALUE metadata (repeat)")
    parser.add_argument("--diversity", type=float, default=0.0, help="0 (relevance only) to 1 (most varied hits)")
    parser.add_argument("--page-token", default="", help="the next page of an earlier search")
    parser.add_argument("--all-versions", action="store_true", help="search older versions of documents too")
    parser.add_argument("--json", action="store_true")


async def run(args, client: MeshClient) -> int:
    response = await client.search_chunks(
        args.query, args.top_k, documents=args.document, labels=args.label, **request_fields(args)
    )
    if args.json:
        print(message_json(response))
    else:
        print_hits(response)
    return 0


def page_range(text: str) -> tuple[int, int]:
    first, dash, last = text.partition("-")
    try:
        low = int(first) if first.strip() else 0
        high = (int(last) if last.strip() else 0) if dash else low
    except ValueError:
        raise argparse.ArgumentTypeError("pages are N, N-M, N- or -M") from None
    return low, high


def request_fields(args) -> dict:
    return {
        "mode": MODES[args.mode],
        "min_score": args.min_score,
        "page_min": args.pages[0],
        "page_max": args.pages[1],
        "block_types": [BLOCK_TYPES[kind] for kind in args.type],
        "languages": args.lang,
        "diversity": args.diversity,
        "page_token": args.page_token,
        "custom_metadata": dict(args.meta),
        "include_all_versions": args.all_versions,
    }


def print_hits(response: search_pb.SearchChunksResponse) -> None:
    if not response.hits:
        print("no results")
    bold = sys.stdout.isatty()
    for rank, hit in enumerate(response.hits, 1):
        pages = f"p.{hit.page_start}" if hit.page_start == hit.page_end else f"pp.{hit.page_start}-{hit.page_end}"
        section = f"  [{' > '.join(hit.section_path)}]" if hit.section_path else ""
        parts = [f"{hit.score:.3f}"]
        if hit.vector_score or hit.keyword_score:
            parts.append(f"(vector {hit.vector_score:.2f}, keyword {hit.keyword_score:.2f})")
        print(printable(f"{rank:2}. {' '.join(parts)}  {hit.document_title} ({pages}, {hit.document}){section}"))
        print("    " + snippet(hit, bold=bold))
    if response.next_page_token:
        print(printable(f"(more: --page-token {response.next_page_token})"))


def snippet(hit: search_pb.SearchHit, *, bold: bool) -> str:
    """Up to SNIPPET_CHARS of the text around the first highlight, highlights marked (bold on a terminal)."""
    text = hit.text
    spans = [(h.start, h.end) for h in hit.highlights if 0 <= h.start < h.end <= len(text)]
    start = max(0, spans[0][0] - SNIPPET_CHARS // 4) if spans else 0
    end = start + SNIPPET_CHARS
    opening, closing = ("\x1b[1m", "\x1b[0m") if bold else ("**", "**")
    pieces, at = [], start
    for first, last in spans:
        if first < at or last > end:
            continue
        pieces += [_flat(text[at:first]), opening + _flat(text[first:last]) + closing]
        at = last
    pieces.append(_flat(text[at:end]))
    return ("..." if start else "") + "".join(pieces).strip() + ("..." if end < len(text) else "")


def _flat(text: str) -> str:
    """One line, terminal controls escaped: runs of whitespace (newlines too) become one space."""
    return printable(re.sub(r"\s+", " ", text))
