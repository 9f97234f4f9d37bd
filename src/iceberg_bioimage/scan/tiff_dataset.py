"""A TIFF dataset: one file, or every TIFF directly inside one folder."""

from __future__ import annotations

import os
import re
from collections import Counter
from functools import partial
from typing import Any

from iceberg_bioimage.engines import process_context
from iceberg_bioimage.errors import EmptyStoreError, InputError
from iceberg_bioimage.io.uri import file_uri
from iceberg_bioimage.models import ScanResult, ScanWarning
from iceberg_bioimage.scan.tiff import (
    TiffFileScan,
    TiffReadError,
    absolute,
    is_tiff_name,
    make_context,
    scan_tiff_file,
    scan_tiff_handle,
)

_DIGITS = re.compile(r"(\d+)")
_PROCESS_THRESHOLD = 256  # files; below this one process is faster


def tiff_files_in(folder: str) -> list[str]:
    """TIFF and companion files directly inside ``folder``, sorted."""
    try:
        with os.scandir(folder) as entries:
            return sorted(e.path for e in entries if e.is_file() and is_tiff_name(e.name))
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []


def scan_tiff_path(path: str, dataset_id: str) -> ScanResult:
    """One TIFF file as its own dataset: an unreadable file is an input error."""
    if not os.path.isfile(path):  # a pipe or a device: reading it would wait forever
        raise InputError(f"{os.path.abspath(path)}: not a regular file (a pipe or a device)")
    context = make_context(dataset_id, os.path.dirname(os.path.abspath(path)), in_folder=False)
    try:
        scan = scan_tiff_file(path, context)
    except TiffReadError as error:
        raise InputError(str(error)) from None
    return _result(dataset_id, path, [scan], [])


def scan_tiff_object(store: Any, dataset_id: str) -> ScanResult:
    """One remote TIFF file as its own dataset, its header and OME-XML read by
    byte ranges (never the whole file)."""

    uri = store.uri
    context = make_context(dataset_id, uri.rsplit("/", 1)[0], in_folder=False)
    try:
        scan = scan_tiff_handle(store.open_file(""), uri, context)
    except TiffReadError as error:
        raise InputError(str(error)) from None
    return _result(dataset_id, uri, [scan], [])


def scan_tiff_remote_folder(store: Any, dataset_id: str, *, workers: int = 16) -> ScanResult:
    """Every TIFF directly under a remote prefix as one dataset: one listing
    (no metadata names the files), then each header by byte ranges, concurrently."""
    from concurrent.futures import ThreadPoolExecutor

    from iceberg_bioimage.io.remote import RangeFile

    listing = store.list_dir("")
    names = sorted(n for n in listing.files if is_tiff_name(n))
    if not names:
        raise InputError(f"{store.uri}: no Zarr metadata and no TIFF files under this prefix")
    context = make_context(dataset_id, store.uri, in_folder=True)

    def read(name: str) -> TiffFileScan | ScanWarning:
        uri = f"{store.uri}/{name}"
        try:
            return scan_tiff_handle(RangeFile(store, name, size=listing.files[name]), uri, context)
        except TiffReadError as error:
            return ScanWarning(name, str(error).split(": ", 1)[-1])

    with ThreadPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(read, names))
    scans = [o for o in outcomes if isinstance(o, TiffFileScan)]
    failures = [o for o in outcomes if isinstance(o, ScanWarning)]
    return _result(dataset_id, store.uri, _one_scan_per_fileset(scans), failures)


def scan_tiff_folder(folder: str, dataset_id: str, *, workers: int | None = None) -> ScanResult:
    """Every TIFF directly in ``folder`` as one dataset; bad files become warnings.

    Reading a TIFF header is CPU-bound Python, so large folders are spread over
    processes (``workers``, default: the machine's cores); small ones stay in
    this process, where starting workers would cost more than it saves.
    """
    files = tiff_files_in(folder)
    read = partial(_read_one, make_context(dataset_id, folder, in_folder=True))
    workers = workers or os.cpu_count() or 1
    if workers > 1 and len(files) >= _PROCESS_THRESHOLD:
        chunk = max(8, len(files) // (workers * 8))
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, mp_context=process_context()) as pool:
            outcomes = list(pool.map(read, files, chunksize=chunk))
    else:
        outcomes = [read(f) for f in files]
    scans = [o for o in outcomes if isinstance(o, TiffFileScan)]
    failures = [o for o in outcomes if isinstance(o, ScanWarning)]
    return _result(dataset_id, folder, _one_scan_per_fileset(scans), failures)


def _read_one(context: Any, path: str) -> TiffFileScan | ScanWarning:
    try:
        return scan_tiff_file(path, context)
    except TiffReadError as error:
        return ScanWarning(os.path.basename(path), str(error).split(": ", 1)[-1])


def _one_scan_per_fileset(scans: list[TiffFileScan]) -> list[TiffFileScan]:
    """Files of a multi-file fileset all carry its OME-XML: keep the first one
    (companions first), and BinaryOnly files whose companion is in the folder."""
    present = {absolute(s.path) for s in scans}
    ordered = sorted(scans, key=lambda s: (not s.path.lower().endswith(".companion.ome"), s.path))
    covered: set[str] = set()
    kept = []
    for scan in ordered:
        here = absolute(scan.path)
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
        duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
        warnings.append(ScanWarning("", f"duplicate image ids: {', '.join(duplicates[:5])}"))
    family = "ome-tiff" if any(a.format_family == "ome-tiff" for a in assets) else "tiff"
    return ScanResult(
        dataset_id=dataset_id,
        uri=file_uri(path),
        format_family=family,
        image_assets=tuple(assets),
        warnings=tuple(warnings),
    )


def _natural(text: str) -> tuple[Any, ...]:
    return tuple(int(p) if p.isdigit() else p for p in _DIGITS.split(text))
