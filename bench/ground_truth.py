"""Ground truth for the extraction quality bench: what a perfect extractor returns for known PDFs.

    from bench.ground_truth import all_truths
    for truth in all_truths(corpus_dir, out_dir):   # corpus_dir may be None or absent
        truth.pdf, truth.body_text, truth.headings, truth.tables, truth.furniture

Two sources, both independent of any extractor's output:

1. The corpus PDFs that come with their sources (../shared/corpus/sources):
   five LaTeX files and one HTML file. A small parser for the subset of LaTeX
   they use (`parse_latex`) turns each into body blocks in reading order
   (the order of the source), headings with levels, and table cells.

   Text the source only names is filled in from fixed constants:
   - `\\lipsum[1-10]`: the ten first paragraphs of the lipsum package
     (`LIPSUM`). There is no internet here, so the text was reconstructed in
     two independent ways and the two agree word for word: (a) a manual,
     line-by-line extraction of multicolumn.pdf (PyMuPDF spans per column,
     every line-end hyphen inspected and joined by hand: "adip-|iscing",
     "rhon-|cus", "Cur-|abitur", "conva-|llis", "ullam-|corper", ...), and
     (b) the package's own lipsum.ltd.tex (LaTeX Project Public License) as
     found in a public repository in the code index (JCH97/tesis,
     lipsum.ltd.tex, paragraphs 1-10). tests/bench/test_ground_truth.py
     re-checks (a) against the PDF as a bag of words on every run. The
     reading order (paragraph 1..10, column 1 then column 2, page by page) is
     the order of the source, never the order of an extraction.
   - `\\blindtext`: the English text of the blindtext package (`BLINDTEXT`),
     read off pdflatex-4-pages.pdf and identical to the copies of that text in
     several public repositories. `\\blindtext[n]` is one paragraph with the
     text n times; `\\blindtext{7}` is the text once followed by the digit 7
     (the braces are an ordinary group, which is what the PDF shows).
   - Facts only the typeset PDF knows (`CORPUS_FACTS`): page counts, the date
     `\\today` printed when multicolumn.pdf was made, the page numbers in the
     table of contents of pdflatex-outline.pdf. Each was read off the rendered
     page images (PyMuPDF at 60 dpi, looked at by eye) and matches the PDF's
     own outline where it has one.
   Page numbers at the bottom of every page are the only page furniture.

2. PDFs generated here with PyMuPDF (`generated_truths`), laid out line by
   line by a small composer with the Nimbus fonts built into MuPDF (embedded,
   so every glyph maps to Unicode), so the truth is exact by construction:
   - generated-single-column: headings of three sizes (level 1 to 3), body
     paragraphs with words hyphenated across line breaks, two bulleted lists,
     a running header and a "Page N of M" footer on every page;
   - generated-two-column: a full-width title, then text that flows down
     column 1 and on into column 2, page by page, with headings inside the
     columns and a centred page number;
   - generated-tables: a ruled table (every cell boxed) and a table without
     any rules (columns by alignment alone), with captions, header and footer.

Every truth's `blocks` are the body in reading order: headings as printed
(with their numbers: "1 Foo"), paragraphs re-flowed into one line with
hyphenation undone, list items without their bullets, tables as one line
per row with cells separated by a space. Page furniture is never in the body.
"""

from __future__ import annotations

import html.parser
import pathlib
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pymupdf

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_CORPUS_DIR = REPO_ROOT.parent / "shared" / "corpus"
DEFAULT_GENERATED_DIR = REPO_ROOT / ".cache" / "bench" / "ground-truth"


# ---------------------------------------------------------------------------------------------
# The result types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    text: str  # as written in the source, without its number
    level: int  # 1 = the most prominent heading kind this document uses, 2 the next, ...
    number: str = ""  # "1", "2.3" printed before the text; "" when unnumbered

    @property
    def display(self) -> str:
        """The heading as it is printed on the page."""
        return f"{self.number} {self.text}" if self.number else self.text


@dataclass(frozen=True)
class TableTruth:
    rows: tuple[tuple[str, ...], ...]  # row-major cell texts
    header_rows: int = 1
    caption: str = ""
    ruled: bool = True  # drawn with rules (lines) between cells

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def column_count(self) -> int:
        return max((len(row) for row in self.rows), default=0)

    def cells(self) -> list[tuple[int, int, str]]:
        """(row, column, text) of every non-empty cell."""
        return [(r, c, text) for r, row in enumerate(self.rows) for c, text in enumerate(row) if text.strip()]

    def as_text(self) -> str:
        """The table as body text: one line per row, cells separated by a space."""
        return "\n".join(" ".join(cell for cell in row if cell) for row in self.rows)


