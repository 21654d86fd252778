"""The validated expression matrix and regulator list every shard reads."""


import json
import warnings
from typing import Optional

from dagster import (
    AssetExecutionContext,
    Config,
    DataVersion,
    MaterializeResult,
    MetadataValue,
    asset,
)

from genie_assets.expression import (
    fingerprint_file,
    read_expression,
    read_regulators,
    validate_expression,
)
from genie_assets.evaluation import GoldStandard, load_gold_standard, pairs_in_matrix
from genie_assets.resources import ArtifactStore
from genie_assets.shard import EXPRESSION_FILE, MANIFEST_FILE, REGULATORS_FILE
from genie_assets.toy import toy_dataset

GOLD_STANDARD_FILE = "gold_standard.tsv"


class ExpressionConfig(Config):
    """Where the expression data comes from; with no path, the built-in toy dataset."""

    path: Optional[str] = None
    regulators_path: Optional[str] = None
    genes_as_rows: bool = False
    gold_standard_path: Optional[str] = None
    # AnnData only: the matrix to use instead of .X.
    layer: Optional[str] = None
    use_raw: bool = False


@asset(group_name="genie3", compute_kind="pandas", code_version="1")
def expression_matrix(
    context: AssetExecutionContext, config: ExpressionConfig, store: ArtifactStore
) -> MaterializeResult:
    """Samples × genes expression matrix and regulator list, validated and stored as Parquet."""
    gold = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if config.path is None:
            frame, regulators, toy_gold = toy_dataset()
            source, regulator_source = "toy dataset", "toy dataset"
            gold = GoldStandard(toy_gold, positives_only=False, header_skipped=False,
                                separator="\t")
        else:
            frame = read_expression(config.path, genes_as_rows=config.genes_as_rows,
                                    layer=config.layer, use_raw=config.use_raw)
            regulators = (read_regulators(config.regulators_path) if config.regulators_path
                          else None)
            source, regulator_source = config.path, config.regulators_path or "all genes"
            # Checked now, not when the network is scored: a bad file fails before anything
            # changes.
            gold = (load_gold_standard(config.gold_standard_path) if config.gold_standard_path
                    else None)
        validated = validate_expression(frame, regulators, source=source,
                                        regulator_source=regulator_source)
    for warning in caught:
        context.log.warning(str(warning.message))
    gold_facts = {}
    if gold is not None:
        _, outside = pairs_in_matrix(gold.pairs, validated.matrix.columns,
                                            validated.regulators)
        gold_facts = {"gold_standard": gold.describe(),
                      "n_gold_pairs": len(gold.pairs),
                      "n_gold_pairs_outside_matrix": len(outside)}
        if len(outside):
            context.log.warning(
                f"{config.gold_standard_path or 'gold standard'}: {len(outside)} of "
                f"{len(gold.pairs)} pairs name a gene not in the matrix or a regulator not in "
                f"the regulator list (e.g. {outside.regulator.iloc[0]} → "
                f"{outside.target.iloc[0]}); they are left out of the scores")

    with store.writing("expression") as temporary:
        temporary.mkdir(parents=True)
        validated.matrix.to_parquet(temporary / EXPRESSION_FILE)
        (temporary / REGULATORS_FILE).write_text("\n".join(validated.regulators) + "\n")
        if gold is not None:
            gold.pairs.to_csv(temporary / GOLD_STANDARD_FILE, sep="\t", index=False,
                              header=False)
        fingerprint = fingerprint_file(temporary / EXPRESSION_FILE)
        manifest = {
            "fingerprint": fingerprint,
            "source": source,
            "n_samples": int(validated.matrix.shape[0]),
            "n_genes": int(validated.matrix.shape[1]),
            "n_regulators": len(validated.regulators),
            "dropped_constant_genes": validated.dropped_constant_genes,
            **({"gold_standard_source": config.gold_standard_path or source,
                "gold_standard_positives_only": gold.positives_only} if gold else {}),
        }
        (temporary / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
    return MaterializeResult(
        metadata={
            "source": source,
            "n_samples": manifest["n_samples"],
            "n_genes": manifest["n_genes"],
            "n_regulators": manifest["n_regulators"],
            "n_dropped_constant_genes": len(validated.dropped_constant_genes),
            "fingerprint": fingerprint,
            **gold_facts,
            "path": MetadataValue.path(store.location("expression", EXPRESSION_FILE)),
        },
        data_version=DataVersion(fingerprint[:16]),
    )
