"""Conformance validation of a warehouse root, written by us or anyone else.

Every finding names the rule it breaks (section and item of the Cytomining
Warehouse Specification) and its level: ``MUST`` findings make a warehouse
non-conforming, ``SHOULD`` findings are warnings.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from iceberg_bioimage.compat.results import ValidationReport010
from iceberg_bioimage.io import Store
from iceberg_bioimage.io.paths import printable
from iceberg_bioimage.warehouse import journal, spec
from iceberg_bioimage.warehouse.identifiers import profile_identifiers, repeated_identities
from iceberg_bioimage.warehouse.manifest import (
    ManifestError,
    TableEntry,
    entry_with_files,
    parse_manifest_json,
    wrongly_typed,
)
from iceberg_bioimage.warehouse.root import (
    is_part_of,
    open_root,
    part_files,
    read_columns,
    read_footer,
    root_location,
)

REQUIRED_FIELDS = ("table_name", "role", "format", "join_keys", "columns")


@dataclass(frozen=True)
class Finding:
    rule: str  # e.g. "Manifest 3"
    level: str  # "MUST" or "SHOULD"
    message: str
    table: str | None = None

    def __str__(self) -> str:
        where = f"{self.table}: " if self.table else ""
        return f"[{self.level} {self.rule}] {where}{self.message}"


@dataclass
class ValidationReport(ValidationReport010):
    root: str
    findings: list[Finding] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "MUST"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "SHOULD"]

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return self.with_010_keys(
            {
                "warehouse_root": self.root,
                "valid": self.valid,
                "tables": self.tables,
                "errors": [f.__dict__ for f in self.errors],
                "warnings": [f.__dict__ for f in self.warnings],
            }
        )


def validate_warehouse(root: str | os.PathLike[str]) -> ValidationReport:
    """Check every MUST / MUST NOT (errors) and SHOULD (warnings) we can check."""
    location = root_location(root)
    storage = open_root(location)
    report = ValidationReport(location)
    try:
        raw, _version = storage.get_versioned(spec.MANIFEST_FILE)
        document = parse_manifest_json(raw, location)
    except ManifestError as error:
        report.findings.append(Finding("Manifest 1", "MUST", str(error)))
        return report
    report.findings += _versioning(document)
    if report.errors and report.errors[-1].rule == "Specification Versioning 3":
        return report  # fail fast: the rest may mean something else in that version
    raw_tables = document.get("tables")
    if not isinstance(raw_tables, list):
        report.findings.append(Finding("Manifest 3", "MUST", "'tables' is missing or not a list"))
        return report
    seen: set[str] = set()
    entries = []
    parts = part_files(storage)
    for raw in raw_tables:
        if not isinstance(raw, dict):
            report.findings.append(Finding("Manifest 3", "MUST", "a table entry is not an object"))
            continue
        entry = entry_with_files(TableEntry.from_dict(raw), raw, parts)
        name = entry.table_name or "(unnamed)"
        report.tables.append(name)
        if name in seen:
            report.findings.append(
                Finding("Manifest 4", "MUST", "table name appears more than once", name)
            )
        seen.add(name)
        entries.append(entry)
        report.findings += list(_entry_rules(raw, entry))
        report.findings += list(_data_rules(storage, entry))
    report.findings += list(_layout_rules(storage, entries, parts))
    return report


def _versioning(document: dict[str, Any]) -> list[Finding]:
    version = document.get("warehouse_spec_version")
    if version is None:
        return [Finding("Specification Versioning 1", "MUST", "no warehouse_spec_version")]
    parsed = spec.parse_semver(version)
    if parsed is None:
        return [
            Finding(
                "Specification Versioning 2",
                "MUST",
                f"version {version!r} is not MAJOR.MINOR.PATCH",
            )
        ]
    if parsed[0] not in spec.SUPPORTED_MAJORS:
        majors = ", ".join(f"{m}.x" for m in spec.SUPPORTED_MAJORS)
        return [
            Finding(
                "Specification Versioning 3",
                "MUST",
                f"cannot interpret warehouse_spec_version {version} (major {parsed[0]}); "
                f"this validator reads {majors}, so nothing else was checked",
            )
        ]
    return []


def _entry_rules(raw: dict[str, Any], entry: TableEntry) -> Iterator[Finding]:
    name = entry.table_name or None
    missing = [f for f in REQUIRED_FIELDS if f not in raw]
    if missing:
        yield Finding("Manifest 3", "MUST", f"missing required fields: {', '.join(missing)}", name)
    wrong = wrongly_typed(raw)
    if wrong:
        yield Finding("Manifest 3", "MUST", f"wrongly typed fields: {', '.join(wrong)}", name)
    parts = entry.table_name.split(".")
    if len(parts) != 2 or not all(spec.valid_identifier_part(p) for p in parts):
        yield Finding(
            "Manifest 2",
            "MUST",
            f"'{entry.table_name}' is not a <namespace>.<table> identifier",
            name,
        )
        return
    namespace, role = parts[0], entry.role
    known = role in spec.KNOWN_ROLES or spec.is_quality_control_role(role)
    if not known and not entry.role_description:
        yield Finding(
            "Role Vocabulary 9",
            "MUST",
            f"role '{role}' is not in the vocabulary and has no role_description",
            name,
        )
    if role in spec.PROFILE_ROLES and namespace != spec.PROFILES:
        yield Finding(
            "Canonical Namespaces 1", "MUST", f"profile table in namespace '{namespace}'", name
        )
    if role in spec.IMAGE_ROLES and namespace != spec.IMAGES:
        yield Finding(
            "Canonical Namespaces 2", "MUST", f"image table in namespace '{namespace}'", name
        )
    if namespace != spec.QUALITY_CONTROL and spec.holds_quality_control(
        [c.name for c in entry.columns]
    ):
        yield Finding(
            "Quality Control Tables 2",
            "MUST",
            f"QC data (coSMicQC cqc. columns) in namespace '{namespace}', not quality_control",
            name,
        )
    if spec.is_quality_control_role(role) and namespace != spec.QUALITY_CONTROL:
        yield Finding(
            "Canonical Namespaces 3",
            "MUST",
            f"quality-control table in namespace '{namespace}'",
            name,
        )
    if namespace == spec.QUALITY_CONTROL and not spec.is_quality_control_role(role):
        yield Finding(
            "Quality Control Tables 5", "MUST", f"table in quality_control has role '{role}'", name
        )
    canonical = spec.CANONICAL_TABLES.get(role)
    if canonical and entry.table_name != canonical:
        rule = {
            "joined_profiles": "Canonical Table Names 1",
            "image_crops": "Canonical Table Names 2",
            "source_images": "Canonical Table Names 3",
            "image_assets": "Image Namespace 3",
            "chunk_index": "Image Namespace 4",
        }[role]
        yield Finding(rule, "MUST", f"a '{role}' table must be {canonical}", name)
    if namespace not in spec.CANONICAL_NAMESPACES and role not in (
        "embeddings",
        "annotations",
        "reports",
    ):
        yield Finding(
            "Canonical Table Names 6",
            "SHOULD",
            f"namespace '{namespace}' is not images, profiles or quality_control",
            name,
        )
    if role in spec.PROFILE_ROLES and not entry.profile_level:
        yield Finding(
            "Manifest 5", "MUST", "profile table declares no profile_level (analysis level)", name
        )
    if entry.format != "parquet":
        yield Finding(
            "Manifest 3",
            "SHOULD",
            f"format '{entry.format}' cannot be checked (only parquet)",
            name,
        )
    if not entry.source_type and not entry.producer:
        yield Finding(
            "Independent and External Writes 8",
            "SHOULD",
            "no provenance (source_type / producer)",
            name,
        )


def _data_rules(storage: Store, entry: TableEntry) -> Iterator[Finding]:
    name = entry.table_name
    if "." not in name:
        return
    prefix = entry.path + "/"
    schemas = []
    readable = []  # the parts that are there and are Parquet
    rows = 0
    for relative in entry.files:
        if not is_part_of(relative, entry.path):  # never opened
            yield Finding(
                "Namespaces and Tables 3",
                "MUST",
                f"file {printable(relative)} is not a Parquet part inside {prefix}",
                name,
            )
            continue
        if storage.size(relative) is None:
            yield Finding(
                "Independent and External Writes 3",
                "MUST",
                f"listed file {relative} does not exist",
                name,
            )
            continue
        try:
            metadata = read_footer(storage, relative)
        except (pa.ArrowInvalid, OSError) as error:
            yield Finding(
                "Manifest 5", "MUST", f"file {relative} is not readable Parquet ({error})", name
            )
            continue
        if metadata.num_columns == 0:
            yield Finding("Manifest 3", "MUST", f"file {relative} has no columns", name)
        rows += metadata.num_rows
        schemas.append(metadata.schema.to_arrow_schema())
        readable.append(relative)
    if not entry.files:
        yield Finding(
            "Independent and External Writes 3", "MUST", "table lists no data files", name
        )
    if not schemas:
        return
    schema = pa.unify_schemas(schemas, promote_options="permissive")
    declared = {c.name: c.type for c in entry.columns}
    actual = {f.name: str(f.type) for f in schema}
    if set(declared) != set(actual):
        extra, absent = sorted(set(actual) - set(declared)), sorted(set(declared) - set(actual))
        yield Finding(
            "Manifest 3",
            "MUST",
            f"columns differ from the manifest (undeclared: {extra}, missing: {absent})",
            name,
        )
    mismatched = [n for n in declared if n in actual and declared[n] != actual[n]]
    if mismatched:
        yield Finding(
            "Manifest 3",
            "MUST",
            f"column types differ from the manifest: {', '.join(mismatched[:5])}",
            name,
        )
    if entry.row_count is not None and entry.row_count != rows:
        yield Finding(
            "Manifest 5", "MUST", f"row_count {entry.row_count} but the files hold {rows}", name
        )
    absent_keys = [k for k in entry.join_keys if k not in actual]
    if absent_keys:
        yield Finding(
            "Manifest 3", "MUST", f"join keys not among the columns: {', '.join(absent_keys)}", name
        )
    if entry.role in spec.PROFILE_ROLES:
        yield from _profile_identifiers(storage, entry, list(actual), readable)
    if spec.is_quality_control_role(entry.role) and not any(
        pa.types.is_boolean(f.type) for f in schema
    ):
        yield Finding("Quality Control Tables 4", "SHOULD", "no boolean filtering column", name)


def _profile_identifiers(
    storage: Store, entry: TableEntry, columns: list[str], parts: list[str]
) -> Iterator[Finding]:
    """Profile Tables 4: image identifiers (and unique object ones for object-level tables)."""
    found = profile_identifiers(columns, entry.profile_level, entry.join_keys)
    if found.problem:
        yield Finding("Profile Tables 4", "MUST", found.problem, entry.table_name)
        return
    if not found.object:
        return
    identity = list(found.identity)
    data = pa.concat_tables(
        [read_columns(storage, f, identity) for f in parts],
        promote_options="permissive",
    )
    repeated = repeated_identities(data, identity)
    if repeated:
        yield Finding(
            "Profile Tables 4",
            "MUST",
            f"{repeated} rows repeat an (image, object) identifier ({', '.join(identity)})",
            entry.table_name,
        )


def _layout_rules(storage: Store, entries: list[TableEntry], parts: list[str]) -> Iterator[Finding]:
    listed = {f for e in entries for f in e.files}
    pending = journal.pending_parts(storage)  # an interrupted or overwritten write's parts
    folders = {e.path for e in entries if "." in e.table_name}
    by_folder: dict[str, list[str]] = {}
    for part in parts:
        namespace, table = part.split("/")[:2]
        by_folder.setdefault(f"{namespace}/{table}", []).append(part)
    for relative, in_folder in sorted(by_folder.items()):
        identifier = relative.replace("/", ".")
        waiting = [p for p in in_folder if p not in listed and p in pending]
        if waiting:
            yield Finding(
                "Independent and External Writes 4",
                "SHOULD",
                f"{len(waiting)} data file(s) of an overwritten or interrupted write await "
                "removal by a later write",
                identifier,
            )
        in_folder = [p for p in in_folder if p not in waiting]
        if not in_folder:
            continue
        if relative not in folders:
            yield Finding(
                "Independent and External Writes 3",
                "MUST",
                f"folder {relative} holds data but has no manifest entry",
                identifier,
            )
            continue
        orphans = [p for p in in_folder if p not in listed]
        if orphans:
            yield Finding(
                "Independent and External Writes 3",
                "MUST",
                f"{len(orphans)} data file(s) not in the manifest (e.g. {orphans[0]})",
                identifier,
            )
    if storage.list_dir(spec.STAGING_DIR).dirs:
        yield Finding(
            "Independent and External Writes 4",
            "SHOULD",
            "an interrupted write left staged files (the next write rolls it back)",
        )
