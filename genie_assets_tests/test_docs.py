"""The README and the docs say what is true of the code: the README stays a short user's
document whose links resolve and whose Python call runs; docs/engine.md names only functions
and modules that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "genie_assets"
README = REPO / "README.md"
README_MAX_LINES = 250


def test_the_readme_is_read_in_ten_minutes():
    lines = README.read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"
    text = README.read_text()
    for command in ("make demo", "make test", "make ui", "make backfill"):
        assert command in text, command


def markdown_links(path: Path) -> list[str]:
    return [target for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text())
            if not target.startswith(("http://", "https://", "#"))]


def test_every_link_of_the_readme_and_the_docs_leads_to_a_file():
    pages = [README, REPO / "CONTRIBUTING.md", *sorted((REPO / "docs").glob("*.md"))]
    broken = [f"{page.relative_to(REPO)} → {target}" for page in pages
              for target in markdown_links(page)
              if not (page.parent / target.split("#")[0]).exists()]
    assert broken == []
    assert {target for target in markdown_links(README)} >= {
        "docs/inputs.md", "docs/aws.md", "docs/spark.md", "docs/methods.md", "CONTRIBUTING.md"}


def test_the_readme_python_call_runs_and_gives_the_engine_edges():
    block = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    edges = namespace["edges"]
    assert isinstance(edges, pd.DataFrame)
    assert list(edges.columns[:3]) == ["regulator", "target", "importance"]
    assert len(edges) > 0 and (edges.regulator != edges.target).all()


def defined_names() -> set[str]:
    """Every name the package defines or uses as a name: functions, classes, assignments,
    fields, parameters, attributes, modules, and string keys (metadata names)."""
    names = {path.stem for path in PACKAGE.rglob("*.py")}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.add(node.value)
    return names


def code_names(page: Path) -> set[str]:
    """The names a page puts in backticks that look like code: snake_case with an
    underscore, or dotted (`module.function`), or a file name."""
    found = set()
    for token in re.findall(r"`([A-Za-z_][\w.]*)(?:\(\))?`", page.read_text()):
        if "_" in token or "." in token:
            found.add(token)
    return found


def test_every_function_docs_engine_names_exists():
    known = defined_names()
    missing = []
    for token in sorted(code_names(REPO / "docs" / "engine.md")):
        if token.endswith(".py"):
            if not [p for folder in ("genie_assets", "genie_assets_tests", "benchmarks")
                    for p in (REPO / folder).rglob(token)]:
                missing.append(token)
            continue
        if not all(part in known for part in token.split(".")):
            missing.append(token)
    assert missing == [], f"docs/engine.md names what the code no longer has: {missing}"


def test_the_docs_rule_sees_a_name_that_is_gone(tmp_path):
    page = tmp_path / "engine.md"
    page.write_text("The split is found by `find_best_split`, then `grower.grow_forest`.")
    assert code_names(page) == {"find_best_split", "grower.grow_forest"}
    assert "find_best_split" not in defined_names()
    assert {"grower", "grow_forest"} <= defined_names()
