"""Where the CLI finds the mesh: the state folder of `mivaa up`, the gateway's address, CA and token."""

from __future__ import annotations

import os
import pathlib
import sys

from google.protobuf import json_format

from mivaa_cli.client import MeshClient
from mivaa_cli.terminal import printable

DEFAULT_STATE_DIR = pathlib.Path(os.environ.get("MIVAA_STATE_DIR", ".mivaa"))
# Where `mivaa up` records its state folder, so that commands run from another folder find the mesh.
LAST_MESH_FILE = (
    pathlib.Path(os.environ.get("XDG_STATE_HOME") or pathlib.Path.home() / ".local" / "state") / "mivaa" / "last-mesh"
)


def remember_mesh(state_dir: pathlib.Path) -> None:
    try:
        LAST_MESH_FILE.parent.mkdir(parents=True, exist_ok=True)
        LAST_MESH_FILE.write_text(f"{state_dir.resolve()}\n")
    except OSError:
        pass  # a read-only home only costs the convenience


def client_state_dir() -> pathlib.Path:
    """MIVAA_STATE_DIR or ./.mivaa when either is there, else the folder of the last `mivaa up`."""
    if "MIVAA_STATE_DIR" in os.environ or DEFAULT_STATE_DIR.is_dir():
        return DEFAULT_STATE_DIR
    try:
        remembered = pathlib.Path(LAST_MESH_FILE.read_text().strip())
    except OSError:
        return DEFAULT_STATE_DIR
    return remembered if (remembered / "certs" / "ca.pem").is_file() else DEFAULT_STATE_DIR


def gateway_address(args) -> str:
    return args.address or os.environ.get("MIVAA_ADDR") or f"127.0.0.1:{os.environ.get('MIVAA_GATEWAY_PORT', '8080')}"


def gateway_client(args) -> MeshClient:
    """A client of the gateway: its CA and a token from the environment, or else the local mesh's own.

    MIVAA_TOKEN (a JWT, e.g. from `mivaa auth token`) and MIVAA_CA (the PEM file the gateway's
    certificate chains to) win; without them the files `mivaa up` wrote under MIVAA_STATE_DIR
    (default .mivaa, else the folder of the last `mivaa up`) are used: certs/ca.pem and auth/dev-token
    (tenant "default", read + write).
    """
    state = client_state_dir()
    token = os.environ.get("MIVAA_TOKEN", "")
    if not token and (state / "auth" / "dev-token").is_file():
        token = (state / "auth" / "dev-token").read_text().strip()
    ca_path = pathlib.Path(os.environ["MIVAA_CA"]) if os.environ.get("MIVAA_CA") else state / "certs" / "ca.pem"
    ca = ca_path.read_bytes() if ca_path.is_file() else None
    if ca is None:
        print(
            f"note: no gateway CA at {ca_path}; connecting without TLS (set MIVAA_CA and MIVAA_TOKEN, or MIVAA_STATE_DIR"
            " to the folder `mivaa up` ran in)",
            file=sys.stderr,
        )
    return MeshClient(gateway_address(args), token=token if ca is not None else "", ca=ca)


def message_json(message) -> str:
    """A message as indented JSON, safe to print."""
    return printable(json_format.MessageToJson(message, indent=2), json=True)
