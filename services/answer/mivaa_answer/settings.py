"""The answer service's settings (ANSWER_<FIELD>): no dependencies, so launchers can build its environment."""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "ANSWER"


@dataclass(frozen=True)
class AnswerSettings:
    # Conversations and cached summaries live in this database's schema `answer`.
    database_url: str
    search_addr: str
    embedder_addr: str
    # Text model for sentence scoring; empty means the embedder's default text model.
    model: str = ""
    pool_size: int = 5
    # "extractive" or "llm": what GENERATOR_UNSPECIFIED means.
    default_generator: str = "extractive"
    max_question_bytes: int = 4096
    # A question none of whose retrieved sentences reaches this cosine similarity is not answered.
    min_relevance: float = 0.45
    # Deadlines of the calls to the search service and to the embedder.
    search_timeout_seconds: float = 10.0
    embedder_timeout_seconds: float = 10.0
    # The OpenAI-compatible chat endpoint (empty: none). The key is read from a file (a secret).
    llm_url: str = ""
    llm_model: str = ""
    llm_api_key_file: str = ""
    llm_timeout_seconds: float = 60.0
    # When the LLM is down, answer extractively instead of failing with LLM_UNAVAILABLE.
    llm_fallback_to_extractive: bool = False
