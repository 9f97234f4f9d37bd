"""Cytomining warehouse roots: layout, manifest, atomic writes, validation."""

from iceberg_bioimage.warehouse.manifest import Manifest, TableEntry, load_warehouse_manifest
from iceberg_bioimage.warehouse.reader import Warehouse, open_warehouse
from iceberg_bioimage.warehouse.spec import SPEC_VERSION
from iceberg_bioimage.warehouse.validate import Finding, ValidationReport, validate_warehouse

__all__ = [
    "SPEC_VERSION",
    "Finding",
    "Manifest",
    "TableEntry",
    "ValidationReport",
    "Warehouse",
    "load_warehouse_manifest",
    "open_warehouse",
    "validate_warehouse",
]
