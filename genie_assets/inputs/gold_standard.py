"""Gold standards: labelled (regulator, target) pairs as DREAM and the literature publish them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from genie_assets.errors import GoldStandardError

LABELS = {"0": 0, "1": 1, "0.0": 0, "1.0": 1}
HEADER_NAMES = {"regulator", "tf", "source", "from", "gene1", "regulator_gene"}
TARGET_NAMES = {"target", "to", "gene2", "target_gene"}
LABEL_NAMES = {"label", "weight", "value", "edge", "interaction", "class"}
GOLD_FORMAT = "regulator<TAB>target<TAB>0|1 (DREAM), or regulator<TAB>target for true edges only"


@dataclasses.dataclass(frozen=True)
class GoldStandard:
    """Labelled (regulator, target) pairs, and how the file was read."""

    pairs: pd.DataFrame  # regulator, target, label (1 true, 0 false); no self-pairs
    positives_only: bool  # the file listed true edges only; negatives were completed
    header_skipped: bool
    separator: str

    def describe(self) -> str:
        n_positive = int(self.pairs.label.sum())
        text = f"{n_positive:,} true and {len(self.pairs) - n_positive:,} false pairs"
        if self.positives_only:
            text += (" (the file lists true edges only: every other pair of its genes is "
                     "taken as false)")
        return text


def load_gold_standard(path: str | Path) -> GoldStandard:
    """Read and check a gold standard; raise GoldStandardError naming the file and line.

    DREAM format (`regulator<TAB>target<TAB>0|1`, no header) or true edges only
    (`regulator<TAB>target`); a header line is skipped; commas stand for tabs where the file
    has no tab. Self-pairs are dropped.
    """
    path = Path(path)
    if not path.is_file():
        raise GoldStandardError(f"{path}: no such file" + (" (a directory)" if path.is_dir()
                                                            else ""))
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        first = next((line for line in handle if line.strip()), "")
    if not first:
        raise GoldStandardError(f"{path}: the gold standard is empty")
    separator = "\t" if "\t" in first else "," if "," in first else None
    if separator is None:
        raise GoldStandardError(f"{path}: line 1 has one field ({first.strip()[:40]!r}); "
                                f"expected {GOLD_FORMAT}")
    try:
        rows = pd.read_csv(path, sep=separator, header=None, dtype=str, keep_default_na=False,
                           skip_blank_lines=True, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise GoldStandardError(f"{path}: cannot be read as a gold standard ({error}); "
                                f"expected {GOLD_FORMAT}") from error
    if rows.shape[1] not in (2, 3):
        raise GoldStandardError(f"{path}: line 1 has {rows.shape[1]} fields; expected "
                                f"{GOLD_FORMAT}")
    rows = rows.apply(lambda column: column.str.strip())
    line = pd.Series(np.arange(1, len(rows) + 1), index=rows.index)
    header = _is_header(rows.iloc[0].tolist())
    if header:
        rows, line = rows.iloc[1:], line.iloc[1:]
    empty = (rows[0] == "") | (rows[1] == "")
    if empty.any():
        raise GoldStandardError(f"{path}: line {int(line[empty].iloc[0])}: a gene name is empty")
    if rows.shape[1] == 3:
        labels = rows[2].map(LABELS)
        if labels.isna().any():
            bad = labels.isna()
            raise GoldStandardError(
                f"{path}: line {int(line[bad].iloc[0])}: label {rows[2][bad].iloc[0]!r} is not "
                f"0 or 1 ({int(bad.sum())} such lines); expected {GOLD_FORMAT}")
    else:
        labels = pd.Series(1, index=rows.index)
    pairs = pd.DataFrame({"regulator": rows[0], "target": rows[1],
                          "label": labels.astype(np.int8)})
    pairs = pairs[pairs.regulator != pairs.target]
    conflicting = pairs.groupby(["regulator", "target"]).label.nunique() > 1
    if conflicting.any():
        regulator, target = conflicting[conflicting].index[0]
        raise GoldStandardError(f"{path}: the pair {regulator} → {target} is labelled both "
                                "true and false")
    pairs = pairs.drop_duplicates(["regulator", "target"])
    if not pairs.label.any():
        raise GoldStandardError(f"{path}: no true edge (label 1): nothing to score against")
    positives_only = bool(pairs.label.all())
    if positives_only:
        pairs = _with_negatives(pairs)
    return GoldStandard(pairs.reset_index(drop=True), positives_only, header, separator)


def _is_header(fields: list[str]) -> bool:
    """A first line of column names (`regulator target label`, `TF target`, ...), not data."""
    names = [field.lower() for field in fields]
    named = names[0] in HEADER_NAMES or names[1] in TARGET_NAMES
    if len(fields) == 3:
        return fields[2] not in LABELS and (named or names[2] in LABEL_NAMES)
    return names[0] in HEADER_NAMES and names[1] in TARGET_NAMES


def _with_negatives(positives: pd.DataFrame) -> pd.DataFrame:
    """Every ordered pair of the gold standard's genes that it does not list as true, labelled
    0 (pairs whose regulator the network does not have are left out later, and counted)."""
    genes = sorted(set(positives.regulator) | set(positives.target))
    grid = pd.MultiIndex.from_product([genes, genes], names=["regulator", "target"])
    every = grid.to_frame(index=False)
    every = every[every.regulator != every.target]
    labelled = every.merge(positives, on=["regulator", "target"], how="left")
    labelled["label"] = labelled.label.fillna(0).astype(np.int8)
    return labelled


def read_gold_standard(path: str | Path) -> pd.DataFrame:
    """The labelled pairs of a gold standard file (see `load_gold_standard`)."""
    return load_gold_standard(path).pairs


def pairs_in_matrix(gold: pd.DataFrame, genes, regulators) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(pairs the network can score, pairs it cannot: a gene not in the matrix, or a regulator
    not among its regulators). The second are reported, never scored as 0."""
    inside = gold.regulator.isin(set(regulators)) & gold.target.isin(set(genes))
    return gold[inside], gold[~inside]
