"""GENIE3 parameters as a resource, so every shard partition of a deployment uses the same."""

from dagster import ConfigurableResource

from genie_assets.engine import Genie3Params

_DEFAULTS = Genie3Params()


class Genie3Settings(ConfigurableResource):
    """The GENIE3 parameters of this deployment (defaults: Genie3Params', the paper's)."""

    method: str = _DEFAULTS.method
    n_trees: int = _DEFAULTS.n_trees
    max_features: str = str(_DEFAULTS.max_features)
    seed: int = _DEFAULTS.seed
    engine: str = _DEFAULTS.engine

    def params(self) -> Genie3Params:
        return Genie3Params.from_dict({
            "method": self.method, "n_trees": self.n_trees, "max_features": self.max_features,
            "seed": self.seed, "engine": self.engine,
        })

    @classmethod
    def of(cls, params: Genie3Params) -> "Genie3Settings":
        return cls(method=params.method, n_trees=params.n_trees,
                   max_features=str(params.max_features), seed=params.seed,
                   engine=params.engine)
