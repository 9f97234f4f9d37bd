"""The shape of the package: the public API and CLI keep every name, parameter
and option they had (``data/public_surface_0.2.json``, recorded before the
api/ and cli/ packages), and the layers import only downward."""

from __future__ import annotations

import ast
import inspect
import json
from pathlib import Path
from typing import Any

import typer.main

import iceberg_bioimage as ib
from iceberg_bioimage.cli import app

PACKAGE = Path(ib.__file__).parent
RECORDED = json.loads((Path(__file__).parent / "data" / "public_surface_0.2.json").read_text())


def _cli_options() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}

    def walk(command: Any, path: list[str]) -> None:
        # typer 0.26+ ships its own copy of click: groups are known by their commands
        subcommands = getattr(command, "commands", None)
        if subcommands:
            for name, sub in subcommands.items():
                walk(sub, [*path, name])
        else:
            found[" ".join(path)] = {o for p in command.params for o in p.opts if o[0] == "-"}

    group = typer.main.get_command(app)
    walk(group, [])
    found["<global>"] = {o for p in group.params for o in p.opts if o[0] == "-"}
    return found


def test_every_public_name_keeps_its_parameters_in_order() -> None:
    missing, changed = [], []
    for name, params in RECORDED["api"].items():
        if not hasattr(ib, name) or name not in ib.__all__:
            missing.append(name)
        elif params is not None:
            now = list(inspect.signature(getattr(ib, name)).parameters)
            if now[: len(params)] != params:
                changed.append(f"{name}: {params} -> {now}")
    assert missing == [] and changed == []


def test_every_command_keeps_its_options() -> None:
    now = _cli_options()
    lost = {
        command: sorted(set(options) - now.get(command, set()))
        for command, options in RECORDED["cli"].items()
        if set(options) - now.get(command, set())
    }
    assert set(RECORDED["cli"]) <= set(now)
    assert lost == {}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_api_and_command_modules_never_import_a_sibling() -> None:
    offenders = []
    for folder in (PACKAGE / "api", PACKAGE / "cli" / "commands"):
        package = "iceberg_bioimage." + ".".join(folder.relative_to(PACKAGE).parts)
        modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
        for path in folder.glob("*.py"):
            if path.stem == "__init__":
                continue
            siblings = {f"{package}.{m}" for m in modules - {path.stem}}
            if _imports(path) & siblings:
                offenders.append(path.name)
    assert offenders == []


def test_commands_reach_the_library_only_through_the_api() -> None:
    allowed = ("iceberg_bioimage.api", "iceberg_bioimage.cli.", "iceberg_bioimage.models")
    reached = {
        path.name: sorted(
            name
            for name in _imports(path)
            if name.startswith("iceberg_bioimage.")
            and not name.startswith(allowed)
            and name != "iceberg_bioimage.api"
        )
        for path in (PACKAGE / "cli" / "commands").glob("*.py")
    }
    assert {name: below for name, below in reached.items() if below} == {}


def test_every_error_is_exported_and_also_a_builtin() -> None:
    import iceberg_bioimage.errors as errors

    classes = [
        obj
        for obj in vars(errors).values()
        if inspect.isclass(obj) and issubclass(obj, Exception) and obj.__module__ == errors.__name__
    ]
    assert {c.__name__ for c in classes} == set(errors.__all__)
    assert all(hasattr(ib, c.__name__) for c in classes)
    builtin = [c for c in classes if c is not errors.IcebergBioimageError]
    assert all(
        any(
            base.__module__ == "builtins" and base not in (Exception, BaseException, object)
            for base in c.__mro__
        )
        for c in builtin
    )
    assert issubclass(ib.StoreNotFoundError, FileNotFoundError)
    assert issubclass(ib.InputError, ValueError)
    assert issubclass(ib.MissingDependencyError, ImportError)


def test_old_names_of_the_catalog_functions_still_work() -> None:
    assert ib.ingest_stores_to_warehouse is ib.ingest_stores_to_catalog
    assert ib.ingest_scan_results_to_warehouse is ib.ingest_scan_results_to_catalog
