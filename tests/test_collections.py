"""OME-Zarr collections (RFC-8): a plate collection across documents, written in
the suite with real OME-Zarr images (ome-zarr-py), scanned into image rows
that keep their place in the tree; references that leave the root, cycles and
extension node types are warnings, and nothing outside the root is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import iceberg_bioimage as ib
from fixtures import writers
from iceberg_bioimage.cli import main
from iceberg_bioimage.io.local import LocalStore


def _zarr_group(path: Path, ome: dict) -> None:  # type: ignore[type-arg]
    path.mkdir(parents=True, exist_ok=True)
    document = {"zarr_format": 3, "node_type": "group", "attributes": {"ome": ome}}
    (path / "zarr.json").write_text(json.dumps(document))


def _image(name: str, path: str, **extra) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return {"type": "multiscale", "name": name, "path": {"type": "zarr", "path": path}, **extra}


@pytest.fixture
def opened(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """Every document a local store is asked for, as a path."""
    asked: list[str] = []
    real = LocalStore.get_many

    def recording(self, keys):  # type: ignore[no-untyped-def]
        asked.extend(f"{self.path}/{k}" for k in keys)
        return real(self, keys)

    monkeypatch.setattr(LocalStore, "get_many", recording)
    return asked


@pytest.fixture
def plate_collection(tmp_path: Path) -> Path:
    """A wide RFC-8 plate: well A01 inline, well B02 in its own JSON document."""
    root = tmp_path / "screen"
    for image in ("A/01/001.img", "A/01/002.img", "B/02/001.img"):
        writers.write_single_image(root / image, version="0.5", label=None)
    writers.write_single_image(root / "A/01/001_nuclei.img", version="0.5", channel_names=("n",),
                               shape=(1, 32, 32))  # fmt: skip
    writers.write_single_image(tmp_path / "outside.img", version="0.5")
    well_b02 = {
        "ome": {
            "version": "0.x",
            "type": "collection",
            "name": "B02 document",
            "nodes": [_image("B02_0", "../B/02/001.img", attributes={"acquisition": {"id": "a0"}})],
        }
    }
    (root / "wells").mkdir()
    (root / "wells" / "B02.json").write_text(json.dumps(well_b02))
    (root / "wells" / "loop.json").write_text(
        json.dumps(
            {
                "ome": {
                    "version": "0.x",
                    "type": "collection",
                    "name": "loop",
                    "nodes": [
                        {
                            "type": "collection",
                            "name": "again",
                            "path": {"type": "json", "path": "./loop.json"},
                        }
                    ],
                }
            }
        )
    )
    _zarr_group(
        root,
        {
            "version": "0.x",
            "type": "collection",
            "name": "plate-7",
            "attributes": {
                "plate": {
                    "rows": [{"id": "A", "name": "A"}, {"id": "B", "name": "B"}],
                    "columns": [{"id": "1", "name": "1"}, {"id": "2", "name": "2"}],
                    "acquisitions": [{"id": "a0", "name": "round 1"}],
                }
            },
            "nodes": [
                {
                    "type": "collection",
                    "name": "well A01",
                    "attributes": {"well": {"row": {"id": "A"}, "column": {"id": "1"}}},
                    "nodes": [
                        _image("A01_0", "./A/01/001.img", id="A01_0"),
                        _image("A01_1", "./A/01/002.img"),
                        _image(
                            "A01_0_nuclei",
                            "./A/01/001_nuclei.img",
                            attributes={"labels": {"source": [{"id": "A01_0"}]}},
                        ),
                        {"type": "mobie:table", "name": "features"},
                        _image("escape", "../outside.img"),
                        _image("absolute", "/etc"),
                        _image("encoded", "%2e%2e/outside.img"),
                    ],
                },
                {
                    "type": "collection",
                    "name": "well B02",
                    "attributes": {"well": {"row": {"id": "B"}, "column": {"id": "2"}}},
                    "path": {"type": "json", "path": "./wells/B02.json"},
                },
                {
                    "type": "collection",
                    "name": "loop",
                    "path": {"type": "json", "path": "./wells/loop.json"},
                },
            ],
        },
    )
    return root


def test_a_plate_collection_gives_one_row_per_image_with_its_place(plate_collection: Path) -> None:
    result = ib.scan_store(plate_collection)
    rows = {a.image_id: a for a in result.image_assets}
    assert sorted(rows) == [
        "A01_0",
        "well A01/A01_0_nuclei",
        "well A01/A01_1",
        "well B02/B02_0",
    ]
    first = rows["A01_0"]
    assert (first.plate_id, first.well_id, first.site_id) == ("plate-7", "A01", 0)
    assert rows["well A01/A01_1"].site_id == 1
    assert (rows["well B02/B02_0"].well_id, rows["well B02/B02_0"].acquisition_name) == (
        "B02",
        "round 1",
    )
    label = rows["well A01/A01_0_nuclei"]
    assert (label.image_kind, label.parent_image_id) == ("label", "A01_0")
    assert first.image_path == "A/01/001.img" and first.shape == (2, 32, 32)
    assert first.metadata["collection"] == {
        "node_id": "A01_0",
        "node_path": "well A01/A01_0",
        "parent_id": None,
        "depth": 2,
    }
    warnings = " | ".join(str(w) for w in result.warnings)
    assert warnings.count("path refused") == 3
    assert "makes a cycle" in warnings
    assert "1 node(s) of type 'mobie:table' skipped" in warnings


def test_nothing_outside_the_root_is_read(plate_collection: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    opened: list[str] = []
    real = LocalStore._open

    def recording(self, key):  # type: ignore[no-untyped-def]
        opened.append(self._full(key))
        return real(self, key)

    monkeypatch.setattr(LocalStore, "_open", recording)
    ib.scan_store(plate_collection)
    root = str(plate_collection.resolve())
    assert opened and all(path.startswith(root + "/") for path in opened)
    assert not any("outside.img" in path for path in opened)


def test_inline_and_referenced_forms_give_the_same_ids(plate_collection: Path) -> None:
    referenced = {a.image_id for a in ib.scan_store(plate_collection).image_assets}
    document = json.loads((plate_collection / "zarr.json").read_text())
    ome = document["attributes"]["ome"]
    inline = json.loads((plate_collection / "wells" / "B02.json").read_text())["ome"]["nodes"]
    inline[0]["path"]["path"] = "./B/02/001.img"  # now relative to the root document
    ome["nodes"][1].pop("path")
    ome["nodes"][1]["nodes"] = inline
    (plate_collection / "zarr.json").write_text(json.dumps(document))
    assert {a.image_id for a in ib.scan_store(plate_collection).image_assets} == referenced


def test_a_standalone_collection_document_through_the_cli(
    plate_collection: Path, tmp_path: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    standalone = plate_collection / "gallery.json"
    standalone.write_text(
        json.dumps(
            {
                "ome": {
                    "version": "0.x",
                    "type": "collection",
                    "name": "gallery",
                    "nodes": [_image("one", "./A/01/001.img"), _image("two", "./B/02/001.img")],
                }
            }
        )
    )
    assert main(["scan", str(standalone), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assets = report["results"][0]["image_assets"]
    assert [a["image_id"] for a in assets] == ["one", "two"]
    root = tmp_path / "wh"
    assert main(["export-cytomining", "-w", str(root), "--no-chunks", str(standalone), "-q"]) == 0
    assert main(["validate-warehouse", str(root), "-q"]) == 0


def test_a_collection_over_s3_equals_the_local_one(plate_collection: Path, s3: str) -> None:
    from fixtures.stores import upload_s3

    uri = upload_s3(s3, plate_collection, "collections")
    local = ib.scan_store(plate_collection)
    remote = ib.scan_store(uri)
    assert [(a.image_id, a.well_id, a.shape) for a in remote.image_assets] == [
        (a.image_id, a.well_id, a.shape) for a in local.image_assets
    ]


def test_collection_columns_through_register_and_the_catalog(
    plate_collection: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ICEBERG_BIOIMAGE_HOME", str(tmp_path / "home"))
    assert main(["register", str(plate_collection), "--publish-chunks", "-q"]) == 0
    rows = ib.catalog_table_to_arrow(None, "images.image_assets").to_pylist()
    placed = {r["image_id"]: r for r in rows}
    first = placed["A01_0"]
    assert first["collection_uri"] == plate_collection.resolve().as_uri()
    assert (first["collection_node_id"], first["collection_node_path"]) == (
        "A01_0",
        "well A01/A01_0",
    )
    assert (first["collection_parent_id"], first["collection_depth"]) == (None, 2)
    assert placed["well B02/B02_0"]["collection_node_path"] == "well B02/B02_0"
    chunks = ib.catalog_table_to_arrow(None, "images.chunk_index")
    assert set(chunks.column("image_id").to_pylist()) == set(placed)


def test_rfc8_multiscale_nodes_inline_and_in_their_own_group(tmp_path: Path) -> None:
    import numpy as np
    import zarr

    root = tmp_path / "em"
    image = zarr.open_group(root / "raw", mode="w", zarr_format=3)
    for level, size in (("s0", 64), ("s1", 32)):
        array = image.create_array(level, shape=(4, size, size), chunks=(1, 16, 16), dtype="uint8")
        array[:] = np.ones((4, size, size), "uint8")

    def singlescale(name: str, path: str, factor: float) -> dict:  # type: ignore[type-arg]
        scale = {"type": "scale", "scale": [1.0, factor, factor],
                 "input": {"id": name}, "output": {"id": "physical"}}  # fmt: skip
        return {"type": "singlescale", "name": name, "id": name,
                "path": {"type": "zarr", "path": path},
                "attributes": {"coordinateTransformations": [scale]}}  # fmt: skip

    axes = [{"name": a, "type": "space", "unit": "micrometer"} for a in "zyx"]
    systems = {"coordinateSystems": [{"id": "physical", "axes": axes}]}
    raw = {"version": "0.x", "type": "multiscale", "name": "raw", "id": "raw",
           "nodes": [singlescale("s0", "./s0", 0.5), singlescale("s1", "./s1", 1.0)],
           "attributes": systems}  # fmt: skip
    _edit = json.loads((root / "raw" / "zarr.json").read_text())
    _edit["attributes"] = {"ome": raw}
    (root / "raw" / "zarr.json").write_text(json.dumps(_edit))
    inline = {"type": "multiscale", "name": "inline",
              "nodes": [singlescale("i0", "./raw/s1", 1.0)], "attributes": systems}  # fmt: skip
    _zarr_group(root, {"version": "0.x", "type": "collection", "name": "em",
                       "nodes": [_image("raw", "./raw"), inline]})  # fmt: skip
    result = ib.scan_store(root)
    rows = {a.image_id: a for a in result.image_assets}
    assert sorted(rows) == ["inline", "raw"]
    assert (rows["raw"].shape, len(rows["raw"].levels)) == ((4, 64, 64), 2)
    assert [a.name for a in rows["raw"].axes] == ["z", "y", "x"]
    assert rows["raw"].physical_size("x").size == 0.5
    assert rows["raw"].array_path == "raw/s0"
    assert (rows["inline"].shape, rows["inline"].array_path) == ((4, 32, 32), "raw/s1")


def test_a_remote_collection_reads_documents_and_metadata_only(
    plate_collection: Path, s3: str
) -> None:
    from fixtures.stores import upload_s3
    from iceberg_bioimage.io import open_store
    from iceberg_bioimage.scan.zarr_store import scan_zarr_store

    uri = upload_s3(s3, plate_collection, "counted")
    store = open_store(uri)
    result = scan_zarr_store(store, "screen")
    images = list(result.image_assets)
    documents = 2  # wells/B02.json and wells/loop.json, once each
    groups = len(images)  # each image group's zarr.json
    arrays = sum(len(a.levels) for a in images)  # each level's zarr.json
    label_probes = sum(a.image_kind == "image" for a in images)  # <image>/labels/zarr.json
    assert store.requests["list"] == 0
    root = 5  # the root's format probe: zarr.json and the four Zarr v2 names, one batch
    assert store.requests["get"] == root + documents + groups + arrays + label_probes


def test_summarize_shows_the_collection_tree(plate_collection: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["summarize", str(plate_collection), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["collection_levels"] == [[2, 3, 1]]  # wells' children: 3 images, 1 label
    assert main(["summarize", str(plate_collection)]) == 0
    assert "collection depth 2" in capsys.readouterr().out


def test_the_tall_plate_layout_inherits_acquisitions_from_sub_collections(tmp_path: Path) -> None:
    """RFC-8's "tall" HCS layout: each acquisition is a sub-collection of the
    well; label sources may be plain id strings."""
    root = tmp_path / "tall"
    for image in ("A/01/001.img", "A/01/001_nuclei.img", "A/01/002.img"):
        writers.write_single_image(root / image, version="0.5")

    def acquisition(name: str, acquisition_id: str, images: list) -> dict:  # type: ignore[type-arg]
        return {"type": "collection", "name": name,
                "attributes": {"acquisition": {"id": acquisition_id}}, "nodes": images}  # fmt: skip

    plate = {"rows": [{"id": "A", "name": "A"}], "columns": [{"id": "1", "name": "1"}],
             "acquisitions": [{"id": "acq_0", "name": "round 1"},
                              {"id": "acq_1", "name": "round 2"}]}  # fmt: skip
    well = {
        "type": "collection",
        "name": "well A01",
        "attributes": {"well": {"column": {"id": "1"}, "row": {"id": "A"}}},
        "nodes": [
            acquisition("A01_acq0", "acq_0", [
                _image("A01_0", "./A/01/001.img", id="A01_0"),
                _image("A01_0_nuclei", "./A/01/001_nuclei.img",
                       attributes={"labels": {"source": ["A01_0"]}}),
            ]),
            acquisition("A01_acq1", "acq_1", [_image("A01_1", "./A/01/002.img", id="A01_1")]),
        ],
    }  # fmt: skip
    _zarr_group(root, {"version": "0.x", "type": "collection", "name": "hcs-plate-001",
                       "attributes": {"plate": plate}, "nodes": [well]})  # fmt: skip
    rows = {a.image_id: a for a in ib.scan_store(root).image_assets}
    assert sorted(rows) == ["A01_0", "A01_1", "well A01/A01_acq0/A01_0_nuclei"]
    assert [(rows[i].acquisition_id, rows[i].acquisition_name) for i in ("A01_0", "A01_1")] == [
        ("acq_0", "round 1"),
        ("acq_1", "round 2"),
    ]
    assert {rows[i].well_id for i in rows} == {"A01"}
    assert (rows["A01_0"].site_id, rows["A01_1"].site_id) == (0, 1)
    nuclei = rows["well A01/A01_acq0/A01_0_nuclei"]
    assert (nuclei.image_kind, nuclei.parent_image_id) == ("label", "A01_0")
    assert rows["A01_0"].metadata["collection"]["depth"] == 3


def test_labels_under_a_collection_image_keep_their_place(tmp_path: Path) -> None:
    root = tmp_path / "c"
    writers.write_single_image(root / "img.zarr", version="0.5", label="cells")
    _zarr_group(root, {"version": "0.x", "type": "collection", "name": "c",
                       "nodes": [_image("one", "./img.zarr", id="one")]})  # fmt: skip
    table = ib.scan_as_arrow_table(root)
    rows = {r["image_id"]: r for r in table.to_pylist()}
    label = rows["one/labels/cells"]
    assert (label["collection_node_path"], label["collection_depth"]) == ("one/labels/cells", 2)
    assert (label["collection_parent_id"], label["collection_uri"]) == (
        "one",
        root.resolve().as_uri(),
    )


def _webknossos_collection(root: Path, outside: Path) -> Path:
    """The shape of RFC-8's ``examples/webknossos/custom-nodes.json`` (an older
    draft: ``node_type``, ``image`` nodes, bare string paths, one of them
    absolute, and twenty-three extension nodes), over images written here."""
    for name in ("segmentation", "prediction"):
        writers.write_single_image(root / name, version="0.5")
    extensions = [{"node_type": "webknossos:mesh", "name": "mesh", "path": "./segmentation/m"}]
    extensions += [
        {"node_type": "webknossos:agglomeration", "name": f"agglomerate_view_{i}",
         "path": f"./segmentation/zarr/agglomerates/agglomerate_view_{i}",
         "attributes": {"webknossos:parent": "segmentation"}}
        for i in range(5, 105, 5)
    ]  # fmt: skip
    extensions += [{"node_type": "webknossos:segment_index", "name": "segmentIndex",
                    "path": "./segmentation/zarr/segmentIndex"},
                   {"node_type": "webknossos:connectome", "name": "connectome",
                    "path": "./segmentation/zarr/connectomes/c"}]  # fmt: skip
    nodes = [
        {"node_type": "image", "name": "color", "path": str(outside),
         "attributes": {"webknossos:category": "color"}},
        {"node_type": "image", "name": "segmentation", "path": "./segmentation"},
        *extensions,
        {"node_type": "image", "name": "prediction", "path": "./prediction"},
    ]  # fmt: skip
    ome = {"version": "0.7", "node_type": "collection", "name": "l4dense", "nodes": nodes}
    document = {"zarr_format": 3, "node_type": "group", "attributes": {"ome": ome}}
    root.mkdir(parents=True, exist_ok=True)
    (root / "zarr.json").write_text(json.dumps(document))
    return root


def test_the_rfc_webknossos_example_shape_gives_its_rows(tmp_path: Path) -> None:
    outside = writers.write_single_image(tmp_path / "elsewhere" / "color", version="0.5")
    root = _webknossos_collection(tmp_path / "l4dense", outside)
    result = ib.scan_store(root)
    assert [a.image_id for a in result.image_assets] == ["prediction", "segmentation"]
    table = ib.scan_result_as_arrow_table(result)
    assert sorted(table.column("collection_node_path").to_pylist()) == [
        "prediction",
        "segmentation",
    ]
    warnings = sorted(str(w) for w in result.warnings)
    assert warnings == sorted([
        ".: collection version 0.7 is not RFC-8's; read anyway",
        f"color: path refused: {outside}: outside the collection's root",
        ".: 20 node(s) of type 'webknossos:agglomeration' skipped",
        ".: 1 node(s) of type 'webknossos:connectome' skipped",
        ".: 1 node(s) of type 'webknossos:mesh' skipped",
        ".: 1 node(s) of type 'webknossos:segment_index' skipped",
        ".: 3 draft path(s) given as a bare string, read as Zarr groups",
        ".: 4 node(s) in a draft shape ('node_type'), read as 'type'",
    ])  # fmt: skip


def test_references_outside_the_root_are_read_only_with_consent(
    tmp_path: Path, capsys, opened
) -> None:  # type: ignore[no-untyped-def]
    outside = writers.write_single_image(tmp_path / "elsewhere" / "color", version="0.5")
    root = _webknossos_collection(tmp_path / "l4dense", outside)
    ib.scan_store(root)
    assert not [p for p in opened if "elsewhere" in p]  # refused: nothing read there
    allowed = ib.scan_store(root, allow_outside_root=True)
    rows = {a.image_id: a for a in allowed.image_assets}
    assert sorted(rows) == ["color", "prediction", "segmentation"]
    assert rows["color"].shape == (2, 32, 32) and rows["color"].uri == "file:///"
    assert rows["color"].image_path == str(outside).lstrip("/")
    assert allowed.uri == (root / "zarr.json").as_uri()
    assert allowed.dataset_id == ib.scan_store(root).dataset_id == "l4dense"
    assert main(["--allow-outside-root", "scan", str(root), "--json", "-q"]) == 0
    images = json.loads(capsys.readouterr().out)["results"][0]["image_assets"]
    assert sorted(a["image_id"] for a in images) == ["color", "prediction", "segmentation"]
    assert main(["scan", str(root), "--json", "-q"]) == 0  # the consent does not linger
    images = json.loads(capsys.readouterr().out)["results"][0]["image_assets"]
    assert sorted(a["image_id"] for a in images) == ["prediction", "segmentation"]
    sources = ib.source_images(ib.scan_result_as_arrow_table(allowed), level=1)
    assert sum(b.num_rows for b in sources) == 3  # the pixels are reachable too


def _ngio_plate_nested(root: Path) -> Path:
    """The shape of ngio-collections' ``examples/data/hcs_nested``: a plate
    collection whose wells are JSON documents, each naming one RFC-8
    multiscale group (singlescale nodes); well B1 names an image that is absent."""
    import zarr

    rows = [{"id": "A"}, {"id": "B"}]
    columns = [{"id": "1"}, {"id": "2"}]
    nodes = []
    for row in ("A", "B"):
        for column in ("1", "2"):
            well = f"{row}{column}"
            reference = {"type": "json", "path": f"./{row}/{column}/well.json"}
            nodes.append({"type": "collection", "id": f"well_{well}", "name": well,
                          "path": reference})  # fmt: skip
            (root / row / column).mkdir(parents=True)
            image = {"type": "zarr", "path": "./0.zarr"}
            document = {"ome": {"version": "0.x", "type": "collection", "id": f"well_{well}",
                                "name": well,
                                "attributes": {"well": {"row": {"id": row},
                                                        "column": {"id": column}}},
                                "nodes": [{"type": "multiscale", "id": f"img_{well}",
                                           "name": "0", "path": image}]}}  # fmt: skip
            (root / row / column / "well.json").write_text(json.dumps(document))
            if well == "B1":
                continue  # listed, never written
            group = zarr.open_group(root / row / column / "0.zarr", mode="w", zarr_format=3)
            group.create_array("s0", shape=(16, 24), chunks=(8, 8), dtype="uint16")
            axes = [{"name": "y", "type": "space"}, {"name": "x", "type": "space"}]
            ome = {"version": "0.x", "type": "multiscale", "id": f"img_{well}", "name": "0",
                   "attributes": {"coordinateSystems": [{"id": "physical", "name": None,
                                                         "axes": axes}]},
                   "nodes": [{"type": "singlescale", "id": f"s0_{well}", "name": "s0",
                              "path": {"type": "zarr", "path": "./s0"},
                              "attributes": {"coordinateTransformations": []}}]}  # fmt: skip
            edited = json.loads((root / row / column / "0.zarr" / "zarr.json").read_text())
            edited["attributes"] = {"ome": ome}
            (root / row / column / "0.zarr" / "zarr.json").write_text(json.dumps(edited))
    plate = {"ome": {"version": "0.x", "type": "collection", "id": "plate", "name": "My Plate",
                     "attributes": {"plate": {"acquisitions": [], "columns": columns,
                                              "rows": rows}},
                     "nodes": nodes}}  # fmt: skip
    (root / "collection.json").write_text(json.dumps(plate))
    return root / "collection.json"


def test_the_ngio_nested_plate_example_shape_gives_its_rows(tmp_path: Path) -> None:
    document = _ngio_plate_nested(tmp_path / "hcs_nested")
    result = ib.scan_store(document)
    columns = ["image_id", "plate_id", "well_id", "collection_node_path", "collection_parent_id",
               "collection_depth", "shape"]  # fmt: skip
    table = ib.scan_result_as_arrow_table(result).select(columns)
    rows = sorted(tuple(r[c] for c in columns) for r in table.to_pylist())
    assert rows == [
        ("img_A1", "My Plate", "A01", "A1/0", "well_A1", 2, [16, 24]),
        ("img_A2", "My Plate", "A02", "A2/0", "well_A2", 2, [16, 24]),
        ("img_B2", "My Plate", "B02", "B2/0", "well_B2", 2, [16, 24]),
    ]
    assert [str(w) for w in result.warnings] == [
        "B/1/0.zarr: image is listed but absent from the store"
    ]


def _rfc8_image_group(path: Path, node: dict, shape: tuple[int, int] = (16, 24)) -> None:  # type: ignore[type-arg]
    """An RFC-8 multiscale group (zarr-python writes the arrays, one per level)."""
    import zarr

    group = zarr.open_group(path, mode="w", zarr_format=3)
    for index in range(2):
        group.create_array(str(index), shape=(shape[0] >> index, shape[1] >> index),
                           chunks=(8, 8), dtype="uint16")  # fmt: skip
    axes = [{"name": "y", "type": "space", "unit": "micrometer"},
            {"name": "x", "type": "space", "unit": "micrometer"}]  # fmt: skip
    levels = [{"type": "singlescale", "name": f"{node['id']}_{i}", "id": f"{node['id']}_{i}",
               "path": {"type": "zarr", "path": f"./{i}"},
               "attributes": {"coordinateTransformations": [
                   {"type": "scale", "scale": [2.0**i, 2.0**i]}]}} for i in range(2)]  # fmt: skip
    attributes = {"coordinateSystems": [{"id": "space", "axes": axes}], **node.get("extra", {})}
    ome = {"version": "0.x", "type": "multiscale", "name": node["id"], "id": node["id"],
           "attributes": attributes, "nodes": levels}  # fmt: skip
    document = json.loads((path / "zarr.json").read_text())
    document["attributes"] = {"ome": ome}
    (path / "zarr.json").write_text(json.dumps(document))


def _collection_file(path: Path, ome: dict) -> Path:  # type: ignore[type-arg]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"ome": {"version": "0.x", "type": "collection", **ome}}))
    return path


def _rows(document: Path, columns: list[str]) -> list[tuple]:  # type: ignore[type-arg]
    table = ib.scan_result_as_arrow_table(ib.scan_store(document)).select(columns)
    return sorted(tuple(row[c] for c in columns) for row in table.to_pylist())


def test_the_ngio_single_document_plate_shape(tmp_path: Path) -> None:
    """ngio-collections' ``hcs_single``: wells inline, one image each."""
    wells = []
    for row, column in (("A", "1"), ("A", "2"), ("B", "1"), ("B", "2")):
        well = f"{row}{column}"
        _rfc8_image_group(tmp_path / row / column / "0.zarr", {"id": f"img_{well}"})
        path = {"type": "zarr", "path": f"./{row}/{column}/0.zarr"}
        image = {"type": "multiscale", "id": f"img_{well}", "name": "0", "path": path}
        wells.append({"type": "collection", "id": f"well_{well}", "name": well,
                      "attributes": {"well": {"column": {"id": column}, "row": {"id": row}}},
                      "nodes": [image]})  # fmt: skip
    plate = {"acquisitions": [], "columns": [{"id": "1"}, {"id": "2"}],
             "rows": [{"id": "A"}, {"id": "B"}]}  # fmt: skip
    ome = {"id": "plate", "name": "My Plate", "attributes": {"plate": plate}, "nodes": wells}
    document = _collection_file(tmp_path / "collection.json", ome)
    assert _rows(document, ["image_id", "well_id", "site_id", "array_path", "level_count"]) == [
        ("img_A1", "A01", 0, "A/1/0.zarr/0", 2),
        ("img_A2", "A02", 0, "A/2/0.zarr/0", 2),
        ("img_B1", "B01", 0, "B/1/0.zarr/0", 2),
        ("img_B2", "B02", 0, "B/2/0.zarr/0", 2),
    ]


