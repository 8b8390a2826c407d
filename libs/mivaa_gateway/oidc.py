"""Sign-in through an OpenID Connect provider: the gateway's second token issuer, and what the
console is told about it.

People sign in to the console at the provider (authorization code with PKCE, in the browser);
the provider's access token (a JWT for the mivaa audience, carrying `tenant`, `sub` and `scope`
like mivaa's own tokens) is then verified by Envoy against the provider's JWKS, beside the
mivaa issuer's keys, which CLI users, services and tests keep using. The console reads
GET /config.json (served by Envoy, no token) to learn the provider and its client id.
"""

from __future__ import annotations

import argparse
import urllib.parse
from dataclasses import dataclass

PROVIDER_NAME = "oidc"
JWKS_CLUSTER = "oidc_jwks"


@dataclass(frozen=True)
class Oidc:
    issuer: str  # exactly the tokens' `iss`, and where /.well-known/openid-configuration is
    jwks_uri: str  # Envoy fetches the signing keys from here (it does no discovery itself)
    client_id: str  # the console's public client (no secret; PKCE)
    audience: str = "mivaa"  # the tokens' `aud`; asked for as an RFC 8707 resource
    scope: str = "openid read write"
    jwks_ca: str | None = None  # the CA of an https jwks_uri (default: the system bundle)

    def __post_init__(self) -> None:
        for name in ("issuer", "jwks_uri"):
            url = urllib.parse.urlsplit(getattr(self, name))
            if url.scheme not in ("https", "http") or not url.hostname:
                raise SystemExit(f"oidc {name} must be an http(s) URL: {getattr(self, name)}")
        if not self.client_id or not self.audience:
            raise SystemExit("oidc client_id and audience are required")

    @property
    def origin(self) -> str:
        """The provider's origin, which the console's content security policy lets it fetch from."""
        url = urllib.parse.urlsplit(self.issuer)
        return f"{url.scheme}://{url.netloc}"


def console_config(oidc: Oidc | None) -> dict:
    """What GET /config.json tells the console."""
    if oidc is None:
        return {"oidc": None}
    return {"oidc": {"issuer": oidc.issuer, "clientId": oidc.client_id, "audience": oidc.audience, "scope": oidc.scope}}


def add_oidc_options(parser: argparse.ArgumentParser) -> None:
    """The --oidc-* options, for the gateway renderer and `mivaa up` alike (all three, or none)."""
    group = parser.add_argument_group("sign-in through an OpenID provider (beside the mivaa issuer's tokens)")
    group.add_argument("--oidc-issuer", help="the provider's issuer URL (its access tokens' iss)")
    group.add_argument("--oidc-jwks-uri", help="where the gateway fetches the provider's signing keys")
    group.add_argument("--oidc-client-id", help="the console's public client at the provider (PKCE, no secret)")
    group.add_argument("--oidc-audience", default="mivaa", help="the access tokens' aud (default mivaa)")
    group.add_argument("--oidc-scope", default="openid read write", help="what the console asks for")
    group.add_argument("--oidc-jwks-ca", help="CA of an https --oidc-jwks-uri (default: the system bundle)")


def oidc_from_args(args: argparse.Namespace) -> Oidc | None:
    given = (args.oidc_issuer, args.oidc_jwks_uri, args.oidc_client_id)
    if not any(given):
        return None
    if not all(given):
        raise SystemExit("--oidc-issuer, --oidc-jwks-uri and --oidc-client-id go together")
    return Oidc(
        issuer=args.oidc_issuer,
        jwks_uri=args.oidc_jwks_uri,
        client_id=args.oidc_client_id,
        audience=args.oidc_audience,
        scope=args.oidc_scope,
        jwks_ca=args.oidc_jwks_ca,
    )
