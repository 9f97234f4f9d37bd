"""A TIFF dataset: one file, or every TIFF directly inside one folder."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from iceberg_bioimage.errors import EmptyStoreError, InputError
from iceberg_bioimage.models import ScanResult, ScanWarning
from iceberg_bioimage.scan.tiff import (
    TiffFileScan,
    TiffReadError,
    is_tiff_name,
    make_context,
    scan_tiff_file,
)

_DIGITS = re.compile(r"(\d+)")


def tiff_files_in(folder: str) -> list[str]:
    """TIFF and companion files directly inside ``folder``, sorted."""
    try:
        with os.scandir(folder) as entries:
            return sorted(e.path for e in entries if e.is_file() and is_tiff_name(e.name))
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []


def scan_tiff_path(path: str, dataset_id: str) -> ScanResult:
    """One TIFF file as its own dataset: an unreadable file is an input error."""
    context = make_context(dataset_id, os.path.dirname(os.path.abspath(path)), in_folder=False)
    try:
        scan = scan_tiff_file(path, context)
    except TiffReadError as error:
        raise InputError(str(error)) from None
    return _result(dataset_id, path, [scan], [])


def scan_tiff_folder(folder: str, dataset_id: str, *, max_workers: int = 4) -> ScanResult:
    """Every TIFF directly in ``folder`` as one dataset; bad files become warnings."""
    files = tiff_files_in(folder)
    context = make_context(dataset_id, folder, in_folder=True)

    def read(path: str) -> TiffFileScan | ScanWarning:
        try:
            return scan_tiff_file(path, context)
        except TiffReadError as error:
            return ScanWarning(os.path.basename(path), str(error).split(": ", 1)[-1])

    if len(files) > 1 and max_workers > 1:
        with ThreadPoolExecutor(max_workers=max_workers) as pool:
            outcomes = list(pool.map(read, files, chunksize=32))
    else:
        outcomes = [read(f) for f in files]
    scans = [o for o in outcomes if isinstance(o, TiffFileScan)]
    failures = [o for o in outcomes if isinstance(o, ScanWarning)]
    return _result(dataset_id, folder, _one_scan_per_fileset(scans), failures)


def _one_scan_per_fileset(scans: list[TiffFileScan]) -> list[TiffFileScan]:
    """Files of a multi-file fileset all carry its OME-XML: keep the first one
    (companions first), and BinaryOnly files whose companion is in the folder."""
    present = {os.path.abspath(s.path) for s in scans}
    ordered = sorted(scans, key=lambda s: (not s.path.lower().endswith(".companion.ome"), s.path))
    covered: set[str] = set()
    kept = []
    for scan in ordered:
        here = os.path.abspath(scan.path)
        if here in covered or (scan.binary_only_of and scan.binary_only_of in present):
            continue
        covered |= scan.covers
        kept.append(scan)
    return kept


def _result(
    dataset_id: str, path: str, scans: list[TiffFileScan], failures: list[ScanWarning]
) -> ScanResult:
    assets = sorted((a for s in scans for a in s.assets), key=lambda a: _natural(a.image_id))
    warnings = failures + [w for s in scans for w in s.warnings]
    if not assets:
        detail = f" ({warnings[0]})" if warnings else ""
        raise EmptyStoreError(f"{path}: no readable TIFF image{detail}")
    ids = [a.image_id for a in assets]
    if len(set(ids)) != len(ids):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        warnings.append(ScanWarning("", f"duplicate image ids: {', '.join(duplicates[:5])}"))
    family = "ome-tiff" if any(a.format_family == "ome-tiff" for a in assets) else "tiff"
    return ScanResult(
        dataset_id=dataset_id,
        uri=_uri(path),
        format_family=family,
        image_assets=tuple(assets),
        warnings=tuple(warnings),
    )


def _uri(path: str) -> str:
    from pathlib import Path

    return Path(os.path.abspath(path)).as_uri()


def _natural(text: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in _DIGITS.split(text))
