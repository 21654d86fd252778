"""The GENIE3 engine: published accuracy, semantics and determinism."""

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from genie_assets.engine import Genie3Params, fast, genie3
from genie_assets.engine.packing import EXACT_IN_FLOATS_SHIFT, fixed_point
from genie_assets.engine.records import Node
from genie_assets.engine.splits import (
    WALKS_LIST,
    best_split,
    best_splits_of_two_around_base,
    cuts_above_base_in_floats,
    cuts_above_base_packed,
    off_base_path,
)
from genie_assets.engine.tuning import (
    AROUND_BASE_NODE,
    FEW_LEVELS_PER_SAMPLE,
    SMALL_NODE,
    SPARSE_NODE,
)
from genie_assets.engine.workspace import new_workspace
from genie_assets.errors import ParameterError
from genie_assets.inputs.expression import read_expression
from genie_assets.inputs.gold_standard import read_gold_standard
from genie_assets.inputs.toy import toy_dataset
from genie_assets.network.evaluation import score_network
from genie_assets.shard.sharding import targets_for_shard
from genie_assets_tests.conftest import PUBLISHED, dream4_paths


def forest(ranked, inputs, target, *, n_trees, n_candidates, seed, extra_trees=False,
           grower=None):
    """One target's importances, by the grower forest_importances would choose or the one named."""
    if grower is None:
        return fast.forest_importances(ranked, inputs, target, n_trees=n_trees,
                                       n_candidates=n_candidates, extra_trees=extra_trees,
                                       seed=seed)
    return fast.grow_importances(ranked, inputs, target, n_trees=n_trees,
                                 n_candidates=n_candidates, extra_trees=extra_trees, seed=seed,
                                 grower=grower)


@pytest.fixture(scope="module")
def dream4_1():
    expression, gold = dream4_paths(1)
    return read_expression(expression), read_gold_standard(gold)


@pytest.mark.parametrize("network", [1, 2, 3])
def test_default_engine_reproduces_published_dream4_figures(network):
    expression_path, gold_path = dream4_paths(network)
    edges = genie3(read_expression(expression_path), n_jobs=-1)
    scores = score_network(edges, read_gold_standard(gold_path))
    aupr, auroc = PUBLISHED[network]
    assert scores["aupr"] == pytest.approx(aupr, abs=0.015)
    assert scores["auroc"] == pytest.approx(auroc, abs=0.02)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["RF", "ET"])
@pytest.mark.parametrize("network", [1, 2, 3])
def test_fast_engine_is_as_accurate_as_the_reference(network, method):
    """The fast engine's network scores as scikit-learn's does (1,000 trees each, ±0.01).

    About 4 core-minutes per case for the reference engine: run with `make test-slow`.
    """
    expression_path, gold_path = dream4_paths(network)
    expression, gold = read_expression(expression_path), read_gold_standard(gold_path)
    scores = {engine: score_network(genie3(expression, method=method, engine=engine, n_jobs=-1),
                                    gold)
              for engine in ("fast", "reference")}
    print(f"DREAM4 network {network} {method}: {scores}")
    assert scores["fast"]["aupr"] == pytest.approx(scores["reference"]["aupr"], abs=0.01)
    assert scores["fast"]["auroc"] == pytest.approx(scores["reference"]["auroc"], abs=0.01)


def test_edge_table_has_one_row_per_pair_without_self_edges(dream4_1):
    expression, _ = dream4_1
    regulators = list(expression.columns[:10])
    targets = list(expression.columns[5:20])
    edges = genie3(expression, regulators, targets, n_trees=20)
    assert list(edges.columns) == ["regulator", "target", "importance"]
    assert edges["importance"].dtype == np.float32
    assert not (edges.regulator == edges.target).any()
    # 15 targets × 10 regulators, minus the 5 targets that are also regulators (no self-edge).
    assert len(edges) == 15 * 10 - 5
    assert not edges.duplicated(["regulator", "target"]).any()
    assert (edges.importance >= 0).all()


def stored_as(kind: str, n_samples: int, n_targets: int = 6):
    """Toy data whose regulators the fast engine stores in different ways: continuous with few
    samples (one-byte ranks), continuous with many (two-byte ranks, extra-trees thresholds read
    from the matrix), counts with many ties (one-byte ranks, thresholds from the levels), or
    regulators as sparse counts, mostly zeros as in single-cell data (large nodes read each
    regulator's list of non-zero samples)."""
    expression, regulators, gold = toy_dataset(n_targets=n_targets, n_samples=n_samples)
    if kind == "counts":
        expression = np.floor(expression * 3.0)
    if kind == "sparse counts":
        expression[regulators] = np.floor(np.maximum(expression[regulators] - 1.4, 0.0) * 3.0)
        assert ((expression[regulators] == 0).mean() >= fast.SPARSE_SHARE).all()
    return expression, regulators, gold


