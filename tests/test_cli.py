"""The scan and summarize commands as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from fixtures import writers
from iceberg_bioimage.cli import main
from iceberg_bioimage.schema import IMAGE_ASSETS_SCHEMA


def test_scan_folder_of_stores_to_parquet(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    writers.write_plate(tmp_path / "data" / "p1.ome.zarr", version="0.4")
    writers.write_single_image(tmp_path / "data" / "nested" / "img.ome.zarr", version="0.5")
    (tmp_path / "data" / "notes").mkdir()
    out = tmp_path / "assets.parquet"
    assert main(["scan", str(tmp_path / "data"), "--output", str(out), "--quiet"]) == 0
    table = pq.read_table(out)
    assert table.schema.equals(IMAGE_ASSETS_SCHEMA, check_metadata=False)
    assert table.schema.metadata[b"iceberg_bioimage.schema_version"] == b"2"
    assert table.num_rows == 13 + 1
    assert sorted(set(table.column("dataset_id").to_pylist())) == ["img", "p1"]
    assert not list(out.parent.glob(".*staging"))


def test_scan_json_and_dataset_id(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    store = writers.write_single_image(tmp_path / "x.ome.zarr", version="0.5")
    assert main(["scan", str(store), "--json", "--dataset-id", "exp1"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [a["dataset_id"] for a in payload["results"][0]["image_assets"]] == ["exp1"]
    assert payload["errors"] == []


def test_summarize_json(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    store = writers.write_plate(tmp_path / "p.zarr", version="0.5")
    assert main(["summarize", str(store), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["plate_ids"] == ["test-plate"]
    assert (summary["image_count"], summary["label_count"]) == (12, 1)
    assert (summary["well_count"], summary["field_count"]) == (6, 12)
    assert summary["storage_variants"] == ["zarr-v3"]
    assert summary["channel_names"] == ["DAPI", "GFP"]


def test_summarize_table_is_readable(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    store = writers.write_plate(tmp_path / "p.zarr", version="0.4")
    assert main(["summarize", str(store)]) == 0
    text = capsys.readouterr().out
    assert "zarr-v2" in text and "test-plate" in text and "DAPI, GFP" in text


def test_python_dash_m_entry_point(tmp_path: Path) -> None:
    store = writers.write_single_image(tmp_path / "x.zarr", version="0.4")
    done = subprocess.run(
        [sys.executable, "-m", "iceberg_bioimage", "summarize", str(store), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["dataset_id"] == "x"


def test_quiet_after_the_command_is_accepted(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    store = writers.write_single_image(tmp_path / "x.zarr", version="0.4")
    assert main(["scan", str(store), "-q"]) == 0
    assert capsys.readouterr().out == ""


def test_demo_runs_the_whole_job(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import zarr

    import iceberg_bioimage as ib

    assert main(["demo", "--workdir", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] and report["findings"] == []
    assert report["catalog_rows"]["images.image_assets"] == 13  # 12 fields + 1 OME-TIFF image
    assert report["warehouse_tables"]["profiles.joined_profiles"] == 36
    assert report["join"]["matched_rows"] == 36 and report["join"]["site_offset"] == 1
    level = zarr.open_array(str(tmp_path / "demo-plate.ome.zarr" / "A" / "1" / "0" / "s0"))
    assert level.shape == (2, 64, 64) and level[:].max() > 0
    catalog = tmp_path / "catalog"
    from iceberg_bioimage.catalog.config import embedded_catalog

    rows = ib.catalog_table_to_arrow(embedded_catalog(catalog), "images.image_assets")
    assert sorted(set(rows.column("dataset_id").to_pylist())) == ["demo-image", "demo-plate"]
    assert ib.validate_warehouse(tmp_path / "warehouse-root").valid
    assert main(["demo", "--workdir", str(tmp_path), "-q"]) == 0  # idempotent
    assert (
        ib.catalog_table_to_arrow(embedded_catalog(catalog), "images.image_assets").num_rows == 13
    )


def test_folder_scan_continues_past_a_broken_store(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    writers.write_single_image(tmp_path / "good.ome.zarr", version="0.5")
    (tmp_path / "bad.zarr").mkdir()
    (tmp_path / "bad.zarr" / "zarr.json").write_text("{broken")
    out = tmp_path / "a.parquet"
    assert main(["scan", str(tmp_path), "-o", str(out)]) == 0
    assert "bad.zarr" in capsys.readouterr().err
    assert pq.read_table(out).column("dataset_id").to_pylist() == ["good"]
    assert main(["scan", str(tmp_path), "--strict", "-q"]) == 1


class _Recorder:
    """Records what the library reports (the protocol's own test double)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def start(self, name: str, total: int | None) -> object:
        self.events.append(("start", (name, total)))
        return name

    def advance(self, handle: object, amount: int) -> None:
        self.events.append(("advance", (handle, amount)))

    def stop(self, handle: object) -> None:
        self.events.append(("stop", handle))


def test_long_work_reports_progress(tmp_path: Path) -> None:
    from iceberg_bioimage import progress
    from iceberg_bioimage.scan import scan_paths

    for i in range(3):
        writers.write_single_image(tmp_path / "d" / f"s{i}.ome.zarr", version="0.5")
    recorder = _Recorder()
    with progress.listening(recorder):
        scanned = scan_paths([tmp_path / "d"])
        import iceberg_bioimage as ib

        _, rows = ib.write_chunk_index_parquet(scanned.results, tmp_path / "c.parquet")
    assert ("start", ("scanning stores", 3)) in recorder.events
    assert (
        sum(
            a
            for kind, (h, a) in ((k, e) for k, e in recorder.events if k == "advance")
            if h == "scanning stores"
        )
        == 3
    )  # type: ignore[misc]
    chunk_rows = sum(e[1] for k, e in recorder.events if k == "advance" and e[0] == "chunk rows")  # type: ignore[index]
    assert chunk_rows == rows > 0


def test_no_progress_bars_when_not_a_terminal(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    writers.write_single_image(tmp_path / "d" / "a.ome.zarr", version="0.5")
    writers.write_single_image(tmp_path / "d" / "b.ome.zarr", version="0.5")
    assert main(["scan", str(tmp_path / "d"), "--json"]) == 0
    captured = capsys.readouterr()
    assert "scanning stores" not in captured.err and "━" not in captured.err
    json.loads(captured.out)  # stdout stays pure JSON


def test_scanning_does_not_load_the_catalog_layer(tmp_path: Path) -> None:
    """pyiceberg (~0.3 s and ~25 MB of start-up) is imported on first catalog
    use, not by ``import iceberg_bioimage`` nor by a scan; the catalog still
    works once it is needed."""
    plate = writers.write_plate(tmp_path / "p.ome.zarr", version="0.5", rows="A", columns=("1",))
    code = (
        "import sys, iceberg_bioimage as ib; ib.scan_store(sys.argv[1]); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pyiceberg', 'sqlalchemy'})); "
        "ib.register_store(sys.argv[1]); "
        "print(ib.catalog_table_to_arrow(None, 'images.image_assets').num_rows)"
    )
    embedded = {**os.environ, "ICEBERG_BIOIMAGE_HOME": str(tmp_path / "catalog")}
    done = subprocess.run(
        [sys.executable, "-c", code, str(plate)], capture_output=True, text=True, env=embedded
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "3"]  # two fields and their label image


def test_an_internal_error_is_a_bug_with_its_own_exit_code(
    tmp_path: Path, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    from iceberg_bioimage import api

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("invariant broken\nsecond line")

    monkeypatch.setattr(api, "scan_paths", broken)
    assert main(["summarize", str(tmp_path)]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: internal error, a bug in iceberg-bioimage")
    assert "RuntimeError: invariant broken" in err[0] and "--verbose" in err[0]
    assert main(["--verbose", "summarize", str(tmp_path)]) == 3
    assert "Traceback" in capsys.readouterr().err


def test_the_scan_command_loads_no_heavy_optional_library(tmp_path: Path) -> None:
    """Start-up: ``iceberg-bioimage scan`` of a store imports none of pyiceberg,
    DuckDB, tifffile or obstore (each costs start-up and none is needed)."""
    plate = writers.write_plate(tmp_path / "p.ome.zarr", version="0.5", rows="A", columns=("1",))
    heavy = ("pyiceberg", "duckdb", "tifffile", "obstore", "sqlalchemy")
    code = (
        "import sys\nfrom iceberg_bioimage.cli import main\n"
        "code = main(['scan', sys.argv[1], '--format', 'csv'])\n"
        f"print('loaded:', sorted(m for m in {heavy!r} if m in sys.modules), code)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(plate)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "loaded: [] 0"
    assert "test-plate/A01/0" in done.stdout  # the rows were printed


def test_a_scan_printed_to_a_pipe_loads_only_what_it_prints_with(tmp_path: Path) -> None:
    """Start-up (issue 21): TSV rows to a pipe need neither pyarrow, numpy nor
    rich, and typer builds only the scan commands' module."""
    plate = writers.write_plate(tmp_path / "p.ome.zarr", version="0.5", rows="A", columns=("1",))
    unneeded = ("pyarrow", "numpy", "rich", "pydantic", "iceberg_bioimage.cli.commands.catalog")
    code = (
        "import runpy, sys\nsys.argv = ['iceberg-bioimage', 'scan', sys.argv[1]]\n"
        "try:\n    runpy.run_module('iceberg_bioimage', run_name='__main__')\n"
        "except SystemExit as done:\n"
        f"    print('loaded:', sorted(m for m in {unneeded!r} if m in sys.modules), done.code)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(plate)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "loaded: [] 0"
    assert lines[0].startswith("dataset_id\timage_id\t") and "test-plate/A01/0" in done.stdout


def test_each_command_is_registered_by_the_module_the_cli_loads_for_it() -> None:
    """``COMMAND_MODULES`` (which module a run loads) names every command once,
    with the module that registers it."""
    import typer.main

    from iceberg_bioimage.cli import COMMAND_MODULES, build_app

    registered = {}
    for module in sorted(set(COMMAND_MODULES.values())):
        for name in typer.main.get_command(build_app([module])).commands:
            registered[name] = module
    assert registered == COMMAND_MODULES


def test_shell_completion_sees_every_command() -> None:
    """Completion runs with the whole app (a normal run builds only the module
    of the command it calls)."""
    env = {**os.environ, "_ICEBERG_BIOIMAGE_COMPLETE": "complete_bash", "COMP_CWORD": "1",
           "COMP_WORDS": "iceberg-bioimage export-cy"}  # fmt: skip
    command = [sys.executable, "-m", "iceberg_bioimage"]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    assert done.stdout.split() == [
        "export-cytomining", "export-cytomining-catalog", "export-cytomining-profiles",
        "export-cytomining-table",
    ], done.stderr  # fmt: skip
