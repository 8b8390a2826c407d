"""Sign-in through an OpenID provider on the local mesh: `mivaa up --oidc-issuer ...` keeps the
provider in the state folder, and the gateway is rendered with it (beside the dev keys, which
the CLI and the tests keep using) every time it starts."""

from __future__ import annotations

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
