"""Methods beyond the paper's forests: GRNBoost2-style boosting (GBM), the forests' bootstrap
size (max_samples) and a consensus of seeds (n_seeds), through genie3() and the pipeline."""

import numpy as np
import pandas as pd
import pytest
from dagster import materialize
from scipy.stats import spearmanr

from genie_assets.engine import Genie3Params, fast, genie3
from genie_assets.engine.params import STABILITY_TOP
from genie_assets.errors import ParameterError
from genie_assets.inputs.expression import read_expression
from genie_assets.inputs.gold_standard import read_gold_standard
from genie_assets.inputs.toy import toy_dataset
from genie_assets.network.evaluation import score_network
from genie_assets.pipeline.assets import ALL_ASSETS
from genie_assets.pipeline.layout import EDGE_TABLE
from genie_assets.pipeline.resources import Genie3Settings
from genie_assets.settings import Settings
from genie_assets.shard.sharding import targets_for_shard
from genie_assets_tests.conftest import dream4_paths
from genie_assets_tests.helpers import (
    failure_messages,
    local_resources,
    materialize_toy_shards,
    new_instance,
)


@pytest.fixture(scope="module")
def dream4_1():
    expression, gold = dream4_paths(1)
    return read_expression(expression), read_gold_standard(gold)


def by_pair(edges: pd.DataFrame) -> pd.DataFrame:
    return edges.sort_values(["target", "regulator"]).reset_index(drop=True)


def per_target(edges: pd.DataFrame) -> pd.DataFrame:
    return edges.pivot(index="regulator", columns="target", values="importance")


def mean_spearman(a: pd.DataFrame, b: pd.DataFrame) -> float:
    """Per-target Spearman correlation of two networks' importances, averaged over targets."""
    a, b = per_target(a), per_target(b)
    return float(np.mean([spearmanr(a[t].dropna(), b[t].dropna()).statistic
                          for t in a.columns]))


CASES = {
    "GBM": {"method": "GBM"},
    "GBM, fixed rounds": {"method": "GBM", "n_trees": 100, "early_stopping_window": 0},
    "RF, half bootstrap": {"method": "RF", "n_trees": 60, "max_samples": 0.5},
    "RF, consensus": {"method": "RF", "n_trees": 30, "n_seeds": 3},
    "GBM, consensus": {"method": "GBM", "n_seeds": 3},
}


@pytest.mark.parametrize("case", CASES)
def test_edges_do_not_depend_on_gene_order_threads_or_shards(dream4_1, case):
    expression, _ = dream4_1
    settings = CASES[case]
    edges = by_pair(genie3(expression, **settings))
    shuffled = expression[np.random.default_rng(3).permutation(expression.columns)]
    assert by_pair(genie3(shuffled, n_jobs=3, **settings)).equals(edges)
    genes = list(expression.columns)
    sharded = pd.concat([genie3(expression, targets=targets_for_shard(genes, i, 3), **settings)
                         for i in range(3)])
    assert by_pair(sharded).equals(edges)


def test_boosting_reports_arboretos_scale_and_stops_early(dream4_1):
    """Each target's importances sum to its rounds (arboreto's scale) or to 1 (unit); early
    stopping ends before the 5,000 rounds allowed, fixed rounds run them all."""
    expression, _ = dream4_1
    genes = sorted(expression.columns)
    values = expression[genes].to_numpy().T
    ranked = fast.rank_regulators(values)
    inputs = np.arange(1, len(genes))
    y = values[0] / values[0].std()
    common = dict(n_candidates=9, max_depth=3, learning_rate=0.01, n_inbag=90, seed=5)
    stopped, n_stopped = fast.boosted_importances(ranked, inputs, y, n_rounds=5000,
                                                  early_stopping_window=25, **common)
    assert 25 <= n_stopped < 5000
    assert stopped.sum() == pytest.approx(n_stopped)
    fixed, n_fixed = fast.boosted_importances(ranked, inputs, y, n_rounds=120,
                                              early_stopping_window=0, **common)
    unit, _ = fast.boosted_importances(ranked, inputs, y, n_rounds=120, per_round=False,
                                       early_stopping_window=0, **common)
    assert n_fixed == 120 and fixed.sum() == pytest.approx(120)
    assert np.allclose(unit * 120, fixed)
    # The same samples' improvement runs at least as long here: it does not compare losses
    # measured on different samples.
    same, n_same = fast.boosted_importances(ranked, inputs, y, n_rounds=5000, same_samples=True,
                                            early_stopping_window=25, **common)
    assert n_same >= 25 and same.sum() == pytest.approx(n_same)


