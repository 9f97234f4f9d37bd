"""0.1.0's attributes and methods on today's result objects.

Each result class mixes in its 0.1.0 view: properties computed from our own
fields, ``to_json(indent=, sort_keys=)``, and ``to_dict()`` keys that 0.1.0
callers read, added next to ours. Nothing here imports the package, so the
lowest layers can mix these in.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

RECOMMENDED_KEYS = ("plate_id", "well_id", "site_id")
REQUIRED_KEYS = ("dataset_id", "image_id")


class Result010:
    """``to_json`` with 0.1.0's keywords, and 0.1.0's ``to_dict`` keys."""

    __slots__ = ()
    FIELDS_010: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:  # pragma: no cover - every result defines it
        raise NotImplementedError

    def to_json(self, indent: int | None = 2, sort_keys: bool = False) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=sort_keys, default=str)

    def with_010_keys(self, data: dict[str, Any]) -> dict[str, Any]:
        extra = {name: getattr(self, name) for name in self.FIELDS_010 if name not in data}
        return {**data, **extra}


class ScanResult010(Result010):
    __slots__ = ()
    FIELDS_010 = ("source_uri",)

    @property
    def source_uri(self) -> str:
        return self.uri  # type: ignore[attr-defined,no-any-return]


class DatasetSummary010(Result010):
    __slots__ = ()
    FIELDS_010 = ("source_uri", "image_asset_count")

    @property
    def source_uri(self) -> str:
        return self.uri  # type: ignore[attr-defined,no-any-return]

    @property
    def image_asset_count(self) -> int:
        return self.image_count + self.label_count  # type: ignore[attr-defined,no-any-return]


class ContractReport010(Result010):
    """0.1.0's ``ContractValidationResult`` view of a contract verdict."""

    __slots__ = ()
    FIELDS_010 = (
        "target",
        "present_columns",
        "required_columns",
        "recommended_columns",
        "missing_required_columns",
        "missing_recommended_columns",
        "is_valid",
    )

    @property
    def required_columns(self) -> list[str]:
        return list(REQUIRED_KEYS)

    @property
    def recommended_columns(self) -> list[str]:
        return list(RECOMMENDED_KEYS)

    @property
    def target(self) -> str:
        return "profile_table"

    @property
    def present_columns(self) -> list[str]:
        return list(self.columns)  # type: ignore[attr-defined]

    @property
    def missing_required_columns(self) -> list[str]:
        return list(self.missing_required)  # type: ignore[attr-defined]

    @property
    def missing_recommended_columns(self) -> list[str]:
        return [k for k in RECOMMENDED_KEYS if self.keys[k].column is None]  # type: ignore[attr-defined]

    @property
    def is_valid(self) -> bool:
        return bool(self.valid)  # type: ignore[attr-defined]


class RegisterResult010(Result010):
    """0.1.0's ``RegistrationResult`` / ``WarehouseIngestResult`` view."""

    FIELDS_010 = (
        "source_uri",
        "image_assets_table",
        "chunk_index_table",
        "image_assets_rows_published",
        "chunk_rows_published",
        "dataset_count",
    )

    @property
    def source_uri(self) -> str | None:
        uris = self.uris  # type: ignore[attr-defined]
        return uris[0] if uris else None

    @property
    def image_assets_table(self) -> str:
        return "image_assets"

    @property
    def chunk_index_table(self) -> str:
        return "chunk_index"

    @property
    def image_assets_rows_published(self) -> int:
        return int(self.rows.get(f"{self.namespace}.image_assets", 0))  # type: ignore[attr-defined]

    @property
    def chunk_rows_published(self) -> int:
        return int(self.rows.get(f"{self.namespace}.chunk_index", 0))  # type: ignore[attr-defined]

    @property
    def dataset_count(self) -> int:
        return len(self.datasets)  # type: ignore[attr-defined]

    def __int__(self) -> int:
        """0.1.0's ``register_profile_table`` returned the row count."""
        return sum(self.rows.values())  # type: ignore[attr-defined]


class ExportResult010(Result010):
    """0.1.0's ``CytominingWarehouseResult`` view."""

    FIELDS_010 = ("tables_written", "row_counts", "manifest_path")

    @property
    def tables_written(self) -> list[str]:
        return list(self.tables)  # type: ignore[attr-defined]

    @property
    def row_counts(self) -> dict[str, int]:
        return dict(self.tables)  # type: ignore[attr-defined]


class ValidationReport010(Result010):
    """0.1.0's ``WarehouseValidationResult`` view."""

    FIELDS_010 = ("is_valid",)

    @property
    def warehouse_root(self) -> str:
        return self.root  # type: ignore[attr-defined,no-any-return]

    @property
    def is_valid(self) -> bool:
        return bool(self.valid)  # type: ignore[attr-defined]


class Table010:
    """0.1.0's joins returned a ``pyarrow.Table``: a join result still answers
    as one (attributes, ``len``, indexing, the Arrow stream protocol)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "table":
            raise AttributeError(name)
        return getattr(self.table, name)  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self.table)  # type: ignore[attr-defined]

    def __getitem__(self, key: Any) -> Any:
        return self.table[key]  # type: ignore[attr-defined]

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self.table.__arrow_c_stream__(requested_schema)  # type: ignore[attr-defined]