STORAGE = [("continuous", 60), ("continuous", 300), ("counts", 300), ("sparse counts", 300)]


@pytest.mark.parametrize("kind,n_samples", STORAGE)
@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_extra_trees_importances_add_up_to_the_scaled_target_variance(engine, kind, n_samples):
    # Fully grown extra-trees use every sample and split until no regulator tells a leaf's
    # samples apart, so a target's impurity decreases add up to its variance (1 after the
    # unit-variance scaling) less what is left inside groups of samples with equal regulators.
    expression, regulators, _ = stored_as(kind, n_samples)
    targets = [g for g in expression.columns if g not in regulators]
    edges = genie3(expression, regulators, targets, method="ET", n_trees=25, engine=engine)
    totals = edges.groupby("target").importance.sum()
    groups = expression.groupby(regulators)
    # scikit-learn also stops at a node whose best split gains nothing but rounds to a loss
    # (it happens with tied targets, as in counts); the fast engine splits on.
    tolerance = 1e-5 if engine == "fast" or kind == "continuous" else 2e-3
    for target in targets:
        leftover = groups[target].var(ddof=0).mul(groups.size()).sum() / len(expression)
        expected = 1.0 - leftover / expression[target].var(ddof=0)
        assert totals[target] == pytest.approx(expected, abs=tolerance), target


@pytest.mark.parametrize("kind,n_samples", STORAGE)
@pytest.mark.parametrize("method", ["RF", "ET"])
def test_fast_engine_agrees_with_the_reference_however_values_are_stored(method, kind,
                                                                         n_samples):
    expression, regulators, _ = stored_as(kind, n_samples, n_targets=4)
    targets = [g for g in expression.columns if g not in regulators]
    fast, reference = (genie3(expression, regulators, targets, method=method, n_trees=300,
                              engine=engine)
                       for engine in ("fast", "reference"))
    joined = fast.merge(reference, on=["regulator", "target"])
    for target, pair in joined.groupby("target"):
        assert np.corrcoef(pair.importance_x, pair.importance_y)[0, 1] > 0.97, target
        assert pair.importance_x.sum() == pytest.approx(pair.importance_y.sum(), rel=0.05)


@pytest.mark.parametrize("kind,n_regulators", [("continuous", 700), ("counts", 1400)])
def test_a_rank_matrix_larger_than_the_caches_gives_the_same_importances(kind, n_regulators):
    # Past fast.PREFETCH_BYTES the grower prefetches the next candidate's ranks; it must read
    # exactly what the same regulators give when their matrix is small enough not to.
    rng = np.random.default_rng(5)
    values = rng.normal(size=(n_regulators, 800))
    target = np.tanh(values[0]) + 0.5 * values[40] + 0.3 * rng.normal(size=800)
    if kind == "counts":
        values = np.log1p(rng.poisson(np.exp(values - 0.5)))
    rows = np.arange(0, n_regulators, 20)
    whole = fast.rank_regulators(values)
    subset = fast.rank_regulators(values[rows])
    assert whole.ranks.nbytes > fast.PREFETCH_BYTES >= subset.ranks.nbytes
    prefetched, plain = (forest(ranked, inputs, target, n_trees=20, n_candidates=6, seed=11)
                         for ranked, inputs in ((whole, rows), (subset, np.arange(len(rows)))))
    assert np.array_equal(prefetched, plain)
    assert set(np.argsort(plain)[-2:]) == {0, 2}  # rows 0 and 40 drive the target


def test_regulators_mostly_at_one_value_give_the_importances_of_the_dense_path():
    # A large node evaluates such a regulator from the list of its samples off that value
    # (zeros, in single-cell counts) and takes the zeros' sums from the node's totals. With a
    # target in multiples of 1/64 every sum is exact in floating point, so the forest must be
    # the very one the node-by-node path grows.
    rng = np.random.default_rng(3)
    values = np.log1p(rng.poisson(np.exp(rng.normal(size=(60, 800)) - 2.5)))
    target = np.round((3.0 * values[0] + 2.0 * values[7] + 0.5 * rng.normal(size=800)) * 64) / 64
    ranked = fast.rank_regulators(values)
    assert (ranked.base_rank == 0).all()  # every regulator is mostly zeros
    assert len(ranked.sparse_samples) < 0.2 * values.size
    # Lists emptied behind the path's back: every regulator looks constant in large nodes.
    assert_lists_give_the_dense_forest(
        ranked, ranked._replace(sparse_offsets=np.zeros_like(ranked.sparse_offsets)), target)


