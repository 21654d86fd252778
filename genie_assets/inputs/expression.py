"""Reading and validating expression matrices (samples × genes) and regulator lists."""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import os
import re
import warnings
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import pandas as pd

from genie_assets.errors import ExpressionMatrixError, RegulatorListError
from genie_assets.inputs import tenx
from genie_assets.inputs.names import mismatch_causes
from genie_assets.shard.contract import (
    EXPRESSION_FILE,
    MANIFEST_FILE,
    REGULATORS_FILE,
    read_regulator_names,
)

TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
# Text matrices as GEO serves them: gzip-compressed, read as they are.
GZIPPED_TEXT_SUFFIXES = tuple(f"{suffix}.gz" for suffix in TEXT_SUFFIXES)
SUPPORTED_SUFFIXES = (*TEXT_SUFFIXES, *GZIPPED_TEXT_SUFFIXES, ".parquet", ".h5ad", ".loom",
                      ".h5")
# Read whole, with their own names: no sample column to look for.
BINARY_SUFFIXES = (".parquet", ".h5ad", ".loom", ".h5")
# Loom row and column attributes naming genes and cells: pySCENIC's, then other writers'.
LOOM_GENE_ATTRIBUTES = ("Gene", "gene", "Genes", "gene_names", "var_names", "Accession")
LOOM_CELL_ATTRIBUTES = ("CellID", "cell", "Cell", "cell_names", "obs_names")
# Gene names may hold any character but these (tab, line breaks, control characters), which no
# tab-separated export can carry.
UNWRITABLE_NAME = r"[\x00-\x1f\x7f]"
# Beyond this a value's square (the variance the trees reduce) overflows float64.
MAX_ABSOLUTE_VALUE = 1e150


@dataclasses.dataclass
class ValidatedExpression:
    """A samples × genes matrix ready for GENIE3, with what validation changed."""

    matrix: pd.DataFrame
    regulators: list[str]
    dropped_constant_genes: list[str]
    # Names of the regulator list that are not genes of the matrix, left out.
    regulators_not_in_matrix: list[str] = dataclasses.field(default_factory=list)


