"""GENIE3 parameters as a resource, so every shard partition of a deployment uses the same."""


import os

from dagster import ConfigurableResource

from genie_assets.engine import DEFAULT_ENGINE, Genie3Params


class Genie3Settings(ConfigurableResource):
    """The GENIE3 parameters of this deployment (defaults: the paper's)."""

    method: str = "RF"
    n_trees: int = 1000
    max_features: str = "sqrt"
    seed: int = 0
    engine: str = DEFAULT_ENGINE

    def params(self) -> Genie3Params:
        return Genie3Params.from_dict({
            "method": self.method, "n_trees": self.n_trees, "max_features": self.max_features,
            "seed": self.seed, "engine": self.engine,
        })

    @classmethod
    def from_env(cls) -> "Genie3Settings":
        """This deployment's parameters: GENIE_METHOD, GENIE_N_TREES, GENIE_MAX_FEATURES,
        GENIE_SEED, GENIE_ENGINE, each defaulting to the paper's choice."""
        defaults = cls()
        return cls(
            method=os.environ.get("GENIE_METHOD", defaults.method),
            n_trees=int(os.environ.get("GENIE_N_TREES", defaults.n_trees)),
            max_features=os.environ.get("GENIE_MAX_FEATURES", defaults.max_features),
            seed=int(os.environ.get("GENIE_SEED", defaults.seed)),
            engine=os.environ.get("GENIE_ENGINE", defaults.engine),
        )