@dataclass(frozen=True)
class GroundTruth:
    name: str
    pdf: pathlib.Path
    origin: str  # "latex", "html" or "generated"
    blocks: tuple[str, ...]  # body in reading order, see the module docstring
    headings: tuple[Heading, ...] = ()
    tables: tuple[TableTruth, ...] = ()
    furniture: tuple[str, ...] = ()  # every header/footer/page-number string, once per page it appears on
    born_digital: bool = True
    # False where the PDF's own text layer cannot yield the true text (broken font maps):
    # reported, but not held to the text-similarity target.
    sound_text_layer: bool = True
    multi_column: bool = False
    hyphenated: tuple[str, ...] = ()  # words the PDF splits across a line break with a hyphen
    notes: str = ""

    @property
    def body_text(self) -> str:
        return "\n\n".join(self.blocks)

    @property
    def page_count(self) -> int:
        with pymupdf.open(self.pdf) as doc:
            return doc.page_count


# ---------------------------------------------------------------------------------------------
# Text the LaTeX sources only name
# ---------------------------------------------------------------------------------------------

# lipsum.sty paragraphs 1-10 (see the module docstring for how they were obtained and checked).
LIPSUM: tuple[str, ...] = (
    "Lorem ipsum dolor sit amet, consectetuer adipiscing elit. Ut purus elit, vestibulum ut, placerat ac, "
    "adipiscing vitae, felis. Curabitur dictum gravida mauris. Nam arcu libero, nonummy eget, consectetuer id, "
    "vulputate a, magna. Donec vehicula augue eu neque. Pellentesque habitant morbi tristique senectus et netus "
    "et malesuada fames ac turpis egestas. Mauris ut leo. Cras viverra metus rhoncus sem. Nulla et lectus "
    "vestibulum urna fringilla ultrices. Phasellus eu tellus sit amet tortor gravida placerat. Integer sapien "
    "est, iaculis in, pretium quis, viverra ac, nunc. Praesent eget sem vel leo ultrices bibendum. Aenean "
    "faucibus. Morbi dolor nulla, malesuada eu, pulvinar at, mollis ac, nulla. Curabitur auctor semper nulla. "
    "Donec varius orci eget risus. Duis nibh mi, congue eu, accumsan eleifend, sagittis quis, diam. Duis eget "
    "orci sit amet orci dignissim rutrum.",
    "Nam dui ligula, fringilla a, euismod sodales, sollicitudin vel, wisi. Morbi auctor lorem non justo. Nam "
    "lacus libero, pretium at, lobortis vitae, ultricies et, tellus. Donec aliquet, tortor sed accumsan "
    "bibendum, erat ligula aliquet magna, vitae ornare odio metus a mi. Morbi ac orci et nisl hendrerit mollis. "
    "Suspendisse ut massa. Cras nec ante. Pellentesque a nulla. Cum sociis natoque penatibus et magnis dis "
    "parturient montes, nascetur ridiculus mus. Aliquam tincidunt urna. Nulla ullamcorper vestibulum turpis. "
    "Pellentesque cursus luctus mauris.",
    "Nulla malesuada porttitor diam. Donec felis erat, congue non, volutpat at, tincidunt tristique, libero. "
    "Vivamus viverra fermentum felis. Donec nonummy pellentesque ante. Phasellus adipiscing semper elit. Proin "
    "fermentum massa ac quam. Sed diam turpis, molestie vitae, placerat a, molestie nec, leo. Maecenas lacinia. "
    "Nam ipsum ligula, eleifend at, accumsan nec, suscipit a, ipsum. Morbi blandit ligula feugiat magna. Nunc "
    "eleifend consequat lorem. Sed lacinia nulla vitae enim. Pellentesque tincidunt purus vel magna. Integer "
    "non enim. Praesent euismod nunc eu purus. Donec bibendum quam in tellus. Nullam cursus pulvinar lectus. "
    "Donec et mi. Nam vulputate metus eu enim. Vestibulum pellentesque felis eu massa.",
    "Quisque ullamcorper placerat ipsum. Cras nibh. Morbi vel justo vitae lacus tincidunt ultrices. Lorem ipsum "
    "dolor sit amet, consectetuer adipiscing elit. In hac habitasse platea dictumst. Integer tempus convallis "
    "augue. Etiam facilisis. Nunc elementum fermentum wisi. Aenean placerat. Ut imperdiet, enim sed gravida "
    "sollicitudin, felis odio placerat quam, ac pulvinar elit purus eget enim. Nunc vitae tortor. Proin tempus "
    "nibh sit amet nisl. Vivamus quis tortor vitae risus porta vehicula.",
    "Fusce mauris. Vestibulum luctus nibh at lectus. Sed bibendum, nulla a faucibus semper, leo velit ultricies "
    "tellus, ac venenatis arcu wisi vel nisl. Vestibulum diam. Aliquam pellentesque, augue quis sagittis "
    "posuere, turpis lacus congue quam, in hendrerit risus eros eget felis. Maecenas eget erat in sapien mattis "
    "porttitor. Vestibulum porttitor. Nulla facilisi. Sed a turpis eu lacus commodo facilisis. Morbi fringilla, "
    "wisi in dignissim interdum, justo lectus sagittis dui, et vehicula libero dui cursus dui. Mauris tempor "
    "ligula sed lacus. Duis cursus enim ut augue. Cras ac magna. Cras nulla. Nulla egestas. Curabitur a leo. "
    "Quisque egestas wisi eget nunc. Nam feugiat lacus vel est. Curabitur consectetuer.",
    "Suspendisse vel felis. Ut lorem lorem, interdum eu, tincidunt sit amet, laoreet vitae, arcu. Aenean "
    "faucibus pede eu ante. Praesent enim elit, rutrum at, molestie non, nonummy vel, nisl. Ut lectus eros, "
    "malesuada sit amet, fermentum eu, sodales cursus, magna. Donec eu purus. Quisque vehicula, urna sed "
    "ultricies auctor, pede lorem egestas dui, et convallis elit erat sed nulla. Donec luctus. Curabitur et "
    "nunc. Aliquam dolor odio, commodo pretium, ultricies non, pharetra in, velit. Integer arcu est, nonummy "
    "in, fermentum faucibus, egestas vel, odio.",
    "Sed commodo posuere pede. Mauris ut est. Ut quis purus. Sed ac odio. Sed vehicula hendrerit sem. Duis non "
    "odio. Morbi ut dui. Sed accumsan risus eget odio. In hac habitasse platea dictumst. Pellentesque non elit. "
    "Fusce sed justo eu urna porta tincidunt. Mauris felis odio, sollicitudin sed, volutpat a, ornare ac, erat. "
    "Morbi quis dolor. Donec pellentesque, erat ac sagittis semper, nunc dui lobortis purus, quis congue purus "
    "metus ultricies tellus. Proin et quam. Class aptent taciti sociosqu ad litora torquent per conubia nostra, "
    "per inceptos hymenaeos. Praesent sapien turpis, fermentum vel, eleifend faucibus, vehicula eu, lacus.",
    "Pellentesque habitant morbi tristique senectus et netus et malesuada fames ac turpis egestas. Donec odio "
    "elit, dictum in, hendrerit sit amet, egestas sed, leo. Praesent feugiat sapien aliquet odio. Integer vitae "
    "justo. Aliquam vestibulum fringilla lorem. Sed neque lectus, consectetuer at, consectetuer sed, eleifend "
    "ac, lectus. Nulla facilisi. Pellentesque eget lectus. Proin eu metus. Sed porttitor. In hac habitasse "
    "platea dictumst. Suspendisse eu lectus. Ut mi mi, lacinia sit amet, placerat et, mollis vitae, dui. Sed "
    "ante tellus, tristique ut, iaculis eu, malesuada ac, dui. Mauris nibh leo, facilisis non, adipiscing quis, "
    "ultrices a, dui.",
    "Morbi luctus, wisi viverra faucibus pretium, nibh est placerat odio, nec commodo wisi enim eget quam. "
    "Quisque libero justo, consectetuer a, feugiat vitae, porttitor eu, libero. Suspendisse sed mauris vitae "
    "elit sollicitudin malesuada. Maecenas ultricies eros sit amet ante. Ut venenatis velit. Maecenas sed mi "
    "eget dui varius euismod. Phasellus aliquet volutpat odio. Vestibulum ante ipsum primis in faucibus orci "
    "luctus et ultrices posuere cubilia Curae; Pellentesque sit amet pede ac sem eleifend consectetuer. Nullam "
    "elementum, urna vel imperdiet sodales, elit ipsum pharetra ligula, ac pretium ante justo a nulla. "
    "Curabitur tristique arcu eu metus. Vestibulum lectus. Proin mauris. Proin eu nunc eu urna hendrerit "
    "faucibus. Aliquam auctor, pede consequat laoreet varius, eros tellus scelerisque quam, pellentesque "
    "hendrerit ipsum dolor sed augue. Nulla nec lacus.",
    "Suspendisse vitae elit. Aliquam arcu neque, ornare in, ullamcorper quis, commodo eu, libero. Fusce "
    "sagittis erat at erat tristique mollis. Maecenas sapien libero, molestie et, lobortis in, sodales eget, "
    "dui. Morbi ultrices rutrum lorem. Nam elementum ullamcorper leo. Morbi dui. Aliquam sagittis. Nunc "
    "placerat. Pellentesque tristique sodales est. Maecenas imperdiet lacinia velit. Cras non urna. Morbi eros "
    "pede, suscipit ac, varius vel, egestas non, eros. Praesent malesuada, diam id pretium elementum, eros sem "
    "dictum tortor, vel consectetuer odio sem sed wisi.",
)

