"""tools/make_certs.py for tests: tools/ is a folder of scripts, not a package."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

MAKE_CERTS = pathlib.Path(__file__).resolve().parents[2] / "tools" / "make_certs.py"

_spec = importlib.util.spec_from_file_location("mivaa_tools_make_certs", MAKE_CERTS)
make_certs = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = make_certs  # dataclasses look their module up
_spec.loader.exec_module(make_certs)
