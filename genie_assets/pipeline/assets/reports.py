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
from genie_assets.pipeline.assets.expression import GOLD_STANDARD_FILE
from genie_assets.pipeline.assets.network import EDGE_TABLE, FILTERED_NETWORK
from genie_assets.pipeline.automation import FOLLOWS_UPSTREAM
from genie_assets.pipeline.pricing import cost_usd
from genie_assets.pipeline.resources import ArtifactStore
from genie_assets.shard.contract import EXPRESSION_FILE, REGULATORS_FILE, read_regulator_names

GENOME_SCALE_TARGETS = 49_000
PRECISION_RECALL_PICTURE = ("reports", "precision_recall.png")


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
    reports = pd.DataFrame(shard_reports(store))
    reports["core_seconds"] = reports.compute_seconds * reports.cores
    # Shards stored before compile time was reported have none.
    reports["compile_seconds"] = reports.get(
        "compile_seconds", pd.Series([0.0] * len(reports))).fillna(0.0)
    compile_seconds = float(reports.compile_seconds.sum())
    instance_type = reports.get("instance_type", pd.Series(["local"] * len(reports)))
    reports["instance_type"] = instance_type.fillna("local")
    reports["instance_count"] = reports.get("instance_count", pd.Series([1] * len(reports)))
    billable = reports.get("billable_seconds", reports.total_seconds)
    costs = [cost_usd(t, int(c), float(b)) for t, c, b in
             zip(reports.instance_type, reports.instance_count, billable)]
    total_cost = sum(c for c in costs if c is not None)
    n_targets = int(reports.n_targets.sum())
    core_seconds = float(reports.core_seconds.sum())
    wall = float(reports.finished_at.max() - reports.started_at.min())
    seconds_per_target = core_seconds / max(n_targets, 1)
    concurrency = float(reports.compute_seconds.sum()) / wall if wall > 0 else 1.0
    # Of the core time the shards held (wall time × cores), the share spent building trees;
    # the rest is start-up, reading and writing.
    reserved = (reports.get("wall_seconds", reports.total_seconds) * reports.cores).sum()
    parallel_efficiency = core_seconds / float(reserved) if reserved > 0 else 1.0
    projected_core_hours = seconds_per_target * GENOME_SCALE_TARGETS / 3600
    projected_cost = total_cost / max(n_targets, 1) * GENOME_SCALE_TARGETS
    n_samples = int(reports.n_samples.iloc[0])
    table = pd.DataFrame([
        ("shards", f"{len(reports)}"),
        ("targets", f"{n_targets:,}"),
        ("regulators", f"{int(reports.n_regulators.iloc[0]):,}"),
        ("samples", f"{n_samples:,}"),
        ("total core-seconds", f"{core_seconds:,.1f}"),
        ("wall time of the shards (first start to last finish)", f"{wall:,.1f} s"),
        ("core-seconds per target", f"{seconds_per_target:.4f}"),
        ("compiling the engine, all shards (not in the core-seconds)",
         f"{compile_seconds:,.1f} s"),
        ("shards running at once (mean)", f"{concurrency:.2f}"),
        ("parallel efficiency (compute core-seconds / reserved core-seconds)",
         f"{parallel_efficiency:.2f}"),
        ("estimated cost", f"${total_cost:,.4f}"),
        (f"projection: {GENOME_SCALE_TARGETS:,} targets, same regulators and samples",
         f"{projected_core_hours:,.1f} core-hours, ${projected_cost:,.2f}"),
    ], columns=["figure", "value"])
    per_shard = reports[["partition_key", "instance_type", "instance_count", "cores",
                         "n_targets", "compute_seconds", "compile_seconds",
                         "seconds_per_target"]]
    return MaterializeResult(metadata={
        "total_core_seconds": core_seconds,
        "wall_seconds": wall,
        "total_compile_seconds": compile_seconds,
        "core_seconds_per_target": seconds_per_target,
        "shard_concurrency": concurrency,
        "parallel_efficiency": parallel_efficiency,
        "estimated_cost_usd": total_cost,
        "projected_core_hours_49k_targets": projected_core_hours,
        "projected_cost_usd_49k_targets": projected_cost,
        "report": MetadataValue.md(table.to_markdown(index=False) + "\n\n**Per shard**\n\n"
                                   + per_shard.to_markdown(index=False)),
    })
