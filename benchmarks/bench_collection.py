"""Issue 17: walk an OME-Zarr collection (RFC-8) of about a million nodes.

Builds the ngio-collections benchmark shape: 20 plates x 240 wells x N scenes,
each scene with 3 images, 5 labels and 10 tables (``ngio:table``, skipped),
1,008,021 nodes at N = 11; the arrays it references do not exist, so what is
measured is reading the document and walking the tree to the image nodes
(their rows without array metadata). Compared in the same run, in turns,
each timed inside a fresh process with the garbage collector paused, with a
bare ``orjson.loads`` call on the same file (read from disk; the issue's
bound: the statement ``orjson.loads(data)`` as timeit times it, its result
going when the statement ends) and, reported without an alarm, with the same
whose result is kept alive past the clock.
Then the same tree split into one document per scene: time per document.

Goal: one document within 2x of orjson.loads, peak memory < 2 GB; split
collection <= 0.15 ms per document.

Run: python benchmarks/bench_collection.py [--scenes 11] [--workdir DIR]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from common import (
    PRINT_PEAK_KB,
    bench_parser,
    best_of,
    last_line_of,
    peak_mb,
    print_rows,
    row,
    workdir,
)

PLATES, WELLS = 20, 240


def scene_nodes(plate: int, well: int, scene: int) -> list[dict]:  # type: ignore[type-arg]
    prefix = f"p{plate}_w{well}_s{scene}"

    def image(kind: str, index: int, labels: bool = False) -> dict:  # type: ignore[type-arg]
        node = {
            "type": "multiscale",
            "name": f"{kind}{index}",
            "id": f"{prefix}_{kind}{index}",
            "path": {"type": "zarr", "path": f"./data/{prefix}/{kind}{index}"},
            "attributes": {"role": kind},
        }
        if labels:
            node["attributes"]["labels"] = {"source": [{"id": f"{prefix}_image0"}]}
        return node

    return [
        *(image("image", i) for i in range(3)),
        *(image("label", i, labels=True) for i in range(5)),
        *({"type": "ngio:table", "name": f"table{i}", "attributes": {"role": "table"}}
          for i in range(10)),
    ]  # fmt: skip


def scene(plate: int, well: int, index: int) -> dict:  # type: ignore[type-arg]
    return {"type": "collection", "name": f"scene{index}",
            "nodes": scene_nodes(plate, well, index)}  # fmt: skip


def well(plate: int, index: int, scenes: list) -> dict:  # type: ignore[type-arg]
    row, column = divmod(index, 24)
    return {
        "type": "collection",
        "name": f"well{index}",
        "attributes": {"well": {"row": {"id": str(row)}, "column": {"id": str(column)}}},
        "nodes": scenes,
    }


def plate_attributes() -> dict:  # type: ignore[type-arg]
    return {"plate": {"rows": [{"id": str(r), "name": "ABCDEFGHIJKLMNOP"[r]} for r in range(10)],
                      "columns": [{"id": str(c), "name": str(c + 1)} for c in range(24)]}}  # fmt: skip


def build(folder: Path, scenes: int) -> tuple[Path, Path, int]:
    """The one-document collection and the one-document-per-scene one."""
    folder.mkdir(parents=True, exist_ok=True)
    single, split = folder / f"single-{scenes}.json", folder / f"split-{scenes}" / "root.json"
    if single.exists() and split.exists():
        return single, split, json.loads((folder / f"count-{scenes}.json").read_text())
    plates, split_plates, documents = [], [], 0
    for p in range(PLATES):
        wells, split_wells = [], []
        for w in range(WELLS):
            wells.append(well(p, w, [scene(p, w, s) for s in range(scenes)]))
            references = []
            for s in range(scenes):
                path = split.parent / f"p{p}" / f"w{w}" / f"s{s}.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                body = {"ome": {"version": "0.x", **scene(p, w, s)}}
                path.write_text(json.dumps(body))
                documents += 1
                references.append({"type": "collection", "name": f"scene{s}",
                                   "path": {"type": "json", "path": f"./p{p}/w{w}/s{s}.json"}})  # fmt: skip
            split_wells.append(well(p, w, references))
        plates.append({"type": "collection", "name": f"plate{p}", "attributes": plate_attributes(),
                       "nodes": wells})  # fmt: skip
        split_plates.append({**plates[-1], "nodes": split_wells})
    root = {"ome": {"version": "0.x", "type": "collection", "name": "screen", "nodes": plates}}
    single.write_text(json.dumps(root))
    split.write_text(json.dumps({"ome": {**root["ome"], "nodes": split_plates}}))
    nodes = 1 + PLATES + PLATES * WELLS + PLATES * WELLS * scenes * 19
    (folder / f"count-{scenes}.json").write_text(json.dumps([nodes, documents]))
    return single, split, [nodes, documents]  # type: ignore[return-value]


# One timed call in a fresh interpreter (as a user's scan runs), the collector
# paused; the process ends without its teardown, so a result left alive is
# not released on the clock.
TIMED = """
import gc, os, sys, time
{imports}
gc.disable()
start = time.perf_counter()
{work}
print(time.perf_counter() - start, count)
sys.stdout.flush()
os._exit(0)
"""
CALLS = {
    # the bound: a bare call, as timeit measures it (the collector
    # paused; the parsed document goes when the statement ends)
    "loads": ("import orjson", "orjson.loads(open(sys.argv[1], 'rb').read())\ncount = 0"),
    # the same with the document kept alive past the clock (no alarm: the
    # walk must touch and release it, see docs/performance.md)
    "loads, kept": ("import orjson", "document = orjson.loads(open(sys.argv[1], 'rb').read())\n"
                    "count = len(document)"),
    "ours": ("from iceberg_bioimage.scan.collection import image_nodes",
             "count = len(image_nodes(sys.argv[1]))"),
}  # fmt: skip


def fresh_process_seconds(name: str, path: Path) -> tuple[float, int]:
    """(seconds, count) of one of ``CALLS`` on ``path`` in a fresh interpreter."""
    imports, work = CALLS[name]
    code = TIMED.format(imports=imports, work=work)
    seconds, count = last_line_of(code, str(path)).split()
    return float(seconds), int(count)


WALK = (
    """