def assert_lists_give_the_dense_forest(ranked, broken_lists, target):
    """The forest grown from the regulators' lists is the one grown without them (base ranks
    removed), regulators 0 and 7 lead, and lists broken behind the path's back change it."""
    dense = ranked._replace(base_rank=np.full_like(ranked.base_rank, -1))
    inputs = np.arange(len(ranked.base_rank))
    listed, node_by_node, broken = (forest(r, inputs, target, n_trees=30, n_candidates=8, seed=5)
                                    for r in (ranked, dense, broken_lists))
    assert np.array_equal(listed, node_by_node)
    assert set(np.argsort(listed)[-2:]) == {0, 7}
    assert not np.allclose(broken, listed)


@pytest.mark.parametrize("base", ["lowest", "in the middle", "lowest, values tied"])
def test_many_valued_regulators_walked_along_their_lists_give_the_forest_of_the_dense_path(
        base):
    # Normalised single-cell data: mostly zeros, nearly every other value distinct. A large
    # node walks such a regulator's list of samples off its base value in rank order, with the
    # base's share (what the node's totals leave) in its place, which may lie below some of
    # the list (values of both signs around the zeros). With a target in multiples of 1/64
    # every sum is exact, so the forest must be the very one the node-by-node path grows.
    rng = np.random.default_rng(8)
    values = rng.lognormal(size=(60, 800)) * (rng.random((60, 800)) < 0.14)
    if base == "in the middle":
        values *= rng.choice([-1.0, 1.0], size=values.shape)
    if base == "lowest, values tied":
        # Samples of one value sit side by side in a list: the walk must not cut between them.
        values = np.round(values, 1)
    target = np.round((3.0 * values[0] + 2.0 * np.abs(values[7]) + 0.5 * rng.normal(size=800))
                      * 64) / 64
    ranked = fast.rank_regulators(values)
    n_listed = np.diff(ranked.sparse_offsets)
    assert (ranked.base_rank >= 0).all() and ranked.ranks.dtype == np.uint8
    assert ((ranked.sparse_below > 0) == (base == "in the middle")).all()
    n_levels = np.diff(ranked.level_offsets)
    assert all(off_base_path(ranked.base_rank, ranked.sparse_offsets, row, m, n_levels[row])
               == WALKS_LIST for row in range(len(values)) for m in (SPARSE_NODE, 800))
    assert n_listed.min() > 80
    within_a_list = np.ones(len(ranked.sparse_ranks) - 1, dtype=bool)
    within_a_list[ranked.sparse_offsets[1:-1] - 1] = False
    tied = (np.diff(ranked.sparse_ranks.astype(np.int64)) == 0) & within_a_list
    assert tied.any() == (base == "lowest, values tied")
    # Lists out of rank order: the walk cuts between the wrong samples.
    assert_lists_give_the_dense_forest(
        ranked, ranked._replace(sparse_ranks=rng.permutation(ranked.sparse_ranks)), target)


