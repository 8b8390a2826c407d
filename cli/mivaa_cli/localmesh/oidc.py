"""Sign-in through an OpenID provider on the local mesh: `mivaa up --oidc-issuer ...` keeps the
provider in the state folder, and the gateway is rendered with it (beside the dev keys, which
the CLI and the tests keep using) every time it starts."""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib

from mivaa_gateway import Oidc

OIDC_FILE = "oidc.json"


def save_oidc(state_dir: pathlib.Path, oidc: Oidc | None) -> None:
    path = state_dir / OIDC_FILE
    if oidc is None:
        path.unlink(missing_ok=True)
        return
    state_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dataclasses.asdict(oidc), indent=2))


def load_oidc(state_dir: pathlib.Path) -> Oidc | None:
    path = state_dir / OIDC_FILE
    return Oidc(**json.loads(path.read_text())) if path.is_file() else None


def add_oidc_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("console sign-in through an OpenID provider (all three, or none)")
    group.add_argument("--oidc-issuer", help="the provider's issuer URL (its access tokens' iss)")
    group.add_argument("--oidc-jwks-uri", help="where the gateway fetches the provider's signing keys")
    group.add_argument("--oidc-client-id", help="the console's public client at the provider (PKCE)")
    group.add_argument("--oidc-audience", default="mivaa", help="the access tokens' aud (default mivaa)")


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
    )
