"""Escaping what exports print: one rule for every CSV cell and every Markdown line govflow writes.

CSV: text a spreadsheet would take for a formula (it starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) gets a leading apostrophe. Markdown: no raw HTML (``<``, ``>``
and ``&`` as entities), no line breaks, no stray column bars, and no link syntax (``[``,
``]`` escaped), so that text from a caller can neither break a table nor become a link
(``[here](javascript:…)``) or an HTML element.
"""

from __future__ import annotations

import html
from typing import Final

__all__ = ["FORMULA_STARTS", "csv_text", "md_text"]

#: The first characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """``text`` for a CSV cell: a leading apostrophe when a spreadsheet would take it for a formula."""
    return "'" + text if text[:1] in FORMULA_STARTS else text


def md_text(text: str) -> str:
    """``text`` for a Markdown line or table cell (see the module's docstring)."""
    text = html.escape(text.replace("\\", "\\\\"), quote=False)
    text = text.replace("|", "\\|").replace("[", "\\[").replace("]", "\\]")
    return " ".join(text.splitlines())
