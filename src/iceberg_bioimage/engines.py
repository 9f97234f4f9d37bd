"""Running one function over many items on a chosen engine: threads (the
default), processes (every core of this machine), Daft or Ray (optional
extras, imported lazily).

The function and its items must be picklable (a module-level function and
plain data): Daft and Ray may run them in other processes or on other
machines. Ray is started as a local cluster unless one is running already
(``ray.init`` honours ``RAY_ADDRESS``); failed Ray tasks are retried
(``RETRIES``), and what a failed attempt wrote is never referenced by the
result. Telemetry of both engines is switched off.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from iceberg_bioimage.errors import InputError, MissingDependencyError

T = TypeVar("T")
R = TypeVar("R")

ENGINES = ("threads", "processes", "daft", "ray")
# Libraries with thread pools of their own: a child forked after they ran can
# hang on a lock held by a thread that does not exist in the child (measured
# here with zarrs), so once one is loaded, pools start their workers fresh.
_FORK_UNSAFE = ("zarrs", "tensorstore")
RETRIES = 2


def run_all(
    function: Callable[[T], R],
    items: Sequence[T],
    engine: str = "threads",
    *,
    threads: int | None = None,
) -> list[R]:
    """``function`` over ``items`` on ``engine``; results in the items' order.
    ``threads`` caps the threads engine (default: one per core)."""
    if engine not in ENGINES:
        raise InputError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if not items:
        return []
    if engine == "threads":
        return _threads(function, items, threads)
    if engine == "processes":
        return _processes(function, items)
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    return _daft(function, items) if engine == "daft" else _ray(function, items)


def _threads(function: Callable[[T], R], items: Sequence[T], threads: int | None) -> list[R]:
    workers = min(len(items), threads or max(2, os.cpu_count() or 2))
    if workers <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))


def _processes(function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    from concurrent.futures import ProcessPoolExecutor

    workers = min(len(items), os.cpu_count() or 1)
    if workers <= 1:
        return [function(item) for item in items]
    # a spawned worker must also reach the stores its parent was configured for
    settings = sys.modules.get("iceberg_bioimage.io.settings")
    options = (settings.remote_options(),) if settings is not None else ()
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=process_context(),
        initializer=_use_remote_options if options else None,
        initargs=options,
    ) as pool:
        return list(pool.map(function, items))


def _use_remote_options(options: Any) -> None:
    from iceberg_bioimage.io.settings import use_remote_options

    use_remote_options(options)


def process_context() -> Any:
    """fork where it is safe and available (fast start), else spawn. Not safe:
    a library whose threads a child would lack (zarrs, TensorStore), or
    object-store requests made already (obstore's runtime: a forked child's
    requests wait forever)."""
    import multiprocessing
    import threading

    methods = multiprocessing.get_all_start_methods()
    main_thread = threading.current_thread() is threading.main_thread()
    remote = sys.modules.get("iceberg_bioimage.io.remote")
    unsafe = any(name in sys.modules for name in _FORK_UNSAFE) or (
        remote is not None and remote.remote_runtime_started()
    )
    return multiprocessing.get_context(
        "fork" if "fork" in methods and main_thread and not unsafe else "spawn"
    )


def _daft(function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    import pickle

    try:
        import daft
    except ImportError:
        raise MissingDependencyError("daft", "daft", "the Daft engine") from None

    @daft.func(return_dtype=daft.DataType.binary())
    def apply(payload: bytes) -> bytes:
        return pickle.dumps(function(pickle.loads(payload)))

    frame = daft.from_pydict(
        {"index": list(range(len(items))), "item": [pickle.dumps(i) for i in items]}
    )
    rows = frame.with_column("out", apply(frame["item"])).select("index", "out").to_pydict()
    ordered = sorted(zip(rows["index"], rows["out"], strict=True))
    return [pickle.loads(out) for _, out in ordered]


def _ray(function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("ray", "ray", "the Ray engine") from None
    if not ray.is_initialized():
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
    remote = ray.remote(max_retries=RETRIES, retry_exceptions=True)(function)
    return list(ray.get([remote.remote(item) for item in items]))


def engine_available(engine: str) -> bool:
    import importlib.util

    return engine == "threads" or importlib.util.find_spec(engine) is not None