def test_boosting_finds_the_toy_networks_edges():
    expression, regulators, gold = toy_dataset()
    edges = genie3(expression, regulators, method="GBM")
    assert score_network(edges, gold)["aupr"] >= 0.9


def test_a_consensus_of_seeds_is_steadier_than_one_seed(dream4_1):
    """Two consensus runs of 4 seeds each agree better than two single runs do; stability is
    the share of seeds that put the edge among its target's STABILITY_TOP regulators."""
    expression, _ = dream4_1
    single = [genie3(expression, n_trees=20, seed=s) for s in (1, 2)]
    consensus = [genie3(expression, n_trees=20, seed=s, n_seeds=4) for s in (1, 2)]
    assert "stability" not in single[0]
    assert mean_spearman(*consensus) > mean_spearman(*single) + 0.05
    stability = consensus[0]["stability"]
    assert set(np.round(stability.unique() * 4, 6)) <= {0, 1, 2, 3, 4}
    assert consensus[0].groupby("target")["stability"].sum().eq(STABILITY_TOP).all()
    # The seeds' first is the run's own seed: n_seeds=1 is the plain run.
    assert genie3(expression, n_trees=20, seed=1, n_seeds=1).equals(single[0])


def test_a_smaller_bootstrap_changes_the_forest_and_keeps_the_strong_edges(dream4_1):
    expression, gold = dream4_1
    full = genie3(expression, n_trees=200, n_jobs=2)
    # A smaller bootstrap grows more varied trees: with 200 of them one seed's AUPR moves by
    # ±0.015 here (its targets share each tree's bootstrap), with 1,000 by ±0.002.
    half = genie3(expression, n_trees=1000, n_jobs=2, max_samples=0.5)
    counted = genie3(expression, n_trees=1000, n_jobs=2, max_samples=50)
    assert not half["importance"].equals(full["importance"])
    assert by_pair(half).equals(by_pair(counted)), "0.5 of 100 samples is 50 samples"
    assert score_network(half, gold)["aupr"] >= score_network(full, gold)["aupr"] - 0.03
    # scikit-learn's forest with the same bootstrap size scores alike.
    reference = genie3(expression, n_trees=200, n_jobs=2, max_samples=0.5, engine="reference")
    assert score_network(reference, gold)["aupr"] == pytest.approx(
        score_network(half, gold)["aupr"], abs=0.02)


def test_targets_sharing_bootstraps_get_what_each_gets_alone(dream4_1):
    """max_samples' forests share each tree's bootstrap among a group of targets (compacted
    once, engine.subsampling); each target's importances are those it gets in a group of its
    own, bit for bit, and differ between targets (their node draws are their own)."""
    expression, _ = dream4_1
    genes = sorted(expression.columns)
    ranked = fast.rank_regulators(expression[genes].to_numpy().T)
    targets = [3, 40, 77]
    inputs = [np.delete(np.arange(len(genes)), t) for t in targets]
    ys = np.array([expression[genes[t]].to_numpy() for t in targets])
    common = dict(bootstrap_seed=11, n_trees=40, n_drawn=30)
    together = fast.subsampled_importances(ranked, inputs, ys, [5, 6, 7],
                                           n_candidates=[10] * 3, **common)
    for k in range(3):
        alone = fast.subsampled_importances(ranked, inputs[k:k + 1], ys[k:k + 1], [5 + k],
                                            n_candidates=[10], **common)
        assert np.array_equal(alone[0], together[k])
        assert together[k].sum() > 0
    # Twice the same target with two node seeds: the same bootstraps, different forests.
    twice = fast.subsampled_importances(ranked, [inputs[0]] * 2, np.vstack([ys[0]] * 2), [5, 9],
                                        n_candidates=[10] * 2, **common)
    assert np.array_equal(twice[0], together[0]) and not np.array_equal(twice[1], twice[0])


