"""Errors that reach the user as one clear line (the CLI maps them to exit codes)."""

from __future__ import annotations


class IcebergBioimageError(Exception):
    """Base class: the message is written for the user, without a traceback."""

    exit_code = 2


class InputError(IcebergBioimageError):
    """The input cannot be used: missing, unsupported, empty or unreadable."""


class StoreNotFoundError(InputError):
    """The path or URI does not exist."""


class UnsupportedStoreError(InputError):
    """The path exists but is not a store this package can read."""


class EmptyStoreError(InputError):
    """The store exists but holds no image or array."""


class MissingDependencyError(IcebergBioimageError):
    """An optional dependency is needed for this feature."""

    def __init__(self, package: str, extra: str, feature: str) -> None:
        super().__init__(
            f"{feature} needs the optional package '{package}': "
            f"pip install 'iceberg-bioimage[{extra}]'"
        )
