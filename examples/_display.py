"""A plain-text table for the examples: Chinese characters take two columns."""

from __future__ import annotations

import unicodedata


def width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, columns: int) -> str:
    return text + " " * max(0, columns - width(text))


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(width(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = ["  ".join(pad(h, w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(pad(str(c), w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(lines)
