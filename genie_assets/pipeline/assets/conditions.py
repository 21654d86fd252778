"""A network per condition, and what changed between them.

`expression_matrix` with `conditions: <annotation column>` stores each condition's cells as its
own expression channel (under conditions/<name>/) and registers the condition as a partition.
`condition_shards` runs the same shard program per condition and shard (a backfill and
staleness per condition, as for the whole matrix's shards); `condition_networks` merges each
condition's shards as `edge_table` does and keeps each target's top regulators, as
`filtered_network` does; `differential_network` compares each condition with a reference.
"""

import json
from typing import Optional

import pandas as pd
from dagster import AssetExecutionContext, Config, MaterializeResult, MetadataValue, asset

from genie_assets.errors import InputError
from genie_assets.network.differential import compare, rewiring, rewiring_png, top_regulators
from genie_assets.network.edges import merge_shards
from genie_assets.network.plots import markdown_image
from genie_assets.pipeline.assets.shards import shard_asset
from genie_assets.pipeline.layout import (
    CONDITION_SAMPLES,
    DIFFERENTIAL_NETWORK,
    EDGE_TABLE,
    FILTERED_NETWORK,
    REWIRING,
    REWIRING_PICTURE,
    condition_root,
)
from genie_assets.pipeline.partitions import (
    CONDITION,
    N_SHARDS,
    SHARD,
    condition_shard_partitions,
    shard_partitions,
)
from genie_assets.pipeline.resources import ArtifactStore, Genie3Settings, ShardRunner
from genie_assets.shard.contract import ShardTask

DEFAULT_TOP_K = 5


def stored_conditions(store: ArtifactStore) -> dict[str, list[str]]:
    """{condition: its samples} as expression_matrix stored them; refused, saying how to set
    them, where the matrix was stored without conditions."""
    path = store.expression_dir() / CONDITION_SAMPLES[-1]
    if not path.is_file():
        raise InputError(
            f"{store.location(*CONDITION_SAMPLES)}: the stored matrix has no conditions; "
            "materialize expression_matrix with config `conditions: <annotation column>`")
    return json.loads(path.read_text())["conditions"]


@shard_asset(group_name="conditions", partitions_def=condition_shard_partitions)
def condition_shards(context: AssetExecutionContext, store: ArtifactStore,
                     shard_runner: ShardRunner, genie3: Genie3Settings) -> MaterializeResult:
    """Regulator → target importances for one shard of targets on one condition's cells, by
    the same shard program as importance_shards."""
    keys = context.partition_key.keys_by_dimension
    task = ShardTask(partition_key=keys[SHARD], n_shards=N_SHARDS, params=genie3.params())
    return shard_runner.run_shard(context, store.within(*condition_root(keys[CONDITION])), task)


class ConditionNetworkConfig(Config):
    """Each condition's network: every target's strongest regulators."""

    top_k_per_target: int = DEFAULT_TOP_K


@asset(group_name="conditions", deps=[condition_shards], kinds={"pyarrow", "pandas"})
def condition_networks(context: AssetExecutionContext, config: ConditionNetworkConfig,
                       store: ArtifactStore, genie3: Genie3Settings) -> MaterializeResult:
    """Each condition's edge table (its shards merged) and network (each target's top
    regulators), under conditions/<name>/."""
    summaries = {}
    for condition in stored_conditions(store):
        own = store.within(*condition_root(condition))
        manifest = own.expression_manifest()
        with own.writing(*EDGE_TABLE) as output:
            summary = merge_shards(own.shard_files_local_copies(),
                                   shard_partitions.get_partition_keys(), output,
                                   input_fingerprint=manifest["fingerprint"],
                                   params=genie3.params().as_dict(),
                                   shards_of=f"condition_shards (condition {condition!r})",
                                   rerun=f"condition_shards → Materialize… → condition "
                                         f"{condition!r}, shard: All (or `dagster job execute "
                                         "-j condition_shards_job` per partition)")
        network = top_regulators(pd.read_parquet(own.local_copy(*EDGE_TABLE)),
                                 config.top_k_per_target)
        with own.writing(*FILTERED_NETWORK) as temporary:
            network.drop(columns="rank").to_parquet(temporary, index=False)
        summaries[condition] = {"n_samples": manifest["n_samples"],
                                "n_edges": summary.n_edges, "n_network_edges": len(network),
                                "network": own.location(*FILTERED_NETWORK)}
    table = pd.DataFrame.from_dict(summaries, orient="index").rename_axis("condition")
    return MaterializeResult(metadata={
        "n_conditions": len(summaries),
        "conditions": MetadataValue.md(table.drop(columns="network").to_markdown()),
        "top_k_per_target": config.top_k_per_target,
        **{f"network_{name}": MetadataValue.path(facts["network"])
           for name, facts in summaries.items()},
    })


class DifferentialConfig(Config):
    """Which condition the others are compared with (default: the first by name)."""

    reference: Optional[str] = None


@asset(group_name="conditions", deps=[condition_networks], kinds={"pandas", "matplotlib"})
def differential_network(context: AssetExecutionContext, config: DifferentialConfig,
                         store: ArtifactStore) -> MaterializeResult:
    """Edges gained and lost in each condition against the reference, and each regulator's
    rewiring score, with a picture of the most rewired regulators."""
    conditions = sorted(stored_conditions(store))
    reference = config.reference or conditions[0]
    if reference not in conditions:
        raise InputError(f"reference: no condition {reference!r}; the conditions are "
                         f"{conditions}")

    def read(condition: str, artifact) -> pd.DataFrame:
        return pd.read_parquet(store.within(*condition_root(condition)).local_copy(*artifact))

    # Each condition's network as condition_networks kept it; the full edge tables give a
    # changed edge's importance and rank where it is not among the top.
    reference_edges = read(reference, EDGE_TABLE)
    reference_network = read(reference, FILTERED_NETWORK)
    k = int(reference_network.groupby("target").size().max())
    changes, scores = [], {}
    for condition in conditions:
        if condition == reference:
            continue
        edges = read(condition, EDGE_TABLE)
        network = read(condition, FILTERED_NETWORK)
        changes.append(compare(network, reference_network, edges, reference_edges)
                       .assign(condition=condition, reference=reference))
        scores[condition, reference] = rewiring(network, reference_network).assign(
            condition=condition, reference=reference)
    if not changes:
        raise InputError(f"only one condition ({reference}): nothing to compare")
    differences = pd.concat(changes, ignore_index=True)
    rewired = pd.concat(scores.values(), ignore_index=True)
    with store.writing(*DIFFERENTIAL_NETWORK) as temporary:
        differences.to_parquet(temporary, index=False)
    with store.writing(*REWIRING) as temporary:
        rewired.to_parquet(temporary, index=False)
    png = rewiring_png(scores)
    with store.writing(*REWIRING_PICTURE) as temporary:
        temporary.write_bytes(png)
    counts = differences.groupby(["condition", "change"]).size().unstack(fill_value=0)
    return MaterializeResult(metadata={
        "reference": reference,
        "top_k_per_target": k,
        "edges_gained_and_lost": MetadataValue.md(counts.to_markdown()),
        "most_rewired": MetadataValue.md(rewired.head(10).to_markdown(index=False)),
        "rewiring_picture": MetadataValue.md(markdown_image(png, "rewiring")),
        "path": MetadataValue.path(store.location(*DIFFERENTIAL_NETWORK)),
        "rewiring_path": MetadataValue.path(store.location(*REWIRING)),
    })
