from __future__ import annotations

import pytest

from mivaa_platform.errors import PermissionDenied
from mivaa_platform.platform_admin import is_platform_admin, require_platform_admin, scopes_from_metadata


def test_scopes_are_read_from_the_gateways_header_space_or_comma_separated():
    assert scopes_from_metadata([("x-mivaa-scopes", "read admin"), ("x-mivaa-tenant", "acme")]) == {"read", "admin"}
    assert scopes_from_metadata([("X-Mivaa-Scopes", b"admin,platform-admin")]) == {"admin", "platform-admin"}
    assert scopes_from_metadata(None) == frozenset()


def test_only_the_platform_admin_scope_passes():
    assert is_platform_admin([("x-mivaa-scopes", "admin platform-admin")])
    require_platform_admin([("x-mivaa-scopes", "platform-admin")], domain="test")
    for metadata in ([], [("x-mivaa-scopes", "admin")], [("x-mivaa-tenant", "platform-admin")]):
        assert not is_platform_admin(metadata)
        with pytest.raises(PermissionDenied) as refused:
            require_platform_admin(metadata, domain="test")
        assert refused.value.reason == "PLATFORM_ADMIN_REQUIRED"