# blindtext.sty, English (babel "english"): one repetition of its paragraph.
BLINDTEXT = (
    "Hello, here is some text without a meaning. This text should show what a printed text will look like at "
    "this place. If you read this text, you will get no information. Really? Is there no information? Is there "
    "a difference between this text and some nonsense like \u201cHuardest gefburn\u201d? Kjift \u2013 not at "
    "all! A blind text like this gives you information about the selected font, how the letters are written "
    "and an impression of the look. This text should contain all letters of the alphabet and it should be "
    "written in of the original language. There is no need for special content, but the length of words "
    "should match the language."
)

# What only the typeset PDF knows, read off the rendered pages (see the module docstring).
CORPUS_FACTS: dict[str, dict] = {
    "minimal-document": {"pages": 1},
    "multicolumn": {"pages": 3, "today": "January 3, 2024", "multi_column": True},
    "pdflatex-4-pages": {"pages": 4},
    "pdflatex-image": {"pages": 1},
    # \tableofcontents: the page each numbered section starts on (the PDF outline agrees).
    "pdflatex-outline": {"pages": 4, "toc_pages": (2, 2, 2, 2, 3, 3, 3, 4, 4)},
    "habibi": {
        "pages": 1,
        # WeasyPrint wrote the Arabic word with a font whose ToUnicode map is wrong (the glyph run reads
        # "\x03ϲΒϴΒ ˴"), and added the true text as a second run: no text-layer reader can be exact.
        "sound_text_layer": False,
    },
}

