from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

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
