"""iceberg-bioimage: bioimaging stores as queryable, joinable tables.

``import iceberg_bioimage as ib`` gives the whole public API: the functions
of :mod:`iceberg_bioimage.api`, the result models, the canonical schemas and
every error a user can meet (:mod:`iceberg_bioimage.errors`). Functions are
loaded on first use, so importing the package stays cheap.
"""

import logging
from typing import Any

from iceberg_bioimage import api, errors
from iceberg_bioimage._version import __version__

# The same functions, also accepting the call forms of 0.1.0, and the names
# 0.1.0 exported (iceberg_bioimage.compat; see docs/migration.md).
from iceberg_bioimage.compat import forms as _forms
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

# The canonical schema needs pyarrow, which commands that print rows never load.
_SCHEMA_NAMES = ("IMAGE_ASSETS_SCHEMA", "SCHEMA_VERSION")

# Library logging (what was scanned, which catalog, what was committed) goes
# to "iceberg_bioimage"; the CLI shows it with --verbose.
logging.getLogger("iceberg_bioimage").addHandler(logging.NullHandler())


def __getattr__(name: str) -> Any:
    """A public function, schema constant or 0.1.0 name, loaded on first use and kept."""
    if name in _SCHEMA_NAMES:
        from iceberg_bioimage import schema

        globals()[name] = value = getattr(schema, name)
        return value
    value = _forms.wrapped(name)
    if value is None and name in _forms.LEGACY_NAMES:
        value = _forms.legacy(name)
    if value is None and name in api.__all__:
        value = getattr(api, name)
    if value is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    *api.__all__,
    *errors.__all__,
    "__version__",
    *_SCHEMA_NAMES,
    "Axis",
    "DatasetSummary",
    "DirectoryScan",
    "ImageAsset",
    "ImageLevel",
    "PhysicalSize",
    "ScanResult",
    "ScanWarning",
    *_forms.LEGACY_NAMES,
]