LATEX_SOURCES = ("minimal-document", "multicolumn", "pdflatex-4-pages", "pdflatex-image", "pdflatex-outline")
HTML_SOURCES = ("habibi",)


# ---------------------------------------------------------------------------------------------
# LaTeX: the subset the corpus sources use
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# HTML (habibi.html): block elements become blocks, h1-h6 headings
# ---------------------------------------------------------------------------------------------

_HTML_BLOCKS = {
    "p",
    "div",
    "li",
    "tr",
    "table",
    "blockquote",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "dt",
    "dd",
    "figcaption",
    "caption",
    "br",
}


class _HtmlTruth(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.ranked: list[tuple[str, int]] = []
        self._text: list[str] = []
        self._skip = 0  # inside <head>, <script>, <style>: not shown
        self._heading: int | None = None

    def _flush(self) -> None:
        text = " ".join("".join(self._text).split())
        self._text = []
        if not text:
            return
        self.blocks.append(text)
        if self._heading is not None:
            self.ranked.append((text, self._heading))

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("head", "script", "style", "title"):
            self._skip += 1
        elif tag in _HTML_BLOCKS:
            self._flush()
            self._heading = int(tag[1]) if re.fullmatch(r"h[1-6]", tag) else None

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "script", "style", "title"):
            self._skip = max(0, self._skip - 1)
        elif tag in _HTML_BLOCKS:
            self._flush()
            self._heading = None

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._text.append(data)


def parse_html(source: str) -> tuple[list[str], list[Heading]]:
    parser = _HtmlTruth()
    parser.feed(source)
    parser.close()
    parser._flush()  # noqa: SLF001 - the parser is ours; close() leaves the last block open
    ranks = sorted({rank for _, rank in parser.ranked})
    return parser.blocks, [Heading(text, ranks.index(rank) + 1) for text, rank in parser.ranked]


# ---------------------------------------------------------------------------------------------
# Corpus truths
# ---------------------------------------------------------------------------------------------


def corpus_truths(corpus_dir: pathlib.Path | None = DEFAULT_CORPUS_DIR) -> list[GroundTruth]:
    """Truth for the corpus PDFs that have sources; [] when the corpus is absent."""
    if corpus_dir is None or not (corpus_dir / "sources").is_dir():
        return []
    truths = []
    for name in LATEX_SOURCES:
        pdf, source = corpus_dir / f"{name}.pdf", corpus_dir / "sources" / f"{name}.tex"
        if not (pdf.exists() and source.exists()):
            continue
        facts = CORPUS_FACTS[name]
        parsed = parse_latex(source.read_text(encoding="utf-8"), facts)
        truths.append(
            GroundTruth(
                name=pdf.name,
                pdf=pdf,
                origin="latex",
                blocks=tuple(parsed.blocks),
                headings=tuple(parsed.headings),
                tables=tuple(parsed.tables),
                # Every page of these classes' default page style prints its number at the bottom.
                furniture=tuple(str(n) for n in range(1, facts["pages"] + 1)),
                multi_column=facts.get("multi_column", "twocolumn" in parsed.class_options),
                notes=f"pdfTeX, \\documentclass{{{parsed.document_class}}}",
            )
        )
    for name in HTML_SOURCES:
        pdf, source = corpus_dir / f"{name}.pdf", corpus_dir / "sources" / f"{name}.html"
        if not (pdf.exists() and source.exists()):
            continue
        blocks, headings = parse_html(source.read_text(encoding="utf-8"))
        facts = CORPUS_FACTS[name]
        truths.append(
            GroundTruth(
                name=pdf.name,
                pdf=pdf,
                origin="html",
                blocks=tuple(blocks),
                headings=tuple(headings),
                sound_text_layer=facts.get("sound_text_layer", True),
                notes="WeasyPrint; Arabic + Latin in one line",
            )
        )
    return truths


