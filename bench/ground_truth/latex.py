"""LaTeX: the subset the corpus sources use, parsed into body blocks, headings and tables in source order."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bench.ground_truth.corpus_text import BLINDTEXT, LIPSUM
from bench.ground_truth.types import Heading, TableTruth

# Heading ranks before they become levels: the title outranks chapters, chapters sections, ...
_RANKS = {"title": 0, "chapter": 1, "section": 2, "subsection": 3, "subsubsection": 4}
_REPORT_CLASSES = {"report", "book", "scrreprt", "scrbook", "memoir"}

_INLINE_WRAPPERS = re.compile(
    r"\\(?:textbf|textit|textsl|emph|textsc|texttt|textrm|textsf|textup|textsuperscript|textsubscript|"
    r"mbox|underline|textnormal)\s*\{([^{}]*)\}"
)
_ESCAPED = {r"\&": "&", r"\%": "%", r"\_": "_", r"\#": "#", r"\$": "$", r"\{": "{", r"\}": "}"}
_STRUCTURE = re.compile(
    r"""
      (?P<par>\n[ \t]*\n)
    | \\begin\{(?P<env>[A-Za-z*]+)\}
    | \\(?P<sect>chapter|section|subsection|subsubsection)(?P<star>\*?)\s*(?=\{)
    | \\(?P<gen>lipsum|blindtext)(?![A-Za-z])(?:\[(?P<arg>[^\]]*)\])?
    | \\(?P<meta>title|author|date)\s*(?=\{)
    | \\(?P<cmd>maketitle|tableofcontents|newpage|pagebreak|clearpage|centering|noindent|par)(?![A-Za-z])
    """,
    re.VERBOSE,
)


def _strip_comments(source: str) -> str:
    """Drops % comments (an unescaped % to the end of its line, the newline included, as TeX does)."""
    return re.sub(r"(?<!\\)%[^\n]*\n?", "", source)


def _read_group(text: str, start: int) -> tuple[str, int]:
    """The content of the balanced {...} group opening at text[start], and the index after it."""
    if text[start] != "{":
        raise ValueError(f"expected '{{' at {start}: {text[start : start + 20]!r}")
    depth = 0
    for index in range(start, len(text)):
        char = text[index]
        if char == "\\":
            continue
        if char == "{" and text[index - 1] != "\\":
            depth += 1
        elif char == "}" and text[index - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[start + 1 : index], index + 1
    raise ValueError("unbalanced braces")


def _read_environment(text: str, start: int, name: str) -> tuple[str, int]:
    """The body of an environment whose \\begin{name} ended at `start`, and the index after its \\end."""
    begin, end = f"\\begin{{{name}}}", f"\\end{{{name}}}"
    depth, index = 1, start
    while depth:
        next_end = text.find(end, index)
        if next_end < 0:
            raise ValueError(f"\\begin{{{name}}} without \\end")
        next_begin = text.find(begin, index)
        if 0 <= next_begin < next_end:
            depth, index = depth + 1, next_begin + len(begin)
        else:
            depth, index = depth - 1, next_end + len(end)
    return text[start : index - len(end)], index


def latex_inline(text: str) -> str:
    """Inline LaTeX to the text a reader sees: formatting commands dropped, TeX ligatures of quotes and dashes."""
    text = re.sub(r"\\\\(?:\[[^\]]*\])?", " ", text)  # \\ line breaks
    previous = None
    while previous != text:  # innermost wrappers first, until none is left
        previous, text = text, _INLINE_WRAPPERS.sub(r"\1", text)
    for escaped, char in _ESCAPED.items():
        text = text.replace(escaped, char)
    text = text.replace("~", " ")
    text = text.replace("---", "\u2014").replace("--", "\u2013")
    text = text.replace("``", "\u201c").replace("''", "\u201d").replace("`", "\u2018").replace("'", "\u2019")
    text = re.sub(r"\\[A-Za-z]+\*?", "", text)  # any other command (\centering, \today handled by callers)
    text = text.replace("{", "").replace("}", "")
    return " ".join(text.split())


@dataclass
class LatexTruth:
    blocks: list[str] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)
    tables: list[TableTruth] = field(default_factory=list)
    document_class: str = ""
    class_options: tuple[str, ...] = ()


class _LatexWalker:
    """Walks a document body in source order, emitting blocks, headings and tables."""

    def __init__(self, body: str, document_class: str, facts: dict):
        self.body = body
        self.facts = facts
        self.report = document_class in _REPORT_CLASSES
        self.result = LatexTruth(document_class=document_class)
        self._fragments: list[str] = []
        self._ranked: list[tuple[str, int, str]] = []  # (text, rank, number) before ranks become levels
        self._heading_block: list[int] = []  # index in blocks of each ranked heading
        self._counters = {"chapter": 0, "section": 0, "subsection": 0, "subsubsection": 0, "table": 0, "figure": 0}
        self.meta: dict[str, str] = {}

    # -- output ---------------------------------------------------------------------------------

    def flush(self) -> None:
        text = " ".join("".join(self._fragments).split())
        if text:
            self.result.blocks.append(text)
        self._fragments = []

    def heading(self, text: str, rank: int, number: str = "") -> None:
        self.flush()
        self._ranked.append((text, rank, number))
        self.result.blocks.append(f"{number} {text}" if number else text)

    # -- walking --------------------------------------------------------------------------------

    def walk(self, text: str) -> None:
        position = 0
        for match in _STRUCTURE.finditer(text):
            if match.start() < position:  # inside something a handler already consumed
                continue
            self._fragments.append(latex_inline(text[position : match.start()]) + " ")
            position = match.end()
            if match["par"] is not None:
                self.flush()
            elif match["env"]:
                body, position = _read_environment(text, match.end(), match["env"])
                self.environment(match["env"], body)
            elif match["sect"]:
                title, position = _read_group(text, match.end())
                self.section(match["sect"], bool(match["star"]), latex_inline(title))
            elif match["gen"]:
                self.generated(match["gen"], match["arg"])
            elif match["meta"]:
                value, position = _read_group(text, match.end())
                self.meta[match["meta"]] = value
            elif match["cmd"] == "maketitle":
                self.maketitle()
            elif match["cmd"] == "tableofcontents":
                self.table_of_contents()
            elif match["cmd"] == "par":
                self.flush()
            # \newpage, \pagebreak, \clearpage, \centering, \noindent: layout only
        self._fragments.append(latex_inline(text[position:]))

    def section(self, kind: str, starred: bool, title: str) -> None:
        number = ""
        if not starred:
            self._counters[kind] += 1
            order = ["chapter", "section", "subsection", "subsubsection"]
            for deeper in order[order.index(kind) + 1 :]:
                self._counters[deeper] = 0
            parts = order[: order.index(kind) + 1]
            if not self.report:
                parts = [p for p in parts if p != "chapter"]
            number = ".".join(str(self._counters[p]) for p in parts)
        self.heading(title, _RANKS[kind], number)

    def generated(self, kind: str, argument: str | None) -> None:
        if kind == "lipsum":
            first, last = 1, 7  # \lipsum alone prints paragraphs 1-7
            if argument:
                bounds = [int(v) for v in argument.split("-")]
                first, last = bounds[0], bounds[-1]
            if last > len(LIPSUM):
                raise ValueError(f"\\lipsum[{argument}]: only paragraphs 1-{len(LIPSUM)} are known here")
            # Each lipsum paragraph ends with \par; the first continues whatever precedes it.
            for paragraph in LIPSUM[first - 1 : last]:
                self._fragments.append(paragraph)
                self.flush()
        else:  # blindtext: one paragraph, the text `argument` times
            self._fragments.append(" ".join([BLINDTEXT] * int(argument or 1)) + " ")

    def maketitle(self) -> None:
        self.flush()
        self.heading(latex_inline(self.meta.get("title", "")), _RANKS["title"])
        if self.meta.get("author"):
            self.result.blocks.append(latex_inline(self.meta["author"]))
        date = self.meta.get("date", r"\today").strip()
        date = self.facts.get("today", "") if date == r"\today" else latex_inline(date)
        if date:
            self.result.blocks.append(date)

    def table_of_contents(self) -> None:
        # The entries are the numbered sectioning commands of the whole body; their page numbers come
        # from the facts read off the PDF (LaTeX takes them from the .aux file of an earlier run).
        entries = []
        counters = dict.fromkeys(("chapter", "section", "subsection"), 0)
        for match in re.finditer(r"\\(chapter|section|subsection)(\*?)\s*\{", self.body):
            if match[2]:
                continue
            kind = match[1]
            counters[kind] += 1
            order = ["chapter", "section", "subsection"]
            for deeper in order[order.index(kind) + 1 :]:
                counters[deeper] = 0
            parts = [p for p in order[: order.index(kind) + 1] if self.report or p != "chapter"]
            title, _ = _read_group(self.body, match.end() - 1)
            entries.append((".".join(str(counters[p]) for p in parts), latex_inline(title)))
        pages = self.facts.get("toc_pages", ())
        if len(pages) != len(entries):
            raise ValueError(f"table of contents: {len(entries)} entries but {len(pages)} page numbers in the facts")
        self.heading("Contents", _RANKS["chapter" if self.report else "section"])
        for (number, title), page in zip(entries, pages, strict=True):
            self.result.blocks.append(f"{number} {title} {page}")

    def environment(self, name: str, body: str) -> None:
        if name == "abstract":
            # Two-column article (and KOMA) set the abstract's title like an unnumbered section.
            self.heading("Abstract", _RANKS["section"])
            self.walk(body)
            self.flush()
        elif name in ("table", "figure"):
            self.flush()
            self.float_(name, body)
        elif name == "tabular":
            self.flush()
            self.tabular(body, caption="")
        elif name in ("center", "flushleft", "flushright", "quote", "quotation"):
            self.flush()
            self.walk(body)
            self.flush()
        # Anything else (figures' graphics, math) prints no text the truth needs.

    def float_(self, kind: str, body: str) -> None:
        """A table or figure float: its caption and tabular, in source order."""
        caption_at = body.find("\\caption")
        tabular_at = body.find("\\begin{tabular}")
        caption = ""
        if caption_at >= 0:
            self._counters[kind] += 1
            text, _ = _read_group(body, body.index("{", caption_at))
            caption = f"{kind.capitalize()} {self._counters[kind]}: {latex_inline(text)}"
        if caption and (tabular_at < 0 or caption_at < tabular_at):
            self.result.blocks.append(caption)
        if tabular_at >= 0:
            start = tabular_at + len("\\begin{tabular}")
            _, after_spec = _read_group(body, body.index("{", start))  # the column specification
            content, _ = _read_environment(body, start, "tabular")
            self.tabular(content[after_spec - start :], caption)
        if caption and 0 <= tabular_at < caption_at:
            self.result.blocks.append(caption)

    def tabular(self, content: str, caption: str) -> None:
        header_rows = 0
        midrule = re.search(r"\\(?:midrule|hline)", content[content.find("\\\\") :]) if "\\\\" in content else None
        rows: list[tuple[str, ...]] = []
        cleaned = re.sub(r"\\(?:toprule|midrule|bottomrule|hline)(?![A-Za-z])|\\cline\{[^}]*\}", "\n", content)
        for raw in re.split(r"\\\\(?:\[[^\]]*\])?", cleaned):
            if not raw.strip():
                continue
            rows.append(tuple(latex_inline(cell) for cell in re.split(r"(?<!\\)&", raw)))
        if midrule:
            # Rows ended before the first rule under the header are header rows.
            before = content[: content.find("\\\\") + midrule.start()]
            header_rows = len([r for r in re.split(r"\\\\", before) if r.strip()]) if before else 1
        table = TableTruth(rows=tuple(rows), header_rows=max(header_rows, 1 if midrule else 0), caption=caption)
        self.result.tables.append(table)
        self.result.blocks.append(table.as_text())

    def finish(self) -> LatexTruth:
        self.flush()
        ranks = sorted({rank for _, rank, _ in self._ranked})
        self.result.headings = [
            Heading(text=text, level=ranks.index(rank) + 1, number=number) for text, rank, number in self._ranked
        ]
        return self.result


def parse_latex(source: str, facts: dict | None = None) -> LatexTruth:
    """Body blocks, headings and tables of a LaTeX document (the subset the corpus sources use)."""
    facts = facts or {}
    source = _strip_comments(source)
    match = re.search(r"\\documentclass\s*(?:\[([^\]]*)\])?\s*\{([^}]*)\}", source)
    document_class = match[2].strip() if match else "article"
    options = tuple(o.strip() for o in (match[1] or "").split(",") if o.strip()) if match else ()
    begin, end = source.find("\\begin{document}"), source.rfind("\\end{document}")
    if begin < 0 or end < 0:
        raise ValueError("no document environment")
    preamble, body = source[:begin], source[begin + len("\\begin{document}") : end]
    walker = _LatexWalker(body, document_class, facts)
    for name in ("title", "author", "date"):  # \title etc. may sit in the preamble
        found = re.search(rf"\\{name}\s*(?=\{{)", preamble)
        if found:
            walker.meta[name], _ = _read_group(preamble, found.end())
    walker.walk(body)
    result = walker.finish()
    result.class_options = options
    return result
