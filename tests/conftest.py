"""Shared fixtures: the real-data folder, and every store backend (from
``fixtures.stores``). pytest puts this folder on ``sys.path`` itself (rootdir
conftest, prepend import mode), so ``fixtures`` imports as a package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fixtures.engines import ray_cluster
from fixtures.stores import azure, gcs, http_root, s3

__all__ = ["azure", "gcs", "http_root", "ray_cluster", "s3"]

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# The suite talks to servers on 127.0.0.1 only: no developer's AWS files, and
# an SDK falling back to instance metadata reaches a closed loopback port.
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ.pop("AWS_PROFILE", None)
os.environ["AWS_METADATA_ENDPOINT"] = "http://127.0.0.1:9"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA
