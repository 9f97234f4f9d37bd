"""Which Iceberg catalog to use, resolved in one place.

In order: a pyiceberg ``Catalog`` object as given; a CytoTable warehouse (a
``catalog.json`` registry, or a folder holding ``warehouse/catalog.json``);
a catalog by name (``.pyiceberg.yaml`` / ``PYICEBERG_CATALOG__<NAME>__*``),
optionally with properties from the command line. With no name, or the name
``default``, pyiceberg's default catalog (``default-catalog:`` or
``default``) when one is configured; otherwise the embedded catalog, a
SQLite-backed ``SqlCatalog`` in a local folder (``$ICEBERG_BIOIMAGE_HOME`` or
``./iceberg-bioimage-catalog``), created by the first write (reads never
create it). pyiceberg clients open it under the name ``iceberg_bioimage``
(:func:`embedded_catalog_config` gives the whole configuration).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from iceberg_bioimage.errors import CatalogError, IcebergBioimageError
from iceberg_bioimage.io.local import exclusive
from iceberg_bioimage.io.uri import file_uri, has_scheme

if TYPE_CHECKING:  # pyiceberg itself is imported on first catalog use
    from pyiceberg.catalog import Catalog

HOME_VARIABLE = "ICEBERG_BIOIMAGE_HOME"
DEFAULT_HOME = "iceberg-bioimage-catalog"
EMBEDDED_NAME = "iceberg_bioimage"
DEFAULT_NAME = "default"


@dataclass(frozen=True, slots=True)
class ResolvedCatalog:
    catalog: Catalog
    description: str  # what the user should be told ("embedded catalog at ...")
    created: bool = False  # the embedded catalog was created by this call
    notice: str | None = None  # to tell the user once (e.g. "default" is the embedded one)


CatalogLike: TypeAlias = "Catalog | ResolvedCatalog | str | os.PathLike[str] | None"


def embedded_home() -> Path:
    return Path(os.environ.get(HOME_VARIABLE) or DEFAULT_HOME).expanduser().resolve()


def resolve_catalog(
    catalog: CatalogLike = None,
    *,
    uri: str | None = None,
    warehouse: str | None = None,
    properties: dict[str, str] | None = None,
    create: bool = True,
) -> ResolvedCatalog:
    """Open the catalog a user means; raises :class:`CatalogError` with the reason.

    ``create=False`` (reads) refuses to create the embedded catalog."""
    from pyiceberg.catalog import Catalog

    if isinstance(catalog, ResolvedCatalog):
        return catalog
    if isinstance(catalog, Catalog):
        return ResolvedCatalog(catalog, f"catalog '{catalog.name}'")
    extra = dict(properties or {})
    if uri:
        extra["uri"] = uri
    if warehouse:
        extra["warehouse"] = warehouse
    if catalog is not None and os.fspath(catalog) != DEFAULT_NAME:
        registry = cytotable_registry(os.fspath(catalog))
        if registry is not None:
            from iceberg_bioimage.catalog.cytotable import CytoTableCatalog

            return ResolvedCatalog(CytoTableCatalog(registry), f"CytoTable warehouse {registry}")
        name = os.fspath(catalog)
        return ResolvedCatalog(_load_named(name, _configured(name), extra), f"catalog '{name}'")
    default = _configured_default()
    if extra or default is not None:
        name, configured = default or (DEFAULT_NAME, _configured(DEFAULT_NAME))
        return ResolvedCatalog(_load_named(name, configured, extra), f"catalog '{name}'")
    resolved = embedded_catalog(embedded_home(), create=create)
    if catalog is None:
        return resolved
    notice = f"no catalog 'default' is configured: using the {resolved.description}"
    return dataclasses.replace(resolved, notice=notice)


def _configured_default() -> tuple[str, dict[str, str]] | None:
    """The catalog pyiceberg calls default (``default-catalog:`` in
    ``.pyiceberg.yaml``, else ``default``) and its properties when it is
    configured, else None."""
    from pyiceberg.utils.config import Config

    config = Config()
    name = config.get_default_catalog_name()
    properties = _properties(config, name)
    return (name, properties) if properties else None


def cytotable_registry(text: str) -> Path | None:
    """The ``catalog.json`` a path points at (the file, or ``<dir>/warehouse``)."""
    if has_scheme(text):
        return None
    path = Path(text).expanduser()
    for candidate in (path, path / "catalog.json", path / "warehouse" / "catalog.json"):
        if candidate.is_file() and candidate.name == "catalog.json":
            return candidate.resolve()
    return None


def _load_named(name: str, configured: dict[str, str], properties: dict[str, str]) -> Catalog:
    from pyiceberg.catalog import load_catalog

    try:
        return load_catalog(name, **(configured | properties))
    except (ValueError, KeyError, NotImplementedError) as error:
        raise CatalogError(
            f"cannot load catalog '{name}': {error} (define it in .pyiceberg.yaml, "
            f"PYICEBERG_CATALOG__{name.upper()}__* variables, or pass --catalog-uri)"
        ) from None
    except Exception as error:  # drivers raise their own types for unreachable servers
        raise CatalogError(f"cannot reach catalog '{name}': {_first_line(error)}") from None


def _configured(name: str) -> dict[str, str]:
    """The catalog's ``.pyiceberg.yaml`` entry and ``PYICEBERG_CATALOG__*``
    variables, read now (pyiceberg reads both only once, when it is imported)."""
    from pyiceberg.utils.config import Config

    return _properties(Config(), name)


def _properties(config: Any, name: str) -> dict[str, str]:
    found = config.get_catalog_config(name) or {}
    return {str(k): str(v) for k, v in found.items()} | _environment_properties(name)


def _environment_properties(name: str) -> dict[str, str]:
    """``PYICEBERG_CATALOG__<NAME>__<KEY>`` variables as catalog properties, read
    now (pyiceberg reads its environment only once, when it is imported)."""
    prefix = f"PYICEBERG_CATALOG__{name.upper()}__"
    return {
        key[len(prefix) :].lower().replace("__", ".").replace("_", "-"): value
        for key, value in os.environ.items()
        if key.startswith(prefix)
    }


def embedded_catalog_config(home: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """The pyiceberg properties of the embedded catalog (name: ``iceberg_bioimage``)."""
    home = Path(home).expanduser().resolve() if home is not None else embedded_home()
    return {
        "type": "sql",
        "uri": f"sqlite:///{home / 'catalog.db'}",
        "warehouse": file_uri(home / "warehouse"),
    }


def catalog_info(catalog: CatalogLike = None) -> dict[str, Any]:
    """Which catalog ``catalog`` means and the pyiceberg name and properties
    that open it elsewhere (secrets left out); never creates the embedded one."""
    if (catalog is None or catalog == DEFAULT_NAME) and _configured_default() is None:
        home = embedded_home()
        return {
            "name": EMBEDDED_NAME,
            "description": f"embedded catalog at {home}",
            "exists": (home / "catalog.db").exists(),
            "properties": embedded_catalog_config(home),
        }
    resolved = resolve_catalog(catalog, create=False)
    properties = {
        key: str(value)
        for key, value in resolved.catalog.properties.items()
        if not _SECRET.search(key)
    }
    return {
        "name": resolved.catalog.name,
        "description": resolved.description,
        "exists": True,
        "properties": properties,
    }


_SECRET = re.compile(r"secret|token|password|credential|key", re.IGNORECASE)


def embedded_catalog(home: str | os.PathLike[str], *, create: bool = True) -> ResolvedCatalog:
    """A SQLite-backed ``SqlCatalog`` with its warehouse in ``home``, created
    if needed unless ``create=False`` (then a missing one is an error)."""
    from pyiceberg.catalog.sql import SqlCatalog

    home = Path(home).expanduser().resolve()
    created = not (home / "catalog.db").exists()
    if created and not create:
        raise CatalogError(
            f"there is no catalog yet: the embedded catalog at {home} is created by the "
            "first register (or name one with --catalog)"
        )
    config = embedded_catalog_config(home)
    try:
        (home / "warehouse").mkdir(parents=True, exist_ok=True)
        with exclusive(home):  # first writers race on creating the catalog's tables
            catalog = SqlCatalog(EMBEDDED_NAME, uri=config["uri"], warehouse=config["warehouse"])
    except Exception as error:
        raise CatalogError(
            f"cannot open the embedded catalog at {home}: {_first_line(error)}"
        ) from None
    return ResolvedCatalog(catalog, f"embedded catalog at {home}", created)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


@contextlib.contextmanager
def catalog_errors(what: str) -> Iterator[None]:
    """Turn catalog and driver failures into one-line :class:`CatalogError`s."""
    from pyiceberg.exceptions import (
        CommitFailedException,
        ForbiddenError,
        NoSuchNamespaceError,
        NoSuchTableError,
        ServerError,
        ServiceUnavailableError,
        UnauthorizedError,
    )

    try:
        yield
    except IcebergBioimageError:
        raise
    except (NoSuchTableError, NoSuchNamespaceError) as error:
        raise CatalogError(f"{what}: {_first_line(error)}") from None
    except CommitFailedException as error:
        raise CatalogError(
            f"{what}: gave up after repeated commit conflicts ({_first_line(error)})"
        ) from None
    except (UnauthorizedError, ForbiddenError) as error:
        raise CatalogError(f"{what}: access denied ({_first_line(error)})") from None
    except (ServerError, ServiceUnavailableError, ConnectionError, TimeoutError) as error:
        raise CatalogError(f"{what}: catalog unreachable ({_first_line(error)})") from None
    except OSError as error:
        raise CatalogError(f"{what}: {_first_line(error)}") from None
    except ValueError as error:
        if "No default path is set" in str(error):
            raise CatalogError(
                f"{what}: the catalog has no warehouse location for new tables; "
                "pass --warehouse (or set 'warehouse' in its configuration)"
            ) from None
        if "hierarchical namespaces are not supported" in str(error):
            raise CatalogError(
                f"{what}: this catalog does not support nested namespaces; "
                "use a single-level one (e.g. bioimage_cytotable instead of bioimage.cytotable)"
            ) from None
        raise
    except Exception as error:
        if type(error).__module__.split(".")[0] in (
            "sqlalchemy",
            "requests",
            "urllib3",
            "botocore",
        ):
            raise CatalogError(f"{what}: catalog unreachable ({_first_line(error)})") from None
        raise


@contextlib.contextmanager
def opened_catalog(
    catalog: CatalogLike, doing: str = "reading", *, create: bool = False
) -> Iterator[ResolvedCatalog]:
    """Resolve ``catalog``; failures while using it become one-line errors
    naming what was being done and to which catalog. Only writers
    (``create=True``) may create the embedded catalog."""
    resolved = resolve_catalog(catalog, create=create)
    logging.getLogger(__name__).info("%s %s", doing, resolved.description)
    with catalog_errors(f"{doing} {resolved.description}"):
        yield resolved
