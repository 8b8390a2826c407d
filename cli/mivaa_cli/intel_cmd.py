"""`mivaa docs entities|related|compare`: a document's entities, its related documents, two compared."""

from __future__ import annotations

import argparse
from typing import cast

from mivaa.search.v1 import search_service_pb2 as search_pb
from mivaa_cli.client import MeshClient
from mivaa_cli.terminal import printable

ACTIONS = ("entities", "related", "compare")
ENTITY_TYPES = ("person", "organization", "place", "date", "amount")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--type", action="append", default=[], choices=ENTITY_TYPES, help="entities: only these types (repeatable)"
    )
    parser.add_argument("--with", dest="other", help="compare: the second document (documents/ID)")


def _entity_type(name: str) -> search_pb.EntityType:
    # grpc_tools' .pyi types EnumTypeWrapper.Value as returning int; it returns the enum's value.
    return cast(search_pb.EntityType, search_pb.EntityType.Value(f"ENTITY_TYPE_{name.upper()}"))


def _pages(pages) -> str:
    shown = ",".join(str(p) for p in list(pages)[:12])
    return f"p.{shown}{',...' if len(pages) > 12 else ''}"


async def run(args, client: MeshClient) -> int:
    """Prints a page of the listing (every page with --all) and how to get more."""
    if args.action == "compare":
        return await _compare(args, client)
    token = args.page_token or ""
    while True:
        if args.action == "entities":
            response = await client.search.ListDocumentEntities(
                search_pb.ListDocumentEntitiesRequest(
                    parent=args.name,
                    page_size=args.page_size,
                    page_token=token,
                    types=[_entity_type(t) for t in args.type],
                ),
                timeout=30,
            )
            for entity in response.entities:
                kind = search_pb.EntityType.Name(entity.type).removeprefix("ENTITY_TYPE_")
                print(printable(f"{kind:13} {entity.mention_count:4}x  {entity.text}  ({_pages(entity.pages)})"))
        else:
            response = await client.search.ListRelatedDocuments(
                search_pb.ListRelatedDocumentsRequest(name=args.name, page_size=args.page_size, page_token=token),
                timeout=30,
            )
            for related in response.documents:
                print(printable(f"{related.score:.3f}  {related.document}  {related.title}"))
        token = response.next_page_token
        if not token or not args.all:
            break
    if token:
        print(printable(f"(more: --all, or --page-token {token})"))
    return 0


async def _compare(args, client: MeshClient) -> int:
    if not args.other:
        print("mivaa docs compare NAME --with OTHER: name the second document")
        return 2
    response = await client.search.CompareDocuments(
        search_pb.CompareDocumentsRequest(first=args.name, second=args.other), timeout=120
    )
    for section in response.sections:
        change = search_pb.SectionChange.Name(section.change).removeprefix("SECTION_CHANGE_")
        heading = " > ".join(section.first_heading or section.second_heading) or "(before the first heading)"
        where = []
        if section.first_page_start:
            where.append(f"first p.{section.first_page_start}-{section.first_page_end}")
        if section.second_page_start:
            where.append(f"second p.{section.second_page_start}-{section.second_page_end}")
        print(printable(f"{change:15} {heading}  [{'; '.join(where)}]"))
        for number in section.number_changes:
            unit = f" {number.unit}" if number.unit else ""
            print(printable(f"    ... {number.context}: {number.old_value}{unit} -> {number.new_value}{unit}"))
    print(
        printable(
            f"{response.matching_count} matching, {response.different_count} different, "
            f"{response.only_in_first_count} only in the first, {response.only_in_second_count} only in the second"
        )
    )
    return 0
