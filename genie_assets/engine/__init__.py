"""The GENIE3 engine: a plain library (NumPy, scikit-learn, numba), usable from a notebook."""

from genie_assets.engine.compiling import install_cache_locator

# First: numba picks a compiled function's cache locator when the function is declared, and
# every module of the engine is imported through this package.
install_cache_locator()

from genie_assets.engine.core import EDGE_COLUMNS, genie3, infer_edges  # noqa: E402
from genie_assets.engine.params import (  # noqa: E402
    DEFAULT_ENGINE,
    RESULT_VERSIONS,
    Genie3Params,
)

__all__ = ["EDGE_COLUMNS", "DEFAULT_ENGINE", "RESULT_VERSIONS", "Genie3Params", "genie3",
           "infer_edges"]
