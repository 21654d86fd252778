"""The package's layers (genie_assets/__init__.py): each module imports only the layers below
its own, and only the Dagster layer imports Dagster. Read from the source, imports inside
functions included, so a lazy import cannot cross a layer unseen."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "genie_assets"

# What each layer may import of genie_assets (besides itself).
SHARED = {"errors", "files", "settings"}
MAY_IMPORT = {
    "errors": set(),
    "files": set(),
    "settings": {"engine", "errors"},
    "engine": {"errors"},
    "shard": SHARED | {"engine"},
    "inputs": SHARED | {"shard"},
    "network": SHARED | {"engine", "shard", "inputs"},
    "pipeline": SHARED | {"engine", "shard", "inputs", "network"},
    "definitions": SHARED | {"pipeline"},
    "backfill": SHARED | {"definitions", "network", "pipeline"},
    "demo": SHARED | {"definitions", "engine", "inputs", "network", "pipeline"},
}
MAY_IMPORT_DAGSTER = {"pipeline", "definitions", "backfill", "demo"}


def layer_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


def modules() -> list[Path]:
    return sorted(path for path in PACKAGE.rglob("*.py") if path.name != "__init__.py"
                  or path.parent != PACKAGE)


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module == "genie_assets":  # from genie_assets import settings
                found.update(f"genie_assets.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def own_layer(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def test_every_module_belongs_to_a_layer():
    assert {own_layer(path) for path in modules()} == set(MAY_IMPORT)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_the_layers_below_it(path):
    layer = own_layer(path)
    crossing = sorted(
        module for module in imports(path)
        if module.startswith("genie_assets.") and layer_of(module) not in MAY_IMPORT[layer]
        and layer_of(module) != layer
    )
    assert crossing == [], f"{layer} may import only {sorted(MAY_IMPORT[layer])}"
    if layer not in MAY_IMPORT_DAGSTER:
        framework = sorted(module for module in imports(path) if module.split(".")[0]
                           in ("dagster", "dagster_aws", "dagster_pyspark", "dagster_webserver"))
        assert framework == [], "only the pipeline layer imports Dagster (dagster-pipes is fine)"


def test_the_rule_sees_a_crossing(tmp_path):
    """The test above would catch an engine module reaching up into the pipeline."""
    module = tmp_path / "leaky.py"
    module.write_text("def f():\n    from genie_assets.pipeline.partitions import N_SHARDS\n")
    assert "genie_assets.pipeline.partitions" in imports(module)
    assert layer_of("genie_assets.pipeline.partitions") not in MAY_IMPORT["engine"]


FILE_NAME = re.compile(r"[\w.*-]*\.(parquet|json|tsv|txt|png|gmt|sif|graphml|html)$")
# The one module of the Dagster layer that spells where a stored thing lives.
LAYOUT = PACKAGE / "pipeline" / "layout.py"


def file_names_spelled(path: Path) -> list[str]:
    return sorted(node.value for node in ast.walk(ast.parse(path.read_text()))
                  if isinstance(node, ast.Constant) and isinstance(node.value, str)
                  and FILE_NAME.fullmatch(node.value))


def test_only_the_layout_module_spells_a_file_name_of_the_pipeline():
    dagster_side = [path for path in modules() if own_layer(path) in MAY_IMPORT_DAGSTER]
    spelled = {str(path.relative_to(PACKAGE)): file_names_spelled(path)
               for path in dagster_side if path != LAYOUT}
    assert {where: names for where, names in spelled.items() if names} == {}
    assert "edge_table.parquet" in file_names_spelled(LAYOUT)


def test_the_file_name_rule_sees_a_literal(tmp_path):
    module = tmp_path / "asset.py"
    module.write_text('TABLE = ("network", "degrees.parquet")\nNOTE = "a .parquet file"\n')
    assert file_names_spelled(module) == ["degrees.parquet"]


ENGINE = PACKAGE / "engine"


def engine_imports() -> dict[str, set[str]]:
    """Each engine module's imports of other engine modules, lazy ones included."""
    names = {path.stem for path in ENGINE.glob("*.py")}
    graph = {}
    for path in ENGINE.glob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "genie_assets.engine":
                found.update(alias.name for alias in node.names if alias.name in names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "genie_assets.engine."):
                found.add(node.module.split(".")[2])
            elif isinstance(node, ast.Import):
                found.update(alias.name.split(".")[2] for alias in node.names
                             if alias.name.startswith("genie_assets.engine."))
        graph[path.stem] = found - {path.stem}
    return graph


def cycle_in(graph: dict[str, set[str]]) -> list[str]:
    """A cycle of the graph as a path (first and last the same), or []."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = "open"
        for after in sorted(graph.get(node, ())):
            if state.get(after) == "open":
                return path + [node, after]
            if after not in state:
                found = visit(after, path + [node])
                if found:
                    return found
        state[node] = "done"
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return []


def test_the_engine_modules_import_each_other_without_a_cycle():
    graph = engine_imports()
    assert cycle_in(graph) == []
    # The cache locator is installed by the package, so no module imports the compile tools
    # for a side effect; compiling.py needs nothing of the engine.
    assert [name for name, imported in graph.items() if "compile_cache" in imported] == []
    assert graph["compiling"] == set()
    assert "compiling" in graph["__init__"]


def test_the_cycle_rule_sees_a_cycle():
    assert cycle_in({"grower": {"compile_cache"}, "compile_cache": {"grower"}}) == [
        "compile_cache", "grower", "compile_cache"]
    assert cycle_in({"grower": {"splits"}, "splits": set()}) == []



# A kernel's state goes in as records (RankedRegulators, Workspace, Node), not as lists of
# arrays of one type that compile just as well when two are swapped.
MOST_PARAMETERS = 12


def engine_functions_over(limit: int) -> list[str]:
    found = []
    for path in sorted(ENGINE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                arguments = node.args
                count = len(arguments.posonlyargs + arguments.args + arguments.kwonlyargs)
                if count > limit:
                    found.append(f"{path.name}:{node.name} ({count})")
    return found


def test_no_engine_function_takes_more_than_twelve_parameters():
    assert engine_functions_over(MOST_PARAMETERS) == []
    assert engine_functions_over(5), "the rule counts parameters"