@pytest.mark.parametrize("targets", ["inexact", "at the fixed point's bound"])
def test_the_walk_in_floats_finds_the_packed_walks_cuts_to_the_bit(targets):
    # Where the fixed-point sums are exact in floats, the walk adds the counts and the sums
    # on a cut's right apart, the sums as floats, in place of one packed integer. Same proxy
    # to the bit, same rank, same sum above the base, with targets inexact in floating point,
    # ties between listed samples, and sums as large as the fixed point lets them be.
    rng = np.random.default_rng(21)
    n_samples = 800
    y = rng.normal(size=n_samples) if targets == "inexact" else np.full(n_samples, 7.3)
    shift, scale = fixed_point(y)
    assert shift <= EXACT_IN_FLOATS_SHIFT
    inverse = np.concatenate([[0.0], 1.0 / np.arange(1, 4 * n_samples + 1)])
    n_ties = 0
    for _ in range(300):
        # A bootstrap's counts (0 where not drawn), or every sample once: the largest sums.
        weight = (np.bincount(rng.integers(0, n_samples, n_samples), minlength=n_samples)
                  if targets == "inexact" else np.ones(n_samples, dtype=np.int64))
        fixed = weight * np.round(y * scale).astype(np.int64)
        node_pw = (weight << shift) + fixed
        n_listed = int(rng.integers(2, 300))
        sparse_samples = rng.choice(n_samples, n_listed, replace=False).astype(np.uint16)
        sparse_ranks = np.sort(rng.integers(1, rng.integers(2, 400), size=n_listed)).astype(
            np.uint16)
        listed_in_node = rng.random(n_listed) < rng.random()
        listed_in_node &= weight[sparse_samples] > 0
        low = int(rng.integers(0, n_listed))
        if not listed_in_node[low:].any():
            continue
        in_node = np.zeros(n_samples, dtype=np.uint8)
        in_node[sparse_samples[listed_in_node]] = 1
        node = weight > 0
        total_n, total_f = int(weight[node].sum()), int(fixed[node].sum())
        assert abs(total_f) < 2 ** 53
        packed = cuts_above_base_packed(
            sparse_samples, sparse_ranks, low, n_listed, in_node, node_pw,
            (total_n << shift) + total_f, total_n, float(total_f), shift, inverse)
        in_floats = cuts_above_base_in_floats(
            sparse_samples, sparse_ranks, low, n_listed, in_node, weight,
            fixed.astype(np.float64), total_n, float(total_f), shift, inverse)
        assert in_floats == packed
        # The sum above the base is that of the node's samples listed from low on.
        kept = low + np.flatnonzero(listed_in_node[low:])
        assert packed[2] == int(node_pw[sparse_samples[kept]].sum())
        n_ties += np.any(np.diff(sparse_ranks[kept].astype(np.int64)) == 0)
    assert n_ties > 20


@pytest.mark.parametrize("base", ["lowest", "in the middle", "lowest, values tied"])
def test_small_nodes_sorting_only_the_samples_off_the_base_find_the_split_of_the_full_path(
        base):
    # Two many-valued regulators with base ranks in a node of at most AROUND_BASE_NODE
    # samples sort only their samples off the base and add the base's at once. Its sums must
    # be the ones best_split adds, in its order (one by one in nodes of at most SMALL_NODE,
    # per rank above), so with a target that is not exact in floating point the proxy must
    # match to the bit, and so must the rank of the cut.
    rng = np.random.default_rng(12)
    n_samples = 400
    nonzero = rng.random((40, n_samples)) < 0.25
    if base == "lowest, values tied":
        values = rng.integers(1, 201, size=nonzero.shape) * nonzero / 7.0
    else:
        values = rng.lognormal(size=nonzero.shape) * nonzero
    if base == "in the middle":
        values *= rng.choice([-1.0, 1.0], size=values.shape)
    ranked = fast.rank_regulators(values)
    assert (ranked.base_rank >= 0).all()
    n_levels = np.diff(ranked.level_offsets)
    assert n_levels.min() > FEW_LEVELS_PER_SAMPLE * AROUND_BASE_NODE
    y = rng.normal(size=n_samples)
    inverse = np.concatenate([[0.0], 1.0 / np.arange(1, 4 * AROUND_BASE_NODE)])
    n_ranks = int(ranked.ranks.max()) + 1
    ws = new_workspace(n_samples, len(values), n_ranks)
    ties_in_node = {True: 0, False: 0}
    for m in range(2, AROUND_BASE_NODE + 1):
        for _ in range(25):
            samples = np.sort(rng.choice(n_samples, m, replace=False)).astype(np.uint32)
            node_n = rng.integers(1, 4, size=m)
            node_s = node_n * y[samples]
            ws.samples[:m], ws.node_n[:m], ws.node_s[:m] = samples, node_n, node_s
            node = Node(0, m, int(node_n.sum()), float(node_s.sum()), inverse)
            rows = rng.choice(len(values), 2, replace=False)
            paired = best_splits_of_two_around_base(
                ranked.ranks, rows[0], rows[1], ranked.base_rank[rows[0]],
                ranked.base_rank[rows[1]], ws.samples, node, ws.node_n, ws.node_s,
                (ws.unsorted, ws.base_keys, ws.keys), (ws.unsorted_b, ws.base_keys_b, ws.keys_b))
            for k, row in enumerate(rows):
                proxy, rank, constant = best_split(ranked.ranks, row, ws, node, n_levels[row],
                                                   False)
                assert (paired[2 * k], paired[2 * k + 1]) == (proxy, rank), (m, row)
                assert constant == (rank < 0)
                off_base = ranked.ranks[row, samples][ranked.ranks[row, samples]
                                                      != ranked.base_rank[row]]
                if len(np.unique(off_base)) < len(off_base):
                    ties_in_node[m <= SMALL_NODE] += 1
    # Ties among a node's samples off the base (grouped sums differ), in both node sizes.
    assert (min(ties_in_node.values()) > 0) == (base == "lowest, values tied")


