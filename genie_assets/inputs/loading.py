"""Everything the pipeline starts from, read and checked together before anything is stored:
the expression matrix, the regulator list and the gold standard (or the built-in toy data)."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Optional

import pandas as pd

from genie_assets.inputs.annotations import condition_samples, read_cell_annotations
from genie_assets.inputs.expression import (
    ValidatedExpression,
    read_expression,
    read_regulators,
    validate_expression,
)
from genie_assets.inputs.gold_standard import GoldStandard, load_gold_standard, pairs_in_matrix
from genie_assets.inputs.toy import toy_cell_annotations, toy_dataset

TOY_SOURCE = "toy dataset"


@dataclasses.dataclass(frozen=True)
class PipelineInputs:
    expression: ValidatedExpression
    source: str
    gold: Optional[GoldStandard]
    gold_source: Optional[str]
    n_gold_pairs_outside_matrix: int
    warnings: list[str]  # what the user should read, though nothing is wrong enough to stop
    # Samples × annotation columns (cell type, condition, ...), as text; no columns if none.
    annotations: pd.DataFrame


def load_inputs(path: Optional[str] = None, regulators_path: Optional[str] = None, *,
                genes_as_rows: bool = False, gold_standard_path: Optional[str] = None,
                layer: Optional[str] = None, use_raw: bool = False,
                var_names: str = "gene_symbols",
                annotations_path: Optional[str] = None) -> PipelineInputs:
    """Read and validate the inputs; raise an InputError naming the file and the row, column,
    gene or line. With no path, the toy dataset with its gold standard and cell types. Cell
    annotations come from `annotations_path` (a samples table), else from an AnnData or loom
    file's own cell annotations."""
    gold, gold_source = None, None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if path is None:
            frame, regulators, toy_gold = toy_dataset()
            source, regulator_source = TOY_SOURCE, TOY_SOURCE
            gold = GoldStandard(toy_gold, positives_only=False, header_skipped=False,
                                separator="\t")
            gold_source = TOY_SOURCE
        else:
            frame = read_expression(path, genes_as_rows=genes_as_rows, layer=layer,
                                    use_raw=use_raw, var_names=var_names)
            regulators = read_regulators(regulators_path) if regulators_path else None
            source, regulator_source = path, regulators_path or "all genes"
            if gold_standard_path:
                # Checked now, not when the network is scored: a bad file fails before
                # anything changes.
                gold, gold_source = load_gold_standard(gold_standard_path), gold_standard_path
        expression = validate_expression(frame, regulators, source=source,
                                         regulator_source=regulator_source)
        if path is None and annotations_path is None:
            annotations, annotation_notes = toy_cell_annotations(expression.matrix), []
        else:
            annotations, annotation_notes = read_cell_annotations(
                path, annotations_path, expression.matrix.index)
    notes = [str(warning.message) for warning in caught]
    notes += annotation_notes
    n_outside = 0
    if gold is not None:
        _, outside = pairs_in_matrix(gold.pairs, expression.matrix.columns,
                                     expression.regulators)
        n_outside = len(outside)
        if n_outside:
            notes.append(
                f"{gold_source}: {n_outside} of {len(gold.pairs)} pairs name a gene not in the "
                f"matrix or a regulator not in the regulator list (e.g. "
                f"{outside.regulator.iloc[0]} → {outside.target.iloc[0]}); they are left out "
                "of the scores")
    return PipelineInputs(expression, source, gold, gold_source, n_outside, notes, annotations)


def condition_inputs(inputs: PipelineInputs, column: str
                     ) -> tuple[dict[str, ValidatedExpression], list[str]]:
    """Each condition's own validated matrix (its samples; genes constant within it dropped, as
    for any matrix) with the same regulators, and what the user should read. Refused, naming
    the condition, where a condition cannot be a partition or is too small for a network."""
    conditions, notes = condition_samples(inputs.annotations, column, inputs.source)
    matrices = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name, samples in conditions.items():
            matrices[name] = validate_expression(
                inputs.expression.matrix.loc[samples], inputs.expression.regulators,
                source=f"{inputs.source} (condition {name!r})",
                regulator_source="the regulators")
    return matrices, notes + [str(warning.message) for warning in caught]