# ---------------------------------------------------------------------------------------------
# Generated documents
# ---------------------------------------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = 595.0, 842.0  # A4 in points

_FONTS = {"regular": "helv", "bold": "hebo", "italic": "heit"}  # MuPDF's built-in Nimbus Sans family

_SUBJECTS = (
    "The harbour observers",
    "Coastal forecasters",
    "The lighthouse keeper",
    "Our field volunteers",
    "The survey vessel crew",
    "Regional meteorologists",
    "The island weather station",
    "Experienced sailors",
    "The tide gauge network",
    "Visiting climatologists",
    "The fishing cooperative",
    "Night watch officers",
    "The ferry captains",
    "Retired pilots",
    "The coastguard radio room",
    "Student assistants",
)
_VERBS = (
    "recorded",
    "compared",
    "documented",
    "monitored",
    "questioned",
    "calibrated",
    "summarised",
    "reconstructed",
    "predicted",
    "reviewed",
    "measured",
    "tabulated",
    "photographed",
    "described",
)
_OBJECTS = (
    "atmospheric pressure",
    "the southwesterly swell",
    "precipitation totals",
    "cloud condensation patterns",
    "visibility over the estuary",
    "thunderstorm development",
    "anticyclonic conditions",
    "sea surface temperatures",
    "the instrumentation logs",
    "fog formation near the breakwater",
    "meteorological observations",
    "wind shear above the cliffs",
    "humidity in the boathouse",
    "the approaching squall lines",
    "overnight temperature inversions",
    "the barometric tendency",
)
_TAILS = (
    "before the autumn equinox",
    "during unusually calm mornings",
    "throughout the winter campaign",
    "whenever the barometer fell sharply",
    "with remarkable consistency",
    "alongside historical archives",
    "despite persistent interference",
    "across neighbouring stations",
    "at irregular intervals",
    "under challenging circumstances",
    "for the quarterly bulletin",
    "while the ferries were suspended",
    "using hand-drawn synoptic charts",
    "long after the harbour lights dimmed",
    "for the regional almanac",
    "with characteristically understated notes",
)


class _Prose:
    """Deterministic English-looking sentences; a seeded RNG makes most 6-word windows unique."""

    def __init__(self, seed: int):
        self._rng = random.Random(seed)

    def sentence(self) -> str:
        pick = self._rng.choice
        return f"{pick(_SUBJECTS)} {pick(_VERBS)} {pick(_OBJECTS)} {pick(_TAILS)}."

    def paragraph(self, sentences: int) -> str:
        return " ".join(self.sentence() for _ in range(sentences))


