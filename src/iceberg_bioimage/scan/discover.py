"""Find stores under a folder without descending into them."""

from __future__ import annotations

import os

from iceberg_bioimage.scan.tiff import is_tiff_name

_ZARR_MARKERS = ("zarr.json", ".zgroup", ".zarray")
_ZARR_SUFFIXES = (".zarr", ".zr")


def is_zarr_dir(path: str) -> bool:
    """A directory that is the root of a Zarr store."""
    if not os.path.isdir(path):
        return False
    if path.rstrip("/").lower().endswith(_ZARR_SUFFIXES):
        return True
    return any(os.path.exists(os.path.join(path, marker)) for marker in _ZARR_MARKERS)


def find_stores(root: str) -> list[str]:
    """Every store under ``root`` (or ``root`` itself), sorted.

    Zarr stores are leaves (never descended into); a folder holding TIFF files
    is a store of its own (its TIFFs form one dataset) and is still searched
    for sub-folders.
    """
    if is_zarr_dir(root):
        return [root]
    found: list[str] = []
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        if any(e.is_file() and is_tiff_name(e.name) for e in entries):
            found.append(folder)
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            if is_zarr_dir(entry.path):
                found.append(entry.path)
            else:
                pending.append(entry.path)
    return sorted(found)
