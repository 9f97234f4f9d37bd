"""Registering scan results in a catalog: one commit per table whatever their
number, and the report a user is shown."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from iceberg_bioimage.catalog.config import CatalogLike, ResolvedCatalog, opened_catalog
from iceberg_bioimage.catalog.publish import (
    PublishReport,
    image_assets_snapshot,
    publish_chunk_index,
    publish_image_assets,
    restore_image_assets,
)
from iceberg_bioimage.catalog.tables import DEFAULT_IMAGE_NAMESPACE
from iceberg_bioimage.compat.results import RegisterResult010
from iceberg_bioimage.models import ScanResult, ScanWarning


@dataclass
class RegisterResult(RegisterResult010):
    """What a registration did, and where."""

    catalog: str
    catalog_created: bool
    namespace: str
    datasets: list[str]
    rows: dict[str, int]
    commits: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    uris: list[str] = field(default_factory=list)  # of the stores registered

    def to_dict(self) -> dict[str, Any]:
        return self.with_010_keys(
            {
                "catalog": self.catalog,
                "catalog_created": self.catalog_created,
                "namespace": self.namespace,
                "datasets": self.datasets,
                "rows": self.rows,
                "commits": self.commits,
                "warnings": self.warnings,
            }
        )


def ingest_scan_results_to_catalog(
    results: Sequence[ScanResult],
    catalog: CatalogLike = None,
    *,
    namespace: str = DEFAULT_IMAGE_NAMESPACE,
    publish_chunks: bool = False,
    replace: bool = False,
    stat: bool = True,
    byte_ranges: bool = False,
    warnings: Iterable[ScanWarning] = (),
) -> RegisterResult:
    """Publish scan results: their ``image_assets`` rows (and with
    ``publish_chunks`` their ``chunk_index`` rows), one commit per table
    whatever their number; a dataset published again has its rows replaced."""
    report = PublishReport()
    with opened_catalog(catalog, "publishing to", create=True) as resolved:
        before = image_assets_snapshot(resolved.catalog, namespace) if publish_chunks else None
        publish_image_assets(
            resolved.catalog, results, namespace=namespace, replace=replace, report=report
        )
        if publish_chunks:
            try:
                publish_chunk_index(
                    resolved.catalog,
                    results,
                    namespace=namespace,
                    stat=stat,
                    byte_ranges=byte_ranges,
                    report=report,
                )
            except BaseException:
                # Both tables or neither: the image rows go back to what they were.
                restore_image_assets(
                    resolved.catalog, namespace, [r.dataset_id for r in results], before
                )
                raise
    return register_result(resolved, namespace, report, warnings, results)


def register_result(
    resolved: ResolvedCatalog,
    namespace: str,
    report: PublishReport,
    warnings: Iterable[ScanWarning] = (),
    results: Iterable[ScanResult] = (),
) -> RegisterResult:
    """The user's report of a publish: the scan's warnings, else the results' own."""
    results = list(results)
    notes = [str(w) for w in warnings] or [str(w) for r in results for w in r.warnings]
    return RegisterResult(
        catalog=resolved.description,
        catalog_created=resolved.created,
        namespace=namespace,
        datasets=report.datasets,
        rows=report.rows,
        commits=report.commits,
        warnings=notes,
        uris=[r.uri for r in results],
    )
