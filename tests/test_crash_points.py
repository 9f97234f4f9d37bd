"""A writer killed at every step of a commit (a real kill: ``os._exit`` in a
child process, no cleanup runs) leaves a warehouse root that validates as its
old state or its new one, and a catalog whose tables hold the old rows or the
new ones; the next write recovers and succeeds. Readers never fail while a
table is overwritten."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pyarrow as pa
import pytest

import iceberg_bioimage as ib
from fixtures import writers
from iceberg_bioimage.cli import main

# The child counts the store (or catalog) calls of a commit and dies at step
# STEP, before or after performing it.
KILLER = textwrap.dedent(
    """
    import os, sys
    step, when = int(os.environ["STEP"]), os.environ["WHEN"]
    calls = [0]

    def dying(method):
        def wrapped(*args, **kwargs):
            calls[0] += 1
            if calls[0] == step and when == "before":
                os._exit(9)
            result = method(*args, **kwargs)
            if calls[0] == step and when == "after":
                os._exit(9)
            return result
        return wrapped

    {patch}
    from iceberg_bioimage.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)
STORE_PATCH = """
from iceberg_bioimage.io.local import LocalStore
for name in ("put", "put_file", "put_if", "delete"):
    setattr(LocalStore, name, dying(getattr(LocalStore, name)))
"""
CATALOG_PATCH = """
from pyiceberg.catalog.sql import SqlCatalog
SqlCatalog.commit_table = dying(SqlCatalog.commit_table)
"""


def _killed_at(step: int, when: str, patch: str, args: list[str], env: dict) -> int:  # type: ignore[type-arg]
    code = KILLER.replace("{patch}", patch)
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env | {"STEP": str(step), "WHEN": when},
        capture_output=True,
        text=True,
    )
    assert done.returncode in (0, 9), done.stderr[-2000:]
    return done.returncode


def _row_counts(root: Path) -> dict[str, int]:
    manifest = json.loads((root / "warehouse_manifest.json").read_text())
    return {t["table_name"]: t["row_count"] for t in manifest["tables"]}


def test_a_warehouse_write_killed_at_every_step_leaves_a_valid_root(tmp_path: Path) -> None:
    small = writers.write_plate(tmp_path / "a" / "plate.ome.zarr", version="0.5", rows="A",
                                columns=("1",), fields=1)  # fmt: skip
    large = writers.write_plate(tmp_path / "b" / "plate.ome.zarr", version="0.5", rows="AB",
                                columns=("1", "2"), fields=1)  # fmt: skip
    import os

    env = os.environ | {"ICEBERG_BIOIMAGE_RETIRE_SECONDS": "0"}
    reference = tmp_path / "reference"
    assert main(["export-cytomining", "-w", str(reference), str(large), "-q"]) == 0
    new = _row_counts(reference)
    steps_seen = 0
    for when in ("before", "after"):
        for step in range(1, 40):
            root = tmp_path / f"wh-{when}-{step}"
            assert main(["export-cytomining", "-w", str(root), str(small), "-q"]) == 0
            old = _row_counts(root)
            args = ["export-cytomining", "-w", str(root), str(large), "-q"]
            finished = _killed_at(step, when, STORE_PATCH, args, env) == 0
            assert main(["validate-warehouse", str(root), "-q"]) == 0, (when, step)
            assert _row_counts(root) in (old, new), (when, step)
            assert main(args) == 0  # the next write settles the journal and succeeds
            assert main(["validate-warehouse", str(root), "-q"]) == 0
            assert _row_counts(root) == new
            assert not list((root / ".staging").glob("*/"))
            if finished:
                steps_seen = max(steps_seen, step)
                break
    assert steps_seen >= 4  # plan, parts, manifest, retired list at least


def test_a_catalog_write_killed_at_every_commit_leaves_old_or_new_rows(tmp_path: Path) -> None:
    import os

    first = writers.write_plate(tmp_path / "plate.ome.zarr", version="0.5", rows="A",
                                columns=("1",), fields=1)  # fmt: skip
    env = os.environ | {"ICEBERG_BIOIMAGE_HOME": str(tmp_path / "home")}
    os.environ["ICEBERG_BIOIMAGE_HOME"] = str(tmp_path / "home")
    try:
        assert main(["register", str(first), "--publish-chunks", "-q"]) == 0
        old = ib.catalog_table_to_arrow(None, "images.image_assets").num_rows
        grown = writers.write_plate(tmp_path / "g" / "plate.ome.zarr", version="0.5", rows="A",
                                    columns=("1",), fields=3)  # fmt: skip
        args = ["register", str(grown), "--publish-chunks", "--replace", "-q"]
        new = len(ib.scan_store(grown).image_assets)
        for when in ("before", "after"):
            for step in range(1, 6):
                finished = _killed_at(step, when, CATALOG_PATCH, args, env) == 0
                rows = ib.catalog_table_to_arrow(None, "images.image_assets").num_rows
                assert rows in (old, new), (when, step)
                assert main(args) == 0
                assert ib.catalog_table_to_arrow(None, "images.image_assets").num_rows == new
                chunks = ib.catalog_table_to_arrow(None, "images.chunk_index").num_rows
                assert chunks == len(ib.chunk_index_table(grown))
                assert main(["register", str(first), "--publish-chunks", "--replace", "-q"]) == 0
                if finished:
                    break
    finally:
        del os.environ["ICEBERG_BIOIMAGE_HOME"]


@pytest.mark.slow
def test_readers_never_fail_while_a_table_is_overwritten(tmp_path: Path) -> None:
    root = tmp_path / "wh"
    table = pa.table({"dataset_id": ["d"] * 100, "image_id": [f"i{i}" for i in range(100)]})
    args = {"table_name": "emb", "role": "embeddings", "namespace": "profiles"}
    ib.export_table_to_cytomining_warehouse(table, root, mode="overwrite", **args)
    failures: list[str] = []
    reads = [0]
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                assert ib.open_warehouse(root).table("profiles.emb").num_rows == 100
                reads[0] += 1
            except Exception as error:
                failures.append(repr(error))

    readers = [threading.Thread(target=read) for _ in range(4)]
    for reader in readers:
        reader.start()
    for _ in range(40):
        ib.export_table_to_cytomining_warehouse(table, root, mode="overwrite", **args)
    stop.set()
    for reader in readers:
        reader.join()
    assert failures == [] and reads[0] > 40
