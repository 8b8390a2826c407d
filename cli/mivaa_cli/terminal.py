"""Server-provided text made safe to print on a terminal.

Titles, file names, captions, error details and the like come from documents and
from other users: printed raw, an ESC or CSI (C0/C1 controls) in them would drive the
terminal (move the cursor, rewrite earlier lines, set the window title, ...). Every
string the CLI prints from the server goes through `printable`, which shows such
characters as visible escapes and keeps ordinary Unicode as it is.
"""

from __future__ import annotations

# C0 controls, DEL and C1 controls; the bidirectional overrides and isolates (text that
# displays in another order than it reads) and the line/paragraph separators.
_UNSAFE = [
    *range(0x20),
    0x7F,
    *range(0x80, 0xA0),
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    0x2028,
    0x2029,
]
_TEXT = {code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}") for code in _UNSAFE}
# Inside JSON a \\u escape keeps the document valid (json already escapes C0 itself).
_JSON = {code: f"\\u{code:04x}" for code in _UNSAFE if code >= 0x20}
_TEXT_LINES = {code: escape for code, escape in _TEXT.items() if chr(code) not in "\n\t"}


def printable(text: object, *, keep_lines: bool = False, json: bool = False) -> str:
    """`text` with terminal controls shown as escapes (\\x1b, \\u202e).

    keep_lines: newlines and tabs pass (multi-line text such as an export);
    json: `text` is JSON and escapes stay valid JSON.
    """
    return str(text).translate(_JSON if json else _TEXT_LINES if keep_lines else _TEXT)
