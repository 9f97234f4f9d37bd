"""Every error a user can meet, in one place.

Each class derives from :class:`IcebergBioimageError` (whose message is
written for the user, without a traceback) and from the builtin a Python
user would catch for the same situation: a missing store is a
``FileNotFoundError``, unusable input a ``ValueError``, a missing optional
package an ``ImportError``. The CLI maps ``exit_code`` to the process exit
status.
"""

from __future__ import annotations


class IcebergBioimageError(Exception):
    """Base class: the message is written for the user, without a traceback."""

    exit_code = 2


# -- input: stores, files, arguments -------------------------------------------
class InputError(IcebergBioimageError, ValueError):
    """The input cannot be used: missing, unsupported, empty or unreadable."""


class StoreNotFoundError(InputError, FileNotFoundError):
    """The path or URI does not exist."""


class UnsafePathError(InputError):
    """A path from metadata, a manifest or a collection would leave its root
    (``..``, an absolute path, a symbolic link out): it is refused, never opened."""


class UnsupportedStoreError(InputError):
    """The path exists but is not a store this package can read."""


class EmptyStoreError(InputError):
    """The store exists but holds no image or array."""


class RemoteStoreError(InputError, ConnectionError):
    """A remote store refused or failed a request (denied, missing, unreachable)."""


class MissingDependencyError(IcebergBioimageError, ImportError):
    """An optional dependency is needed for this feature."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        super().__init__(
            f"{feature} needs the optional package '{package}': "
            f"pip install 'iceberg-bioimage[{extra}]'"
        )


# -- metadata that breaks its format (scan warnings, not failures) ------------
class FormatError(IcebergBioimageError, ValueError):
    """Metadata in a store breaks its format's rules; scans turn it into a warning."""


class MetadataError(FormatError):
    """Zarr metadata is unreadable or malformed."""


class NgffError(FormatError):
    """OME-NGFF attributes are malformed."""


class OmeXmlError(FormatError):
    """OME-XML is malformed."""


class TiffReadError(FormatError):
    """A TIFF file cannot be read."""


# -- Iceberg catalogs -----------------------------------------------------------
class CatalogError(IcebergBioimageError, RuntimeError):
    """The catalog cannot be found, opened or reached, or refused a commit."""


class DatasetConflictError(CatalogError, ValueError):
    """A dataset id is already registered from another URI."""


# -- Cytomining warehouse roots -------------------------------------------------
class ManifestError(InputError):
    """A warehouse manifest is missing or unreadable."""


class WarehouseWriteError(InputError):
    """A write the specification (or the warehouse's current state) does not allow."""


class UnmatchedProfilesError(InputError):
    """An export whose profile join matched no row: refused before the commit."""

    exit_code = 1


class ConcurrentWriteError(IcebergBioimageError, RuntimeError):
    """Another writer changed the object this one was about to replace."""


__all__ = [
    "CatalogError",
    "ConcurrentWriteError",
    "DatasetConflictError",
    "EmptyStoreError",
    "FormatError",
    "IcebergBioimageError",
    "InputError",
    "ManifestError",
    "MetadataError",
    "MissingDependencyError",
    "NgffError",
    "OmeXmlError",
    "RemoteStoreError",
    "StoreNotFoundError",
    "TiffReadError",
    "UnmatchedProfilesError",
    "UnsafePathError",
    "UnsupportedStoreError",
    "WarehouseWriteError",
]
