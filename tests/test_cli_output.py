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
from typing import Any

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


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "iceberg_bioimage", *args],
        capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_rows_as_csv_tsv_and_json_and_tsv_into_a_pipe(tmp_path: Path) -> None:
    plate = writers.write_plate(tmp_path / "p.ome.zarr", version="0.5", rows="A", columns=("1",),
                                fields=1, label_wells=())  # fmt: skip
    header = "dataset_id,image_id,kind,plate,well,site,shape,dtype,axes,chunks,levels"
    row = 'p,test-plate/A01/0,image,test-plate,A01,0,"(2, 32, 32)",uint16,cyx,"(1, 16, 16)",2'
    assert _cli("scan", str(plate), "--format", "csv").stdout == f"{header}\n{row}\n"
    piped = _cli("scan", str(plate)).stdout  # not a terminal: TSV, every row
    assert piped.splitlines() == [
        header.replace(",", "\t"),
        "p\ttest-plate/A01/0\timage\ttest-plate\tA01\t0\t(2, 32, 32)\tuint16\tcyx\t(1, 16, 16)\t2",
    ]
    rows = json.loads(_cli("scan", str(plate), "--format", "json").stdout)
    assert rows == [
        {"dataset_id": "p", "image_id": "test-plate/A01/0", "kind": "image",
         "plate": "test-plate", "well": "A01", "site": 0, "shape": "(2, 32, 32)",
         "dtype": "uint16", "axes": "cyx", "chunks": "(1, 16, 16)", "levels": 2}
    ]  # fmt: skip
    bad = _cli("scan", str(plate), "--format", "xml")
    assert bad.returncode == 2 and "--format must be one of table, csv, tsv, json" in bad.stderr


def test_catalog_rows_in_every_format(tmp_path: Path) -> None:
    plate = writers.write_plate(tmp_path / "p.ome.zarr", version="0.5", rows="A", columns=("1",))
    home = {"ICEBERG_BIOIMAGE_HOME": str(tmp_path / "home")}
    assert _cli("register", str(plate), "-q", env=home).returncode == 0
    show = ["catalog", "show", "images.image_assets", "--columns", "well_id,site_id,image_kind"]
    csv_text = _cli(*show, "--format", "csv", env=home).stdout.splitlines()
    assert csv_text[0] == "well_id,site_id,image_kind" and len(csv_text) == 4  # 2 fields + a label
    assert _cli(*show, env=home).stdout.splitlines()[1].count("\t") == 2
    history = _cli("catalog", "history", "images.image_assets", "--format", "json", env=home)
    assert [h["operation"] for h in json.loads(history.stdout)] == ["append"]


def test_every_commands_help_shows_its_option_texts_intact() -> None:
    import re

    import typer.main

    from iceberg_bioimage.cli import app

    def walk(command: Any, path: list[str]):  # type: ignore[no-untyped-def]
        # typer ships its own click: a group is known by its commands
        if getattr(command, "commands", None):
            for name, sub in command.commands.items():
                yield from walk(sub, [*path, name])
        else:
            yield path, command

    def flat(text: str) -> str:
        return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())

    for path, command in walk(typer.main.get_command(app), []):
        shown = flat(_cli(*path, "--help", env={"COLUMNS": "300"}).stdout)
        for param in command.params:
            help_text = getattr(param, "help", None)
            if help_text and not getattr(param, "hidden", False):
                # rich shows "\[" (markup escaped in the source) as "["
                assert flat(help_text.replace("\\[", "[")) in shown, (path, help_text)


def test_warnings_of_a_multi_store_scan_name_their_store(tmp_path: Path) -> None:
    for name in ("a", "b"):
        writers.write_plate(tmp_path / f"{name}.ome.zarr", version="0.5", rows="A",
                            columns=("1", "2"), fields=1)  # fmt: skip
    (tmp_path / "b.ome.zarr" / "A" / "2" / "zarr.json").write_text("{broken")
    run = _cli("scan", str(tmp_path))
    warned = [line for line in run.stderr.splitlines() if line.startswith("warning:")]
    assert warned == ["warning: b: A/2: well metadata unreadable: zarr.json is not valid JSON "
                      "(Expecting property name enclosed in double quotes: line 1 column 2 "
                      "(char 1))"], run.stderr  # fmt: skip


def _run_on_a_terminal(*args: str) -> tuple[int, str]:
    """``iceberg-bioimage args`` with stdin, stdout and stderr on a pseudo-terminal:
    its exit code and everything it drew."""
    import pty

    leader, follower = pty.openpty()
    done = subprocess.run(
        [sys.executable, "-m", "iceberg_bioimage", *args],
        stdin=follower, stdout=follower, stderr=follower, timeout=300,
        env={**os.environ, "COLUMNS": "120", "TERM": "xterm"},
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return done.returncode, b"".join(chunks).decode(errors="replace")


def test_progress_counts_chunk_rows_against_their_total_in_a_terminal(tmp_path: Path) -> None:
    plate = writers.write_plate(tmp_path / "p.ome.zarr", version="0.5", rows="AB",
                                columns=("1", "2", "3"))  # fmt: skip
    import iceberg_bioimage as ib
    from iceberg_bioimage.chunks import expected_rows

    total = expected_rows([ib.scan_store(plate)])
    code, text = _run_on_a_terminal("chunk-index", str(plate), "-o", str(tmp_path / "c.parquet"))
    assert code == 0
    assert "chunk rows" in text and f"/{total}" in text, text[-500:]
    assert f"wrote {total} chunk rows" in text


def test_a_scan_shown_in_a_terminal_is_a_table(tmp_path: Path) -> None:
    """The console is made on first use: a terminal still gets the drawn table
    (a pipe gets TSV, see test_cli)."""
    plate = writers.write_plate(tmp_path / "p.ome.zarr", version="0.5", rows="A",
                                columns=("1",), fields=1)  # fmt: skip
    code, text = _run_on_a_terminal("scan", str(plate))
    assert code == 0
    assert "┏━" in text and "image_id" in text and "│ test-plate/A01/0" in text, text
    assert "\t" not in text


def test_rows_of_several_stores_are_one_table(tmp_path: Path) -> None:
    for name in ("a", "b"):
        writers.write_plate(tmp_path / f"{name}.ome.zarr", version="0.5", rows="A",
                            columns=("1",), fields=1, label_wells=())  # fmt: skip
    lines = _cli("scan", str(tmp_path), "--format", "csv").stdout.splitlines()
    assert lines[0].startswith("dataset_id,") and len(lines) == 3
    assert [line.split(",")[0] for line in lines[1:]] == ["a", "b"]
    rows = json.loads(_cli("scan", str(tmp_path), "--format", "json").stdout)
    assert [row["dataset_id"] for row in rows] == ["a", "b"]
