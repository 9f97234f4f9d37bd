"""Find stores under a folder without descending into them."""

from __future__ import annotations

import os

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
    """Every store under ``root`` (or ``root`` itself), sorted; stores are leaves."""
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
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            if is_zarr_dir(entry.path):
                found.append(entry.path)
            else:
                pending.append(entry.path)
    return sorted(found)