def test_the_ngio_multi_document_image_and_labels_shape(tmp_path: Path) -> None:
    """ngio-collections' ``multi_documents_creation``: nodes with an id and no
    name, and a labels group that declares its source in its own node."""
    _rfc8_image_group(tmp_path / "image.zarr", {"id": "image"})
    source = {"source": [{"id": "image", "path": {"type": "zarr", "path": "../image.zarr"}}]}
    _rfc8_image_group(tmp_path / "labels.zarr", {"id": "labels", "extra": {"labels": source}})
    document = _collection_file(tmp_path / "collection.json", {"id": "root", "nodes": [
        {"type": "multiscale", "id": "image", "path": {"type": "zarr", "path": "./image.zarr"}},
        {"type": "multiscale", "id": "labels",
         "path": {"type": "zarr", "path": "./labels.zarr"}}]})  # fmt: skip
    columns = ["image_id", "image_kind", "parent_image_id", "label_name", "shape"]
    assert _rows(document, columns) == [
        ("image", "image", None, None, [16, 24]),
        ("labels", "label", "image", "labels", [16, 24]),
    ]
    warnings = [str(w) for w in ib.scan_store(document).warnings]
    assert warnings == [".: 2 node(s) without a name, named by their id"]


def test_the_ngio_inline_and_resolver_shapes(tmp_path: Path) -> None:
    """ngio-collections' ``inline`` (an annotated image node) and ``resolver``
    (an image and a collection document of tables, skipped and counted)."""
    _rfc8_image_group(tmp_path / "image.zarr", {"id": "image"})
    notes = {"ngio:description": "stub-side annotation", "ngio:reviewed": True}
    image = {"type": "multiscale", "id": "image", "name": "DAPI",
             "path": {"type": "zarr", "path": "./image.zarr"}, "attributes": notes}  # fmt: skip
    inline = _collection_file(tmp_path / "inline.json", {
        "id": "my-experiment", "name": "My Experiment", "nodes": [image]})  # fmt: skip
    assert _rows(inline, ["image_id", "collection_node_path", "shape"]) == [
        ("image", "DAPI", [16, 24])
    ]
    _collection_file(tmp_path / "tables" / "measurements.json", {
        "id": "tables", "name": "Tables", "attributes": {"fractal:status": "validated"},
        "nodes": [{"type": "fractal:table", "id": "t1", "name": "regionprops"}]})  # fmt: skip
    tables = {"type": "collection", "id": "tables", "name": "Tables",
              "path": {"type": "json", "path": "./tables/measurements.json"}}  # fmt: skip
    resolver = _collection_file(tmp_path / "resolver.json", {
        "id": "my-experiment", "name": "My Experiment", "nodes": [image, tables]})  # fmt: skip
    result = ib.scan_store(resolver)
    assert [a.image_id for a in result.image_assets] == ["image"]
    assert [str(w) for w in result.warnings] == [".: 1 node(s) of type 'fractal:table' skipped"]


