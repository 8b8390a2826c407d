"""The mesh's certificate maker for tests: the package module, and the command-line wrapper's path."""

from __future__ import annotations

import pathlib

from mivaa_cli.localmesh import certs as make_certs

MAKE_CERTS = pathlib.Path(__file__).resolve().parents[2] / "tools" / "make_certs.py"

__all__ = ["MAKE_CERTS", "make_certs"]