import sys
from iceberg_bioimage.scan.collection import image_nodes
image_nodes(sys.argv[1])
"""
    + PRINT_PEAK_KB
)


def suite(folder: Path, quick: bool = False, scenes: int = 11) -> list[dict[str, Any]]:
    """The collection rows of the benchmark table (``quick``: one scene a well)."""
    from iceberg_bioimage.scan.collection import image_nodes

    single, split, (nodes, documents) = build(folder, 1 if quick else scenes)
    repeats = 3 if quick else 5
    # In turns, each in a fresh process: this machine's large allocations
    # vary by half from one minute to the next, and a process that has
    # already freed a document parses the next one in reused memory.
    best: dict[str, tuple[float, int]] = {}
    for _ in range(repeats):
        for name in CALLS:
            seconds, count = fresh_process_seconds(name, single)
            if name not in best or seconds < best[name][0]:
                best[name] = (seconds, count)
    (bound, _), (kept, _) = best["loads"], best["loads, kept"]
    ours, image_count = best["ours"]
    images = image_nodes(str(single))
    assert len(images) == image_count
    split_time, split_images = best_of(lambda: image_nodes(str(split)), 3)
    assert len(split_images) == len(images)
    peak = peak_mb(WALK, str(single))
    print(
        f"collection: {nodes:,} nodes, {len(images):,} image nodes, {single.stat().st_size >> 20} MiB"
    )
    name = f"collection of {nodes:,} nodes"
    return [
        row(f"{name}, one document", ours, bound, "bare orjson.loads", "<=", 2),
        row(f"{name}, one document", ours, kept, "orjson.loads, kept", "<=", 2, gate=False),
        row(
            f"{name}, split: ms per document", split_time / documents * 1000, None, "ms", "<=", 0.15
        ),
        row(f"{name}, one document: peak memory", peak, None, "MB", "<=", 2048),
    ]


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--scenes", type=int, default=11)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    folder = workdir(args, "ib-bench-collection-")
    print_rows(suite(folder, args.quick, args.scenes))


if __name__ == "__main__":
    main()
