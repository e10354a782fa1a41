"""What reaches the terminal: data is escaped for rich and stripped of control characters.

Every string that comes from a user or from the rule data (names, ids, answers, messages that
quote them, file names) goes through :func:`esc` before it is put into a rich markup string or a
table cell, so ``[/]`` cannot break the output (rich's ``MarkupError``) and ``[bold]x[/bold]``
cannot restyle it; and through :func:`clean` (``esc`` does both) so that ESC, NUL, BEL,
backspace and the other C0/C1 control characters — and the bidirectional overrides that reorder
what a reader sees — never reach the terminal raw.  Plain ``click.echo`` output (errors,
warnings) is cleaned too.  The consoles flowmatch makes (:func:`console`) also turn off rich's
``:emoji:`` codes and highlighting, which would otherwise rewrite data.
"""

from __future__ import annotations

import re
import sys
from typing import Any

__all__ = ["clean", "console", "esc"]

# C0 controls but tab and newline, DEL, C1 controls, and the Unicode bidirectional controls
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: object) -> str:
    """``text`` as a string without control characters (each becomes ``�``, so it stays visible
    that something was there); tabs and newlines are kept."""
    return _CONTROL.sub("\ufffd", str(text))


def esc(text: object) -> str:
    """``text`` cleaned and escaped for rich markup: shown exactly as written."""
    from rich.markup import escape

    return escape(clean(text))


def console(*, stderr: bool = False, width: int | None = None) -> Any:
    """A rich console for flowmatch's own markup: no emoji codes, no automatic highlighting."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    if width is None and not stream.isatty():
        width = 160
    return Console(stderr=stderr, highlight=False, emoji=False, soft_wrap=True, width=width)
