"""The validated expression matrix and regulator list every shard reads."""


import json
from typing import Optional

from dagster import (
    AssetExecutionContext,
    Config,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    asset,
)

from genie_assets.errors import ExpressionMatrixError
from genie_assets.inputs.expression import fingerprint_file, stored_matrix_problems
from genie_assets.inputs.loading import load_inputs
from genie_assets.pipeline.layout import (
    CELL_ANNOTATIONS_FILE,
    EXPRESSION,
    EXPRESSION_MATRIX,
    GOLD_STANDARD_FILE,
)
from genie_assets.pipeline.resources import ArtifactStore
from genie_assets.shard.contract import EXPRESSION_FILE, MANIFEST_FILE, REGULATORS_FILE


class ExpressionConfig(Config):
    """Where the expression data comes from; with no path, the built-in toy dataset."""

    path: Optional[str] = None
    regulators_path: Optional[str] = None
    genes_as_rows: bool = False
    gold_standard_path: Optional[str] = None
    # AnnData only: the matrix to use instead of .X.
    layer: Optional[str] = None
    use_raw: bool = False
    # A 10x matrix folder or .h5: genes named by "gene_symbols" (as scanpy) or "gene_ids".
    var_names: str = "gene_symbols"
    # A samples table (CSV/TSV: sample name, then cell type, condition, ...); without it an
    # AnnData file's .obs or a loom file's column attributes annotate the cells.
    cell_annotations_path: Optional[str] = None


@asset(group_name="genie3", kinds={"pandas"}, code_version="1")
def expression_matrix(
    context: AssetExecutionContext, config: ExpressionConfig, store: ArtifactStore
) -> MaterializeResult:
    """Samples × genes expression matrix and regulator list, validated and stored as Parquet."""
    inputs = load_inputs(config.path, config.regulators_path, genes_as_rows=config.genes_as_rows,
                         gold_standard_path=config.gold_standard_path, layer=config.layer,
                         use_raw=config.use_raw, var_names=config.var_names,
                         annotations_path=config.cell_annotations_path)
    for note in inputs.warnings:
        context.log.warning(note)
    validated, gold = inputs.expression, inputs.gold
    with store.writing(*EXPRESSION) as temporary:
        temporary.mkdir(parents=True)
        validated.matrix.to_parquet(temporary / EXPRESSION_FILE)
        (temporary / REGULATORS_FILE).write_text("\n".join(validated.regulators) + "\n",
                                                 encoding="utf-8")
        inputs.annotations.to_parquet(temporary / CELL_ANNOTATIONS_FILE)
        if gold is not None:
            gold.pairs.to_csv(temporary / GOLD_STANDARD_FILE, sep="\t", index=False,
                              header=False)
        fingerprint = fingerprint_file(temporary / EXPRESSION_FILE)
        manifest = {
            "fingerprint": fingerprint,
            "source": inputs.source,
            "n_samples": int(validated.matrix.shape[0]),
            "n_genes": int(validated.matrix.shape[1]),
            "n_regulators": len(validated.regulators),
            "dropped_constant_genes": validated.dropped_constant_genes,
            **({"gold_standard_source": inputs.gold_source,
                "gold_standard_positives_only": gold.positives_only} if gold else {}),
        }
        (temporary / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
        # Validate, then replace: the candidate passes what the blocking check will ask of it,
        # or the stored matrix (and its regulators and gold standard) stays as it was.
        problems, _ = stored_matrix_problems(temporary)
        if problems:
            raise ExpressionMatrixError(
                f"{inputs.source}: the matrix as it would be stored fails its check "
                f"({'; '.join(problems)}); the stored matrix is unchanged")
    gold_facts = {"gold_standard": gold.describe(), "n_gold_pairs": len(gold.pairs),
                  "n_gold_pairs_outside_matrix": inputs.n_gold_pairs_outside_matrix
                  } if gold else {}
    return MaterializeResult(
        metadata={
            "source": inputs.source,
            "n_samples": manifest["n_samples"],
            "n_genes": manifest["n_genes"],
            "n_regulators": manifest["n_regulators"],
            "n_listed_regulators_not_in_matrix": len(validated.regulators_not_in_matrix),
            "n_dropped_constant_genes": len(validated.dropped_constant_genes),
            "cell_annotations": ", ".join(inputs.annotations.columns) or "none",
            "fingerprint": fingerprint,
            **gold_facts,
            "path": MetadataValue.path(store.location(*EXPRESSION_MATRIX)),
        },
        data_version=DataVersion(fingerprint[:16]),
    )
