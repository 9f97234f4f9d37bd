"""The pixel layer's one protocol, and the registry of its implementations.

A backend opens an :class:`ArraySource` (one level of one ``image_assets``
row) as a :class:`PixelArray`; an array reads one region, or many at once, as
numpy arrays in the row's axis order. Backends are chosen by name
(``backend="zarr"``, ``"zarrs"``, ``"tensorstore"``, ``"tifffile"``) or by
``"auto"``: the fastest one installed that can read the source. Third parties
add backends through the ``iceberg_bioimage.pixel_backends`` entry point group
(the entry point names a factory returning a :class:`Backend`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from iceberg_bioimage.errors import InputError, MissingDependencyError
from iceberg_bioimage.pixels.source import ArraySource

Region = tuple[slice, ...]
ENTRY_POINT_GROUP = "iceberg_bioimage.pixel_backends"


@runtime_checkable
class PixelArray(Protocol):
    """One opened level: regions read as numpy arrays in the source's axis order."""

    source: ArraySource

    def read(self, region: Region) -> np.ndarray: ...

    def read_many(self, regions: Sequence[Region]) -> list[np.ndarray]: ...

    def close(self) -> None: ...


@runtime_checkable
class Backend(Protocol):
    """Opens sources. ``available()`` says whether its library is installed;
    ``supports(source)`` whether it reads that kind of source."""

    name: str
    rank: int  # lower is preferred by backend="auto"

    def available(self) -> bool: ...

    def supports(self, source: ArraySource) -> bool: ...

    def open(self, source: ArraySource) -> PixelArray: ...


_BUILTIN: dict[str, Callable[[], Backend]] = {}
_REGISTERED: dict[str, Backend] = {}


def builtin(name: str) -> Callable[[Callable[[], Backend]], Callable[[], Backend]]:
    """Decorator: ``factory`` makes the built-in backend called ``name``."""

    def register(factory: Callable[[], Backend]) -> Callable[[], Backend]:
        _BUILTIN[name] = factory
        return factory

    return register


def register_backend(backend: Backend) -> None:
    """Add (or replace) a backend under its ``name``."""
    if not isinstance(backend, Backend):
        raise InputError(f"{backend!r} does not implement the pixel Backend protocol")
    _REGISTERED[backend.name] = backend


def backends() -> dict[str, Backend]:
    """Every known backend by name: built-in, entry points, then registered ones."""
    found = dict(_discovered())
    found.update(_REGISTERED)
    return found


@functools.cache
def _discovered() -> dict[str, Backend]:
    """Built-in and entry-point backends, looked up once per process."""
    from importlib import metadata

    _load_builtins()
    found: dict[str, Backend] = {name: factory() for name, factory in _BUILTIN.items()}
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            found[entry.name] = entry.load()()
        except Exception as error:  # a broken plug-in must not break the others
            import logging

            logging.getLogger("iceberg_bioimage").warning(
                "pixel backend %s could not be loaded: %s", entry.name, error
            )
    return found


def available_backends() -> list[str]:
    """Names of the backends whose libraries are installed, preferred first."""
    known = backends()
    usable = [b for b in known.values() if b.available()]
    return [b.name for b in sorted(usable, key=lambda b: (b.rank, b.name))]


def choose_backend(name: str, source: ArraySource) -> Backend:
    """The backend called ``name`` (``"auto"``: the preferred installed one that
    reads ``source``), or a clear error."""
    known = backends()
    if name == "auto":
        usable = [b for b in known.values() if b.available() and b.supports(source)]
        if not usable:
            raise InputError(f"{source.image_id}: no installed pixel backend reads {source.kind}")
        return min(usable, key=lambda b: (b.rank, b.name))
    backend = known.get(name)
    if backend is None:
        raise InputError(f"unknown pixel backend {name!r} (known: {', '.join(sorted(known))})")
    if not backend.available():
        raise MissingDependencyError(name, name, f"the {name} pixel backend")
    if not backend.supports(source):
        raise InputError(f"{source.image_id}: the {name} backend does not read {source.kind}")
    return backend


def open_array(source: ArraySource, backend: str = "auto") -> PixelArray:
    """Open ``source`` with the named backend."""
    return choose_backend(backend, source).open(source)


def _load_builtins() -> None:
    from iceberg_bioimage.pixels import tiff_backend, ts_backend, zarr_backend  # noqa: F401


def check_region(source: ArraySource, region: Region) -> Region:
    """``region`` as one bounded step-1 slice per axis, inside the array."""
    if len(region) != len(source.shape):
        raise InputError(f"{source.image_id}: a region needs {len(source.shape)} slices")
    checked = []
    for sl, size in zip(region, source.shape, strict=True):
        start, stop, step = sl.indices(size)
        if step != 1 or stop < start:
            raise InputError(f"{source.image_id}: regions are contiguous, got {sl}")
        checked.append(slice(start, stop))
    return tuple(checked)


def thread_map(read: Callable[[Any], np.ndarray], items: Sequence[Any]) -> list[np.ndarray]:
    """``read`` over ``items`` on a small thread pool (the readers release the GIL)."""
    if len(items) <= 1:
        return [read(item) for item in items]
    import os
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(len(items), (os.cpu_count() or 2) * 2)) as pool:
        return list(pool.map(read, items))