class _Composer:
    """Lays text out line by line on A4 pages with embedded fonts, recording the truth as it goes.

    Text flows through `columns` equal columns per page (down column 1, then
    column 2, then the next page). Every call records what a perfect reader
    returns: `blocks` in reading order, `headings`, `tables`, and the words
    split across lines with a hyphen.
    """

    LEADING = 13.0  # body line pitch, points
    BODY_SIZE = 10.0
    HEADING_SIZES = {1: 20.0, 2: 15.0, 3: 12.0}

    def __init__(
        self, columns: int = 1, margin: float = 64.0, gutter: float = 22.0, top: float = 78.0, bottom: float = 770.0
    ):
        self.doc = pymupdf.open()
        self.columns, self.margin, self.gutter, self.top, self.bottom = columns, margin, gutter, top, bottom
        self.column_width = (PAGE_WIDTH - 2 * margin - (columns - 1) * gutter) / columns
        self.fonts = {style: pymupdf.Font(name) for style, name in _FONTS.items()}
        self.blocks: list[str] = []
        self.headings: list[Heading] = []
        self.tables: list[TableTruth] = []
        self.hyphenated: list[str] = []
        self.page: pymupdf.Page | None = None
        self.column = 0
        self.y = top
        self.first_top = top  # where the columns start on the current page
        self._new_page()

    # -- pages and columns ----------------------------------------------------------------------

    def _new_page(self) -> None:
        self.page = self.doc.new_page(width=PAGE_WIDTH, height=PAGE_HEIGHT)
        for style in _FONTS:
            # Embedded (not Base-14 by name) so bullets, dashes and quotes map to Unicode.
            self.page.insert_font(fontname=f"F{style}", fontbuffer=self.fonts[style].buffer)
        self.column, self.y, self.first_top = 0, self.top, self.top

    @property
    def x(self) -> float:
        return self.margin + self.column * (self.column_width + self.gutter)

    def _ensure(self, height: float) -> None:
        """Moves to the next column (or page) unless `height` more points fit in this one."""
        if self.y + height <= self.bottom:
            return
        if self.column + 1 < self.columns:
            self.column += 1
            self.y = self.first_top
        else:
            self._new_page()

    def full_width_title(self, text: str, subtitle: str = "") -> None:
        """A level-1 heading across all columns at the top of the page; columns start below it."""
        size = self.HEADING_SIZES[1] + 2
        width = self.fonts["bold"].text_length(text, fontsize=size)
        self._text((PAGE_WIDTH - width) / 2, self.y + size, text, "bold", size)
        self.y += size * 1.6
        self.headings.append(Heading(text, 1))
        self.blocks.append(text)
        if subtitle:
            width = self.fonts["italic"].text_length(subtitle, fontsize=11)
            self._text((PAGE_WIDTH - width) / 2, self.y + 11, subtitle, "italic", 11)
            self.y += 11 * 2.4
            self.blocks.append(subtitle)
        self.page.draw_line((self.margin, self.y - 8), (PAGE_WIDTH - self.margin, self.y - 8), width=0.5)
        self.first_top = self.y + 6
        self.y = self.first_top

    # -- drawing --------------------------------------------------------------------------------

    def _text(
        self,
        x: float,
        baseline: float,
        text: str,
        style: str = "regular",
        size: float = BODY_SIZE,
        color: tuple[float, float, float] = (0, 0, 0),
    ) -> None:
        self.page.insert_text((x, baseline), text, fontname=f"F{style}", fontsize=size, color=color)

    def _width(self, text: str, style: str = "regular", size: float = BODY_SIZE) -> float:
        return self.fonts[style].text_length(text, fontsize=size)

    def _wrap(
        self, text: str, width: float, first_indent: float = 0.0, style: str = "regular", size: float = BODY_SIZE
    ) -> list[str]:
        """Greedy line breaking; a long word that would leave a gap is hyphenated when a 3+3 split fits."""
        lines: list[str] = []
        line = ""
        for word in text.split():
            available = width - (first_indent if not lines else 0.0)
            candidate = f"{line} {word}" if line else word
            if self._width(candidate, style, size) <= available:
                line = candidate
                continue
            split = self._hyphenate(line, word, available, style, size)
            if split:
                head, tail = split
                lines.append(f"{line} {head}-" if line else f"{head}-")
                self.hyphenated.append(word.rstrip(".,;:!?"))
                line = tail
            else:
                lines.append(line)
                line = word
        if line:
            lines.append(line)
        return lines

    def _hyphenate(self, line: str, word: str, available: float, style: str, size: float) -> tuple[str, str] | None:
        core = word.rstrip(".,;:!?")
        if len(core) < 8 or not core.isalpha() or not core.islower() or not line:
            return None
        for cut in range(len(core) - 3, 2, -1):  # the longest head that fits, both parts >= 3 letters
            if self._width(f"{line} {word[:cut]}-", style, size) <= available:
                return word[:cut], word[cut:]
        return None

    # -- content --------------------------------------------------------------------------------

    def heading(self, text: str, level: int) -> None:
        size = self.HEADING_SIZES[level]
        assert self._width(text, "bold", size) <= self.column_width, f"heading too wide: {text}"
        space_before = size * 0.9 if self.y > self.first_top else 0.0
        self._ensure(space_before + size * 1.4 + 2 * self.LEADING)  # keep the heading with two body lines
        self.y += space_before if self.y > self.first_top else 0.0
        self._text(self.x, self.y + size, text, "bold", size)
        self.y += size * 1.55
        self.headings.append(Heading(text, level))
        self.blocks.append(text)

    def paragraph(
        self,
        text: str,
        first_indent: float = 0.0,
        style: str = "regular",
        size: float = BODY_SIZE,
        space_after: float = 5.0,
    ) -> None:
        for index, line in enumerate(self._wrap(text, self.column_width, first_indent, style, size)):
            self._ensure(self.LEADING)
            self._text(self.x + (first_indent if index == 0 else 0.0), self.y + size, line, style, size)
            self.y += self.LEADING * size / self.BODY_SIZE
        self.y += space_after
        self.blocks.append(text)

    def bullet_list(self, items: Sequence[str]) -> None:
        indent = 16.0
        for item in items:
            for index, line in enumerate(self._wrap(item, self.column_width - indent)):
                self._ensure(self.LEADING)
                if index == 0:
                    self._text(self.x + 4, self.y + self.BODY_SIZE, "\u2022")
                self._text(self.x + indent, self.y + self.BODY_SIZE, line)
                self.y += self.LEADING
            self.y += 2.5
            self.blocks.append(item)
        self.y += 4.0

    def table(self, rows: Sequence[Sequence[str]], *, ruled: bool, caption: str, header_rows: int = 1) -> None:
        """A table that fits one column: header rows bold; `ruled` boxes every cell, else alignment only."""
        size, pad, row_height = 9.0, 5.0, 16.0
        columns = len(rows[0])
        widths = [
            max(self._width(row[c], "bold" if r < header_rows else "regular", size) for r, row in enumerate(rows))
            + 2 * pad
            + (0 if ruled else 10)
            for c in range(columns)
        ]
        assert sum(widths) <= self.column_width, "table too wide"
        self._ensure(self.LEADING + row_height * len(rows) + 10)
        self.paragraph(caption, style="italic", size=9.0, space_after=3.0)
        left, top = self.x, self.y
        for r, row in enumerate(rows):
            x = left
            for c, text in enumerate(row):
                self._text(x + pad, top + r * row_height + 11.5, text, "bold" if r < header_rows else "regular", size)
                x += widths[c]
        if ruled:
            right, bottom = left + sum(widths), top + row_height * len(rows)
            for r in range(len(rows) + 1):
                self.page.draw_line((left, top + r * row_height), (right, top + r * row_height), width=0.6)
            x = left
            for c in range(columns + 1):
                self.page.draw_line((x, top), (x, bottom), width=0.6)
                x += widths[c] if c < columns else 0
        else:  # a thin rule-free look: nothing but whitespace between columns
            pass
        self.y = top + row_height * len(rows) + 12
        truth = TableTruth(
            rows=tuple(tuple(row) for row in rows), header_rows=header_rows, caption=caption, ruled=ruled
        )
        self.tables.append(truth)
        self.blocks.append(truth.as_text())

    def furniture(self, header: str | None, footer: str) -> list[str]:
        """Stamps a running header (left, grey, ruled) and a centred footer on every page; returns the strings.

        `footer` is a format string with {page} and {pages}.
        """
        strings = []
        pages = self.doc.page_count
        for page in self.doc:
            self.page = page
            if header:
                self._text(self.margin, 44, header, "regular", 8.5, color=(0.35, 0.35, 0.35))
                page.draw_line((self.margin, 50), (PAGE_WIDTH - self.margin, 50), width=0.4, color=(0.5, 0.5, 0.5))
                strings.append(header)
            text = footer.format(page=page.number + 1, pages=pages)
            self._text((PAGE_WIDTH - self._width(text, size=8.5)) / 2, 812, text, "regular", 8.5)
            strings.append(text)
        return strings

    def save(self, path: pathlib.Path) -> None:
        self.doc.subset_fonts()  # realistic file sizes: only the glyphs used
        self.doc.save(path, garbage=3, deflate=True)
        self.doc.close()


