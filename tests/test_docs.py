"""Documentation, examples and CLI help stay true: built, run and checked here."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from iceberg_bioimage.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py")) + sorted(
    (ROOT / "docs" / "src" / "examples").glob("*.py")
)


def test_docs_build_strictly(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "tables" / "index.html").is_file()


def test_column_reference_matches_the_schemas() -> None:
    spec = importlib.util.spec_from_file_location("columns", ROOT / "docs" / "_columns.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    assert (ROOT / "docs" / "tables.md").read_text() == module.page(), "run python docs/_columns.py"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_run(example: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(example), str(tmp_path / "work")],
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(tmp_path)},  # notebook examples write to a temp folder
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()


def _commands(group: typer.Typer) -> list[tuple[str, object]]:
    command = typer.main.get_command(group)
    found = []

    def walk(node, prefix: str) -> None:  # type: ignore[no-untyped-def]
        for name, child in getattr(node, "commands", {}).items():
            if getattr(child, "commands", None):
                walk(child, f"{prefix}{name} ")
            else:
                found.append((f"{prefix}{name}", child))

    walk(command, "")
    return found


def test_every_command_has_an_example_and_json() -> None:
    commands = _commands(app)
    assert len(commands) >= 20
    for name, command in commands:
        assert "Example:" in (command.help or ""), f"{name} --help has no example"  # type: ignore[attr-defined]
        options = {opt for param in command.params for opt in getattr(param, "opts", [])}  # type: ignore[attr-defined]
        assert "--json" in options, f"{name} has no --json"