def read_expression(path: str | Path, *, genes_as_rows: bool = False,
                    layer: Optional[str] = None, use_raw: bool = False,
                    var_names: str = "gene_symbols") -> pd.DataFrame:
    """Read a samples × genes matrix from CSV/TSV/Parquet/AnnData `.h5ad`/loom `.loom`.

    Text files have gene names in the header. The first column holds sample names, not a gene,
    when its header cell is empty or a word like `sample`, `cell`, `id` or `time`, or when its
    values are mostly not numbers or strictly increasing (sample numbers, time points).
    `genes_as_rows=True` reads a genes × samples file and transposes it. For AnnData, `layer`
    or `use_raw` chooses the matrix instead of `.X`. A 10x Genomics matrix folder or `.h5`
    names its genes by symbol, or by ID with `var_names="gene_ids"` (see tenx).
    """
    path = Path(path)
    if tenx.is_mtx_folder(path):
        return tenx.read_mtx_folder(path, var_names)
    suffix = file_type(path)
    if suffix not in SUPPORTED_SUFFIXES:
        raise ExpressionMatrixError(
            f"{path}: unsupported file type {suffix!r}; use one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    refuse_unreadable_path(path, ExpressionMatrixError)
    if path.stat().st_size == 0:
        raise ExpressionMatrixError(f"{path}: the file is empty")
    try:
        if suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif suffix == ".h5ad":
            frame = _read_h5ad(path, layer, use_raw)
        elif suffix == ".loom":
            frame = _read_loom(path, layer, use_raw)
        elif suffix == ".h5":
            frame = tenx.read_h5(path, var_names)
        else:
            separator = "," if suffix.startswith(".csv") else "\t"
            frame = pd.read_csv(path, sep=separator)
            _refuse_duplicated_header(path, separator)
            if frame.shape[1] < 2:
                _refuse_wrong_separator(path, separator)
            frame = _without_empty_names(path, separator, frame)
    except ExpressionMatrixError:
        raise
    except Exception as error:  # the reader's own message says what it could not parse
        raise ExpressionMatrixError(f"{path}: cannot be read as {suffix} ({error})") from error
    if suffix not in BINARY_SUFFIXES and frame.shape[1] > 1 and \
            _is_sample_column(str(frame.columns[0]), frame.iloc[:, 0]):
        if pd.api.types.is_numeric_dtype(frame.iloc[:, 0]):
            warnings.warn(f"{path}: first column {frame.columns[0]!r} taken as sample names, "
                          "not a gene (its name, or its values rising at every row)")
            # The names as written ("1", "0.5"), not as numbers parsed back to text ("1.0").
            frame[frame.columns[0]] = pd.read_csv(
                path, sep=separator, usecols=[0], dtype=str,
                keep_default_na=False).iloc[:, 0].to_numpy()
        frame = frame.set_index(frame.columns[0])
    if genes_as_rows:
        frame = frame.T
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.index = [str(i) for i in frame.index]
    return frame


SEPARATOR_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon", " ": "space", "|": "bar"}


def file_type(path: Path) -> str:
    """A file's type by its suffix, a compressed one's with the suffix before `.gz`."""
    suffixes = [suffix.lower() for suffix in path.suffixes]
    return "".join(suffixes[-2:]) if suffixes[-1:] == [".gz"] else path.suffix.lower()


def _open_text(path: Path, **options):
    """A text file, gzip-compressed or not, open for reading."""
    import gzip

    if file_type(path) in GZIPPED_TEXT_SUFFIXES:
        return gzip.open(path, "rt", **options)
    return open(path, **options)


def _header(path: Path, separator: str) -> list[str]:
    import csv

    with _open_text(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        return next(csv.reader(handle, delimiter=separator), [])


def _without_empty_names(path: Path, separator: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A header cell with no gene name is refused, naming its column (pandas would name the
    gene `Unnamed: 2`); a separator at the end of every line (an empty, unnamed last column,
    as some exporters write) is dropped with a warning. The first cell may be empty: it heads
    the sample names."""
    header = _header(path, separator)
    empty = [index for index, name in enumerate(header) if index > 0 and not name.strip()]
    if not empty:
        return frame
    last = len(header) - 1
    if empty == [last] and frame.iloc[:, last].isna().all():
        warnings.warn(f"{path}: every line ends with a {SEPARATOR_NAMES[separator]} (an empty, "
                      f"unnamed last column {last + 1}): that column is dropped")
        return frame.iloc[:, :last]
    where = ", ".join(str(index + 1) for index in empty[:10])
    raise ExpressionMatrixError(
        f"{path}: the header has no gene name in column{'s' if len(empty) > 1 else ''} {where} "
        f"(counting from 1); name every gene")


def refuse_unreadable_path(path: Path, error: type[Exception]) -> None:
    """Say what is at `path` when it is not a readable file: nothing, a folder, a broken link or
    a loop of links."""
    if path.is_file():
        return
    if path.is_dir():
        raise error(f"{path}: is a folder, not a file (nor a 10x matrix folder: no "
                    "matrix.mtx or matrix.mtx.gz in it)")
    if path.is_symlink():
        try:
            path.resolve(strict=True)
        except RuntimeError:
            raise error(f"{path}: a loop of symbolic links") from None
        except OSError:
            raise error(f"{path}: a symbolic link to {os.readlink(path)}, which does not "
                        "exist") from None
    raise error(f"{path}: no such file")


def _refuse_wrong_separator(path: Path, separator: str) -> None:
    """A text file that parses into one column was read with the wrong separator: say which
    one was tried and which one its header looks like."""
    with _open_text(path, encoding="utf-8-sig", errors="replace") as handle:
        header = handle.readline()
    counts = {name: header.count(mark) for mark, name in SEPARATOR_NAMES.items()
              if mark != separator}
    likely = max(counts, key=counts.get)
    seen = (f"its first line looks {likely}-separated ({counts[likely]} {likely}s)"
            if counts[likely] else "its first line has no other separator either")
    raise ExpressionMatrixError(
        f"{path}: read as {SEPARATOR_NAMES[separator]}-separated (from its {file_type(path)} "
        f"suffix) it has a single column; {seen}. Save it tab-separated as .tsv/.txt or "
        "comma-separated as .csv")


def _refuse_duplicated_header(path: Path, separator: str) -> None:
    """pandas renames a repeated column 'X' to 'X.1'; the header itself must be unique."""
    counts = collections.Counter(name.strip() for name in _header(path, separator))
    duplicated = sorted(name for name, count in counts.items() if name and count > 1)
    if duplicated:
        raise ExpressionMatrixError(
            f"{path}: duplicated gene names {duplicated[:10]} in the header")


SAMPLE_COLUMN_NAMES = {"", "sample", "samples", "sample_id", "sampleid", "cell", "cells",
                       "cell_id", "barcode", "barcodes", "id", "index", "name", "time",
                       "timepoint", "time_point", "condition", "experiment"}


def _is_sample_column(name: str, column: pd.Series) -> bool:
    """Sample labels rather than a gene's expression (the rule is read_expression's)."""
    if name.startswith("Unnamed: ") or name.strip().strip('"').lower() in SAMPLE_COLUMN_NAMES:
        return True
    numeric = pd.to_numeric(column, errors="coerce")
    if numeric.isna().mean() > 0.5:
        return True
    # A gene's level does not rise at every one of its samples; a sample number or time does.
    return len(numeric) >= 3 and bool(numeric.notna().all() and
                                      (np.diff(numeric.to_numpy()) > 0).all())


def _read_h5ad(path: Path, layer: Optional[str], use_raw: bool) -> pd.DataFrame:
    """The cells × genes matrix of an AnnData file: `.X`, a layer, or `.raw`. A `.X` with
    negative values looks scaled (`sc.pp.scale`) where a layer or `.raw` holds levels: refused,
    naming those choices."""
    import anndata

    adata = anndata.read_h5ad(path)
    genes = adata.var_names
    if use_raw and layer:
        raise ExpressionMatrixError(f"{path}: choose a layer or use_raw, not both")
    if use_raw:
        if adata.raw is None:
            raise ExpressionMatrixError(f"{path}: use_raw is set but the file has no .raw")
        values, genes, where = adata.raw.X, adata.raw.var_names, ".raw.X"
    elif layer:
        if layer not in adata.layers:
            raise ExpressionMatrixError(
                f"{path}: no layer {layer!r}; its layers are {sorted(adata.layers) or 'none'}")
        values, where = adata.layers[layer], f"layer {layer!r}"
    else:
        values, where = adata.X, ".X"
    values = np.asarray(values.toarray() if hasattr(values, "toarray") else values,
                        dtype=np.float64)
    frame = pd.DataFrame(values, index=adata.obs_names.astype(str), columns=genes.astype(str))
    alternatives = [f"layer: {name}" for name in sorted(adata.layers)]
    alternatives += ["use_raw: true"] if adata.raw is not None else []
    if where == ".X":
        _refuse_scaled(path, frame, ".X", alternatives)
    return frame


def _read_loom(path: Path, layer: Optional[str], use_raw: bool) -> pd.DataFrame:
    """The cells × genes matrix of a loom file (stored genes × cells, as pySCENIC writes it):
    the main matrix or a layer; genes and cells named by their usual attributes."""
    import loompy

    if use_raw:
        raise ExpressionMatrixError(f"{path}: a loom file has no .raw; choose a layer instead")
    with loompy.connect(str(path), mode="r", validate=False) as loom:
        genes = _loom_names(path, loom.ra, LOOM_GENE_ATTRIBUTES, "row", "genes")
        cells = _loom_names(path, loom.ca, LOOM_CELL_ATTRIBUTES, "column", "cells",
                            default=[f"cell-{index}" for index in range(loom.shape[1])])
        layers = sorted(name for name in loom.layers.keys() if name)
        if layer and layer not in layers:
            raise ExpressionMatrixError(
                f"{path}: no layer {layer!r}; its layers are {layers or 'none'}")
        values = np.asarray(loom.layers[layer or ""][:, :], dtype=np.float64).T
    frame = pd.DataFrame(values, index=cells, columns=genes)
    if not layer:
        _refuse_scaled(path, frame, "the main matrix", [f"layer: {name}" for name in layers])
    return frame


def _loom_names(path: Path, attributes, choices: Sequence[str], axis: str, what: str,
                default: Optional[list[str]] = None) -> list[str]:
    for name in choices:
        if name in attributes.keys():
            return [str(value) for value in attributes[name]]
    if default is not None:
        return default
    raise ExpressionMatrixError(
        f"{path}: no {axis} attribute names the {what} (looked for {', '.join(choices)}; "
        f"the file has {sorted(attributes.keys()) or 'none'})")


def _refuse_scaled(path: Path, frame: pd.DataFrame, where: str, alternatives: list[str]) -> None:
    """Negative values look scaled (`sc.pp.scale`): refused where the file holds levels too."""
    values = frame.to_numpy()
    if alternatives and values.size and np.nanmin(values) < 0:
        row, col = np.unravel_index(np.nanargmin(values), values.shape)
        raise ExpressionMatrixError(
            f"{path}: {where} has negative values (e.g. {values[row, col]:.3g} for gene "
            f"{frame.columns[col]!r} in cell {frame.index[row]!r}): it looks scaled, and GENIE3 "
            f"wants expression levels. Choose the matrix with {' or '.join(alternatives)}")


def read_regulators(path: str | Path) -> list[str]:
    """One gene name per line (blank lines and '#' comments ignored): a line's first
    tab-separated field, or its first comma-separated one in a .csv file. A UTF-8 byte-order
    mark is not part of the first name."""
    path = Path(path)
    refuse_unreadable_path(path, RegulatorListError)
    separator = "," if path.suffix.lower() == ".csv" else "\t"
    names = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        names.append(line.split(separator)[0].strip().strip('"'))
    if not names:
        raise RegulatorListError(f"{path}: the regulator list is empty")
    return names


def validate_expression(
    frame: pd.DataFrame,
    regulators: Optional[Sequence[str]] = None,
    *,
    source: str = "expression matrix",
    regulator_source: str = "regulator list",
) -> ValidatedExpression:
    """Check a samples × genes matrix and a regulator list; raise an InputError naming the culprit.

    Genes of zero variance are dropped with a warning: they carry no signal and would divide by
    zero when the target is scaled.
    """
    _check_shape_and_names(frame, source)
    values = _finite_numbers(frame, source)
    constant = values.columns[values.std(axis=0, ddof=0).to_numpy() == 0].tolist()
    if constant:
        warnings.warn(f"{source}: dropping {len(constant)} genes of zero variance: {constant[:10]}")
        values = values.drop(columns=constant)
    if values.shape[1] < 2:
        raise ExpressionMatrixError(f"{source}: fewer than 2 genes with variance left")

    chosen, not_in_matrix = _choose_regulators(frame, values, regulators, source,
                                               regulator_source)
    return ValidatedExpression(values, chosen, constant, not_in_matrix)


def _check_shape_and_names(frame: pd.DataFrame, source: str) -> None:
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ExpressionMatrixError(f"{source}: no data (shape {frame.shape})")
    unwritable = pd.Series(frame.columns, dtype=object).str.contains(UNWRITABLE_NAME)
    if unwritable.any():
        gene = frame.columns[int(np.flatnonzero(unwritable.to_numpy())[0])]
        raise ExpressionMatrixError(
            f"{source}: gene name {gene!r} holds a tab, line break or control character "
            f"({int(unwritable.sum())} such names): it cannot be written to the edge table's "
            "exports (TSV, GMT, SIF) or read back whole; rename it")
    duplicated_genes = frame.columns[frame.columns.duplicated()].unique().tolist()
    if duplicated_genes:
        raise ExpressionMatrixError(f"{source}: duplicated gene names {duplicated_genes[:10]}")
    duplicated_samples = frame.index[frame.index.duplicated()].unique().tolist()
    if duplicated_samples:
        raise ExpressionMatrixError(f"{source}: duplicated sample names {duplicated_samples[:10]}")
    if frame.shape[0] < 2:
        raise ExpressionMatrixError(
            f"{source}: {frame.shape[0]} sample; GENIE3 needs at least 2 samples (rows)"
        )


def _finite_numbers(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """The matrix as float64, refusing the first value that is not a finite, usable number."""
    # Only columns that did not parse as numbers need a look; the rest convert in one step.
    numeric_dtype = frame.dtypes.map(pd.api.types.is_numeric_dtype).to_numpy()
    for position in np.flatnonzero(~numeric_dtype):
        gene = frame.columns[position]
        column = frame.iloc[:, position]
        numeric = pd.to_numeric(column, errors="coerce")
        bad = numeric.isna() & column.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise ExpressionMatrixError(
                f"{source}: non-numeric value {column.iloc[row]!r} for gene {gene!r} "
                f"in sample {frame.index[row]!r} (data row {row + 1}, column {position + 1})"
            )
    values = frame if numeric_dtype.all() else frame.apply(pd.to_numeric)
    values = values.astype(np.float64)
    finite = np.isfinite(values.to_numpy())
    if not finite.all():
        row, col = (int(i[0]) for i in np.nonzero(~finite))
        raise ExpressionMatrixError(
            f"{source}: missing or infinite value ({values.iat[row, col]}) for gene "
            f"{values.columns[col]!r} in sample {values.index[row]!r} (data row {row + 1}, "
            f"column {col + 1})"
        )
    extreme = np.abs(values.to_numpy()) > MAX_ABSOLUTE_VALUE
    if extreme.any():
        row, col = (int(i[0]) for i in np.nonzero(extreme))
        raise ExpressionMatrixError(
            f"{source}: value {values.iat[row, col]:.3g} for gene {values.columns[col]!r} in "
            f"sample {values.index[row]!r} (data row {row + 1}, column {col + 1}) is beyond "
            f"±{MAX_ABSOLUTE_VALUE:g}: its square overflows, and the gene would silently get "
            "no importance; rescale the data (e.g. log-transform it)")
    return values


def _choose_regulators(frame: pd.DataFrame, values: pd.DataFrame,
                       regulators: Optional[Sequence[str]], source: str,
                       regulator_source: str) -> tuple[list[str], list[str]]:
    """The regulators among the genes kept (every gene without a list), in name order, and
    the listed names that are not genes of the matrix."""
    if regulators is None:
        _refuse_samples_as_genes(values, source)
        return list(values.columns), []
    regulators = [str(r) for r in regulators]
    columns, rows = set(frame.columns), set(frame.index)
    unknown = list(dict.fromkeys(r for r in regulators if r not in columns))
    in_rows = [r for r in regulators if r in rows]
    if len(unknown) > len(regulators) / 2 and len(in_rows) > len(regulators) / 2:
        raise ExpressionMatrixError(
            f"{source}: looks transposed (genes as rows): {len(in_rows)} of "
            f"{len(regulators)} regulators of {regulator_source} are row labels, e.g. "
            f"{in_rows[:3]}; GENIE3 wants samples as rows and genes as columns "
            "(set genes_as_rows: true)"
        )
    _report_the_intersection(regulators, unknown, [str(c) for c in frame.columns], source,
                             regulator_source)
    kept = set(values.columns)
    chosen = sorted({r for r in regulators if r in kept})
    if not chosen:
        raise RegulatorListError(
            f"{regulator_source}: no regulator left after dropping genes of zero variance"
        )
    return chosen, unknown


def _report_the_intersection(regulators: list[str], unknown: list[str], genes: list[str],
                             source: str, regulator_source: str) -> None:
    """None of the list in the matrix is an error; some of it, a warning (a genome-wide TF list
    against a filtered matrix is the usual case); either says why when fewer than half match."""
    listed = len(set(regulators))
    found = listed - len(unknown)
    causes = mismatch_causes(regulators, genes) if found < listed / 2 else []
    if found == 0:
        raise RegulatorListError(
            f"{regulator_source}: none of its {listed} regulators is a gene of {source} "
            f"(e.g. {regulators[0]!r} listed, {genes[0]!r} in the matrix). "
            + (" ".join(f"Likely: {cause}." for cause in causes) if causes else
               "Check that the list is for this organism and this naming of genes."))
    if unknown:
        warnings.warn(
            f"{regulator_source}: {found} of its {listed} regulators are genes of {source}; "
            f"the other {len(unknown)} are left out (e.g. {unknown[:5]})"
            + "".join(f". Likely: {cause}" for cause in causes))


# Names of samples or cells, not genes: GEO/SRA accessions, 10x barcodes, S1 / cell_2 / rep3.
SAMPLE_NAME = re.compile(r"^(GSM\d+|[SED]RR\d+|[ACGTN]{8,}([-_.]\d+)?|"
                         r"(sample|cell|rep|replicate|s|c|t)[ _.-]?\d+)$", re.IGNORECASE)


def _refuse_samples_as_genes(values: pd.DataFrame, source: str) -> None:
    """A genes × samples file read as samples × genes: more 'samples' than 'genes', the
    columns named like samples and the rows not."""
    columns = pd.Series(values.columns).str.match(SAMPLE_NAME).mean()
    rows = pd.Series(values.index).str.match(SAMPLE_NAME).mean()
    if values.shape[0] > values.shape[1] and columns >= 0.8 and rows < 0.2:
        raise ExpressionMatrixError(
            f"{source}: looks transposed (genes as rows): its {values.shape[1]} columns are "
            f"named like samples (e.g. {list(values.columns[:3])}) and its {values.shape[0]} "
            f"rows are not (e.g. {list(values.index[:3])}); GENIE3 wants samples as rows and "
            "genes as columns (set genes_as_rows: true)")


def stored_matrix_problems(folder: Path) -> tuple[list[str], dict]:
    """What is wrong with a stored expression folder (empty when nothing), and its figures:
    the checks `expression_matrix` applies to its candidate before it replaces the stored one,
    and the blocking asset check applies to what is stored."""
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    matrix = pd.read_parquet(folder / EXPRESSION_FILE)
    regulators = read_regulator_names(folder / REGULATORS_FILE)
    problems = []
    if fingerprint_file(folder / EXPRESSION_FILE) != manifest["fingerprint"]:
        problems.append("the matrix file changed after it was validated")
    if matrix.shape[0] < 2:
        problems.append(f"{matrix.shape[0]} samples")
    if not np.isfinite(matrix.to_numpy()).all():
        problems.append("missing or infinite values")
    absent = sorted(set(regulators) - set(matrix.columns))
    if absent or not regulators:
        problems.append(f"regulators not in the matrix: {absent[:10]}" if absent
                        else "no regulators")
    return problems, {"n_samples": int(matrix.shape[0]), "n_genes": int(matrix.shape[1]),
                      "n_regulators": len(regulators)}


def fingerprint_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes: what a shard's output says it was computed from."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