def test_count_data_four_candidates_at_once_give_the_forest_of_two_at_once():
    # Four count-like regulators drawn together share one pass over the node, adding bootstrap
    # counts and fixed-point target sums packed in one integer. With a target in multiples of
    # 1/64 the fixed-point and the floating-point sums are all exact, so the forest must be the
    # very one grown two candidates at a time in floating point; with any other target the
    # last bits differ, which shows the four-at-once path ran.
    rng = np.random.default_rng(4)
    values = np.log1p(rng.poisson(np.exp(rng.normal(size=(80, 600)) - 0.5)))
    signal = 2.0 * values[3] + values[11] + 0.5 * rng.normal(size=600)
    ranked = fast.rank_regulators(values)
    assert ranked.n_ranks <= fast.QUAD_LEVELS
    inputs = np.arange(len(values))

    assert fast.choose_grower(ranked, inputs, False) == fast.GROWERS["four at once"]

    def both(target):
        return (forest(ranked, inputs, target, n_trees=30, n_candidates=9, seed=5,
                       grower=fast.GROWERS[grower]) for grower in ("four at once", "general"))

    four, two = both(np.round(signal * 64) / 64)
    assert np.array_equal(four, two)
    assert set(np.argsort(four)[-2:]) == {3, 11}
    four, two = both(signal)
    assert not np.array_equal(four, two)
    assert set(np.argsort(four)[-2:]) == set(np.argsort(two)[-2:]) == {3, 11}


def test_continuous_data_two_candidates_in_one_pass_give_the_forest_of_the_general_code():
    # Where most regulators are continuous, a grower compiled for them evaluates two drawn
    # together in one pass and one scan, and never scans every rank of a large node. It adds
    # the same sums in the same order, so with any target the forest must be the very one the
    # general code grows. Some regulators here have ties, which that grower sends down the
    # general paths.
    rng = np.random.default_rng(6)
    values = rng.normal(size=(60, 500))
    values[50:] = np.round(values[50:], 1)
    target = np.tanh(values[2]) + 0.5 * values[9] + 0.3 * rng.normal(size=500)
    ranked = fast.rank_regulators(values)
    # What makes forest_importances choose that grower: most regulators continuous.
    n_continuous = (np.diff(ranked.level_offsets) == values.shape[1]).sum()
    assert n_continuous == 50
    inputs = np.arange(len(values))
    assert fast.choose_grower(ranked, inputs, False) == fast.GROWERS["continuous pairs"]
    paired, general = (forest(ranked, inputs, target, n_trees=30, n_candidates=7, seed=5,
                              grower=fast.GROWERS[grower])
                       for grower in ("continuous pairs", "general"))
    assert np.array_equal(paired, general)
    assert set(np.argsort(paired)[-2:]) == {2, 9}


@pytest.mark.parametrize("method", ["RF", "ET"])
def test_the_fast_engine_holds_the_ranks_not_a_copy_of_the_matrix(method):
    # The bound: the expression matrix, the results, a tree per worker. The fast
    # engine ranks the matrix's columns in place and keeps their ranks (two bytes per value
    # here: a quarter of the float64 matrix); extra-trees reads its thresholds from the
    # caller's matrix itself. Fortran-ordered, as pandas hands out a frame read from a file.
    rng = np.random.default_rng(8)
    frame = pd.DataFrame(np.asfortranarray(rng.normal(size=(1000, 2000))),
                         columns=[f"G{i:04d}" for i in range(2000)])
    assert frame.to_numpy().flags.f_contiguous
    matrix_bytes = frame.to_numpy().nbytes
    genie3(frame.iloc[:50, :30], method=method, n_trees=2)  # compiled code loaded beforehand
    tracemalloc.start()
    try:
        edges = genie3(frame, targets=["G0001", "G0002"], method=method, n_trees=5)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(edges) == 2 * 1999
    assert peak < 0.4 * matrix_bytes


