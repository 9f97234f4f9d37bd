"""What the CLI prints is usable as is: strict JSON (no NaN or Infinity), errors
under --json as a JSON object with the exit code, summarize over what scan
takes, columns in the order asked, and next steps a user can paste."""

from __future__ import annotations

import json
import math
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures import writers
from iceberg_bioimage.cli import main
from iceberg_bioimage.cli.output import strict_json


def test_json_is_strict() -> None:
    text = strict_json({"a": math.inf, "b": [math.nan, 1.5, -math.inf], "c": {"d": 2}})
    assert json.loads(text) == {"a": None, "b": [None, 1.5, None], "c": {"d": 2}}
    assert "Infinity" not in text and "NaN" not in text


def test_errors_under_json_are_json_with_the_exit_code(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["scan", str(tmp_path / "missing.zarr"), "--json"]) == 2
    error = json.loads(capsys.readouterr().err.strip())
    assert error == {"error": f"{tmp_path / 'missing.zarr'}: no such file or directory",
                     "exit_code": 2}  # fmt: skip
    assert main(["scan", "--json", "--no-such-option"]) == 2
    assert json.loads(capsys.readouterr().err.strip())["exit_code"] == 2


def test_summarize_takes_a_folder_of_stores(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    for name in ("a", "b"):
        writers.write_plate(tmp_path / "screens" / f"{name}.ome.zarr", version="0.5", rows="A",
                            columns=("1",), fields=1)  # fmt: skip
    assert main(["summarize", str(tmp_path / "screens"), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [s["dataset_id"] for s in report["summaries"]] == ["a", "b"]
    assert main(["summarize", str(tmp_path / "screens" / "a.ome.zarr"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["dataset_id"] == "a"  # one store: one object


def test_catalog_show_keeps_the_column_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ICEBERG_BIOIMAGE_HOME", str(tmp_path / "home"))
    plate = writers.write_plate(tmp_path / "p.ome.zarr", version="0.5", rows="A", columns=("1",))
    assert main(["register", str(plate), "-q"]) == 0
    capsys.readouterr()
    columns = "well_id,image_id,dataset_id"
    assert main(["catalog", "show", "images.image_assets", "--columns", columns, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["data"]
    assert list(rows[0]) == ["well_id", "image_id", "dataset_id"]


def test_the_demos_next_steps_run_as_printed(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "iceberg-bioimage"
    environment = {k: v for k, v in os.environ.items() if k != "PATH"} | {"PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(script), "demo", "--workdir", str(tmp_path / "demo")],
        capture_output=True, text=True, env=environment, check=True,
    )  # fmt: skip
    steps = done.stdout.split("Next:\n", 1)[1].splitlines()
    summarize = shlex.split(steps[0])
    assert summarize[0] == str(script)  # the venv is not on PATH: the full path
    ran = subprocess.run(summarize, capture_output=True, text=True, env=environment)
    assert ran.returncode == 0 and "demo-plate" in ran.stdout


def test_verbose_shows_the_library_log(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    import logging

    plate = writers.write_plate(tmp_path / "p.ome.zarr", version="0.5", rows="A", columns=("1",))
    assert main(["scan", str(plate), "-q"]) == 0
    assert "iceberg_bioimage" not in capsys.readouterr().err
    assert main(["-v", "scan", str(plate), "-q"]) == 0
    err = capsys.readouterr().err
    assert f"iceberg_bioimage.scan: scanned {plate.resolve().as_uri()}: 3 image assets" in err
    assert main(["scan", str(plate), "-q"]) == 0  # quiet again without -v
    assert "iceberg_bioimage" not in capsys.readouterr().err
    assert logging.getLogger("iceberg_bioimage").level == logging.WARNING


def test_help_texts_render_intact(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["join-profiles", "--help"]) == 0
    text = capsys.readouterr().out
    assert "[microscopy.aliases]" in text  # rich markup did not eat it
    assert "<bool>" not in text  # flags take no value
    assert main(["--help"]) == 0
    assert "<bool>" not in capsys.readouterr().out
