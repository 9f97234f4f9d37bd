# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Metadata workflow: summaries and joins
#
# Scan a plate, look at its summary, and join a profile table to its images.
# (Open with `jupytext --to notebook` or run as a script.)

# %%
import tempfile
from pathlib import Path

import iceberg_bioimage as ib
from iceberg_bioimage.samples import write_sample_plate, write_sample_profiles

workdir = Path(tempfile.mkdtemp(prefix="metadata-workflow-"))
plate = write_sample_plate(workdir / "plate.ome.zarr")
profiles = write_sample_profiles(workdir / "cells.csv")

# %%
summary = ib.summarize_store(plate)
print(summary.to_json())

# %% [markdown]
# The profile table names its keys the CellProfiler way (`Metadata_Well` as
# `A1`, sites from 1). The contract check finds them; the join normalises them.

# %%
contract = ib.validate_microscopy_profile_table(profiles)
print({k: r.column for k, r in contract.keys.items()}, contract.strategies)

# %%
joined = ib.join_profiles_with_store(plate, profiles, profile_dataset_id=summary.dataset_id)
print(joined.report.to_dict())
assert joined.report.unmatched_profile_rows == 0