def test_parameters_that_do_not_fit_the_method_are_refused_with_the_reason():
    with pytest.raises(ParameterError, match="learning_rate applies to method GBM only"):
        Genie3Params(method="RF", learning_rate=0.1)
    with pytest.raises(ParameterError, match="max_samples .* applies to method RF only"):
        Genie3Params(method="GBM", max_samples=0.5)
    with pytest.raises(ParameterError, match="needs subsample < 1"):
        Genie3Params(method="GBM", subsample=1.0)
    with pytest.raises(ParameterError, match="oob_improvement must be one of"):
        Genie3Params(method="GBM", oob_improvement="sometimes")
    with pytest.raises(ParameterError, match="more than the 3 samples"):
        Genie3Params(max_samples=5).n_drawn_samples(3)
    with pytest.raises(ParameterError, match="n_seeds must be a positive integer"):
        Genie3Params(n_seeds=0)
    gbm = Genie3Params(method="GBM")
    assert (gbm.n_trees, gbm.max_features, gbm.learning_rate, gbm.max_depth, gbm.subsample,
            gbm.early_stopping_window) == (5000, 0.1, 0.01, 3, 0.9, 25)
    assert gbm.n_candidates_per_node(195) == 19 and gbm.n_drawn_samples(805) == 724
    # What travels as strings (SageMaker hyperparameters, the environment) comes back whole.
    assert Genie3Params.from_dict({k: str(v) for k, v in gbm.as_dict().items()}) == gbm
    environment = {"GENIE_METHOD": "GBM", "GENIE_LEARNING_RATE": "0.05", "GENIE_N_SEEDS": "2"}
    from_environment = Settings.from_environ(environment).genie3
    assert (from_environment.learning_rate, from_environment.n_seeds,
            from_environment.n_trees) == (0.05, 2, 5000)


def test_the_pipeline_boosts_with_a_consensus_as_a_notebook_does(tmp_path):
    """GBM with 2 seeds through the shard partitions and the merge: the edge table is the
    notebook's, stability column included, and every shard records the method's settings."""
    resources = {**local_resources(tmp_path),
                 "genie3": Genie3Settings(method="GBM", n_seeds=2)}
    instance = new_instance()
    for shard in materialize_toy_shards(resources, instance).values():
        assert shard["genie3_method"].value == "GBM"
        assert shard["genie3_learning_rate"].value == 0.01
        assert shard["genie3_n_seeds"].value == 2
    result = materialize(ALL_ASSETS, selection=["edge_table"], resources=resources,
                         instance=instance)
    assert result.success, failure_messages(result)
    pipeline_edges = by_pair(pd.read_parquet(resources["store"].path(*EDGE_TABLE)))
    expression, regulators, _ = toy_dataset()
    notebook_edges = by_pair(genie3(expression, regulators, method="GBM", n_seeds=2))
    # The shard program signs each edge (rho) beside what the notebook's genie3() gives.
    assert list(pipeline_edges.columns) == ["regulator", "target", "importance", "rho",
                                            "stability"]
    assert pipeline_edges.drop(columns="rho").equals(notebook_edges)


@pytest.mark.slow
@pytest.mark.parametrize("network", [1, 2, 3])
def test_fast_boosting_scores_as_scikit_learns_with_the_same_settings(network):
    """Fixed rounds (no early stopping): AUPR and AUROC no more than 0.01 below scikit-learn's
    GradientBoostingRegressor's, and importances as close to its as two of its seeds are to
    each other (per-target Spearman; with 1,000 rounds of depth-3 trees on 100 samples that is
    about 0.82, the noise of the tail of weak regulators, so 0.9 is out of any engine's reach).
    Measured on network 1: fast AUPR 0.152-0.155 against scikit-learn's 0.141-0.146 over two
    seeds each, AUROC 0.710-0.735 against 0.715-0.725: seeds alone move AUROC by 0.02."""
    expression_path, gold_path = dream4_paths(network)
    expression, gold = read_expression(expression_path), read_gold_standard(gold_path)
    settings = {"method": "GBM", "n_trees": 1000, "early_stopping_window": 0, "n_jobs": -1}
    fast_edges = genie3(expression, **settings)
    reference = [genie3(expression, engine="reference", seed=seed, **settings)
                 for seed in (0, 1)]
    fast_scores = score_network(fast_edges, gold)
    reference_scores = score_network(reference[0], gold)
    between_seeds = mean_spearman(*reference)
    fast_to_reference = mean_spearman(fast_edges, reference[0])
    print(f"DREAM4 {network}: fast {fast_scores}, reference {reference_scores}, Spearman "
          f"fast-reference {fast_to_reference:.3f}, reference seeds {between_seeds:.3f}")
    assert fast_scores["aupr"] >= reference_scores["aupr"] - 0.01
    assert fast_scores["auroc"] >= reference_scores["auroc"] - 0.01
    assert fast_to_reference >= between_seeds - 0.02
