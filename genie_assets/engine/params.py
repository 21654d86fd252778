"""GENIE3 parameters: the defaults are stated once, here, and recorded on every result."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from typing import Literal, Union

from genie_assets.errors import ParameterError

METHODS = ("RF", "ET")
ENGINES = ("fast", "reference")
# Chosen on evidence: benchmarks/engine.py measures the fast engine several times faster than
# the scikit-learn reference per core, with the same AUPR/AUROC on DREAM4 (see README).
DEFAULT_ENGINE = "fast"
# The version of the engine's results: bump it when a change changes them (every stored shard
# becomes stale); genie_assets_tests/golden.py holds their hashes for this version.
ENGINE_CODE_VERSION = "2"

MaxFeatures = Union[Literal["sqrt", "all"], int]


@dataclasses.dataclass(frozen=True)
class Genie3Params:
    """How a GENIE3 network is computed (Huynh-Thu et al. 2010 defaults)."""

    method: Literal["RF", "ET"] = "RF"
    n_trees: int = 1000
    max_features: MaxFeatures = "sqrt"
    seed: int = 0
    engine: Literal["fast", "reference"] = DEFAULT_ENGINE

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ParameterError(f"method must be one of {METHODS}, got {self.method!r}")
        if self.engine not in ENGINES:
            raise ParameterError(f"engine must be one of {ENGINES}, got {self.engine!r}")
        if not isinstance(self.n_trees, int) or self.n_trees < 1:
            raise ParameterError(f"n_trees must be a positive integer, got {self.n_trees!r}")
        if isinstance(self.max_features, bool) or not (
            self.max_features in ("sqrt", "all")
            or (isinstance(self.max_features, int) and self.max_features >= 1)
        ):
            raise ParameterError(
                "max_features must be 'sqrt', 'all' or a positive integer, "
                f"got {self.max_features!r}"
            )
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ParameterError(f"seed must be a non-negative integer, got {self.seed!r}")

    def n_candidates_per_node(self, n_inputs: int) -> int:
        """K: how many regulators each tree node draws among the target's n_inputs regulators."""
        if self.max_features == "sqrt":
            return max(1, int(math.sqrt(n_inputs)))
        if self.max_features == "all":
            return n_inputs
        return min(int(self.max_features), n_inputs)

    def target_seed(self, target: str) -> int:
        """A 63-bit seed derived from the run seed and the target's *name*.

        Keying the random stream by name, not position, is what makes the edges independent of
        gene order and of how targets are split into shards.
        """
        digest = hashlib.blake2b(f"{self.seed}\x00{target}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little") >> 1

    def digest(self) -> str:
        """A short stable name for these parameters (part of the shards' code version)."""
        text = ",".join(f"{k}={v}" for k, v in sorted(self.as_dict().items()))
        return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "Genie3Params":
        """Parse parameters that travelled as strings (SageMaker hyperparameters, JSON)."""
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - fields
        if unknown:
            raise ParameterError(f"unknown GENIE3 parameters: {sorted(unknown)}")
        parsed = dict(values)
        if "n_trees" in parsed:
            parsed["n_trees"] = int(parsed["n_trees"])
        if "seed" in parsed:
            parsed["seed"] = int(parsed["seed"])
        if "max_features" in parsed and str(parsed["max_features"]).isdigit():
            parsed["max_features"] = int(parsed["max_features"])
        return cls(**parsed)
