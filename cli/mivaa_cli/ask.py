"""`mivaa ask "..."`: a question answered from the documents, streamed, with numbered citations;
`mivaa docs summary documents/<id>`: a document's summary."""

from __future__ import annotations

import argparse
import sys

from mivaa.answer.v1 import answer_service_pb2 as answer_pb
from mivaa_cli.client import MeshClient
from mivaa_cli.terminal import printable

_GENERATORS = {
    "default": answer_pb.GENERATOR_UNSPECIFIED,
    "extractive": answer_pb.GENERATOR_EXTRACTIVE,
    "llm": answer_pb.GENERATOR_LLM,
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("ask", help="answer a question from the documents, with citations")
    parser.add_argument("question")
    parser.add_argument("--conversation", default="", help="conversations/ID: ask a follow-up")
    parser.add_argument("--doc", action="append", default=[], help="only this document (documents/ID); repeatable")
    parser.add_argument("--label", action="append", default=[], help="only documents with this label; repeatable")
    parser.add_argument("-k", "--sources", type=int, default=0, help="sources to retrieve (default 5, at most 20)")
    parser.add_argument("--generator", choices=sorted(_GENERATORS), default="default")


async def run(args: argparse.Namespace, client: MeshClient) -> int:
    request = answer_pb.AskRequest(
        question=args.question,
        conversation=args.conversation,
        documents=args.doc,
        labels=args.label,
        source_count=args.sources,
        generator=_GENERATORS[args.generator],
    )
    sources: dict[int, answer_pb.Source] = {}
    async for response in client.answer.Ask(request, timeout=600):
        event = response.WhichOneof("event")
        if event == "sources":
            sources = {source.number: source for source in response.sources.sources}
        elif event == "delta":
            sys.stdout.write(printable(response.delta.text, keep_lines=True))
            sys.stdout.flush()
        elif event == "citations":
            print_citations(response.citations.citations, sources)
        elif event == "done":
            done = response.done
            found = "" if done.found else " (no answer found)"
            print()
            print(printable(f"[{done.generator}{found}] follow up with --conversation {done.conversation}"))
    return 0


def print_citations(citations, sources: dict[int, answer_pb.Source]) -> None:
    if not citations:
        return
    print("\nCitations:")
    seen: set[tuple[int, int, str]] = set()
    for citation in citations:
        key = (citation.source, citation.page, citation.quote)
        if key in seen:
            continue
        seen.add(key)
        source = sources.get(citation.source)
        title = source.document_title if source and source.document_title else citation.document
        quote = " ".join(citation.quote.split())
        print(printable(f"  [{citation.source}] {title}, page {citation.page} ({citation.document})"))
        print(printable(f"      “{quote[:200]}”"))


async def summarize(args: argparse.Namespace, client: MeshClient) -> int:
    request = answer_pb.SummarizeDocumentRequest(name=args.name)
    response = await client.answer.SummarizeDocument(request, timeout=600)
    print(printable(response.summary, keep_lines=True).rstrip("\n"))
    cached = ", cached" if response.cached else ""
    print(printable(f"[{response.generator}{cached}] pages {', '.join(map(str, response.pages))}"))
    return 0
