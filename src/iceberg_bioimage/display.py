"""Small HTML for notebooks: one escaped table, shared by every ``_repr_html_``."""

from __future__ import annotations

import html
import string
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


def row_label(row: int) -> str:
    """A plate row's letters: A..Z, then AA, AB, ... (1536-well plates)."""
    letters = string.ascii_uppercase
    return (letters[row // 26 - 1] if row >= 26 else "") + letters[row % 26]


def well_name(row: int, column: int) -> str:
    return f"{row_label(row)}{column + 1:02d}"


def plate_grid(
    rows: int,
    columns: int,
    cells: dict[tuple[int, int], str],
    *,
    table_class: str = "plate",
    empty: str | None = None,
) -> str:
    """A plate as an HTML grid: ``cells`` maps (row, column) to a ready ``<td>``;
    other positions get ``empty`` (default: a cell marked missing)."""
    parts = [f"<table class='{table_class}'><tr><th></th>"]
    parts += [f"<th>{c + 1}</th>" for c in range(columns)]
    parts.append("</tr>")
    for r in range(rows):
        parts.append(f"<tr><th>{row_label(r)}</th>")
        for c in range(columns):
            name = well_name(r, c)
            parts.append(
                cells.get((r, c))
                or empty
                or f"<td class='well missing' data-well='{name}' title='{name}: no images'>"
                f"{name}</td>"
            )
        parts.append("</tr>")
    parts.append("</table>")
    return "".join(parts)
