# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Basic workflow: TIFF and Zarr into a warehouse, namespace by namespace
#
# Image metadata lands in `images`, profiles in `profiles`, QC flags in
# `quality_control`, as the Cytomining Warehouse Specification requires.

# %%
import tempfile
from pathlib import Path

import pyarrow as pa

import iceberg_bioimage as ib
from iceberg_bioimage.samples import write_sample_ome_tiff, write_sample_plate

workdir = Path(tempfile.mkdtemp(prefix="basic-workflow-"))
root = workdir / "warehouse-root"
stores = [
    write_sample_plate(workdir / "plate.ome.zarr"),
    write_sample_ome_tiff(workdir / "image.ome.tiff"),
]

# %%
ib.export_store_to_cytomining_warehouse(stores, root)

# %%
flags = pa.table(
    {"dataset_id": ["plate"], "image_id": ["demo-plate/A01/0"], "ObjectNumber": [1], "keep": [True]}
)
ib.export_table_to_cytomining_warehouse(
    flags, root, table_name="qc_flags", role="quality_control", profile_level="object"
)

# %%
warehouse = ib.open_warehouse(root)
for entry in warehouse.manifest.tables:
    print(f"{entry.table_name:<32} role={entry.role:<16} rows={entry.row_count}")
assert ib.validate_warehouse(root).valid