def test_ranking_in_place_gives_the_ranks_of_a_copy_and_keeps_values_only_when_asked():
    rng = np.random.default_rng(9)
    samples_by_genes = rng.normal(size=(300, 40))  # C-ordered: its transpose is not
    rows = np.array([5, 2, 30, 7])
    copied = fast.rank_regulators(np.ascontiguousarray(samples_by_genes[:, rows].T))
    for keep in (True, False):
        in_place = fast.rank_regulators(samples_by_genes.T, rows, keep_values=keep)
        assert np.array_equal(in_place.ranks, copied.ranks)
        if keep:
            assert np.array_equal(in_place.values[in_place.value_rows], copied.values)
        else:
            assert in_place.values.size == 0
    fortran = np.asfortranarray(samples_by_genes)
    in_place = fast.rank_regulators(fortran.T, rows)
    assert np.shares_memory(in_place.values, fortran)  # read in place, not copied
    assert np.array_equal(in_place.values[in_place.value_rows], copied.values)
    # Extra-trees needs the values of many-valued regulators: refused without them.
    bare = fast.rank_regulators(samples_by_genes.T, rows, keep_values=False)
    target = samples_by_genes[:, 0]
    with pytest.raises(ParameterError, match="keep_values"):
        forest(bare, np.arange(4), target, n_trees=3, n_candidates=2, extra_trees=True, seed=1)
    et = [forest(r, np.arange(4), target, n_trees=20, n_candidates=2, extra_trees=True, seed=1)
          for r in (copied, in_place)]
    assert np.array_equal(et[0], et[1])


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_edges_do_not_depend_on_gene_order(dream4_1, engine):
    expression, _ = dream4_1
    subset = expression.iloc[:, :30]
    reverse = subset[subset.columns[::-1]]
    forward_edges = genie3(subset, n_trees=30, engine=engine)
    reverse_edges = genie3(reverse, targets=list(reverse.columns[::-1]), n_trees=30, engine=engine)
    joined = forward_edges.merge(reverse_edges, on=["regulator", "target"])
    assert len(joined) == len(forward_edges) == 30 * 29
    assert (joined.importance_x == joined.importance_y).all()


def test_edges_do_not_depend_on_the_number_of_shards(dream4_1):
    expression, _ = dream4_1
    subset = expression.iloc[:, :40]
    whole = genie3(subset, n_trees=50, n_jobs=2)
    genes = list(subset.columns)
    for n_shards in (3, 7):
        pieces = [genie3(subset, targets=targets_for_shard(genes, i, n_shards), n_trees=50)
                  for i in range(n_shards)]
        merged = pd.concat(pieces).merge(whole, on=["regulator", "target"])
        assert len(merged) == len(whole)
        assert (merged.importance_x == merged.importance_y).all()


@pytest.mark.parametrize("method", ["RF", "ET"])
def test_results_are_identical_for_any_number_of_threads(dream4_1, method):
    expression, _ = dream4_1
    subset = expression.iloc[:, :25]
    one = genie3(subset, method=method, n_trees=40, n_jobs=1)
    two = genie3(subset, method=method, n_trees=40, n_jobs=2)
    pd.testing.assert_frame_equal(one, two)


def test_seed_changes_the_forest_but_not_the_strong_edges(dream4_1):
    expression, _ = dream4_1
    subset = expression.iloc[:, :20]
    a = genie3(subset, n_trees=40, seed=1)
    b = genie3(subset, n_trees=40, seed=2)
    assert not np.array_equal(a.importance.to_numpy(), b.importance.to_numpy())
    assert np.corrcoef(a.importance, b.importance)[0, 1] > 0.8


def test_toy_network_is_recovered():
    expression, regulators, gold = toy_dataset()
    scores = score_network(genie3(expression, regulators, n_jobs=-1), gold)
    assert scores["aupr"] >= 0.9
    assert scores["auroc"] >= 0.95


def test_max_features_choices_and_bad_parameters():
    assert Genie3Params(max_features="sqrt").n_candidates_per_node(99) == 9
    assert Genie3Params(max_features="all").n_candidates_per_node(99) == 99
    assert Genie3Params(max_features=5).n_candidates_per_node(3) == 3
    assert Genie3Params(max_features=0.1).n_candidates_per_node(99) == 9
    with pytest.raises(ValueError, match="method"):
        Genie3Params(method="GBT")
    with pytest.raises(ValueError, match="max_features"):
        Genie3Params(max_features="log2")
    with pytest.raises(ValueError, match="n_trees"):
        Genie3Params(n_trees=0)


def test_unknown_genes_are_named():
    expression, regulators, _ = toy_dataset(n_targets=3, n_samples=20)
    with pytest.raises(ValueError, match="NOPE"):
        genie3(expression, regulators=["NOPE"], n_trees=5)