def test_the_rfc_inline_multiscale_example_shape(tmp_path: Path) -> None:
    """RFC-8's ``examples/webknossos/inline-multiscale.json`` (an experiment):
    OME-NGFF ``multiscales`` written into draft image nodes; one with absolute
    dataset paths (refused), one with paths relative to the document."""
    import zarr

    root = tmp_path / "l4dense"
    group = zarr.open_group(root / "segmentation", mode="w", zarr_format=3)
    for level, step in (("1", 1), ("2-2-1", 2)):
        group.create_array(level, shape=(1, 64 // step, 48 // step, 10), chunks=(1, 16, 16, 5),
                           dtype="uint32")  # fmt: skip
    axes = [{"name": "c", "type": "channel"}] + [
        {"name": a, "type": "space", "unit": "nanometer"} for a in "xyz"
    ]

    def multiscales(paths: list[str]) -> list[dict]:  # type: ignore[type-arg]
        return [{"axes": axes, "datasets": [
            {"path": p, "coordinateTransformations": [
                {"type": "scale", "scale": [1.0, 11.24 * 2**i, 11.24 * 2**i, 28.0]}]}
            for i, p in enumerate(paths)]}]  # fmt: skip

    elsewhere = "/absolute/path/to/color"
    nodes = [
        {"node_type": "image", "name": "color",
         "multiscales": multiscales([f"{elsewhere}/1", f"{elsewhere}/2-2-1"])},
        {"node_type": "image", "name": "segmentation",
         "multiscales": multiscales(["./segmentation/1", "./segmentation/2-2-1"])},
        {"node_type": "webknossos:mesh", "name": "meshfile", "path": "./segmentation/m"},
    ]  # fmt: skip
    ome = {"version": "0.7", "node_type": "collection", "name": "l4dense", "nodes": nodes}
    _zarr_group(root, ome)
    result = ib.scan_store(root)
    rows = {a.image_id: a for a in result.image_assets}
    assert sorted(rows) == ["segmentation"]
    assert rows["segmentation"].shape == (1, 64, 48, 10)
    assert [level.path for level in rows["segmentation"].levels] == [
        "segmentation/1", "segmentation/2-2-1"
    ]  # fmt: skip
    assert rows["segmentation"].physical_size("x").size == pytest.approx(11.24)
    assert any("color: dataset path refused" in str(w) for w in result.warnings)


def test_a_collection_reads_the_zarr_v2_images_it_references(
    tmp_path: Path, capsys, opened
) -> None:  # type: ignore[no-untyped-def]
    """Labs group the OME-NGFF 0.4 images they have (Zarr v2: ``.zattrs``,
    no ``zarr.json``): those are read as any 0.4 image, labels included, and
    keep their place in the tree; only a group that is truly absent warns."""
    root = tmp_path / "c"
    writers.write_single_image(root / "new.zarr", version="0.5", label=None)
    writers.write_single_image(root / "old.zarr", version="0.4", label="cells")
    nodes = [_image("new", "new.zarr", id="new"), _image("old", "old.zarr", id="old"),
             _image("gone", "gone.zarr")]  # fmt: skip
    _zarr_group(root, {"version": "0.x", "type": "collection", "name": "c", "nodes": nodes})
    out = tmp_path / "assets.parquet"
    assert main(["scan", str(root), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "gone.zarr: image is listed but absent" in err
    gone = [path.split("/gone.zarr/")[1] for path in opened if "/gone.zarr/" in path]
    assert gone == ["zarr.json", ".zattrs"]
    assert "old.zarr" not in err
    import pyarrow.parquet as pq

    rows = {r["image_id"]: r for r in pq.read_table(out).to_pylist()}
    assert sorted(rows) == ["new", "old", "old/labels/cells"]
    old, label = rows["old"], rows["old/labels/cells"]
    assert (old["ome_ngff_version"], old["storage_variant"]) == ("0.4", "zarr-v2")
    assert old["array_path"] == "old.zarr/s0" and old["axes"] == rows["new"]["axes"]
    assert (old["collection_node_path"], old["collection_depth"]) == ("old", 1)
    assert (label["parent_image_id"], label["collection_parent_id"]) == ("old", "old")


@pytest.mark.parametrize(
    "escape",
    ["./../outside.img", "./a/../../outside.img", "./%2e%2e/outside.img", "./..%2Foutside.img"],
)
def test_dot_slash_paths_that_escape_are_refused_among_plain_siblings(
    tmp_path: Path, escape: str, opened, capsys
) -> None:  # type: ignore[no-untyped-def]
    """Sibling image nodes written ``./<key>`` are checked many at a time; one
    that escapes sends them all through the full resolution: it is refused,
    nothing outside the root is read, and its plain siblings still give rows."""
    writers.write_single_image(tmp_path / "outside.img", version="0.5", label=None)
    root = tmp_path / "c"
    for name in ("a", "b"):
        writers.write_single_image(root / f"{name}.img", version="0.5", label=None)
    nodes = [_image("a", "./a.img"), _image("evil", escape), _image("b", "./b.img")]
    _zarr_group(root, {"version": "0.x", "type": "collection", "name": "c", "nodes": nodes})
    assert main(["scan", str(root), "--format", "json"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert sorted(r["image_id"] for r in rows) == ["a", "b"]
    assert "evil: path refused" in captured.err
    assert not [p for p in opened if "outside.img" in p]
