"""Table detection for one page: where the tables are and what their cells say.

The stage must cost next to nothing on the many pages without a table (the page
pipeline runs at hundreds of pages a second per core), so it works in three
steps, each dearer than the one before and each run only when the previous one
found something:

1. Text pre-filter (`runs.py`, every page; the boxes of the text lines the
   backend read, `pymupdf_backend.PageSource.lines`). MuPDF cuts a visual
   line into separate "lines" at wide horizontal gaps, so table cells arrive
   as separate lines. Lines are clustered into rows by
   their vertical centre; pieces closer than ~0.6 em are merged, so a row with
   two or more pieces left is a *multi-cell row*. A *run* is a sequence of such
   rows, close together, whose gaps line up: they share a whitespace gutter with
   overlapping text on both sides of it in every row (left-, right- and
   centre-aligned columns all satisfy that; a page header's wide gap does not).
   A row whose pieces each sit under their own piece of the row above (the
   wrapped lines of a few cells, "fitting" | "painted") stays in the run.
   Scattered figure labels, sub-figure captions, aligned mathematics, dot-leader
   tables of contents and bullet lists do not make runs. No run: no table, and
   nothing else is computed (0.3 ms a page on a maths thesis full of equations).

2. Rules (`rules.py`, `frames.py`; suspected pages only): the page's drawings
   (`PageSource.drawings`, extracted on first use) cost about as much as the
   text extraction, so a page the pre-filter cleared never pays for them.
   Stroked lines, thin filled rectangles and the sides of stroked rectangles
   become horizontal and vertical rules, collinear pieces merged; white rules
   count (they separate shaded cells). Filled areas count only where they are
   stacked like shaded cells; a lone banner or tinted box adds nothing.
   Horizontal rules of about the same extent are chained, top to bottom, into a
   *frame* for as long as the band between two rules holds table-like text
   rather than prose: booktabs top/mid/bottom rules, a rule under every row and
   full grids all become frames. Rules under a running header and above a
   footer, which frame the whole page, do not.

3. Grid analysis (`columns.py`, `grid.py`, `cells.py`; inside a frame, or for
   a run without rules):
   - columns: inner vertical rules, and inside each ruled column the text's
     own gutters (so "Top-20" over five numbers is five columns under one
     spanning header); without vertical rules, the gutters of the rows with
     the most cells, which a spanning header may cross. Lines MuPDF joined
     across a gutter ("Top-1 Top-5 Top-20") are cut at the space there.
   - rows: the bands between horizontal rules, split into the text rows they
     hold, where a text row that only continues wrapped cells of the row above
     (a lowercase start, a hyphen, a line above that filled its column) joins
     that row; a text row further below the text of its columns than a wrapped
     cell's line pitch (cells padded apart, as HTML and office tables are) is
     a new row whatever its text says. A band holding paragraphs in ruled cells is one row; so is every
     band of a table with a rule under each row. A label centred beside two
     rows ("Single" beside "DPR" and "BM25+DPR") spans both.
   - spans: in a ruled grid, a missing rule segment merges two grid cells; a
     text piece crossing a gutter spans those columns; a header cell alone
     between two vertical rules spans them; a header cell with nothing below it
     in the next header row spans both header rows. Without rules: two bold
     header rows over a body that is not bold are a two-level header (a top
     cell followed by empty slots heads the sub-headers under them, one with
     nothing under it spans both rows), and a body row whose first cell is
     empty while others are filled lies under the key cell above it.
   - header: the rows above a full-width rule the body does not repeat
     (booktabs \\midrule), else leading bold rows over a body that is not all
     bold, else a non-numeric first row over numeric columns, else a first row
     in a font of its own.

   A candidate is dropped (`filters.py`) when it is not a table after all: fewer than two
   rows or columns with text, mostly empty (a drawing's grid), mostly
   mathematics, a table of contents, a two-column list. Without rules between
   rows or columns (a run, or a frame of just a top and a bottom rule, which is
   as often a box around two columns of prose), a table needs three columns,
   three rows, most rows filled and a numeric column.

Cell text: whitespace collapsed, a word hyphenated at a cell's line end joined
("exam-" + "ple"), raised digits kept raised ("km²", "750¹") rather than run
into the number before them; spans, fonts (bold) and broken glyphs (control
characters) by the text backend's rules (`lines.py` reads nothing itself).
Right-to-left lines come in the logical order the backend rebuilt from the
glyph positions (`bidi.py`), not in the order their spans are drawn; a table
whose letters are mostly Hebrew or Arabic is numbered from its right edge
(its first column is the rightmost), as it is read.

PyMuPDF's `page.find_tables()` is not used: it took 70-400 ms a page on the
corpus, and its text strategy mangled numbers ("8.9" came out as "89\\n.").

Coordinates are those of the text lines and the drawings: PyMuPDF's unrotated
page space, the space the rest of the structure stage works in.

`detect_tables(source)` (`detect.py`) composes the steps.
"""

from mivaa_extractor.extraction.structure.tables.detect import DetectedTable, detect_tables

__all__ = ["DetectedTable", "detect_tables"]
