"""GENIE3 parameters as a resource, so every shard partition of a deployment uses the same."""


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
