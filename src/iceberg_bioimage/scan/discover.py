"""Find stores under a folder without descending into them."""

from __future__ import annotations

import os

from iceberg_bioimage.io.paths import within
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
    real_root = os.path.realpath(root)
    seen: set[tuple[int, int]] = set()  # (device, inode) of folders walked: no loops
    found: list[str] = []
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:  # vanished, unreadable, a link loop
            continue
        if any(_is_file(e) and is_tiff_name(e.name) for e in entries):
            found.append(folder)
        for entry in entries:
            if entry.name.startswith(".") or not _is_dir(entry):
                continue
            if entry.is_symlink() and not within(real_root, os.path.realpath(entry.path)):
                continue  # never followed out of the folder searched
            if is_zarr_dir(entry.path):
                found.append(entry.path)
            else:
                pending.append(entry.path)
    return sorted(found)


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a link loop
        return False


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False
