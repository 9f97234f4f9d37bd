"""Checking a profile table against the join contract, before any join."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from iceberg_bioimage.compat.results import ContractReport010
from iceberg_bioimage.profiles.contract import (
    AliasMap,
    FileColumns,
    KeyResolution,
    file_columns,
    resolve_keys,
)


@dataclass(frozen=True)
class ContractReport(ContractReport010):
    """One verdict on a profile table: each required key (``dataset_id``,
    ``image_id``) present as a column or derivable, and how; each key's column
    (or why not); and the join strategies the table supports, in the order a
    join tries them (the image side decides which one matches)."""

    keys: dict[str, KeyResolution]
    files: FileColumns
    profile_dataset_id: str | None
    strategies: tuple[str, ...]
    columns: tuple[str, ...] = ()  # the table's columns, as given

    @property
    def strategy(self) -> str | None:
        """The first strategy a join will try."""
        return self.strategies[0] if self.strategies else None

    @property
    def required(self) -> dict[str, str | None]:
        """How each required key is had: its column, or how it is derived
        (``dataset_id`` from ``--profile-dataset-id``; ``image_id`` from
        plate / well / site or from image file names); None when it is not."""
        dataset = self.keys["dataset_id"].column
        image = self.keys["image_id"].column
        if image is None and "plate_well_site" in self.strategies:
            image = "derived from plate, well and site"
        elif image is None and "file_name" in self.strategies:
            image = f"derived from file names ({', '.join(self.files.names.values())})"
        elif image is not None:
            image = f"column {image}"
        if dataset is not None:
            dataset = f"column {dataset}"
        elif self.profile_dataset_id:
            dataset = f"--profile-dataset-id {self.profile_dataset_id}"
        return {"dataset_id": dataset, "image_id": image}

    @property
    def missing_required(self) -> list[str]:
        return [key for key, how in self.required.items() if how is None]

    @property
    def valid(self) -> bool:
        """Every required key is present or derivable (so a join strategy exists)."""
        return not self.missing_required and self.strategy is not None

    def to_dict(self) -> dict[str, Any]:
        return self.with_010_keys(
            {
                "valid": self.valid,
                "required": self.required,
                "missing_required": self.missing_required,
                "strategy": self.strategy,
                "strategies": list(self.strategies),
                "keys": {k: r.to_dict() for k, r in self.keys.items()},
                "profile_dataset_id": self.profile_dataset_id,
                "file_name_columns": self.files.names,
                "path_name_columns": self.files.paths,
            }
        )


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
    return ContractReport(keys, files, profile_dataset_id, tuple(strategies), tuple(names))
