"""The HTML report, opened in a real headless browser (Debian's chromium;
skipped without it): it loads without errors, fetches nothing, its plate map
has the right wells (present, missing, warned), thumbnails are real images
and a screenshot is not blank."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zarr
from ome_zarr.format import FormatV05
from ome_zarr.writer import write_image, write_plate_metadata, write_well_metadata

import iceberg_bioimage as ib
from fixtures.writers import _channel

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
WELLS = ["A/1", "A/2", "B/1", "B/3", "C/4"]  # of a 3 x 4 grid: 7 missing


@pytest.fixture(scope="module")
def plate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "screen.ome.zarr"
    root = zarr.open_group(str(path), mode="w", zarr_format=3)
    write_plate_metadata(root, list("ABC"), ["1", "2", "3", "4"], WELLS, fmt=FormatV05(), name="S1")
    rng = np.random.default_rng(3)
    for well in WELLS:
        group = root.require_group(well)
        write_well_metadata(group, ["0", "1"], fmt=FormatV05())
        for field in ("0", "1"):
            write_image(
                rng.integers(0, 4000, (2, 96, 96), dtype="uint16"), group.require_group(field),
                axes=list("cyx"), fmt=FormatV05(), scale_factors=[2],
                omero={"channels": [_channel("DNA") | {"color": "0000FF"},
                                    _channel("Actin") | {"color": "FF0000"}]},
            )  # fmt: skip
    (path / "C" / "4" / "1" / "s1" / "zarr.json").write_text("{ not json")  # a warned well
    return path


def _report(*args: str) -> subprocess.CompletedProcess[str]:
    run = subprocess.run(
        [sys.executable, "-m", "iceberg_bioimage", "report", *args],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    return run


def _browser(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if CHROMIUM is None:
        pytest.skip("no chromium on this machine")
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={page.parent / 'profile'}", "--enable-logging=stderr",
         *args, page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_report_page_shows_the_plate_in_a_browser(plate: Path, tmp_path: Path) -> None:
    profiles = pa.table(
        {
            "Metadata_Plate": ["S1"] * 5,
            "Metadata_Well": ["A01", "A01", "A02", "B03", "Z99"],
            "Metadata_Site": [0, 1, 0, 0, 0],
            "Cells_AreaShape_Area": [10.0, 30.0, 50.0, 70.0, 1000.0],
        }
    )
    pq.write_table(profiles, tmp_path / "cells.parquet")
    page = tmp_path / "report.html"
    _report(str(plate), "-o", str(page), "--profiles", str(tmp_path / "cells.parquet"),
            "--feature", "Cells_AreaShape_Area")  # fmt: skip
    text = page.read_text()
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", text)  # fetches nothing
    dom = _browser(page, "--dump-dom")
    assert dom.returncode == 0
    assert "Uncaught" not in dom.stderr and "Failed to load" not in dom.stderr
    assert len(re.findall(r"class=\"well present", dom.stdout)) == 5
    assert len(re.findall(r"class=\"well missing", dom.stdout)) == 7
    assert len(re.findall(r"class=\"well present warned", dom.stdout)) == 1
    assert (
        len(re.findall(r"<img alt=\"[A-C]0[1-4]\" src=\"data:image/png;base64,", dom.stdout)) == 5
    )
    heat = re.findall(
        r"class=\"heat\" style=\"background:[^\"]+\" title=\"(\w+): ([\d.]+)", dom.stdout
    )
    assert sorted(heat) == [("A01", "20"), ("A02", "50"), ("B03", "70")]
    shot = tmp_path / "shot.png"
    assert _browser(page, f"--screenshot={shot}", "--window-size=900,900").returncode == 0
    image = pytest.importorskip("PIL.Image").open(io.BytesIO(shot.read_bytes())).convert("RGB")
    pixels = np.asarray(image)
    assert pixels.std() > 10 and (pixels.sum(axis=2) < 600).mean() > 0.01  # not a blank page


def test_a_warehouse_report_lists_tables_and_validation(plate: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    ib.export_store_to_cytomining_warehouse(plate, root)
    page = tmp_path / "wh.html"
    run = _report(str(root), "-o", str(page), "--no-thumbnails", "--json")
    assert '"thumbnails": 0' in run.stdout and '"wells": 5' in run.stdout
    text = page.read_text()
    assert "images.image_assets</td><td>image_assets</td><td>10</td>" in text
    assert "conforms to the specification" in text


def test_report_of_a_catalog_table(plate: Path, tmp_path: Path) -> None:
    catalog = ["--catalog-uri", f"sqlite:///{tmp_path}/c.db", "--warehouse", f"file://{tmp_path}/w"]
    subprocess.run(
        [sys.executable, "-m", "iceberg_bioimage", "register", str(plate), *catalog, "-q"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    page = tmp_path / "cat.html"
    run = _report("images.image_assets", "--catalog-table", *catalog, "-o", str(page), "--json")
    assert '"plates": 1' in run.stdout and '"thumbnails": 5' in run.stdout


def test_store_text_is_escaped(tmp_path: Path) -> None:
    from fixtures.writers import write_single_image

    path = write_single_image(
        tmp_path / "x.ome.zarr", channel_names=("<script>alert(1)</script>", "b")
    )
    page = tmp_path / "x.html"
    ib.write_report(path, page)
    assert "<script>" not in page.read_text() and "&lt;script&gt;" in page.read_text()


def test_notebook_displays_are_compact(plate: Path, tmp_path: Path) -> None:
    result = ib.scan_store(plate)
    assert "\n" not in repr(result) and "images=10" in repr(result) and len(repr(result)) < 300
    page = result._repr_html_()
    assert page.count("class='well present'") == 5 and "Plate S1" in page
    summary = ib.summarize_scan_result(result)
    assert repr(summary).startswith("DatasetSummary(dataset_id='screen'") and "wells=5" in repr(
        summary
    )
    profiles = pa.table({"Metadata_Plate": ["S1"], "Metadata_Well": ["B03"], "Metadata_Site": [1]})
    joined = ib.join_profiles_with_scan_result(result, profiles)
    assert repr(
        joined
    ) == "JoinResult(strategy='plate_well_site', matched=1/1, rows=1, columns=" + (
        f"{joined.table.num_columns})"
    )
    assert "1 of 1" in joined._repr_html_()
    ib.export_scan_result_to_cytomining_warehouse(result, tmp_path / "root")
    warehouse = ib.open_warehouse(tmp_path / "root")
    assert repr(warehouse) == f"Warehouse(root={str(tmp_path / 'root')!r}, tables=2)"
    assert "<td>images.image_assets</td><td>image_assets</td><td>10</td>" in warehouse._repr_html_()
