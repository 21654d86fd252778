"""What the run is worth: accuracy against a gold standard, and what it cost."""


import pandas as pd
import pyarrow.parquet as pq
from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from genie_assets.inputs.gold_standard import pairs_in_matrix, read_gold_standard
from genie_assets.network.evaluation import (
    gold_scores_from_parquet,
    precision_recall,
    score_network,
)
from genie_assets.network.plots import markdown_image, precision_recall_png
from genie_assets.pipeline.automation import FOLLOWS_UPSTREAM
from genie_assets.pipeline.layout import (
    EDGE_TABLE,
    FILTERED_NETWORK,
    GOLD_STANDARD_FILE,
    PRECISION_RECALL_PICTURE,
)
from genie_assets.pipeline.pricing import GENOME_SCALE_TARGETS, run_costs
from genie_assets.pipeline.resources import ArtifactStore
from genie_assets.shard.contract import EXPRESSION_FILE, REGULATORS_FILE, read_regulator_names


@asset(group_name="reports", deps=["edge_table", "filtered_network"], kinds={"scikitlearn"},
       automation_condition=FOLLOWS_UPSTREAM)
def network_evaluation(context: AssetExecutionContext, store: ArtifactStore
                       ) -> MaterializeResult:
    """AUPR and AUROC of the full and the filtered network against the gold standard."""
    folder = store.expression_dir()
    gold_path = folder / GOLD_STANDARD_FILE
    if not gold_path.exists():
        context.log.info("No gold standard configured (expression_matrix gold_standard_path)")
        return MaterializeResult(metadata={"evaluated": False})
    manifest = store.expression_manifest()
    genes = [g for g in pq.read_schema(folder / EXPRESSION_FILE).names
             if not g.startswith("__index_level_")]
    regulators = read_regulator_names(folder / REGULATORS_FILE)
    gold, outside = pairs_in_matrix(read_gold_standard(gold_path), genes, regulators)
    facts = {
        "n_gold_pairs_outside_matrix": len(outside),
        "gold_standard": manifest.get("gold_standard_source", str(gold_path)),
        "gold_positives_only": bool(manifest.get("gold_standard_positives_only", False)),
    }
    if gold.label.nunique() < 2:
        reason = ("no true" if not gold.label.any() else "no false") + \
            " pair of the gold standard is in the matrix: AUPR and AUROC are undefined"
        context.log.warning(reason)
        return MaterializeResult(metadata={"evaluated": False, "reason": reason, **facts})
    full = gold_scores_from_parquet(store.local_copy(*EDGE_TABLE), gold)
    filtered = gold_scores_from_parquet(store.local_copy(*FILTERED_NETWORK), gold)
    full_scores = score_network(full, gold)
    filtered_scores = score_network(filtered, gold)
    precision, recall = precision_recall(full)
    picture = store.path(*PRECISION_RECALL_PICTURE)
    with store.writing(*PRECISION_RECALL_PICTURE) as temporary:
        temporary.write_bytes(precision_recall_png(precision, recall, full_scores["aupr"],
                                                   "full edge table"))
    note = ("the gold standard lists true edges only: every other pair of its genes counts as "
            "false") if facts["gold_positives_only"] else "as labelled in the gold standard"
    return MaterializeResult(metadata={
        "evaluated": True,
        "aupr": full_scores["aupr"],
        "auroc": full_scores["auroc"],
        "filtered_aupr": filtered_scores["aupr"],
        "filtered_auroc": filtered_scores["auroc"],
        "n_gold_pairs": full_scores["n_pairs"],
        "n_gold_positives": full_scores["n_positives"],
        "negatives": note,
        **facts,
        "precision_recall_curve": MetadataValue.md(
            markdown_image(picture.read_bytes(), "precision-recall curve")),
        "gold_standard_path": MetadataValue.path(str(gold_path)),
    })


def shard_reports(store: ArtifactStore) -> list[dict]:
    return [store.shard_report(key) for key in store.list_shards()]


@asset(group_name="reports", deps=["edge_table"], kinds={"pandas"},
       automation_condition=FOLLOWS_UPSTREAM)
def benchmark_report(context: AssetExecutionContext, store: ArtifactStore
                     ) -> MaterializeResult:
    """Core-seconds, wall time, seconds per target, cost and the projection to 49,000 genes."""
    costs = run_costs(shard_reports(store))
    table = pd.DataFrame([
        ("shards", f"{costs.n_shards}"),
        ("targets", f"{costs.n_targets:,}"),
        ("regulators", f"{costs.n_regulators:,}"),
        ("samples", f"{costs.n_samples:,}"),
        ("total core-seconds", f"{costs.core_seconds:,.1f}"),
        ("wall time of the shards (first start to last finish)", f"{costs.wall_seconds:,.1f} s"),
        ("core-seconds per target", f"{costs.core_seconds_per_target:.4f}"),
        ("compiling the engine, all shards (not in the core-seconds)",
         f"{costs.compile_seconds:,.1f} s"),
        ("shards running at once (mean)", f"{costs.concurrency:.2f}"),
        ("parallel efficiency (compute core-seconds / reserved core-seconds)",
         f"{costs.parallel_efficiency:.2f}"),
        ("estimated cost", f"${costs.cost_usd:,.4f}"),
        (f"projection: {GENOME_SCALE_TARGETS:,} targets, same regulators and samples",
         f"{costs.projected_core_hours:,.1f} core-hours of engine, "
         f"{costs.projected_held_core_hours:,.1f} core-hours held, "
         f"${costs.projected_cost_usd:,.2f}"),
    ], columns=["figure", "value"])
    return MaterializeResult(metadata={
        "total_core_seconds": costs.core_seconds,
        "wall_seconds": costs.wall_seconds,
        "total_compile_seconds": costs.compile_seconds,
        "core_seconds_per_target": costs.core_seconds_per_target,
        "shard_concurrency": costs.concurrency,
        "parallel_efficiency": costs.parallel_efficiency,
        "estimated_cost_usd": costs.cost_usd,
        "projected_core_hours_49k_targets": costs.projected_core_hours,
        "projected_held_core_hours_49k_targets": costs.projected_held_core_hours,
        "projected_cost_usd_49k_targets": costs.projected_cost_usd,
        "report": MetadataValue.md(table.to_markdown(index=False) + "\n\n**Per shard**\n\n"
                                   + costs.per_shard.to_markdown(index=False)),
    })
