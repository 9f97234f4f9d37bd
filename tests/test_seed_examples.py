"""Every CLI line and Python snippet of the seed documents (000, 001), run
exactly as written, in a fresh project folder, by a fresh interpreter or
shell: with nothing configured (``--catalog default`` is the embedded
catalog) and with a configured ``default`` SqlCatalog. The snippets live in
``tests/data/seed_examples.json``, copied byte for byte; when the seeds are
present, a test checks they still say exactly that."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from fixtures.seed_data import write_seed_data

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
EXAMPLES = json.loads((Path(__file__).parent / "data" / "seed_examples.json").read_text())
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow  # about 30 interpreter starts per configuration


def _example(seed: str, first_line: int) -> dict:
    return next(e for e in EXAMPLES if e["seed"] == seed and e["lines"][0] == first_line)


def test_snippets_are_the_seeds_verbatim() -> None:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not present")
    for example in EXAMPLES:
        (seed_file,) = SEEDS.glob(f"{example['seed']}_*")
        lines = seed_file.read_text().split("\n")
        first, last = example["lines"]
        assert "\n".join(lines[first - 1 : last]) + "\n" == example["text"]


class Project:
    """A fresh folder a user works in, their shell and their interpreter."""

    def __init__(self, root: Path, environment: dict[str, str]) -> None:
        self.root = root
        self.environment = environment

    def run(self, example: dict) -> subprocess.CompletedProcess[str]:
        if example["kind"] == "cli":
            command = ["bash", "-euo", "pipefail", "-c", example["text"]]
        else:
            command = [sys.executable, "-c", example["text"]]
        done = subprocess.run(
            command, cwd=self.root, env=self.environment, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{example['text']}\n{done.stdout}\n{done.stderr}"
        return done

    def printed_dict(self, done: subprocess.CompletedProcess[str]) -> dict:
        return ast.literal_eval(done.stdout.strip().splitlines()[-1])

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "iceberg-bioimage"), *args],
            cwd=self.root,
            env=self.environment,
            capture_output=True,
            text=True,
        )


@pytest.fixture(params=["nothing configured", "configured default"])
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Project:
    root = tmp_path / "project"
    write_seed_data(root)
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYICEBERG_", "ICEBERG_BIOIMAGE_"))
    }
    environment["HOME"] = str(tmp_path / "home")  # no ~/.pyiceberg.yaml of the developer's
    environment["PATH"] = f"{BIN}{os.pathsep}{environment.get('PATH', '')}"
    if request.param == "configured default":
        environment["PYICEBERG_CATALOG__DEFAULT__TYPE"] = "sql"
        environment["PYICEBERG_CATALOG__DEFAULT__URI"] = f"sqlite:///{tmp_path}/default.db"
        environment["PYICEBERG_CATALOG__DEFAULT__WAREHOUSE"] = (tmp_path / "lake").as_uri()
    return Project(root, environment)


def test_every_seed_example_runs_as_written(project: Project) -> None:
    root = project.root
    configured = "PYICEBERG_CATALOG__DEFAULT__URI" in project.environment

    # 000: the CLI examples, in order.
    assert "experiment" in project.run(_example("000", 71)).stdout
    project.run(_example("000", 72))
    registered = project.run(_example("000", 73))
    embedded = root / "iceberg-bioimage-catalog"
    assert embedded.is_dir() != configured  # a configured default wins
    if not configured:
        assert "no catalog 'default' is configured: using the embedded catalog" in (
            registered.stderr
        )
        assert registered.stderr.count("no catalog 'default' is configured") == 1
    project.run(_example("000", 74))
    project.run(_example("000", 75))
    assert (root / "warehouse-root" / "images" / "image_assets").is_dir()
    project.run(_example("000", 76))
    project.run(_example("000", 77))
    tables = project.cli("catalog", "tables", "--catalog", "default", "--json")
    assert json.loads(tables.stdout)["tables"] == [
        "bioimage.cytotable.chunk_index",
        "bioimage.cytotable.image_assets",
    ]
    project.run(_example("000", 78))
    project.run(_example("000", 79))
    joined = duckdb.sql(
        f"select count(*), count(Metadata_image_id) from '{root / 'joined.parquet'}'"
    ).fetchall()
    assert joined == [(36, 36)]

    # 001: export from the plate, then from the catalog.
    result = project.printed_dict(project.run(_example("001", 20)))
    assert result["tables"]["profiles.joined_profiles"] == 36
    assert result["join"]["matched_rows"] == 36
    project.run(_example("001", 29))
    result = project.printed_dict(project.run(_example("001", 37)))
    assert result["join"]["matched_rows"] == 36
    assert result["tables"]["images.image_assets"] == 12 + 2 + 2  # experiment, a, b
    project.run(_example("001", 47))

    # The ExampleHuman workflow; its step 1 (external) registers the images.
    images = root / "data" / "ExampleHuman" / "images"
    step1 = ["register", "--catalog", "default", "--namespace", "bioimage.cytotable"]
    assert project.cli(*step1, "--dataset-id", "ExampleHuman", "-q", str(images)).returncode == 0
    project.run(_example("001", 67))
    manifest = json.loads((root / "warehouse-root" / "warehouse_manifest.json").read_text())
    entries = {t["table_name"]: t for t in manifest["tables"]}
    assert entries["profiles.joined_profiles"]["row_count"] == 4
    assert entries["profiles.pycytominer_profiles"]["profile_level"] == "well"
    assert entries["quality_control.cosmicqc_profiles"]["role"] == "quality_control"

    # Generic tables and custom aliases.
    done = project.run(_example("001", 93))
    assert project.printed_dict(done)["tables"] == {"embeddings.embeddings": 1}
    (root / "aliases.toml").write_text(_example("001", 125)["text"])
    project.run(_example("001", 129))
    manifest = json.loads((root / "warehouse-root" / "warehouse_manifest.json").read_text())
    entries = {t["table_name"]: t for t in manifest["tables"]}
    assert entries["profiles.custom_profiles"]["profile_level"] == "image"
    assert entries["embeddings.embeddings"]["role"] == "embeddings"

    validated = project.cli("validate-warehouse", "warehouse-root")
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert duckdb.sql(
        f"select count(*) from '{root}/warehouse-root/profiles/custom_profiles/*.parquet'"
    ).fetchall() == [(3,)]
