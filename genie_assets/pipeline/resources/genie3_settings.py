"""GENIE3 parameters as a resource, so every shard partition of a deployment uses the same."""

from typing import Optional

from dagster import ConfigurableResource

from genie_assets.engine import Genie3Params

_DEFAULTS = Genie3Params()


class Genie3Settings(ConfigurableResource):
    """The GENIE3 parameters of this deployment (Genie3Params' fields; None takes the method's
    default: the paper's for the forests, GRNBoost2's for GBM)."""

    method: str = _DEFAULTS.method
    n_trees: Optional[int] = None
    max_features: Optional[str] = None
    seed: int = _DEFAULTS.seed
    engine: str = _DEFAULTS.engine
    max_samples: Optional[str] = None
    learning_rate: Optional[float] = None
    max_depth: Optional[int] = None
    subsample: Optional[float] = None
    early_stopping_window: Optional[int] = None
    oob_improvement: Optional[str] = None
    importance_scale: Optional[str] = None
    n_seeds: int = 1

    def params(self) -> Genie3Params:
        return Genie3Params.from_dict({name: getattr(self, name)
                                       for name in Genie3Params.field_names()})

    @classmethod
    def of(cls, params: Genie3Params) -> "Genie3Settings":
        text = {"max_features", "max_samples"}
        return cls(**{name: (str(value) if name in text and value is not None else value)
                      for name, value in params.as_dict().items()})
