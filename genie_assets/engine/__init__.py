"""The GENIE3 engine: a plain library (NumPy, scikit-learn, numba), usable from a notebook."""

from genie_assets.engine.core import EDGE_COLUMNS, genie3, infer_edges
from genie_assets.engine.params import DEFAULT_ENGINE, RESULT_VERSIONS, Genie3Params

__all__ = ["EDGE_COLUMNS", "DEFAULT_ENGINE", "RESULT_VERSIONS", "Genie3Params", "genie3",
           "infer_edges"]
