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
from genie_assets.inputs.loading import condition_inputs, load_inputs
from genie_assets.inputs.toy import TOY_CONDITION_COLUMN
from genie_assets.pipeline.layout import (
    CELL_ANNOTATIONS_FILE,
    CONDITIONS_FILE,
    EXPRESSION,
    EXPRESSION_MATRIX,
    GOLD_STANDARD_FILE,
    condition_root,
)
from genie_assets.pipeline.partitions import CONDITIONS
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
    # An annotation column whose values are conditions (genotype, treatment, cell type): each
    # condition gets its own network (condition_shards), compared in differential_network.
    # The toy data's are its `condition` column.
    conditions: Optional[str] = None


def write_expression_channel(folder, validated, source: str, **facts) -> dict:
    """The expression channel a shard reads (matrix, regulators, manifest with `facts` added)
    into `folder`, checked as the blocking check will check it; returns the manifest."""
    folder.mkdir(parents=True)
    validated.matrix.to_parquet(folder / EXPRESSION_FILE)
    (folder / REGULATORS_FILE).write_text("\n".join(validated.regulators) + "\n",
                                          encoding="utf-8")
    manifest = {
        "fingerprint": fingerprint_file(folder / EXPRESSION_FILE),
        "source": source,
        "n_samples": int(validated.matrix.shape[0]),
        "n_genes": int(validated.matrix.shape[1]),
        "n_regulators": len(validated.regulators),
        "dropped_constant_genes": validated.dropped_constant_genes,
        **facts,
    }
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
    # Validate, then replace: the candidate passes what the blocking check will ask of it,
    # or the stored matrix (and its regulators and gold standard) stays as it was.
    problems, _ = stored_matrix_problems(folder)
    if problems:
        raise ExpressionMatrixError(
            f"{source}: the matrix as it would be stored fails its check "
            f"({'; '.join(problems)}); the stored matrix is unchanged")
    return manifest


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
    # The built-in toy's cells come in two conditions, compared unless told otherwise.
    column = config.conditions or (TOY_CONDITION_COLUMN if config.path is None and
                                   config.cell_annotations_path is None else None)
    conditions, notes = condition_inputs(inputs, column) if column else ({}, [])
    for note in notes:
        context.log.warning(note)
    with store.writing(*EXPRESSION) as temporary:
        gold_manifest = ({"gold_standard_source": inputs.gold_source,
                          "gold_standard_positives_only": gold.positives_only} if gold else {})
        manifest = write_expression_channel(temporary, validated, inputs.source, **gold_manifest)
        inputs.annotations.to_parquet(temporary / CELL_ANNOTATIONS_FILE)
        if conditions:
            (temporary / CONDITIONS_FILE).write_text(json.dumps({
                "column": column,
                "conditions": {name: list(matrix.matrix.index)
                               for name, matrix in conditions.items()}}, indent=2))
        if gold is not None:
            gold.pairs.to_csv(temporary / GOLD_STANDARD_FILE, sep="\t", index=False,
                              header=False)
    fingerprint = manifest["fingerprint"]
    # Each condition's own channel, as the shards of condition_shards read it.
    for name, matrix in conditions.items():
        with store.within(*condition_root(name)).writing(*EXPRESSION) as temporary:
            write_expression_channel(temporary, matrix, f"{inputs.source} (condition {name!r})")
    registered = set(context.instance.get_dynamic_partitions(CONDITIONS))
    for gone in sorted(registered - set(conditions)):
        context.instance.delete_dynamic_partition(CONDITIONS, gone)
    context.instance.add_dynamic_partitions(CONDITIONS, sorted(set(conditions) - registered))
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
            **({"conditions": MetadataValue.json(
                {name: len(matrix.matrix) for name, matrix in conditions.items()})}
               if conditions else {}),
            "fingerprint": fingerprint,
            **gold_facts,
            "path": MetadataValue.path(store.location(*EXPRESSION_MATRIX)),
        },
        data_version=DataVersion(fingerprint[:16]),
    )
