"""The fast engine: tree ensembles specialised for GENIE3, compiled with numba.

rank_regulators prepares a dataset's regulators once; forest_importances grows one target's
forest from them and returns its regulators' importances; boosted_importances boosts trees
(GRNBoost2) from them. The code is split by role: ranking, streams (random numbers), scans
(what a split is worth), splits (split search), partitioning, packing (fixed-point
accumulators), prefetching, workspace, grower (the forests), subsampling (forests on
bootstraps smaller than the samples) and boosting. How it is fast, and
why each choice was made: docs/engine.md.
"""

from genie_assets.engine.boosting import boosted_importances
from genie_assets.engine.grower import GROWERS, choose_grower, forest_importances, grow_importances
from genie_assets.engine.ranking import RankedRegulators, rank_regulators
from genie_assets.engine.subsampling import subsampled_importances
from genie_assets.engine.tuning import PREFETCH_BYTES, QUAD_LEVELS, SPARSE_SHARE

__all__ = ["GROWERS", "PREFETCH_BYTES", "QUAD_LEVELS", "RankedRegulators", "SPARSE_SHARE",
           "boosted_importances", "choose_grower", "forest_importances", "grow_importances",
           "rank_regulators", "subsampled_importances"]
