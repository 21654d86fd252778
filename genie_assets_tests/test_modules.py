"""Gene modules: Leiden on networks whose communities are known, through `materialize`."""

import numpy as np
import pandas as pd
import pytest
from dagster import materialize
from sklearn.metrics import adjusted_rand_score

from genie_assets.network.modules import canonical_labels, leiden_modules
from genie_assets.pipeline.assets.exploration import gene_modules
from genie_assets.pipeline.layout import FILTERED_NETWORK, GENE_MODULES
from genie_assets.pipeline.resources import ArtifactStore, SparkResource, local_spark_config
from genie_assets_tests.helpers import GRAPHFRAMES_MISSING

N_MODULES, MODULE_SIZE = 5, 40


def planted_partition(seed: int = 1, p_in: float = 0.3, p_out: float = 0.01) -> tuple[
        pd.DataFrame, dict[str, int]]:
    """A directed, weighted network of 5 modules of 40 genes: an edge between two genes of one
    module with probability p_in (importance 0.2–1), across modules with p_out (0–0.2)."""
    rng = np.random.default_rng(seed)
    genes = [f"M{m}_G{i:02d}" for m in range(N_MODULES) for i in range(MODULE_SIZE)]
    truth = {gene: int(gene[1]) for gene in genes}
    rows = []
    for source in genes:
        for target in genes:
            if source == target:
                continue
            same = truth[source] == truth[target]
            if rng.random() < (p_in if same else p_out):
                weight = rng.uniform(0.2, 1.0) if same else rng.uniform(0.0, 0.2)
                rows.append((source, target, np.float32(weight)))
    return pd.DataFrame(rows, columns=["regulator", "target", "importance"]), truth


def stored_network(root, network: pd.DataFrame) -> ArtifactStore:
    """A store holding `network` where filtered_network writes it: a folder of part files."""
    store = ArtifactStore(root=str(root))
    folder = store.path(*FILTERED_NETWORK)
    folder.mkdir(parents=True)
    half = len(network) // 2
    network.iloc[:half].to_parquet(folder / "part-00000.parquet", index=False)
    network.iloc[half:].to_parquet(folder / "part-00001.parquet", index=False)
    return store


def materialize_modules(root, network: pd.DataFrame, **config):
    store = stored_network(root, network)
    resources = {"store": store, "spark": SparkResource(spark_config=local_spark_config())}
    run_config = {"ops": {"gene_modules": {"config": config}}} if config else None
    result = materialize([gene_modules], resources=resources, run_config=run_config)
    assert result.success
    metadata = result.asset_materializations_for_node("gene_modules")[0].metadata
    return pd.read_parquet(store.path(*GENE_MODULES)), metadata


def test_leiden_recovers_a_planted_partition(tmp_path):
    network, truth = planted_partition()
    modules, metadata = materialize_modules(tmp_path, network)
    assert sorted(modules.gene) == sorted(truth)
    ari = adjusted_rand_score([truth[g] for g in modules.gene], modules.module)
    assert ari >= 0.9, ari
    assert metadata["n_modules"].value == N_MODULES
    assert metadata["largest_module_size"].value == MODULE_SIZE
    assert metadata["modularity"].value > 0.6
    assert metadata["engines"].value == "leiden"
    assert "hub_regulators" in metadata["largest_modules"].value


def test_same_seed_same_modules_whatever_the_row_and_gene_order(tmp_path):
    network, _ = planted_partition(seed=2, p_in=0.15, p_out=0.03)
    first, _ = materialize_modules(tmp_path / "a", network)
    shuffled = network.sample(frac=1.0, random_state=11).reset_index(drop=True)
    second, _ = materialize_modules(tmp_path / "b", shuffled)
    pd.testing.assert_frame_equal(first.sort_values("gene").reset_index(drop=True),
                                  second.sort_values("gene").reset_index(drop=True))
    # The library itself is order-free too (the asset also sorts what it reads).
    assert leiden_modules(network).assignments.equals(leiden_modules(shuffled).assignments)


def test_modules_are_numbered_by_size_then_first_gene():
    assert canonical_labels(["a", "b", "c", "d", "e", "f"], [7, 3, 3, 9, 9, 3]) == [
        3, 1, 1, 2, 2, 1]


def test_resolution_is_config_and_changes_the_partition(tmp_path):
    network, _ = planted_partition()
    coarse, coarse_metadata = materialize_modules(tmp_path / "coarse", network, resolution=0.01)
    fine, fine_metadata = materialize_modules(tmp_path / "fine", network, resolution=5.0)
    assert coarse_metadata["resolution"].value == 0.01
    assert coarse.module.nunique() < N_MODULES < fine.module.nunique()


def test_a_non_positive_resolution_is_refused():
    network, _ = planted_partition()
    with pytest.raises(ValueError, match="resolution must be positive"):
        leiden_modules(network, resolution=0.0)


def test_graphframes_label_propagation_runs_where_the_jar_is_configured(spark, tmp_path):
    from genie_assets.network.graph import graphframes_available

    if not graphframes_available(spark):
        pytest.skip(GRAPHFRAMES_MISSING)
    network, truth = planted_partition()
    _, metadata = materialize_modules(tmp_path, network)
    assert metadata["engines"].value == "leiden, graphframes-label-propagation"
    assert metadata["n_modules_label_propagation"].value >= 1
