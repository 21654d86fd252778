"""Cell annotations: what each sample (cell) is — its cell type, cluster, condition, donor.

They come from the expression file itself (an AnnData `.obs` column, a loom column attribute)
or from a samples table beside it (CSV/TSV with a header: sample name first, then one column
per annotation). Only labels are kept (text, categories, booleans, whole numbers with few
distinct values): a group is something a cell belongs to, not a measured number such as
`n_counts`. Every sample of the matrix must have its row; a label may be empty (that cell is
in no group).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pandas as pd

from genie_assets.errors import ExpressionMatrixError
from genie_assets.inputs.expression import (
    LOOM_CELL_ATTRIBUTES,
    file_type,
    refuse_unreadable_path,
)

# A whole-number column with more distinct values than this is a count, not a label.
MAX_INTEGER_LABELS = 50


def read_cell_annotations(expression_path: Optional[str], annotations_path: Optional[str],
                          samples: pd.Index) -> tuple[pd.DataFrame, list[str]]:
    """(samples × annotation columns as text, warnings). The samples table, where given, wins
    over the expression file's own annotations; no annotations give a frame with no columns."""
    notes: list[str] = []
    if annotations_path:
        frame = _read_samples_table(Path(annotations_path))
        source = annotations_path
    elif expression_path and file_type(Path(expression_path)) == ".h5ad":
        frame, source = _h5ad_annotations(Path(expression_path)), expression_path
    elif expression_path and file_type(Path(expression_path)) == ".loom":
        frame, source = _loom_annotations(Path(expression_path)), expression_path
    else:
        return pd.DataFrame(index=samples.astype(str)), notes
    frame = _labels_only(frame)
    frame.index = frame.index.astype(str)
    if frame.index.duplicated().any():
        raise ExpressionMatrixError(
            f"{source}: sample {frame.index[frame.index.duplicated()][0]!r} has two rows of "
            "annotations")
    missing = samples.difference(frame.index)
    if len(missing):
        raise ExpressionMatrixError(
            f"{source}: no annotation row for {len(missing)} of the matrix's {len(samples)} "
            f"samples (e.g. {missing[0]!r})")
    extra = frame.index.difference(samples)
    if len(extra):
        notes.append(f"{source}: {len(extra)} annotated samples are not in the matrix "
                     f"(e.g. {extra[0]!r}); they are left out")
    return frame.loc[samples], notes


def _read_samples_table(path: Path) -> pd.DataFrame:
    refuse_unreadable_path(path, ExpressionMatrixError)
    separator = "," if file_type(path).startswith(".csv") else "\t"
    try:
        frame = pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False)
    except Exception as error:  # the parser's own message says what it could not read
        raise ExpressionMatrixError(f"{path}: cannot be read as a samples table ({error})") \
            from error
    if frame.shape[1] < 2:
        raise ExpressionMatrixError(
            f"{path}: a samples table needs a sample column and at least one annotation column "
            f"({'comma' if separator == ',' else 'tab'}-separated, with a header)")
    empty = [str(name) for name in frame.columns[1:] if str(name).startswith("Unnamed:")]
    if empty:
        raise ExpressionMatrixError(f"{path}: column {frame.columns.get_loc(empty[0]) + 1} "
                                    "of the header has no name")
    return frame.set_index(frame.columns[0]).replace("", pd.NA)


def _h5ad_annotations(path: Path) -> pd.DataFrame:
    import anndata

    obs = anndata.read_h5ad(path, backed="r").obs
    return obs.set_axis(obs.index.astype(str))


def _loom_annotations(path: Path) -> pd.DataFrame:
    import loompy

    with loompy.connect(str(path), mode="r", validate=False) as loom:
        names = [name for name in LOOM_CELL_ATTRIBUTES if name in loom.ca.keys()]
        cells = ([str(value) for value in loom.ca[names[0]]] if names
                 else [f"cell-{index}" for index in range(loom.shape[1])])
        columns = {name: loom.ca[name] for name in loom.ca.keys()
                   if name not in names and loom.ca[name].ndim == 1}
    return pd.DataFrame(columns, index=cells)


def _labels_only(frame: pd.DataFrame) -> pd.DataFrame:
    kept = {}
    for name, column in frame.items():
        if isinstance(column.dtype, pd.CategoricalDtype) or column.dtype == object \
                or pd.api.types.is_bool_dtype(column) or pd.api.types.is_string_dtype(column) \
                or (pd.api.types.is_integer_dtype(column)
                    and column.nunique() <= MAX_INTEGER_LABELS):
            kept[str(name)] = column.astype(object).where(column.notna(), None).map(
                lambda value: None if value is None else str(value))
    return pd.DataFrame(kept, index=frame.index)


# A condition's name becomes a Dagster partition key (no commas; `|` joins a multi-partition's
# keys) and a folder name.
FORBIDDEN_IN_CONDITION = (",", "|", "/", "\\")
# Fewer samples than this give a condition's network nothing to learn from.
MIN_CONDITION_SAMPLES = 10


def condition_samples(annotations: pd.DataFrame, column: str, source: str
                      ) -> tuple[dict[str, list[str]], list[str]]:
    """({condition: its samples, in the matrix's order}, warnings) for the annotation `column`;
    a name that cannot be a partition key or a folder, or a condition with too few samples
    for a network, is refused by name."""
    if column not in annotations.columns:
        raise ExpressionMatrixError(
            f"{source}: conditions: no cell annotation {column!r}; the cells are annotated with "
            f"{sorted(annotations.columns) or 'nothing'}")
    labels = annotations[column]
    notes = []
    if labels.isna().any():
        notes.append(f"{source}: {int(labels.isna().sum())} samples have no {column!r} "
                     f"(e.g. {labels.index[labels.isna()][0]!r}); they are in no condition")
    conditions = {}
    for name in sorted(labels.dropna().unique()):
        if name != name.strip() or not name or name in (".", "..") or \
                any(mark in name for mark in FORBIDDEN_IN_CONDITION):
            raise ExpressionMatrixError(
                f"{source}: condition {name!r} (column {column!r}) cannot name a partition: "
                f"rename it without {' '.join(FORBIDDEN_IN_CONDITION)}, leading or trailing "
                "spaces")
        samples = labels.index[labels == name].tolist()
        if len(samples) < MIN_CONDITION_SAMPLES:
            raise ExpressionMatrixError(
                f"{source}: condition {name!r} (column {column!r}) has {len(samples)} samples; "
                f"a network needs at least {MIN_CONDITION_SAMPLES}")
        conditions[name] = samples
    return conditions, notes