def _single_column(path: pathlib.Path) -> GroundTruth:
    prose = _Prose(seed=11)
    c = _Composer(columns=1)
    c.heading("Coastal Weather Field Guide", 1)
    c.paragraph(prose.paragraph(5))
    c.heading("Reading the Sky", 2)
    c.paragraph(prose.paragraph(6))
    c.paragraph(prose.paragraph(5))
    c.heading("Cloud Families", 3)
    c.paragraph(prose.paragraph(4))
    c.bullet_list(
        [
            "Cumulus towers that grow before noon usually announce afternoon showers over the headland.",
            "Stratus sheets that hug the water are a sign of stable air and poor visibility.",
            "Cirrus streaks moving in from the west often precede a change within a day.",
            "Lenticular clouds above the ridge mark strong winds aloft even when the harbour is calm.",
        ]
    )
    c.paragraph(prose.paragraph(5))
    c.heading("Pressure and Wind", 3)
    c.paragraph(prose.paragraph(6))
    c.paragraph(prose.paragraph(5))
    c.heading("Working at the Station", 2)
    c.paragraph(prose.paragraph(5))
    c.heading("Instrument Care", 3)
    c.paragraph(prose.paragraph(4))
    c.bullet_list(
        [
            "Rinse the anemometer cups with fresh water after every storm.",
            "Check the barometer against the reference reading each Monday morning and note any drift in the log.",
            "Replace the wet bulb wick at the start of every month.",
        ]
    )
    c.paragraph(prose.paragraph(5))
    c.heading("Reporting Schedule", 3)
    c.paragraph(prose.paragraph(6))
    c.paragraph(prose.paragraph(6))
    c.heading("Closing Remarks", 2)
    c.paragraph(prose.paragraph(5))
    c.paragraph(prose.paragraph(4))
    furniture = c.furniture("Mivaa Bench Handbook Series", "Page {page} of {pages}")
    truth = GroundTruth(
        name="generated-single-column.pdf",
        pdf=path,
        origin="generated",
        blocks=tuple(c.blocks),
        headings=tuple(c.headings),
        furniture=tuple(furniture),
        hyphenated=tuple(c.hyphenated),
        notes="3 heading levels, hyphenated line breaks, bulleted lists, running header/footer",
    )
    c.save(path)
    return truth


