"""iceberg-bioimage: bioimaging stores as queryable, joinable tables.

``import iceberg_bioimage as ib`` gives the whole public API: the functions
of :mod:`iceberg_bioimage.api`, the result models, the canonical schemas and
every error a user can meet (:mod:`iceberg_bioimage.errors`).
"""

import logging

from iceberg_bioimage import api, errors
from iceberg_bioimage._version import __version__
from iceberg_bioimage.api import *  # noqa: F403  (the public functions, listed in api.__all__)

# The same functions, also accepting the call forms of 0.1.0, and the names
# 0.1.0 exported (iceberg_bioimage.compat; see docs/migration.md).
from iceberg_bioimage.compat.forms import legacy_names, wrapped_api
from iceberg_bioimage.errors import *  # noqa: F403  (every error, listed in errors.__all__)
from iceberg_bioimage.models import (
    Axis,
    DatasetSummary,
    DirectoryScan,
    ImageAsset,
    ImageLevel,
    PhysicalSize,
    ScanResult,
    ScanWarning,
)
from iceberg_bioimage.schema import IMAGE_ASSETS_SCHEMA, SCHEMA_VERSION

# Library logging (what was scanned, which catalog, what was committed) goes
# to "iceberg_bioimage"; the CLI shows it with --verbose.
logging.getLogger("iceberg_bioimage").addHandler(logging.NullHandler())

_LEGACY = legacy_names()
globals().update(wrapped_api())
globals().update(_LEGACY)

__all__ = [
    *api.__all__,
    *errors.__all__,
    "__version__",
    "IMAGE_ASSETS_SCHEMA",
    "SCHEMA_VERSION",
    "Axis",
    "DatasetSummary",
    "DirectoryScan",
    "ImageAsset",
    "ImageLevel",
    "PhysicalSize",
    "ScanResult",
    "ScanWarning",
    *_LEGACY,
]
