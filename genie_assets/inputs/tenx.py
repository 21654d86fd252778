"""10x Genomics Cell Ranger output, read as a cells × genes matrix: the matrix folder
(`filtered_feature_bc_matrix/`: `matrix.mtx.gz`, `features.tsv.gz`, `barcodes.tsv.gz`;
uncompressed, or Cell Ranger 2's `genes.tsv`) and the `.h5` file (Cell Ranger 3's `matrix`
group, or Cell Ranger 2's one group per genome).

As scanpy reads them (`read_10x_mtx`, `read_10x_h5`): genes named by their symbols unless
`var_names="gene_ids"`, only the "Gene Expression" features where the file lists feature types,
and a symbol shared by several genes made unique by appending `-1`, `-2`, ... to its second,
third, ... occurrence (said in a warning).
"""

from __future__ import annotations

import collections
import gzip
import warnings
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from genie_assets.errors import ExpressionMatrixError

VAR_NAMES = ("gene_symbols", "gene_ids")
MATRIX_NAMES = ("matrix.mtx.gz", "matrix.mtx")
FEATURE_NAMES = ("features.tsv.gz", "features.tsv", "genes.tsv.gz", "genes.tsv")
BARCODE_NAMES = ("barcodes.tsv.gz", "barcodes.tsv")
GENE_EXPRESSION = "Gene Expression"


def _first(folder: Path, names: tuple[str, ...]) -> Optional[Path]:
    return next((folder / name for name in names if (folder / name).is_file()), None)


def is_mtx_folder(folder: Path) -> bool:
    return folder.is_dir() and _first(folder, MATRIX_NAMES) is not None


def _lines(path: Path) -> list[list[str]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [line.rstrip("\n").split("\t") for line in handle if line.strip()]


def _check_var_names(path: Path, var_names: str) -> None:
    if var_names not in VAR_NAMES:
        raise ExpressionMatrixError(f"{path}: var_names must be one of {', '.join(VAR_NAMES)}, "
                                    f"not {var_names!r}")


def unique_names(names: list[str], where: Path) -> list[str]:
    """The names, each repeat of one made unique as AnnData's var_names_make_unique does."""
    counts = collections.Counter(names)
    if all(count == 1 for count in counts.values()):
        return names
    taken = set(names)
    seen: collections.Counter = collections.Counter()
    unique = []
    for name in names:
        if counts[name] > 1 and seen[name] > 0:
            suffix = seen[name]
            while f"{name}-{suffix}" in taken:
                suffix += 1
            unique.append(f"{name}-{suffix}")
            taken.add(unique[-1])
        else:
            unique.append(name)
        seen[name] += 1
    repeated = sorted(name for name, count in counts.items() if count > 1)
    warnings.warn(f"{where}: {len(repeated)} gene symbols name more than one gene (e.g. "
                  f"{', '.join(repeated[:5])}); each repeat is made unique with -1, -2, ... as "
                  "scanpy does (or set var_names: gene_ids)")
    return unique


def _frame(matrix, barcodes: list[str], ids: list[str], symbols: list[str],
           types: Optional[list[str]], var_names: str, where: Path) -> pd.DataFrame:
    """Cells × genes from a genes × cells sparse matrix and its names."""
    keep = np.arange(len(ids)) if types is None else np.flatnonzero(
        np.asarray(types) == GENE_EXPRESSION)
    if len(keep) == 0:
        raise ExpressionMatrixError(f"{where}: no feature of type {GENE_EXPRESSION!r}")
    names = [ids[i] if var_names == "gene_ids" else symbols[i] for i in keep]
    values = matrix.tocsr()[keep].T.toarray().astype(np.float64)
    return pd.DataFrame(values, index=barcodes, columns=unique_names(names, where))


def read_mtx_folder(folder: Path, var_names: str = "gene_symbols") -> pd.DataFrame:
    """A Cell Ranger matrix folder as cells × genes."""
    from scipy.io import mmread

    _check_var_names(folder, var_names)
    matrix_path = _first(folder, MATRIX_NAMES)
    features_path = _first(folder, FEATURE_NAMES)
    barcodes_path = _first(folder, BARCODE_NAMES)
    missing = [what for what, found in (("features.tsv(.gz) or genes.tsv", features_path),
                                        ("barcodes.tsv(.gz)", barcodes_path)) if found is None]
    if missing:
        raise ExpressionMatrixError(f"{folder}: a 10x matrix folder without {' or '.join(missing)}")
    try:
        matrix = mmread(matrix_path)
    except Exception as error:
        raise ExpressionMatrixError(f"{matrix_path}: cannot be read as Matrix Market "
                                    f"({error})") from error
    features = _lines(features_path)
    barcodes = [row[0] for row in _lines(barcodes_path)]
    if matrix.shape != (len(features), len(barcodes)):
        raise ExpressionMatrixError(
            f"{folder}: {matrix_path.name} is {matrix.shape[0]} features × {matrix.shape[1]} "
            f"barcodes but {features_path.name} lists {len(features)} and "
            f"{barcodes_path.name} {len(barcodes)}")
    short = next((number for number, row in enumerate(features, start=1) if len(row) < 2), None)
    if short is not None:
        raise ExpressionMatrixError(f"{features_path}: line {short} has no gene symbol "
                                    "(expected: gene ID, symbol[, feature type])")
    types = [row[2] for row in features] if all(len(row) > 2 for row in features) else None
    return _frame(matrix, barcodes, [row[0] for row in features], [row[1] for row in features],
                  types, var_names, folder)


def _text(values) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def read_h5(path: Path, var_names: str = "gene_symbols") -> pd.DataFrame:
    """A Cell Ranger `.h5` matrix as cells × genes."""
    import h5py
    from scipy.sparse import csc_matrix

    _check_var_names(path, var_names)
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise ExpressionMatrixError(f"{path}: cannot be read as HDF5 ({error})") from error
    with handle:
        if "matrix" in handle:  # Cell Ranger 3 and later
            group = handle["matrix"]
            features = group["features"]
            ids, symbols = _text(features["id"][:]), _text(features["name"][:])
            types = _text(features["feature_type"][:]) if "feature_type" in features else None
        else:  # Cell Ranger 2: one group per genome
            genomes = [name for name in handle if isinstance(handle[name], h5py.Group)]
            if len(genomes) != 1 or "genes" not in handle[genomes[0]]:
                raise ExpressionMatrixError(
                    f"{path}: not a 10x matrix (no `matrix` group, and {len(genomes)} groups "
                    f"{genomes[:5]} where Cell Ranger 2 writes one genome's)")
            group = handle[genomes[0]]
            ids, symbols, types = _text(group["genes"][:]), _text(group["gene_names"][:]), None
        shape = tuple(int(n) for n in group["shape"][:])
        matrix = csc_matrix((group["data"][:], group["indices"][:], group["indptr"][:]),
                            shape=shape)
        barcodes = _text(group["barcodes"][:])
    return _frame(matrix, barcodes, ids, symbols, types, var_names, path)
