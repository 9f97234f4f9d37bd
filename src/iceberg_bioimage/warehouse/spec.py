"""The Cytomining Warehouse Specification, as data: versions, namespaces, roles.

One place for the vocabulary the writer enforces and the validator checks.
"""

from __future__ import annotations

import re

SPEC_VERSION = "1.0.0"
SUPPORTED_MAJORS = (0, 1)  # 0.x manifests are pre-release drafts of the same layout
MANIFEST_FILE = "warehouse_manifest.json"
STAGING_DIR = ".staging"
PART_SUFFIX = ".parquet"

IMAGES, PROFILES, QUALITY_CONTROL = "images", "profiles", "quality_control"
CANONICAL_NAMESPACES = (IMAGES, PROFILES, QUALITY_CONTROL)

# Role Vocabulary 2 (required) and 3 (optional).
STANDARD_ROLES = ("profiles", "image_assets", "chunk_index", "joined_profiles", "quality_control")
OPTIONAL_ROLES = ("image_crops", "source_images", "embeddings", "annotations", "reports")
KNOWN_ROLES = STANDARD_ROLES + OPTIONAL_ROLES

# The namespace each role belongs in when it has exactly one (Canonical
# Namespaces 1-3); roles missing here (embeddings, annotations, reports) may
# live in several, so a write must name the namespace (Canonical Namespaces 4).
ROLE_NAMESPACE = {
    "profiles": PROFILES,
    "joined_profiles": PROFILES,
    "image_assets": IMAGES,
    "chunk_index": IMAGES,
    "image_crops": IMAGES,
    "source_images": IMAGES,
    "quality_control": QUALITY_CONTROL,
}

# Canonical table names (Canonical Table Names 1-3, Image Namespace 3-4).
# Where a role that may live in several namespaces goes when a write names
# none (Canonical Namespaces 4 asks writers not to guess silently: the choice
# is documented here and announced): embeddings keep their distinction from
# feature profiles (Embeddings 8); annotations, reports and project-specific
# roles sit with the profiles they describe.
DEFAULT_NAMESPACE = {"embeddings": "embeddings"}
DEFAULT_OTHER_NAMESPACE = PROFILES

CANONICAL_TABLES = {
    "image_assets": "images.image_assets",
    "chunk_index": "images.chunk_index",
    "joined_profiles": "profiles.joined_profiles",
    "image_crops": "images.image_crops",
    "source_images": "images.source_images",
}

PROFILE_ROLES = ("profiles", "joined_profiles")
IMAGE_ROLES = ("image_assets", "chunk_index", "image_crops", "source_images")

_IDENTIFIER_PART = re.compile(r"^[a-z][a-z0-9_]*$")
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:[-+][0-9A-Za-z.-]+)?$")


def valid_identifier_part(text: str) -> bool:
    """Lower-case letters, digits and underscores, starting with a letter."""
    return bool(_IDENTIFIER_PART.match(text))


def parse_semver(text: object) -> tuple[int, int, int] | None:
    match = _SEMVER.match(text) if isinstance(text, str) else None
    return (int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None


def is_quality_control_role(role: str) -> bool:
    """``quality_control`` or a project QC role (``qc_*``, ``*_quality_control``)."""
    return role == "quality_control" or role.startswith("qc_") or role.endswith("quality_control")


def holds_quality_control(columns: list[str]) -> bool:
    """coSMicQC's outputs: columns prefixed ``cqc.`` (Quality Control Tables 2)."""
    return any(c.startswith("cqc.") for c in columns)


def role_of_catalog_table(table_name: str) -> str | None:
    """The role a catalog table takes in a warehouse root, from its identifier:
    its canonical role when it has a canonical name, else its namespace's
    (``profiles`` / ``quality_control``); None where no rule places it
    (other namespaces, and non-canonical tables under ``images``)."""
    role = next((r for r, name in CANONICAL_TABLES.items() if name == table_name), None)
    if role is not None:
        return role
    namespace = table_name.rsplit(".", 1)[0]
    return {PROFILES: "profiles", QUALITY_CONTROL: "quality_control"}.get(namespace)
