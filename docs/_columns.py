"""Writes docs/tables.md from the package's Arrow schemas (run after a schema change;
tests/test_docs.py fails while the page and the schemas disagree)."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa

from iceberg_bioimage.schema import CHUNK_INDEX_SCHEMA, IMAGE_ASSETS_SCHEMA, SCHEMA_VERSION

INTRO = """# The canonical tables

Both tables are declared once, as Arrow schemas in `iceberg_bioimage.schema`
(schema version {version}); Iceberg tables, Parquet files and warehouse parts
are all derived from them. Required columns are never null.
"""


def column_table(schema: pa.Schema) -> str:
    lines = ["| column | type | required | meaning |", "|---|---|---|---|"]
    for field in schema:
        doc = (field.metadata or {}).get(b"doc", b"").decode()
        required = "yes" if not field.nullable else ""
        lines.append(f"| `{field.name}` | `{field.type}` | {required} | {doc} |")
    return "\n".join(lines)


def page() -> str:
    return (
        INTRO.format(version=SCHEMA_VERSION)
        + "\n## images.image_assets\n\n"
        + "One row per image (a multiscale image is one row; labels are rows of their own).\n\n"
        + column_table(IMAGE_ASSETS_SCHEMA)
        + "\n\n## images.chunk_index\n\n"
        + "One row per stored chunk, shard, inner chunk (with `--byte-ranges`) or TIFF tile.\n\n"
        + column_table(CHUNK_INDEX_SCHEMA)
        + "\n"
    )


if __name__ == "__main__":
    target = Path(__file__).with_name("tables.md")
    target.write_text(page())
    sys.stdout.write(f"wrote {target}\n")
