"""The tenant contract: x-mivaa-tenant metadata in, a checked tenant id out."""

from __future__ import annotations

import pytest

from mivaa_platform.errors import InvalidArgument
from mivaa_platform.tenancy import (
    ALL_TENANTS,
    DEFAULT_TENANT,
    TENANT_HEADER,
    in_scope,
    tenant_from_metadata,
    tenant_metadata,
)


def test_absent_tenant_is_the_default_one():
    assert tenant_from_metadata(()) == tenant_from_metadata(None) == DEFAULT_TENANT == "default"
    assert tenant_from_metadata([("user-agent", "x"), ("x-mivaa-subject", "alice")]) == DEFAULT_TENANT


@pytest.mark.parametrize("value", ["acme", "Acme-1", "a", "t.e_n-a.n.t", "0" + "x" * 63])
def test_valid_tenants_pass(value):
    assert tenant_from_metadata([(TENANT_HEADER, value)]) == value
    assert tenant_from_metadata([("X-Mivaa-Tenant", value)]) == value


@pytest.mark.parametrize("value", ["", "-acme", ".acme", "ac me", "acme/../x", "x" * 65, "ténant", "a\nb"])
def test_invalid_tenants_are_invalid_argument(value):
    with pytest.raises(InvalidArgument) as err:
        tenant_from_metadata([(TENANT_HEADER, value)])
    assert err.value.reason == "INVALID_TENANT"


def test_two_different_tenants_are_refused_and_a_repeated_one_is_fine():
    with pytest.raises(InvalidArgument) as err:
        tenant_from_metadata([(TENANT_HEADER, "acme"), (TENANT_HEADER, "globex")])
    assert err.value.reason == "INVALID_TENANT"
    assert tenant_from_metadata([(TENANT_HEADER, "acme"), (TENANT_HEADER, "acme")]) == "acme"


def test_outgoing_metadata_names_the_tenant():
    assert tenant_metadata("acme") == ((TENANT_HEADER, "acme"),)
    with pytest.raises(TypeError):  # no implicit "current" tenant any more
        tenant_metadata()
    with pytest.raises(InvalidArgument):
        tenant_metadata("bad tenant")


def test_a_scope_is_one_tenant_or_all_tenants_said_out_loud():
    assert in_scope("acme", "acme") and not in_scope("acme", "globex")
    assert in_scope("acme", ALL_TENANTS) and in_scope("globex", ALL_TENANTS)
    assert not in_scope("acme", "*")  # a tenant id that looks like a wildcard is just a (foreign) tenant
