"""`make demo`: materialise the whole asset graph on the toy data, then show the hub genes.

Runs the same jobs as the CLI and the UI, recorded in the Dagster instance at DAGSTER_HOME, so
the results are there to browse afterwards with `make ui`.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import time

import pandas as pd
from dagster import DagsterInstance, MultiPartitionKey

from genie_assets.definitions import defs, resources
from genie_assets.engine import infer_edges
from genie_assets.engine.compiling import reporting_progress
from genie_assets.inputs.toy import toy_dataset
from genie_assets.network.activity import top_regulons
from genie_assets.network.regulons import regulon_kind
from genie_assets.pipeline.layout import (
    ADJACENCY_TSV,
    DIFFERENTIAL_NETWORK,
    EDGE_TABLE,
    FILTERED_NETWORK,
    GENE_MODULES,
    GRAPHML,
    HUB_GENES,
    NETWORK_PAGE,
    NETWORK_PICTURE,
    REGULON_ACTIVITY_BY_GROUP,
    REGULON_ACTIVITY_H5AD,
    REGULON_ACTIVITY_PICTURE,
    REGULONS,
    REGULONS_GMT,
    REWIRING,
)
from genie_assets.pipeline.orphans import sweep
from genie_assets.pipeline.partitions import CONDITION, CONDITIONS, SHARD, shard_partitions
from genie_assets.settings import deployment


def compile_what_the_demo_runs() -> None:
    """The engine compiled (or loaded) for the toy data and this deployment's method, once,
    saying what it does, before the shards start: four shard processes would otherwise each
    compile it, silently. `make setup` compiles the rest (other rank types, boosting, the
    cache SageMaker jobs ship). decoupler's AUCell kernel, which regulon_activity would
    compile on an install's first run, compiles meanwhile on the second core."""
    params = deployment().genie3
    expression, regulators, _ = toy_dataset()
    aucell = subprocess.Popen([sys.executable, "-m", "genie_assets.network.activity"])
    with reporting_progress(f"the {params.method} engine for the toy data (once per engine "
                            "version)"):
        infer_edges(expression, regulators, [expression.columns[-1]],
                    dataclasses.replace(params, n_trees=1, n_seeds=1))
    if aucell.wait() != 0:
        raise RuntimeError("decoupler's AUCell could not be compiled (see above)")


def print_regulons(store) -> None:
    """How many regulons activate and repress, and which mark each toy cell type."""
    names = pd.read_parquet(store.path(*REGULONS)).regulon.unique()
    kinds = pd.Series([regulon_kind(name) for name in names]).value_counts()
    print(f"\nRegulons: {kinds.get('activating', 0)} activating (TF(+)), "
          f"{kinds.get('repressing', 0)} repressing (TF(-)).")
    means = pd.read_parquet(store.path(*REGULON_ACTIVITY_BY_GROUP))
    top = top_regulons(means, n=3)
    print(f"Most specific regulons (AUCell activity) per {means.index.name}:")
    for group, rows in top.groupby("group", sort=True):
        print(f"  {group:10s} " + ", ".join(rows.regulon))


def run_step(instance: DagsterInstance, job_name: str, partition, run_config) -> bool:
    label = f"{job_name}" + (f" [{partition}]" if partition else "")
    print(f"==> {label}", flush=True)
    result = defs.resolve_job_def(job_name).execute_in_process(
        instance=instance, partition_key=partition, run_config=run_config, raise_on_error=False)
    if not result.success:
        print(f"FAILED: {label} (run {result.run_id}); see the logs above", file=sys.stderr)
    return result.success


def print_differences(store) -> None:
    """The regulators whose targets changed most between the toy's conditions."""
    rewired = pd.read_parquet(store.path(*REWIRING))
    for (condition, reference), table in rewired.groupby(["condition", "reference"]):
        top = table.head(3)
        print(f"\nMost rewired regulators, {condition} against {reference} (targets gained/lost, "
              "score):")
        for row in top.itertuples(index=False):
            print(f"  {row.regulator:8s} +{row.n_gained} -{row.n_lost}  {row.rewiring:.2f}")


def main() -> int:
    instance = DagsterInstance.get()
    for line in sweep(instance):  # left by a demo or run that was killed
        print(line)
    started = time.perf_counter()
    compile_what_the_demo_runs()
    # The toy's cells come in two conditions (TF05 high and low): a network for each, compared.
    steps = [("expression_job", None, None)]
    steps += [("shards_job", key, None) for key in shard_partitions.get_partition_keys()]
    steps += [("network_job", None, None)]
    if not all(run_step(instance, *step) for step in steps):
        return 1
    conditions = instance.get_dynamic_partitions(CONDITIONS)
    steps = [("condition_shards_job", MultiPartitionKey({CONDITION: condition, SHARD: shard}),
              None)
             for condition in conditions for shard in shard_partitions.get_partition_keys()]
    steps += [("conditions_job", None, None)]
    if not all(run_step(instance, *step) for step in steps):
        return 1
    store = resources["store"]
    hubs = pd.read_parquet(store.path(*HUB_GENES))
    print(f"\nGENIE3 network on the toy dataset in {time.perf_counter() - started:.0f} s.\n")
    print("Hub genes (top regulators by out-degree in the filtered network):")
    print(hubs.to_string(index=False))
    print_regulons(store)
    print_differences(store)
    print("\nResults:")
    for name, parts in [("edge table", EDGE_TABLE), ("filtered network", FILTERED_NETWORK),
                        ("adjacency TSV", ADJACENCY_TSV), ("hub genes", HUB_GENES),
                        ("gene modules", GENE_MODULES), ("regulons (GMT)", REGULONS_GMT),
                        ("regulon activity", REGULON_ACTIVITY_H5AD),
                        ("differential", DIFFERENTIAL_NETWORK),
                        ("activity picture", REGULON_ACTIVITY_PICTURE),
                        ("GraphML", GRAPHML), ("network picture", NETWORK_PICTURE)]:
        print(f"  {name:17s} {store.path(*parts)}")
    print("\nExplore the network in a browser (works offline):\n  "
          f"{store.path(*NETWORK_PAGE).as_uri()}")
    print("Browse the runs and asset metadata with `make ui` (http://127.0.0.1:3000).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
