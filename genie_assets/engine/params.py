"""GENIE3 parameters: the defaults are stated once, here, and recorded on every result."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from typing import Literal, Optional, Union

from genie_assets.errors import ParameterError

METHODS = ("RF", "ET", "GBM")
FORESTS = ("RF", "ET")
ENGINES = ("fast", "reference")
# Chosen on evidence: benchmarks/engine.py measures the fast engine several times faster than
# the scikit-learn reference per core, with the same AUPR/AUROC on DREAM4 (docs/methods.md).
DEFAULT_ENGINE = "fast"
# The version of each method's results from the fast engine: bump a method's when a change
# changes its results (its stored shards become stale; the other methods' stay current).
# "RF/max_samples" is a random forest with a bootstrap smaller than the samples, grown on
# bootstraps shared by a group of targets (engine.subsampling). genie_assets_tests/golden.py
# holds their hashes for these versions.
RESULT_VERSIONS = {"RF": "2", "ET": "2", "GBM": "3", "RF/max_samples": "1"}

MaxFeatures = Union[Literal["sqrt", "all"], int, float]

# Each method's defaults where a field is left None: the forests' are the GENIE3 paper's,
# GBM's are arboreto's GRNBoost2 (SGBM_KWARGS, EarlyStopMonitor) on scikit-learn's
# GradientBoostingRegressor (depth-3 trees).
FOREST_DEFAULTS = {"n_trees": 1000, "max_features": "sqrt"}
GBM_DEFAULTS = {"n_trees": 5000, "max_features": 0.1, "learning_rate": 0.01, "max_depth": 3,
                "subsample": 0.9, "early_stopping_window": 25,
                "oob_improvement": "previous-round", "importance_scale": "rounds"}
GBM_ONLY = ("learning_rate", "max_depth", "subsample", "early_stopping_window",
            "oob_improvement", "importance_scale")
# A round's out-of-bag improvement: the loss on its out-of-bag samples after its tree, taken
# from the last round's (on that round's out-of-bag samples: scikit-learn since 1.3, what
# arboreto runs today), or from the loss on the same samples before its tree (scikit-learn
# before 1.3). docs/methods.md says why the first is the default.
OOB_IMPROVEMENTS = ("previous-round", "same-samples")
# GBM's importances: arboreto's (normalised to sum 1 per target, times its rounds) or summing
# to 1 per target.
IMPORTANCE_SCALES = ("rounds", "unit")
# A consensus run's stability: the share of its seeds in which an edge is among its target's
# this many strongest regulators.
STABILITY_TOP = 10


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _fraction(value) -> bool:
    return isinstance(value, float) and 0.0 < value <= 1.0


@dataclasses.dataclass(frozen=True)
class Genie3Params:
    """How a GENIE3 network is computed. Fields left None take their method's default (above),
    so what is recorded is what ran.

    method: RF and ET (random forest, extra-trees: GENIE3, Huynh-Thu et al. 2010) or GBM
      (stochastic gradient boosting with early stopping: GRNBoost2, Moerman et al. 2019).
    n_trees: trees per target; for GBM the most boosting rounds.
    max_features: regulators drawn per node: "sqrt", "all", a count or a fraction.
    max_samples (RF): the bootstrap's size, a count or a fraction of the samples (None:
      as many as there are samples).
    learning_rate, max_depth, subsample (fraction of the samples each round fits, drawn without
      replacement), early_stopping_window (GBM): boosting stops when the out-of-bag
      improvement (oob_improvement: OOB_IMPROVEMENTS) averaged over this many rounds is
      negative; 0 runs all n_trees rounds. importance_scale: IMPORTANCE_SCALES.
    n_seeds: runs this many seeds (derived from seed) and gives the mean importance and each
      edge's stability (STABILITY_TOP).
    """

    method: Literal["RF", "ET", "GBM"] = "RF"
    n_trees: Optional[int] = None
    max_features: Optional[MaxFeatures] = None
    seed: int = 0
    engine: Literal["fast", "reference"] = DEFAULT_ENGINE
    max_samples: Optional[Union[int, float]] = None
    learning_rate: Optional[float] = None
    max_depth: Optional[int] = None
    subsample: Optional[float] = None
    early_stopping_window: Optional[int] = None
    oob_improvement: Optional[str] = None
    importance_scale: Optional[str] = None
    n_seeds: int = 1

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ParameterError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.engine not in ENGINES:
            raise ParameterError(f"engine must be one of {ENGINES}, got {self.engine!r}")
        defaults = GBM_DEFAULTS if self.method == "GBM" else FOREST_DEFAULTS
        for name in GBM_ONLY if self.method in FORESTS else ():
            if getattr(self, name) is not None:
                raise ParameterError(f"{name} applies to method GBM only, not to "
                                     f"{self.method}")
        if self.max_samples is not None and self.method != "RF":
            raise ParameterError(f"max_samples (the bootstrap's size) applies to method RF "
                                 f"only: {self.method} grows each tree on "
                                 f"{'every sample' if self.method == 'ET' else 'subsample'}")
        for name, value in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, value)
        if not _positive_int(self.n_trees):
            raise ParameterError(f"n_trees must be a positive integer, got {self.n_trees!r}")
        if not (self.max_features in ("sqrt", "all") or _positive_int(self.max_features)
                or _fraction(self.max_features)):
            raise ParameterError(
                "max_features must be 'sqrt', 'all', a positive integer or a fraction in "
                f"(0, 1], got {self.max_features!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ParameterError(f"seed must be a non-negative integer, got {self.seed!r}")
        if not _positive_int(self.n_seeds):
            raise ParameterError(f"n_seeds must be a positive integer, got {self.n_seeds!r}")
        if self.max_samples is not None and not (
                _positive_int(self.max_samples) or _fraction(self.max_samples)):
            raise ParameterError("max_samples must be a positive integer or a fraction in "
                                 f"(0, 1], got {self.max_samples!r}")
        if self.method == "GBM":
            self._check_boosting()

    def _check_boosting(self) -> None:
        if not (isinstance(self.learning_rate, float) and self.learning_rate > 0):
            raise ParameterError(f"learning_rate must be a positive number, got "
                                 f"{self.learning_rate!r}")
        if not _positive_int(self.max_depth):
            raise ParameterError(f"max_depth must be a positive integer, got {self.max_depth!r}")
        if not _fraction(self.subsample):
            raise ParameterError(f"subsample must be a fraction in (0, 1], got "
                                 f"{self.subsample!r}")
        window = self.early_stopping_window
        if not (isinstance(window, int) and not isinstance(window, bool) and window >= 0):
            raise ParameterError(f"early_stopping_window must be 0 or a positive integer, got "
                                 f"{window!r}")
        if self.oob_improvement not in OOB_IMPROVEMENTS:
            raise ParameterError(f"oob_improvement must be one of {OOB_IMPROVEMENTS}, got "
                                 f"{self.oob_improvement!r}")
        if self.importance_scale not in IMPORTANCE_SCALES:
            raise ParameterError(f"importance_scale must be one of {IMPORTANCE_SCALES}, got "
                                 f"{self.importance_scale!r}")
        if window and self.subsample == 1.0:
            raise ParameterError("early stopping reads the out-of-bag improvement: it needs "
                                 "subsample < 1 (or early_stopping_window=0)")

    def n_candidates_per_node(self, n_inputs: int) -> int:
        """K: how many regulators each tree node draws among the target's n_inputs regulators."""
        if self.max_features == "sqrt":
            return max(1, int(math.sqrt(n_inputs)))
        if self.max_features == "all":
            return n_inputs
        if isinstance(self.max_features, float):
            return max(1, int(self.max_features * n_inputs))
        return min(int(self.max_features), n_inputs)

    def n_drawn_samples(self, n_samples: int) -> int:
        """The forests' bootstrap size (max_samples) or GBM's samples per round (subsample)."""
        if self.method == "GBM":
            return max(1, int(self.subsample * n_samples))
        if self.max_samples is None:
            return n_samples
        if isinstance(self.max_samples, float):
            return max(1, round(self.max_samples * n_samples))
        if self.max_samples > n_samples:
            raise ParameterError(f"max_samples={self.max_samples} is more than the "
                                 f"{n_samples} samples")
        return self.max_samples

    def target_seed(self, target: str, replicate: int = 0) -> int:
        """A 63-bit seed derived from the run seed, the replicate (n_seeds) and the target's
        *name*.

        Keying the random stream by name, not position, is what makes the edges independent of
        gene order and of how targets are split into shards.
        """
        key = f"{self.seed}\x00{target}" if replicate == 0 else \
            f"{self.seed}\x00{replicate}\x00{target}"
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little") >> 1

    def bootstrap_seed(self, replicate: int = 0) -> int:
        """The seed of the bootstraps a group of targets shares (max_samples, see
        engine.subsampling): from the run seed and the replicate, not from any target."""
        digest = hashlib.blake2b(f"{self.seed}\x00{replicate}\x00bootstraps".encode(),
                                 digest_size=8, person=b"bootstraps").digest()
        return int.from_bytes(digest, "little") >> 1

    def result_kind(self) -> str:
        """This configuration's key in RESULT_VERSIONS."""
        if self.method == "RF" and self.max_samples is not None:
            return "RF/max_samples"
        return self.method

    def digest(self) -> str:
        """A short stable name for these parameters (part of the shards' code version)."""
        text = ",".join(f"{k}={v}" for k, v in sorted(self.as_dict().items()))
        return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    def as_dict(self) -> dict:
        """Every field (None where it does not apply to the method)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "Genie3Params":
        """Parse parameters that travelled as strings (SageMaker hyperparameters, JSON);
        "None" or "" is a field left to its default."""
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - fields
        if unknown:
            raise ParameterError(f"unknown GENIE3 parameters: {sorted(unknown)}")
        parsed = {}
        for name, value in values.items():
            if value is None or (isinstance(value, str) and value.strip() in ("", "None")):
                continue
            parsed[name] = _parse(name, value)
        return cls(**parsed)


def _parse(name: str, value):
    if not isinstance(value, str):
        return value
    text = value.strip()
    if name in ("n_trees", "seed", "max_depth", "early_stopping_window", "n_seeds"):
        if not text.lstrip("-").isdigit():
            raise ParameterError(f"{name}={value!r} is not a whole number")
        return int(text)
    try:
        if name in ("learning_rate", "subsample"):
            return float(text)
        if name in ("max_features", "max_samples"):
            if text.isdigit():
                return int(text)
            if name == "max_features" and text in ("sqrt", "all"):
                return text
            return float(text)
    except ValueError:
        raise ParameterError(f"{name}={value!r} is not a valid value") from None
    return text
