"""Identity rules shared by every format reader.

The same plate stored as OME-Zarr or as OME-TIFF must give the same
``dataset_id``, ``plate_id``, ``well_id``, ``site_id`` and ``image_id``; these
functions are the only place those values are formed.
"""

from __future__ import annotations

import re

# Longest first, so ".ome.zarr" wins over ".zarr".
STORE_SUFFIXES = (
    ".companion.ome",
    ".ome.zarr",
    ".ome.tiff",
    ".ome.tif",
    ".ome.btf",
    ".ome.tf2",
    ".ome.tf8",
    ".zarr",
    ".tiff",
    ".tif",
    ".btf",
    ".zr",
)

_WELL_PATTERN = re.compile(r"^\s*([A-Za-z]+)\s*[/_\-\s]?\s*0*(\d+)\s*$")
_ROOT_IMAGE_ID = "0"


def checked_dataset_id(text: str) -> str:
    """A dataset id given by a user: non-empty, no surrounding spaces, no path
    separators or control characters, not ``.`` or ``..`` (ids name folders and
    partitions downstream)."""
    from iceberg_bioimage.errors import InputError
    from iceberg_bioimage.io.paths import printable

    bad = (
        not text
        or text != text.strip()
        or text in (".", "..")
        or any(c in text for c in "/\\")
        or any(ord(c) < 32 or ord(c) == 127 for c in text)
    )
    if bad:
        raise InputError(
            f"dataset id {printable(repr(text))} is not usable: give a non-empty name "
            "without slashes, control characters or surrounding spaces"
        )
    return text


def dataset_id_from_name(name: str) -> str:
    """The store's name without its format suffix (case-insensitive)."""
    lowered = name.lower()
    for suffix in STORE_SUFFIXES:
        if lowered.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def well_id(row: str | int, column: str | int) -> str:
    """Canonical well id: upper-case row letters and a zero-padded column (B03)."""
    row_text = row_letters(row)
    column_text = str(column).strip()
    if column_text.isdigit():
        column_text = f"{int(column_text):02d}"
    return f"{row_text}{column_text}"


def row_letters(row: str | int) -> str:
    """A row as letters: ``"b"`` -> ``"B"``, ``1`` (0-based index) -> ``"B"``."""
    if isinstance(row, int):
        letters = ""
        index = row + 1
        while index:
            index, remainder = divmod(index - 1, 26)
            letters = chr(65 + remainder) + letters
        return letters
    return row.strip().upper()


def normalize_well_id(text: str) -> str | None:
    """Normalise a well written as ``B03``, ``B3``, ``b03``, ``B/3`` or ``B_03``.

    Returns None when the text does not look like a well.
    """
    match = _WELL_PATTERN.match(str(text))
    if match is None:
        return None
    return well_id(match.group(1), match.group(2))


def hcs_image_id(plate_id: str, well: str, site: int) -> str:
    """Image id of one field of view in a plate: ``<plate>/<well>/<site>``."""
    return f"{plate_id}/{well}/{site}"


def path_image_id(path: str) -> str:
    """Image id of a non-HCS image: its path in the store, ``"0"`` at the root."""
    return path.strip("/") or _ROOT_IMAGE_ID


def label_image_id(parent_image_id: str, label_name: str) -> str:
    """Image id of a label image, linked to its parent image."""
    return f"{parent_image_id}/labels/{label_name}"
