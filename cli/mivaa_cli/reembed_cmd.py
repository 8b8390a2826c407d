"""`mivaa admin reembed [--model NAME] [--watch] [--cancel]`: re-embed the tenant's documents with
another text model (search keeps answering with the old one until the switch), or show or cancel
the latest re-embedding."""

from __future__ import annotations

import argparse
import asyncio

from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli.client import MeshClient
from mivaa_cli.terminal import printable

CALL_SECONDS = 60.0
WATCH_SECONDS = 2.0
LATEST = "reembeddings/latest"
RUNNING = search_pb.Reembedding.STATE_RUNNING


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="", help="reembed: start re-embedding with this text model")
    parser.add_argument("--watch", action="store_true", help="reembed: follow it until it ends")
    parser.add_argument("--cancel", action="store_true", help="reembed: cancel the running one")


def reembedding_line(r: search_pb.Reembedding) -> str:
    state = search_pb.Reembedding.State.Name(r.state).removeprefix("STATE_").lower()
    share = f" ({100 * r.chunks_done / r.chunks_total:.0f}%)" if r.chunks_total else ""
    line = f"{r.name}: {r.from_model} -> {r.model}, {state}, {r.chunks_done}/{r.chunks_total} chunks{share}"
    if r.HasField("switch_time"):
        line += f", switched {r.switch_time.ToJsonString()}"
    return line + (f": {r.error}" if r.error else "")


async def run(args: argparse.Namespace, client: MeshClient) -> int:
    search = client.search
    if args.model and args.cancel:
        print("mivaa admin reembed takes --model or --cancel, not both")
        return 2
    if args.model:
        start = search_pb.StartReembeddingRequest(model=args.model)
        reembedding = (await search.StartReembedding(start, timeout=CALL_SECONDS)).reembedding
    else:
        got = await search.GetReembedding(search_pb.GetReembeddingRequest(name=LATEST), timeout=CALL_SECONDS)
        reembedding = got.reembedding
        if args.cancel:
            cancel = search_pb.CancelReembeddingRequest(name=reembedding.name)
            reembedding = (await search.CancelReembedding(cancel, timeout=CALL_SECONDS)).reembedding
    print(printable(reembedding_line(reembedding)))
    last = reembedding
    while args.watch and last.state == RUNNING:
        await asyncio.sleep(WATCH_SECONDS)
        get = search_pb.GetReembeddingRequest(name=reembedding.name)
        last = (await search.GetReembedding(get, timeout=CALL_SECONDS)).reembedding
        print(printable(reembedding_line(last)))
    if not args.model and not args.cancel:
        got = await search.GetReembedding(search_pb.GetReembeddingRequest(name=LATEST), timeout=CALL_SECONDS)
        print(printable(f"searches use {got.active_model}"))
    return 1 if last.state == search_pb.Reembedding.STATE_FAILED else 0
