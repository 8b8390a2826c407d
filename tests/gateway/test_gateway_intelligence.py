"""The document-intelligence RPCs through the real Envoy: read scope, tenant from the token,
and the route class budgets (related and compare spend the search budget, entities the read one)."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from tests.gateway.test_gateway_security import bearer, gateway, keys, status_of, token

__all__ = ["gateway", "keys"]  # the security tests' fixtures: one Envoy for this module too

_SEARCH = "/mivaa.search.v1.SearchService/"
ENTITIES = _SEARCH + "ListDocumentEntities"
RELATED = _SEARCH + "ListRelatedDocuments"
COMPARE = _SEARCH + "CompareDocuments"


@pytest.mark.parametrize("method", [ENTITIES, RELATED, COMPARE])
async def test_read_scope_is_needed_and_the_tenant_comes_from_the_token(gateway, keys, method):
    _, upstream, channel = gateway
    name = method.rsplit("/", 1)[-1]
    writer = bearer(token(keys, subject=f"writer-{name}", scopes=["write"]))
    assert await status_of(channel, method, writer) == grpc.StatusCode.PERMISSION_DENIED
    assert await status_of(channel, method) == grpc.StatusCode.UNAUTHENTICATED
    reader = bearer(token(keys, subject=f"reader-{name}", tenant="initech", scopes=["read"]))
    assert await status_of(channel, method, reader + [("x-mivaa-tenant", "forged")]) == grpc.StatusCode.OK
    assert upstream.last(name).metadata["x-mivaa-tenant"] == "initech"


@pytest.mark.parametrize("method", [RELATED, COMPARE])
async def test_related_and_compare_spend_the_search_budget(gateway, keys, method):
    _, _, channel = gateway
    greedy = bearer(token(keys, subject=f"greedy-{method.rsplit('/', 1)[-1]}", scopes=["read"]))
    codes = await asyncio.gather(*(status_of(channel, method, greedy) for _ in range(8)))
    assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes, codes
    assert codes.count(grpc.StatusCode.OK) <= 4, codes  # burst 3 (+1 if a refill lands in between)
    # Listing entities is a plain read: the same subject still lists them.
    assert await status_of(channel, ENTITIES, greedy) == grpc.StatusCode.OK
