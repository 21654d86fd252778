"""Data quality checks that Dagster runs after the assets they guard."""

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from dagster import AssetCheckResult, AssetCheckSpec, asset_check, multi_asset_check

from genie_assets.assets.network import EDGE_TABLE
from genie_assets.edges import inspect_edge_table
from genie_assets.expression import fingerprint_file
from genie_assets.resources import ArtifactStore
from genie_assets.shard import EXPRESSION_FILE, MANIFEST_FILE, REGULATORS_FILE


@asset_check(asset="expression_matrix", blocking=True)
def expression_matrix_is_usable(store: ArtifactStore) -> AssetCheckResult:
    """The stored matrix is the one validated: same fingerprint, finite, ≥ 2 samples, regulators present."""
    folder = store.expression_dir()
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    matrix = pd.read_parquet(folder / EXPRESSION_FILE)
    regulators = (folder / REGULATORS_FILE).read_text().split()
    problems = []
    if fingerprint_file(folder / EXPRESSION_FILE) != manifest["fingerprint"]:
        problems.append("the matrix file changed after it was validated")
    if matrix.shape[0] < 2:
        problems.append(f"{matrix.shape[0]} samples")
    if not np.isfinite(matrix.to_numpy()).all():
        problems.append("missing or infinite values")
    absent = sorted(set(regulators) - set(matrix.columns))
    if absent or not regulators:
        problems.append(f"regulators not in the matrix: {absent[:10]}" if absent else "no regulators")
    return AssetCheckResult(
        passed=not problems,
        metadata={"problems": "; ".join(problems) or "none", "n_samples": int(matrix.shape[0]),
                  "n_genes": int(matrix.shape[1]), "n_regulators": len(regulators)},
    )


EDGE_CHECKS = {
    "every_target_present": "Every gene of the matrix has its edges as a target.",
    "one_row_per_pair": "Each target has exactly one row per regulator but itself.",
    "no_self_edges": "No gene regulates itself.",
    "importances_finite_non_negative": "Importances are finite and ≥ 0.",
}


@multi_asset_check(
    specs=[AssetCheckSpec(name, asset="edge_table", description=text)
           for name, text in EDGE_CHECKS.items()],
)
def edge_table_checks(store: ArtifactStore):
    """One streaming pass over the edge table answers all four checks."""
    folder = store.expression_dir()
    genes = pq.read_schema(folder / EXPRESSION_FILE).names
    genes = [g for g in genes if not g.startswith("__index_level_")]
    regulators = (folder / REGULATORS_FILE).read_text().split()
    found = inspect_edge_table(store.reading(*EDGE_TABLE), genes, regulators)
    yield AssetCheckResult(
        check_name="every_target_present", asset_key="edge_table",
        passed=not found.missing_targets,
        metadata={"n_missing_targets": len(found.missing_targets),
                  "missing_targets": ", ".join(found.missing_targets[:20])})
    yield AssetCheckResult(
        check_name="one_row_per_pair", asset_key="edge_table",
        passed=not found.targets_with_wrong_pairs,
        metadata={"n_targets_with_wrong_pairs": len(found.targets_with_wrong_pairs),
                  "targets": ", ".join(found.targets_with_wrong_pairs[:20])})
    yield AssetCheckResult(
        check_name="no_self_edges", asset_key="edge_table", passed=found.n_self_edges == 0,
        metadata={"n_self_edges": found.n_self_edges})
    yield AssetCheckResult(
        check_name="importances_finite_non_negative", asset_key="edge_table",
        passed=found.n_non_finite == 0 and found.n_negative == 0,
        metadata={"n_non_finite": found.n_non_finite, "n_negative": found.n_negative})


ALL_CHECKS = [expression_matrix_is_usable, edge_table_checks]
