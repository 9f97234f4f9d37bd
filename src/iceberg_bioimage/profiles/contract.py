"""The microscopy join contract: which columns of a profile table carry the keys.

Required keys are ``dataset_id`` and ``image_id``; ``plate_id``, ``well_id`` and
``site_id`` are recommended. Real tools name them in many ways, so each key
has aliases (built-in, plus any from a TOML ``[microscopy.aliases]`` table,
which take precedence), and pandas merge suffixes (``_x`` / ``_y``) are
understood. Image file names (``Image_FileName_<channel>`` /
``Image_PathName_<channel>``) are found too, for joins by file.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iceberg_bioimage.errors import InputError

REQUIRED_KEYS = ("dataset_id", "image_id")
RECOMMENDED_KEYS = ("plate_id", "well_id", "site_id")
CONTRACT_KEYS = REQUIRED_KEYS + RECOMMENDED_KEYS
# CellProfiler's number of an image within one run (object tables carry only it)
IMAGE_NUMBER_COLUMNS = ("Metadata_ImageNumber", "ImageNumber", "Image_ImageNumber")

BUILTIN_ALIASES: dict[str, tuple[str, ...]] = {
    "dataset_id": (
        "dataset_id",
        "Metadata_dataset_id",
        "Metadata_DatasetID",
        "Metadata_Dataset",
        "Image_Metadata_dataset_id",
        "Metadata_Source",
        "Image_Metadata_Source",
    ),
    "image_id": (
        "image_id",
        "Metadata_image_id",
        "Metadata_ImageID",
        "Image_Metadata_ImageID",
        "ImageID",
    ),
    "plate_id": (
        "plate_id",
        "Metadata_Plate",
        "Image_Metadata_Plate",
        "Metadata_plate",
        "Metadata_PlateID",
        "Metadata_Barcode",
        "Image_Metadata_Barcode",
    ),
    "well_id": (
        "well_id",
        "Metadata_Well",
        "Image_Metadata_Well",
        "Metadata_well",
        "Metadata_WellID",
        "Metadata_Well_Position",
        "Metadata_well_position",
    ),
    "site_id": (
        "site_id",
        "Metadata_Site",
        "Image_Metadata_Site",
        "Metadata_site",
        "Metadata_Field",
        "Image_Metadata_Field",
        "Metadata_FOV",
        "Image_Metadata_FOV",
        "Metadata_SiteNumber",
    ),
}

_MERGE_SUFFIXES = ("", "_x", "_y")
_FILE_NAME = re.compile(r"^(?:Image_)?FileName_(?P<channel>.+?)(?:_[xy])?$")
_PATH_NAME = re.compile(r"^(?:Image_)?PathName_(?P<channel>.+?)(?:_[xy])?$")

AliasMap = Mapping[str, Iterable[str]]


@dataclass(frozen=True)
class KeyResolution:
    """The column a contract key resolved to, or why it did not."""

    key: str
    column: str | None
    candidates: tuple[str, ...]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "column": self.column, "reason": self.reason}


@dataclass(frozen=True)
class FileColumns:
    """``Image_FileName_<channel>`` (and matching path) columns, by channel."""

    names: dict[str, str] = field(default_factory=dict)  # channel -> FileName column
    paths: dict[str, str] = field(default_factory=dict)  # channel -> PathName column


def load_profile_column_aliases(path: str | os.PathLike[str]) -> dict[str, list[str]]:
    """Aliases from TOML: ``[microscopy.aliases]`` with ``key = ["Column", ...]``."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise InputError(f"{path}: no such aliases file")
    try:
        document = tomllib.loads(file.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: invalid TOML ({error})") from None
    section = document.get("microscopy", {}).get("aliases")
    if not isinstance(section, dict):
        raise InputError(f"{path}: no [microscopy.aliases] table")
    aliases: dict[str, list[str]] = {}
    for key, value in section.items():
        if key not in CONTRACT_KEYS:
            raise InputError(f"{path}: unknown key '{key}' (known: {', '.join(CONTRACT_KEYS)})")
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InputError(f"{path}: aliases for '{key}' must be a string or a list of strings")
        aliases[key] = names
    return aliases


def aliases_for(key: str, alias_map: AliasMap | None = None) -> tuple[str, ...]:
    """Custom aliases first, then the built-in ones (without repeats)."""
    custom = tuple((alias_map or {}).get(key, ()))
    return tuple(dict.fromkeys((*custom, *BUILTIN_ALIASES.get(key, (key,)))))


def resolve_key(
    key: str, columns: Iterable[str], alias_map: AliasMap | None = None
) -> KeyResolution:
    """The first alias present (exactly, then case-insensitively, then with a
    pandas merge suffix)."""
    available = list(columns)
    lowered = {c.lower(): c for c in available}
    candidates = aliases_for(key, alias_map)
    for suffix in _MERGE_SUFFIXES:
        for alias in candidates:
            name = alias + suffix
            if name in available:
                return KeyResolution(key, name, candidates, _how(alias, name, suffix))
            if name.lower() in lowered:
                found = lowered[name.lower()]
                return KeyResolution(
                    key, found, candidates, f"matched alias '{alias}' ignoring case"
                )
    return KeyResolution(key, None, candidates, f"none of {', '.join(candidates)} is a column")


def _how(alias: str, name: str, suffix: str) -> str:
    if suffix:
        return f"alias '{alias}' with pandas merge suffix '{suffix}'"
    return "exact name" if name in CONTRACT_KEYS else f"alias '{alias}'"


def resolve_keys(
    columns: Iterable[str], alias_map: AliasMap | None = None
) -> dict[str, KeyResolution]:
    names = list(columns)
    return {key: resolve_key(key, names, alias_map) for key in CONTRACT_KEYS}


def file_columns(columns: Iterable[str]) -> FileColumns:
    """CellProfiler file-name columns, one per channel (``_x`` preferred over ``_y``)."""
    names: dict[str, str] = {}
    paths: dict[str, str] = {}
    for column in sorted(columns, key=lambda c: (c.endswith("_y"), c)):
        for pattern, target in ((_FILE_NAME, names), (_PATH_NAME, paths)):
            match = pattern.match(column)
            if match:
                target.setdefault(match.group("channel"), column)
    return FileColumns(names, paths)
