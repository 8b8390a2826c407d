"""The local LLM's latency on this machine: server start, then first token and total for 5-source answers.

    python bench/llm_latency.py [--text README.md] [--questions 4]

Starts the endpoint as `mivaa up --llm` does (llama.cpp + Gemma 3 270M), takes five passages of real text
(consecutive 1,200-character pieces of a text file, the length the service's prompt cuts them to), and asks through
the answer service's LlmGenerator. The first question also evaluates the prompt's fixed instructions;
later ones find them in llama.cpp's prompt cache and evaluate only their own passages.
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import statistics
import sys
import tempfile
import time

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from mivaa_answer.generation.base import Passage  # noqa: E402
from mivaa_answer.generation.llm import LlmGenerator, load_api_key  # noqa: E402
from mivaa_cli.localmesh.llm import answer_llm_env, start_mesh_llm  # noqa: E402
from mivaa_cli.localmesh.processes import free_port  # noqa: E402

PASSAGE_CHARS = 1200
QUESTIONS = ("What is this document about?", "What should be done first?", "Which numbers are given?", "Who is it for?")


def _passages(source: pathlib.Path, offset: int) -> list[Passage]:
    text = " ".join(source.read_text().split())
    pieces = [text[start : start + PASSAGE_CHARS] for start in range(offset, offset + 5 * PASSAGE_CHARS, PASSAGE_CHARS)]
    return [
        Passage(number, "documents/bench", source.stem, number, 1, 1, piece, 1.0)
        for number, piece in enumerate(pieces, start=1)
    ]


async def _ask(generator: LlmGenerator, question: str, passages: list[Passage]) -> tuple[float, float, str]:
    started = time.monotonic()
    first = 0.0
    answer = []
    async for delta in generator.stream_answer(question, passages):
        first = first or time.monotonic() - started
        answer.append(delta)
    return first, time.monotonic() - started, "".join(answer)


async def _run(env: dict[str, str], source: pathlib.Path, questions: int) -> None:
    generator = LlmGenerator(
        url=env["ANSWER_LLM_URL"],
        model=env["ANSWER_LLM_MODEL"],
        api_key=load_api_key(env["ANSWER_LLM_API_KEY_FILE"]),
        # Measure, do not give up: a busy CPU can take longer than the service's own limits.
        timeout_seconds=600,
        idle_timeout_seconds=300,
    )
    firsts, totals = [], []
    for index in range(questions):
        first, total, answer = await _ask(
            generator, QUESTIONS[index % len(QUESTIONS)], _passages(source, index * 5 * PASSAGE_CHARS)
        )
        label = "cold" if index == 0 else "warm"
        print(f"{label} 5-source answer: first token {first:.2f} s, total {total:.2f} s: {answer[:100]!r}", flush=True)
        if index:
            firsts.append(first)
            totals.append(total)
    if firsts:
        print(f"warm median: first token {statistics.median(firsts):.2f} s, total {statistics.median(totals):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--text", type=pathlib.Path, default=REPO_ROOT / "README.md")
    parser.add_argument("--questions", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as state_dir:
        state, port = pathlib.Path(state_dir), free_port()
        started = time.monotonic()
        process = start_mesh_llm(state, port, models_dir=REPO_ROOT / "models", log_dir=state / "logs")
        print(f"server start (model assembled or checked, loaded, healthy): {time.monotonic() - started:.2f} s")
        try:
            asyncio.run(_run(answer_llm_env(state, port), args.text, args.questions))
        finally:
            process.stop()
            # llama.cpp's own account of each request: prompt tokens evaluated (not cached) and its speed.
            for line in process.log_path.read_text().splitlines():
                if "prompt eval time" in line or "       eval time" in line:
                    print("  server:", line.split("|")[-1].strip())


if __name__ == "__main__":
    main()
