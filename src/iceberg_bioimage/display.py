"""Small HTML for notebooks: one escaped table, shared by every ``_repr_html_``."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any


def html_table(
    rows: Iterable[Sequence[Any]], header: Sequence[str] | None = None, caption: str | None = None
) -> str:
    """An HTML table of escaped cells (None shows as empty)."""
    parts = ['<table class="ib-table">']
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    if header:
        parts.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>")
    for row in rows:
        cells = "".join(f"<td>{html.escape(_text(v))}</td>" for v in row)
        parts.append(f"<tr>{cells}</tr>")
    parts.append("</table>")
    return "".join(parts)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    return str(value)
