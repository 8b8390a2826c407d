"""The prompts of the LLM generator, in llama-index's PromptTemplate.

The answer prompt is llama-index's CitationQueryEngine prompt (CITATION_QA_TEMPLATE: numbered sources,
"cite the appropriate source(s) using their corresponding numbers", a worked example) with two changes the
service needs: the answer quotes the source's exact words (the service keeps a citation only when its quote
is found on the cited page), and it names the one sentence that means "not found". The worked examples are
whole source/question/answer blocks in the same layout as the real question, because a small model copies
a layout far better than it follows an instruction (measured with the 270M Gemma: with one inline example it
rarely wrote [n]; with these blocks it quotes and cites). The instructions and examples come first and never
change, so a server with a prompt cache (llama.cpp) evaluates them once.

The follow-up prompt is llama-index's own CondenseQuestionChatEngine prompt, unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

from llama_index.core.base.llms.generic_utils import messages_to_history_str
from llama_index.core.chat_engine.condense_question import DEFAULT_PROMPT as CONDENSE_QUESTION_PROMPT
from llama_index.core.llms import ChatMessage, MessageRole
from llama_index.core.prompts import PromptTemplate

from mivaa_answer.generation.base import NOT_FOUND_ANSWER, Passage

__all__ = [
    "CITED_ANSWER_SYSTEM",
    "CONDENSE_EXAMPLES_SYSTEM",
    "CONDENSE_QUESTION_PROMPT",
    "CONDENSE_STOP_SEQUENCES",
    "STOP_SEQUENCES",
    "SUMMARY_SYSTEM",
    "answer_messages",
    "condense_messages",
    "summary_messages",
]

CITED_ANSWER_SYSTEM = (
    "Please provide an answer based solely on the provided sources. "
    "When referencing information from a source, quote the exact words of the source in double quotes "
    "and cite the source by its number in square brackets, like [2]. "
    "Every answer should include at least one source citation. "
    "Only cite a source when you are explicitly referencing it. "
    f"If none of the sources answer the question, answer exactly: {NOT_FOUND_ANSWER}\n"
    "For example:\n\n"
    "Sources:\n"
    "[1] The sky is red in the evening and blue in the morning.\n"
    "[2] Water is wet when the sky is red.\n"
    "Question: When is water wet?\n"
    'Answer: "Water is wet when the sky is red" [2].\n\n'
    "Sources:\n"
    "[1] The train to Oslo leaves at 8:15 from platform 4.\n"
    "[2] Tickets cost 40 euros.\n"
    "Question: When does the train to Oslo leave?\n"
    'Answer: "The train to Oslo leaves at 8:15" [1].\n\n'
    "Sources:\n"
    "[1] The train to Oslo leaves at 8:15 from platform 4.\n"
    "[2] Tickets cost 40 euros.\n"
    "Question: Who painted the Mona Lisa?\n"
    f"Answer: {NOT_FOUND_ANSWER}"
)

CITED_ANSWER_QUESTION = PromptTemplate("Now it's your turn.\n\nSources:\n{context_str}\nQuestion: {query_str}\nAnswer:")

SUMMARY_SYSTEM = (
    "Please summarize the document from its numbered passages, in three to five sentences, based solely on "
    "the passages. Quote the passages' exact words in double quotes where you can and cite each passage you "
    "use by its number in square brackets, like [2].\n"
    "For example:\n\n"
    "Document: Timetable\n"
    "Passages:\n"
    "[1] The train to Oslo leaves at 8:15 from platform 4.\n"
    "[2] Tickets cost 40 euros and can be bought on board.\n"
    'Summary: The timetable says that "the train to Oslo leaves at 8:15" [1] and that '
    '"tickets cost 40 euros" [2].'
)

SUMMARY_DOCUMENT = PromptTemplate("Now it's your turn.\n\nDocument: {title}\nPassages:\n{context_str}\nSummary:")

# A model that goes on after its answer starts a new block of the prompt's layout (a small one invents
# further "[6] ..." sources, or the next "Now it's your turn."): stop there. None of these begins a line
# of a real answer. (OpenAI's API takes at most four.)
STOP_SEQUENCES = ("\nSources:", "\nQuestion:", "\nNow it's your turn", "\n[")

# Worked examples before llama-index's condense prompt, in its own layout: the 270M model answered the
# follow-up (or repeated the last answer) without them, and wrote the standalone question with them.
CONDENSE_EXAMPLES_SYSTEM = (
    "Rewrite the follow up message as a standalone question.\n\n"
    "<Chat History>\nuser: Who designed the Eiffel Tower?\n"
    'assistant: "Gustave Eiffel\'s company designed it" [1].\n\n'
    "<Follow Up Message>\nWhen was it built?\n\n"
    "<Standalone question>\nWhen was the Eiffel Tower built?\n\n"
    "<Chat History>\nuser: What does the P-7 pump deliver?\n"
    'assistant: "It delivers 20 litres per minute" [2].\n\n'
    "<Follow Up Message>\nAnd its pressure?\n\n"
    "<Standalone question>\nWhat is the pressure of the P-7 pump?"
)
# The question is one line: the next blank line or example block ends it.
CONDENSE_STOP_SEQUENCES = ("\n\n", "\n<")


def _numbered(passages: Sequence[Passage], max_chars: int) -> str:
    return "\n".join(f"[{passage.number}] {_one_line(passage.text, max_chars)}" for passage in passages)


def _one_line(text: str, max_chars: int) -> str:
    """A passage on one line (the layout numbers lines), cut at a word near max_chars."""
    flat = " ".join(text.split())
    if len(flat) <= max_chars:
        return flat
    return flat[:max_chars].rsplit(" ", 1)[0] + " ..."


def answer_messages(question: str, passages: Sequence[Passage], max_passage_chars: int) -> list[ChatMessage]:
    user = CITED_ANSWER_QUESTION.format(context_str=_numbered(passages, max_passage_chars), query_str=question)
    return [
        ChatMessage(role=MessageRole.SYSTEM, content=CITED_ANSWER_SYSTEM),
        ChatMessage(role=MessageRole.USER, content=user),
    ]


def summary_messages(title: str, passages: Sequence[Passage], max_passage_chars: int) -> list[ChatMessage]:
    user = SUMMARY_DOCUMENT.format(title=title or "(untitled)", context_str=_numbered(passages, max_passage_chars))
    return [
        ChatMessage(role=MessageRole.SYSTEM, content=SUMMARY_SYSTEM),
        ChatMessage(role=MessageRole.USER, content=user),
    ]


def condense_messages(history: Sequence[tuple[str, str]], question: str) -> list[ChatMessage]:
    """The examples, then llama-index's condense prompt with the earlier turns written as its chat engines
    write them ("user: ...", "assistant: ...")."""
    turns: list[ChatMessage] = []
    for earlier_question, answer in history:
        turns.append(ChatMessage(role=MessageRole.USER, content=earlier_question))
        turns.append(ChatMessage(role=MessageRole.ASSISTANT, content=answer))
    prompt = CONDENSE_QUESTION_PROMPT.format_messages(chat_history=messages_to_history_str(turns), question=question)
    return [ChatMessage(role=MessageRole.SYSTEM, content=CONDENSE_EXAMPLES_SYSTEM), *prompt]
