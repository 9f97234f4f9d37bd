"""Checking a profile table against the join contract, before any join."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from iceberg_bioimage.profiles.contract import (
    REQUIRED_KEYS,
    AliasMap,
    FileColumns,
    KeyResolution,
    file_columns,
    resolve_keys,
)


@dataclass(frozen=True)
class ContractReport:
    """Each key, the column it resolved to (or why not), and the join strategies
    the table supports, in the order a join tries them (the image side decides
    which one matches)."""

    keys: dict[str, KeyResolution]
    files: FileColumns
    profile_dataset_id: str | None
    strategies: tuple[str, ...]

    @property
    def strategy(self) -> str | None:
        """The first strategy a join will try."""
        return self.strategies[0] if self.strategies else None

    @property
    def valid(self) -> bool:
        """A join strategy is available."""
        return self.strategy is not None

    @property
    def missing_required(self) -> list[str]:
        missing = [k for k in REQUIRED_KEYS if self.keys[k].column is None]
        if self.profile_dataset_id and "dataset_id" in missing:
            missing.remove("dataset_id")
        return missing

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "strategy": self.strategy,
            "strategies": list(self.strategies),
            "keys": {k: r.to_dict() for k, r in self.keys.items()},
            "missing_required": self.missing_required,
            "profile_dataset_id": self.profile_dataset_id,
            "file_name_columns": self.files.names,
            "path_name_columns": self.files.paths,
        }


def validate_microscopy_profile_columns(
    columns: Iterable[str],
    *,
    alias_map: AliasMap | None = None,
    profile_dataset_id: str | None = None,
) -> ContractReport:
    """Resolve the contract keys among ``columns`` and say how a join would work."""
    names = list(columns)
    keys = resolve_keys(names, alias_map)
    files = file_columns(names)
    found = {k for k, r in keys.items() if r.column is not None}
    strategies = []
    if "image_id" in found:
        strategies.append("image_id")
    if {"plate_id", "well_id", "site_id"} <= found:
        strategies.append("plate_well_site")
    if files.names:
        strategies.append("file_name")
    return ContractReport(keys, files, profile_dataset_id, tuple(strategies))