def _two_column(path: pathlib.Path) -> GroundTruth:
    prose = _Prose(seed=23)
    c = _Composer(columns=2, margin=56.0, gutter=24.0, top=64.0)
    c.full_width_title("Tides, Fog and the Northern Harbour", "A two-column report generated for the Mivaa bench")
    # Enough text to fill both columns of two pages and run onto a third.
    sections = (
        "Morning Observations",
        "Afternoon Changes",
        "Evening Summary",
        "Night Watch",
        "Instruments Aboard",
        "Open Questions",
    )
    for section in sections:
        c.heading(section, 2)
        for sentences in (6, 5, 7):
            c.paragraph(prose.paragraph(sentences), first_indent=10.0, space_after=3.0)
    furniture = c.furniture(None, "{page}")
    truth = GroundTruth(
        name="generated-two-column.pdf",
        pdf=path,
        origin="generated",
        blocks=tuple(c.blocks),
        headings=tuple(c.headings),
        furniture=tuple(furniture),
        multi_column=True,
        hyphenated=tuple(c.hyphenated),
        notes="full-width title, text flows down column 1 then column 2",
    )
    c.save(path)
    return truth


def _tables(path: pathlib.Path) -> GroundTruth:
    prose = _Prose(seed=37)
    c = _Composer(columns=1)
    c.heading("Station Records", 1)
    c.paragraph(prose.paragraph(4))
    c.heading("A Ruled Table", 2)
    c.paragraph(prose.paragraph(3))
    c.table(
        [
            ["Station", "January (mm)", "February (mm)", "March (mm)", "Observer"],
            ["Northpoint", "112.4", "98.0", "87.5", "A. Lindqvist"],
            ["Gull Island", "143.9", "120.2", "101.7", "M. Okafor"],
            ["Harbour Mole", "95.1", "88.8", "79.3", "J. Ferreira"],
            ["Cape Varden", "167.0", "151.6", "133.2", "S. Nakamura"],
            ["Eastern Pier", "101.3", "92.4", "85.0", "R. Dubois"],
        ],
        ruled=True,
        caption="Table 1: Monthly rainfall by station",
    )
    c.paragraph(prose.paragraph(4))
    c.heading("A Table Without Rules", 2)
    c.paragraph(prose.paragraph(3))
    c.table(
        [
            ["Instrument", "Range", "Accuracy", "Serviced"],
            ["Aneroid barometer", "870 to 1085 hPa", "0.3 hPa", "every month"],
            ["Cup anemometer", "0.5 to 60 m/s", "2 percent", "after storms"],
            ["Wet bulb hygrometer", "5 to 100 percent", "3 percent", "weekly"],
            ["Rain gauge", "0 to 300 mm", "0.2 mm", "daily"],
            ["Sunshine recorder", "0 to 16 hours", "0.1 hours", "each season"],
        ],
        ruled=False,
        caption="Table 2: Instruments at the Northpoint station",
    )
    c.paragraph(prose.paragraph(5))
    # A second page, so the header and footer run (repeat) like real page furniture.
    c.heading("Notes on the Records", 2)
    for sentences in (6, 5, 6, 5, 6):
        c.paragraph(prose.paragraph(sentences))
    furniture = c.furniture("Mivaa Bench Station Annex", "Page {page}")
    truth = GroundTruth(
        name="generated-tables.pdf",
        pdf=path,
        origin="generated",
        blocks=tuple(c.blocks),
        headings=tuple(c.headings),
        tables=tuple(c.tables),
        furniture=tuple(furniture),
        hyphenated=tuple(c.hyphenated),
        notes="a ruled table and a table without rules, with captions; two pages",
    )
    c.save(path)
    return truth


GENERATORS = {"single-column": _single_column, "two-column": _two_column, "tables": _tables}


def generated_truths(out_dir: pathlib.Path = DEFAULT_GENERATED_DIR) -> list[GroundTruth]:
    """Writes the generated PDFs into `out_dir` (fresh each call, deterministic) and returns their truth."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [make(out_dir / f"generated-{name}.pdf") for name, make in GENERATORS.items()]


def all_truths(
    corpus_dir: pathlib.Path | None = DEFAULT_CORPUS_DIR, out_dir: pathlib.Path = DEFAULT_GENERATED_DIR
) -> list[GroundTruth]:
    return [*corpus_truths(corpus_dir), *generated_truths(out_dir)]


def describe(truths: Iterable[GroundTruth]) -> str:
    """One line per truth, for a quick look: `python bench/ground_truth.py`."""
    lines = []
    for t in truths:
        words = len(t.body_text.split())
        lines.append(
            f"{t.name:32} {t.origin:9} {words:6} words  {len(t.headings):3} headings  "
            f"{sum(len(x.cells()) for x in t.tables):3} cells  {len(t.furniture):3} furniture  "
            f"{len(t.hyphenated):3} hyphenated"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    truths = all_truths()
    print(describe(truths))
    if "-v" in sys.argv:
        for truth in truths:
            print(f"\n===== {truth.name}")
            for heading in truth.headings:
                print(f"  H{heading.level} {heading.display}")
            print(truth.body_text)
