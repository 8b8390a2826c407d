"""`mivaa auth`: development signing keys and tokens for the gateway's JWT checks.

    mivaa auth init --dir DIR [--alg ES256|RS256] [--force]
    mivaa auth token --dir DIR --subject S --tenant T [--scope read --scope write]
                     [--ttl 3600] [--audience mivaa] [--issuer mivaa-dev]

init writes DIR/signing-key.pem (the private key, mode 0600), DIR/jwks.json (the
public key as a JWKS, with its `kid`: the RFC 7638 thumbprint) and DIR/key.json (alg
and kid). The gateway is rendered with `jwks_path=DIR/jwks.json` (mivaa_gateway).

    mivaa auth nats-creds --tenant T --out FILE [--state-dir .mivaa]

nats-creds makes (or replaces) a read-only NATS user for one tenant's job events on the local
mesh and writes its credentials (url, user, password, the CA's PEM, inbox prefix, subject) as
JSON, mode 0600; a running mesh's NATS reloads its users at once. That user may subscribe to
mivaa.jobs.<tenant>.> and replay it from the MIVAA_JOB_EVENTS stream through a consumer whose
filter is that subject, and nothing else (mivaa_platform.bus_access.tenant_permissions).

token prints a signed JWT for the gateway: iss, aud, sub, tenant, scope, iat, exp.
`scope` is the OAuth 2 form (RFC 8693 / RFC 9068): ONE space-separated string,
"read write". Envoy's jwt_authn splits it into a list in its metadata
(normalize_payload_in_metadata.space_delimited_claims) and the RBAC filter matches
one element of that list, so both standard issuers and this one work unchanged.
Scopes: read (Get/List/Search/Watch/Export, EmbedTexts, ListModels ...),
write (UploadDocument, DeleteDocument, CancelJob), admin (everything, including the
internal service-to-service RPCs).

Development only: the key is a plain file. Production verifies tokens from the
identity provider's JWKS URL (render(jwks_uri=...)).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time
from collections.abc import Iterable
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

DEFAULT_ISSUER = "mivaa-dev"
DEFAULT_AUDIENCE = "mivaa"
DEFAULT_TTL = 3600
# platform-admin adds to admin: the AdminService's statistics and usage may then span every tenant.
SCOPES = ("read", "write", "admin", "platform-admin")
PRIVATE_KEY = "signing-key.pem"
JWKS = "jwks.json"
KEY_INFO = "key.json"
ALGORITHMS = ("ES256", "RS256")


def _jose_key(private_key) -> ECKey | RSAKey:
    return (
        ECKey.import_key(private_key)
        if isinstance(private_key, ec.EllipticCurvePrivateKey)
        else RSAKey.import_key(private_key)
    )


def public_jwk(private_key) -> dict[str, Any]:
    """The public half of a key as a JWK, with kid = its RFC 7638 thumbprint."""
    key = _jose_key(private_key)
    alg = "ES256" if isinstance(key, ECKey) else "RS256"
    return {**key.as_dict(private=False), "kid": key.thumbprint(), "alg": alg, "use": "sig"}


def init_keys(directory: pathlib.Path, alg: str = "ES256", *, force: bool = False) -> dict[str, str]:
    """Creates the key pair and jwks.json in directory; returns the public JWK. Keeps an existing key unless force."""
    if alg not in ALGORITHMS:
        raise ValueError(f"alg must be one of {ALGORITHMS}")
    directory = pathlib.Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)  # the signing key: only its owner may even list the folder
    key_path = directory / PRIVATE_KEY
    if key_path.exists() and not force:
        key_path.chmod(0o600)
        key = load_private_key(directory)
        jwk = public_jwk(key)
        if jwk["alg"] == alg:
            _write_public(directory, jwk)
            return jwk
        raise FileExistsError(f"{key_path} holds a {jwk['alg']} key; pass force to replace it")
    key = (
        ec.generate_private_key(ec.SECP256R1())
        if alg == "ES256"
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    jwk = public_jwk(key)
    _write_public(directory, jwk)
    return jwk


def _write_public(directory: pathlib.Path, jwk: dict[str, str]) -> None:
    # Public, but 0600 all the same: everything under the state folder is its owner's only.
    for name, content in ((JWKS, {"keys": [jwk]}), (KEY_INFO, {"alg": jwk["alg"], "kid": jwk["kid"]})):
        fd = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(json.dumps(content, indent=2) + "\n")


def load_private_key(directory: pathlib.Path):
    path = pathlib.Path(directory) / PRIVATE_KEY
    if not path.exists():
        raise FileNotFoundError(f"no signing key at {path}: run `mivaa auth init --dir {directory}`")
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def sign_jwt(private_key, claims: dict, *, kid: str | None = None) -> str:
    """A compact JWS (ES256 for an EC P-256 key, RS256 for an RSA key) over claims, as they are."""
    key = _jose_key(private_key)
    header = {"alg": "ES256" if isinstance(key, ECKey) else "RS256", "typ": "JWT", "kid": kid or key.thumbprint()}
    return jwt.encode(header, claims, key)


def issue_token(
    directory: pathlib.Path | str,
    *,
    subject: str,
    tenant: str,
    scopes: Iterable[str] = ("read",),
    ttl: int = DEFAULT_TTL,
    audience: str = DEFAULT_AUDIENCE,
    issuer: str = DEFAULT_ISSUER,
    now: int | None = None,
    extra_claims: dict | None = None,
) -> str:
    """A signed JWT with the key made by init_keys(directory). ttl may be negative (an expired token, for tests)."""
    key = load_private_key(pathlib.Path(directory))
    scopes = list(dict.fromkeys(scopes))
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scope(s) {unknown}; known: {', '.join(SCOPES)}")
    issued = int(time.time()) if now is None else now
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "tenant": tenant,
        "scope": " ".join(scopes),
        "iat": issued,
        "exp": issued + ttl,
        **(extra_claims or {}),
    }
    return sign_jwt(key, claims)


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "auth",
        help="development signing keys and tokens for the gateway",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="auth_action", required=True)
    init = actions.add_parser("init", help="create a signing key pair and jwks.json")
    init.add_argument("--dir", type=pathlib.Path, required=True)
    init.add_argument("--alg", choices=ALGORITHMS, default="ES256")
    init.add_argument("--force", action="store_true", help="replace an existing key")
    token = actions.add_parser("token", help="print a signed JWT")
    token.add_argument("--dir", type=pathlib.Path, required=True)
    token.add_argument("--subject", required=True)
    token.add_argument("--tenant", required=True)
    token.add_argument("--scope", action="append", choices=SCOPES, help="repeatable (default: read)")
    token.add_argument("--ttl", type=int, default=DEFAULT_TTL, help="seconds (default 3600)")
    token.add_argument("--audience", default=DEFAULT_AUDIENCE)
    token.add_argument("--issuer", default=DEFAULT_ISSUER)
    creds = actions.add_parser("nats-creds", help="read-only NATS credentials for one tenant's job events")
    creds.add_argument("--tenant", required=True)
    creds.add_argument("--out", type=pathlib.Path, required=True, help="file to write (JSON, mode 0600)")
    creds.add_argument(
        "--state-dir", type=pathlib.Path, default=pathlib.Path(os.environ.get("MIVAA_STATE_DIR", ".mivaa"))
    )


def write_nats_credentials(state_dir: pathlib.Path, tenant: str, out: pathlib.Path) -> dict:
    """A tenant event consumer's NATS credentials from the local mesh in state_dir, written to `out`."""
    from mivaa_cli.localmesh.mesh import LocalMesh
    from mivaa_platform.errors import MivaaError
    from mivaa_platform.tenancy import check_tenant

    try:
        check_tenant(tenant)
    except MivaaError as error:
        raise ValueError(f"invalid tenant {tenant!r}: {error.message}") from None
    mesh = LocalMesh.load(state_dir)
    if mesh is None:
        raise FileNotFoundError(f"no running mesh in {state_dir} (start one with `mivaa up`)")
    credentials = mesh.add_bus_tenant(tenant)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(credentials, file, indent=2)
    return credentials


def run(args) -> int:
    try:
        if args.auth_action == "init":
            jwk = init_keys(args.dir, args.alg, force=args.force)
            print(f"{args.alg} key {jwk['kid']}: private {args.dir / PRIVATE_KEY}, public {args.dir / JWKS}")
            return 0
        if args.auth_action == "token":
            print(
                issue_token(
                    args.dir,
                    subject=args.subject,
                    tenant=args.tenant,
                    scopes=args.scope or ["read"],
                    ttl=args.ttl,
                    audience=args.audience,
                    issuer=args.issuer,
                )
            )
            return 0
        if args.auth_action == "nats-creds":
            credentials = write_nats_credentials(args.state_dir, args.tenant, args.out)
            print(f"NATS user {credentials['user']} (subscribe {credentials['subject']}): {args.out}")
            return 0
    except (FileNotFoundError, FileExistsError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"unknown auth action {args.auth_action!r}", file=sys.stderr)
    return 2
