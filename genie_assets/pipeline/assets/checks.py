"""Data quality checks that Dagster runs after the assets they guard."""


import pyarrow.parquet as pq
from dagster import AssetCheckResult, AssetCheckSpec, asset_check, multi_asset_check

from genie_assets.inputs.expression import stored_matrix_problems
from genie_assets.network.edges import inspect_edge_table
from genie_assets.pipeline.layout import EDGE_TABLE
from genie_assets.pipeline.resources import ArtifactStore
from genie_assets.shard.contract import EXPRESSION_FILE, REGULATORS_FILE, read_regulator_names


@asset_check(asset="expression_matrix", blocking=True)
def expression_matrix_is_usable(store: ArtifactStore) -> AssetCheckResult:
    """The stored matrix is the one validated: same fingerprint, finite, ≥ 2 samples, regulators
    present."""
    problems, figures = stored_matrix_problems(store.expression_dir())
    return AssetCheckResult(passed=not problems,
                            metadata={"problems": "; ".join(problems) or "none", **figures})


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
    regulators = read_regulator_names(folder / REGULATORS_FILE)
    found = inspect_edge_table(store.local_copy(*EDGE_TABLE), genes, regulators)
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
