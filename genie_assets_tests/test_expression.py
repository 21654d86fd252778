"""Bad input gets an error naming the file and the row, column or gene; nothing is written."""

import numpy as np
import pandas as pd
import pytest

from genie_assets.errors import ExpressionMatrixError, InputError, RegulatorListError
from genie_assets.inputs.expression import read_expression, validate_expression
from genie_assets.shard.contract import read_regulator_names
from genie_assets_tests.conftest import dream4_paths
from genie_assets_tests.helpers import failure_messages, local_resources, new_instance, run

GENES = ["TF1", "TF2", "G1", "G2"]


def good_matrix(n_samples=6) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.random((n_samples, 4)), columns=GENES,
                        index=[f"S{i}" for i in range(n_samples)])


def load(tmp_path, path, regulators=None, **config):
    """Materialize expression_matrix from a file; return (result, store)."""
    resources = local_resources(tmp_path / "store")
    run_config = {"ops": {"expression_matrix": {"config": {"path": str(path), **config}}}}
    if regulators is not None:
        regulators_path = tmp_path / "regulators.txt"
        regulators_path.write_text("\n".join(regulators) + "\n")
        run_config["ops"]["expression_matrix"]["config"]["regulators_path"] = str(regulators_path)
    result = run(["expression_matrix"], resources, new_instance(), run_config=run_config)
    return result, resources["store"]


def assert_refused(tmp_path, path, *expected, regulators=None, **config):
    result, store = load(tmp_path, path, regulators, **config)
    assert not result.success
    message = failure_messages(result)
    for text in expected:
        assert text in message, message
    assert not store.expression_dir().exists(), "nothing may be written for bad input"
    return message


def write_tsv(tmp_path, frame, name="matrix.tsv", index=True):
    path = tmp_path / name
    frame.to_csv(path, sep="\t", index=index)
    return path


def test_dream4_file_with_quoted_header_and_crlf_reads_as_samples_by_genes():
    expression_path, _ = dream4_paths(1)
    frame = read_expression(expression_path)
    assert frame.shape == (100, 100)
    assert list(frame.columns[:2]) == ["G1", "G2"]
    assert frame.dtypes.eq(np.float64).all()


@pytest.mark.parametrize("suffix", ["csv", "tsv", "parquet", "h5ad", "csv.gz", "tsv.gz",
                                    "txt.gz"])
def test_every_supported_format_loads_the_same_matrix(tmp_path, suffix):
    frame = good_matrix()
    path = tmp_path / f"matrix.{suffix}"
    if suffix.startswith("csv"):
        frame.to_csv(path)  # gzip-compressed where the name ends in .gz
    elif suffix.startswith(("tsv", "txt")):
        frame.to_csv(path, sep="\t")
    elif suffix == "parquet":
        frame.to_parquet(path)
    else:
        import anndata
        anndata.AnnData(frame).write_h5ad(path)
    pd.testing.assert_frame_equal(read_expression(path), frame, check_names=False)


def test_sparse_h5ad_is_accepted(tmp_path):
    import anndata
    from scipy import sparse

    frame = good_matrix()
    frame.iloc[0, :] = 0.0
    path = tmp_path / "cells.h5ad"
    anndata.AnnData(sparse.csr_matrix(frame.to_numpy()), obs=pd.DataFrame(index=frame.index),
                    var=pd.DataFrame(index=frame.columns)).write_h5ad(path)
    result, store = load(tmp_path, path)
    assert result.success
    stored = pd.read_parquet(store.expression_dir() / "expression.parquet")
    np.testing.assert_allclose(stored.to_numpy(), frame.to_numpy())


def test_unreadable_file(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"this is not parquet")
    assert_refused(tmp_path, path, "broken.parquet", "cannot be read")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.tsv"
    path.write_text("")
    assert_refused(tmp_path, path, "empty.tsv", "empty")


def test_missing_file(tmp_path):
    assert_refused(tmp_path, tmp_path / "nowhere.tsv", "nowhere.tsv", "no such file")


def test_non_numeric_value_names_gene_sample_and_row(tmp_path):
    frame = good_matrix().astype(object)
    frame.iloc[3, 2] = "high"
    message = assert_refused(tmp_path, write_tsv(tmp_path, frame), "matrix.tsv", "'high'",
                             "'G1'", "'S3'")
    assert "row 4" in message


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_missing_or_infinite_value_names_gene_and_sample(tmp_path, bad):
    frame = good_matrix()
    frame.iloc[2, 3] = bad
    assert_refused(tmp_path, write_tsv(tmp_path, frame), "matrix.tsv", "'G2'", "'S2'")


def test_duplicated_gene_names(tmp_path):
    path = tmp_path / "dup.tsv"
    path.write_text("sample\tTF1\tTF1\tG1\nS1\t1\t2\t3\nS2\t4\t5\t7\nS3\t1\t1\t1\n")
    assert_refused(tmp_path, path, "dup.tsv", "duplicated gene names", "TF1")


def test_duplicated_sample_names(tmp_path):
    frame = good_matrix()
    frame.index = ["S0", "S1", "S1", "S3", "S4", "S5"]
    assert_refused(tmp_path, write_tsv(tmp_path, frame), "duplicated sample names", "S1")


def test_fewer_than_two_samples(tmp_path):
    assert_refused(tmp_path, write_tsv(tmp_path, good_matrix(n_samples=1)), "matrix.tsv",
                   "at least 2 samples")


def test_zero_variance_gene_is_dropped_with_a_warning_and_recorded(tmp_path):
    frame = good_matrix()
    frame["G2"] = 5.0
    result, store = load(tmp_path, write_tsv(tmp_path, frame))
    assert result.success
    metadata = result.asset_materializations_for_node("expression_matrix")[0].metadata
    assert metadata["n_dropped_constant_genes"].value == 1
    assert metadata["n_genes"].value == 3
    stored = pd.read_parquet(store.expression_dir() / "expression.parquet")
    assert "G2" not in stored.columns


def test_regulators_not_in_the_matrix_are_named_in_the_run_log(tmp_path):
    path = write_tsv(tmp_path, good_matrix())
    (tmp_path / "regulators.txt").write_text("TF1\nTF9\n")
    instance = new_instance()
    run_config = {"ops": {"expression_matrix": {"config": {
        "path": str(path), "regulators_path": str(tmp_path / "regulators.txt")}}}}
    result = run(["expression_matrix"], local_resources(tmp_path / "store"), instance,
                 run_config=run_config)
    assert result.success, failure_messages(result)
    logged = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any("regulators.txt: 1 of its 2 regulators" in line and "['TF9']" in line
               for line in logged), logged


def test_no_regulator_left(tmp_path):
    frame = good_matrix()
    frame["TF1"] = 1.0
    assert_refused(tmp_path, write_tsv(tmp_path, frame), "no regulator left",
                   regulators=["TF1"])


def test_transposed_matrix_is_detected(tmp_path):
    path = write_tsv(tmp_path, good_matrix().T)
    assert_refused(tmp_path, path, "matrix.tsv", "looks transposed", "genes_as_rows",
                   regulators=["TF1", "TF2"])
    result, _ = load(tmp_path, path, regulators=["TF1", "TF2"], genes_as_rows=True)
    assert result.success


def test_errors_are_input_errors_of_their_kind():
    assert issubclass(ExpressionMatrixError, InputError)
    assert issubclass(RegulatorListError, InputError)
    with pytest.raises(RegulatorListError):
        validate_expression(good_matrix(), ["NOPE"])


def test_a_file_read_with_the_wrong_separator_says_which_it_looks_like(tmp_path):
    path = tmp_path / "matrix.txt"
    good_matrix().to_csv(path, sep=";")
    assert_refused(tmp_path, path, f"{path}: read as tab-separated (from its .txt suffix)",
                   "single column", "looks semicolon-separated")


def test_a_folder_and_a_loop_of_links_are_named_as_such(tmp_path):
    folder = tmp_path / "matrix.tsv"
    folder.mkdir()
    assert_refused(tmp_path, folder, f"{folder}: is a folder, not a file")
    loop = tmp_path / "loop.tsv"
    loop.symlink_to(tmp_path / "loop.tsv")
    assert_refused(tmp_path, loop, f"{loop}: a loop of symbolic links")
    dangling = tmp_path / "gone.tsv"
    dangling.symlink_to(tmp_path / "nowhere.tsv")
    assert_refused(tmp_path, dangling, "a symbolic link to", "which does not exist")


def test_regulator_names_keep_commas_and_lose_a_byte_order_mark(tmp_path):
    frame = good_matrix().rename(columns={"TF1": "GENE,A"})
    path = write_tsv(tmp_path, frame)
    regulators = tmp_path / "tfs.txt"
    regulators.write_text("\ufeffGENE,A\tcomma in the name\nTF2\n", encoding="utf-8")
    resources = local_resources(tmp_path / "store")
    config = {"path": str(path), "regulators_path": str(regulators)}
    result = run(["expression_matrix"], resources, new_instance(),
                 run_config={"ops": {"expression_matrix": {"config": config}}})
    assert result.success, failure_messages(result)
    stored = (resources["store"].expression_dir() / "regulators.txt").read_text().split("\n")
    assert stored[:2] == ["GENE,A", "TF2"]


def test_a_wide_header_is_checked_in_one_pass(tmp_path):
    # 100,000 genes: a quadratic duplicate check took minutes here (benchmarks/validation.py
    # prints the time); the duplicates far apart are still found.
    genes = [f"G{i:06d}" for i in range(100_000)]
    genes[-1] = genes[3]
    path = tmp_path / "wide.tsv"
    path.write_text("sample\t" + "\t".join(genes) + "\nS1\t" + "\t".join(["1"] * len(genes))
                    + "\nS2\t" + "\t".join(["2"] * len(genes)) + "\n")
    with pytest.raises(ExpressionMatrixError, match=r"duplicated gene names \['G000003'\]"):
        read_expression(path)


@pytest.mark.parametrize("header, ids", [("", range(1, 7)), ("Time", [0, 0.5, 1, 2, 4, 8]),
                                         ("sample_id", [3, 1, 2, 6, 5, 4])])
def test_a_numeric_first_column_of_sample_ids_or_times_is_not_a_gene(tmp_path, header, ids):
    frame = good_matrix()
    frame.insert(0, header, list(ids))
    path = write_tsv(tmp_path, frame, index=False)
    result, store = load(tmp_path, path)
    assert result.success, failure_messages(result)
    stored = pd.read_parquet(store.expression_dir() / "expression.parquet")
    assert list(stored.columns) == GENES
    as_written = [line.split("\t")[0] for line in path.read_text().splitlines()[1:]]
    assert list(stored.index) == as_written


def test_a_genes_by_samples_file_is_refused_without_a_regulator_list(tmp_path):
    rng = np.random.default_rng(1)
    genes_by_samples = pd.DataFrame(rng.random((30, 6)), index=[f"Gene{i}" for i in range(30)],
                                    columns=[f"S{i}" for i in range(6)])
    path = write_tsv(tmp_path, genes_by_samples)
    assert_refused(tmp_path, path, "looks transposed (genes as rows)", "genes_as_rows: true")
    result, _ = load(tmp_path / "again", path, genes_as_rows=True)
    assert result.success, failure_messages(result)


def scaled_anndata(path, with_raw=False):
    import anndata

    counts = good_matrix() * 100
    scaled = (counts - counts.mean()) / counts.std()
    adata = anndata.AnnData(scaled.to_numpy(), obs=pd.DataFrame(index=counts.index),
                            var=pd.DataFrame(index=counts.columns),
                            layers={"counts": counts.to_numpy()})
    if with_raw:
        adata.raw = anndata.AnnData(counts.to_numpy(), obs=adata.obs, var=adata.var)
    adata.write_h5ad(path)
    return counts


def test_scaled_anndata_is_refused_naming_the_layers_and_raw(tmp_path):
    path = tmp_path / "scaled.h5ad"
    counts = scaled_anndata(path, with_raw=True)
    assert_refused(tmp_path, path, ".X has negative values", "looks scaled",
                   "layer: counts or use_raw: true")
    for config in ({"layer": "counts"}, {"use_raw": True}):
        result, store = load(tmp_path / str(config), path, **config)
        assert result.success, failure_messages(result)
        stored = pd.read_parquet(store.expression_dir() / "expression.parquet")
        np.testing.assert_allclose(stored.to_numpy(), counts.to_numpy())
    assert_refused(tmp_path / "no", path, "no layer 'spliced'; its layers are ['counts']",
                   layer="spliced")


def test_extreme_values_are_refused_naming_the_gene(tmp_path):
    frame = good_matrix()
    frame.iloc[2, 1] = 1e308
    path = write_tsv(tmp_path, frame)
    assert_refused(tmp_path, path, "value 1e+308 for gene 'TF2' in sample 'S2'", "overflows")


def stored_hashes(store) -> dict:
    import hashlib

    folder = store.expression_dir()
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_a_tab_in_a_gene_name_is_refused_and_the_stored_good_data_is_untouched(tmp_path):
    resources = local_resources(tmp_path / "store")
    instance = new_instance()
    assert run(["expression_matrix"], resources, instance).success  # the toy data, with gold
    before = stored_hashes(resources["store"])
    assert "gold_standard.tsv" in before
    frame = good_matrix().rename(columns={"G1": "TAB\tGENE"})
    path = tmp_path / "tab.csv"
    frame.to_csv(path)
    config = {"path": str(path)}
    result = run(["expression_matrix"], resources, instance,
                 run_config={"ops": {"expression_matrix": {"config": config}}})
    assert not result.success
    assert "gene name 'TAB\\tGENE' holds a tab" in failure_messages(result)
    assert stored_hashes(resources["store"]) == before, "the good matrix must stay as it was"


def test_gene_names_with_spaces_unicode_and_case_round_trip(tmp_path):
    names = ["GENE A", "Ünïcode-β", "sept2", "SEPT2", "0042", "1e5"]
    frame = pd.DataFrame(np.random.default_rng(3).random((8, len(names))), columns=names,
                         index=[f"S{i}" for i in range(8)])
    path = tmp_path / "names.tsv"
    frame.to_csv(path, sep="\t")
    result, store = load(tmp_path, path, regulators=names[:3])
    assert result.success, failure_messages(result)
    stored = pd.read_parquet(store.expression_dir() / "expression.parquet")
    assert list(stored.columns) == names

    assert read_regulator_names(store.expression_dir() / "regulators.txt") == sorted(names[:3])


def matrix_of(genes, n_samples=8) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(rng.random((n_samples, len(genes))), columns=genes,
                        index=[f"S{i}" for i in range(n_samples)])


def test_a_tf_list_larger_than_the_matrix_keeps_its_intersection_and_says_so(tmp_path):
    path = write_tsv(tmp_path, matrix_of(["SOX2", "POU5F1", "NANOG", "GAPDH", "ACTB"]))
    result, store = load(tmp_path, path, regulators=["SOX2", "POU5F1", "NANOG", "MYC", "KLF4"])
    assert result.success, failure_messages(result)
    metadata = result.asset_materializations_for_node("expression_matrix")[0].metadata
    assert metadata["n_regulators"].value == 3
    assert metadata["n_listed_regulators_not_in_matrix"].value == 2
    assert read_regulator_names(store.expression_dir() / "regulators.txt") == \
        ["NANOG", "POU5F1", "SOX2"]
    with pytest.warns(UserWarning, match=r"3 of its 5 regulators are genes of .*the other 2 are "
                                         r"left out \(e.g. \['MYC', 'KLF4'\]\)$"):
        validate_expression(matrix_of(["SOX2", "POU5F1", "NANOG", "GAPDH", "ACTB"]),
                            ["SOX2", "POU5F1", "NANOG", "MYC", "KLF4"])


@pytest.mark.parametrize("genes,listed,cause", [
    (["Sox2", "Pou5f1", "Nanog", "Gapdh"], ["SOX2", "POU5F1", "NANOG"],
     "match a gene only when case is ignored (e.g. 'SOX2' listed, 'Sox2' in the matrix): is "
     "the list for another species"),
    (["ENSG00000181449", "ENSG00000204531", "ENSG00000111704", "ENSG00000111640"],
     ["SOX2", "POU5F1", "NANOG"], "the matrix names genes by Ensembl ID"),
    (["ENSG00000181449.4", "ENSG00000204531.21", "ENSG00000111704.11", "ENSG00000111640.15"],
     ["ENSG00000181449", "ENSG00000204531"], "match once the version suffix is dropped"),
    (["GRCh38_SOX2", "GRCh38_POU5F1", "GRCh38_NANOG", "GRCh38_GAPDH"],
     ["SOX2", "POU5F1", "NANOG"], "every matrix name starts with 'GRCh38_'"),
    (["Sox2", "Pou5f1", "Nanog", "Gapdh"], ["mm10___Sox2", "mm10___Nanog"],
     "every list name starts with 'mm10___'"),
])
def test_an_empty_intersection_says_what_is_likely_wrong(genes, listed, cause):
    with pytest.raises(RegulatorListError, match="none of its") as refused:
        validate_expression(matrix_of(genes), listed, regulator_source="tfs.txt")
    assert cause in str(refused.value)


def test_an_empty_intersection_without_a_known_cause_says_what_to_check():
    with pytest.raises(RegulatorListError, match="Check that the list is for this organism"):
        validate_expression(matrix_of(["G1", "G2", "G3"]), ["TF_A", "TF_B"])


def test_a_small_intersection_warns_with_the_likely_cause():
    genes = ["Sox2", "Pou5f1", "Nanog", "Gapdh", "MYC"]
    with pytest.warns(UserWarning, match="1 of its 4 regulators.*when case is ignored"):
        validate_expression(matrix_of(genes), ["SOX2", "POU5F1", "NANOG", "MYC"])


def write_loom(path, frame, **layers):
    """A loom file as pySCENIC writes one: genes × cells, row attribute Gene, column CellID."""
    import loompy

    loompy.create(str(path), frame.to_numpy().T,
                  row_attrs={"Gene": np.array(frame.columns)},
                  col_attrs={"CellID": np.array(frame.index)})
    with loompy.connect(str(path)) as loom:
        for name, values in layers.items():
            loom.layers[name] = values.to_numpy().T


def test_a_loom_file_loads_as_cells_by_genes_through_the_asset(tmp_path):
    frame = good_matrix()
    path = tmp_path / "cells.loom"
    write_loom(path, frame)
    pd.testing.assert_frame_equal(read_expression(path), frame, check_names=False)
    result, store = load(tmp_path, path, regulators=["TF1", "TF2"])
    assert result.success, failure_messages(result)
    stored = pd.read_parquet(store.expression_dir() / "expression.parquet")
    assert list(stored.columns) == GENES and list(stored.index) == list(frame.index)
    np.testing.assert_allclose(stored.to_numpy(), frame.to_numpy())


def test_a_scaled_loom_is_refused_naming_its_layers_and_a_layer_is_chosen(tmp_path):
    counts = good_matrix() * 100
    scaled = (counts - counts.mean()) / counts.std()
    path = tmp_path / "scaled.loom"
    write_loom(path, scaled, counts=counts)
    assert_refused(tmp_path, path, "the main matrix has negative values", "layer: counts")
    result, store = load(tmp_path / "layer", path, layer="counts")
    assert result.success, failure_messages(result)
    stored = pd.read_parquet(store.expression_dir() / "expression.parquet")
    np.testing.assert_allclose(stored.to_numpy(), counts.to_numpy())
    assert_refused(tmp_path / "raw", path, "a loom file has no .raw", use_raw=True)
    assert_refused(tmp_path / "missing", path, "no layer 'spliced'; its layers are ['counts']",
                   layer="spliced")


def test_a_loom_without_gene_names_says_which_attributes_it_has(tmp_path):
    import loompy

    path = tmp_path / "anonymous.loom"
    loompy.create(str(path), good_matrix().to_numpy().T, row_attrs={"symbol": np.array(GENES)},
                  col_attrs={"CellID": np.array([f"c{i}" for i in range(6)])})
    with pytest.raises(ExpressionMatrixError, match=r"no row attribute names the genes .*the "
                                                    r"file has \['symbol'\]"):
        read_expression(path)


def test_an_unsupported_file_type_is_refused_listing_the_supported_ones(tmp_path):
    path = tmp_path / "matrix.xlsx"
    path.write_bytes(b"PK\x03\x04")
    assert_refused(tmp_path, path, "matrix.xlsx: unsupported file type '.xlsx'", ".loom")


def test_a_header_with_an_empty_gene_name_is_refused_naming_its_column(tmp_path):
    resources = local_resources(tmp_path / "store")
    instance = new_instance()
    assert run(["expression_matrix"], resources, instance).success
    before = stored_hashes(resources["store"])
    path = tmp_path / "gap.tsv.gz"
    import gzip

    with gzip.open(path, "wt") as handle:
        handle.write("sample\tTF1\t\tG1\tG2\n")
        for index, row in enumerate(good_matrix().to_numpy()):
            handle.write("\t".join([f"S{index}", *map(str, row)]) + "\n")
    result = run(["expression_matrix"], resources, instance,
                 run_config={"ops": {"expression_matrix": {"config": {"path": str(path)}}}})
    assert not result.success
    message = failure_messages(result)
    assert f"{path}: the header has no gene name in column 3 (counting from 1)" in message
    assert "Unnamed" not in message
    assert stored_hashes(resources["store"]) == before, "the good matrix must stay as it was"


def test_a_separator_ending_every_line_is_dropped_with_a_warning(tmp_path):
    frame = good_matrix()
    path = tmp_path / "trailing.csv"
    path.write_text("sample," + ",".join(frame.columns) + ",\n" + "".join(
        f"{name}," + ",".join(repr(float(value)) for value in row) + ",\n"
        for name, row in zip(frame.index, frame.to_numpy())))
    with pytest.warns(UserWarning, match="every line ends with a comma .* column 6"):
        read = read_expression(path)
    pd.testing.assert_frame_equal(read, frame, check_names=False)


def tenx_counts() -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """Cells × features counts, and the features as Cell Ranger lists them: an antibody
    capture besides the genes, and a symbol that names two genes."""
    rng = np.random.default_rng(3)
    features = [("ENSG01", "SOX2", "Gene Expression"), ("ENSG02", "PAX6", "Gene Expression"),
                ("ENSG03", "TBR1", "Gene Expression"), ("ENSG04", "PAX6", "Gene Expression"),
                ("CD3", "CD3_TotalSeqB", "Antibody Capture")]
    counts = pd.DataFrame(rng.poisson(2.0, size=(7, len(features))).astype(float),
                          index=[f"AAAC{i}-1" for i in range(7)],
                          columns=[f[0] for f in features])
    return counts, features


def write_mtx_folder(folder, counts, features, *, gzipped=True, legacy=False):
    import gzip

    from scipy.io import mmwrite
    from scipy.sparse import coo_matrix

    folder.mkdir()
    opener = gzip.open if gzipped else open
    ending = ".gz" if gzipped else ""
    with opener(folder / f"matrix.mtx{ending}", "wb") as handle:
        mmwrite(handle, coo_matrix(counts.to_numpy().T))
    name = "genes.tsv" if legacy else "features.tsv"
    with opener(folder / f"{name}{ending}", "wt") as handle:
        for feature in features:
            handle.write("\t".join(feature[:2] if legacy else feature) + "\n")
    with opener(folder / f"barcodes.tsv{ending}", "wt") as handle:
        handle.write("".join(f"{barcode}\n" for barcode in counts.index))
    return folder


def expected_genes(counts, names) -> pd.DataFrame:
    genes = counts.iloc[:, :4].copy()
    genes.columns = names
    return genes


def test_a_10x_matrix_folder_reads_as_cells_by_gene_symbols(tmp_path):
    counts, features = tenx_counts()
    folder = write_mtx_folder(tmp_path / "filtered_feature_bc_matrix", counts, features)
    with pytest.warns(UserWarning, match="1 gene symbols name more than one gene .*PAX6"):
        read = read_expression(folder)
    # The antibody capture is left out; the second PAX6 becomes PAX6-1, as scanpy names it.
    pd.testing.assert_frame_equal(read, expected_genes(counts, ["SOX2", "PAX6", "TBR1",
                                                                "PAX6-1"]))
    by_id = read_expression(folder, var_names="gene_ids")
    pd.testing.assert_frame_equal(by_id, counts.iloc[:, :4])


def test_an_older_uncompressed_10x_folder_with_genes_tsv_reads_too(tmp_path):
    counts, features = tenx_counts()
    genes_only = counts.iloc[:, :4]
    folder = write_mtx_folder(tmp_path / "matrix", genes_only, features[:4], gzipped=False,
                              legacy=True)
    with pytest.warns(UserWarning, match="PAX6"):
        read = read_expression(folder)
    pd.testing.assert_frame_equal(read, expected_genes(counts, ["SOX2", "PAX6", "TBR1",
                                                                "PAX6-1"]))


def test_a_10x_h5_reads_as_the_folder_does(tmp_path):
    import h5py
    from scipy.sparse import csc_matrix

    counts, features = tenx_counts()
    matrix = csc_matrix(counts.to_numpy().T)
    path = tmp_path / "filtered_feature_bc_matrix.h5"
    with h5py.File(path, "w") as handle:
        group = handle.create_group("matrix")
        group["data"], group["indices"], group["indptr"] = (matrix.data, matrix.indices,
                                                            matrix.indptr)
        group["shape"] = np.array(matrix.shape)
        group["barcodes"] = np.array(counts.index, dtype="S")
        group["features/id"] = np.array([f[0] for f in features], dtype="S")
        group["features/name"] = np.array([f[1] for f in features], dtype="S")
        group["features/feature_type"] = np.array([f[2] for f in features], dtype="S")
    with pytest.warns(UserWarning, match="PAX6"):
        read = read_expression(path)
    pd.testing.assert_frame_equal(read, expected_genes(counts, ["SOX2", "PAX6", "TBR1",
                                                                "PAX6-1"]))


def test_a_10x_folder_whose_files_disagree_is_refused_and_the_stored_matrix_kept(tmp_path):
    resources = local_resources(tmp_path / "store")
    instance = new_instance()
    assert run(["expression_matrix"], resources, instance).success
    before = stored_hashes(resources["store"])
    counts, features = tenx_counts()
    folder = write_mtx_folder(tmp_path / "broken", counts, features)
    (folder / "barcodes.tsv.gz").unlink()
    import gzip

    with gzip.open(folder / "barcodes.tsv.gz", "wt") as handle:
        handle.write("".join(f"{barcode}\n" for barcode in counts.index[:5]))
    result = run(["expression_matrix"], resources, instance,
                 run_config={"ops": {"expression_matrix": {"config": {"path": str(folder)}}}})
    assert not result.success
    assert (f"{folder}: matrix.mtx.gz is 5 features × 7 barcodes but features.tsv.gz lists 5 "
            "and barcodes.tsv.gz 5") in failure_messages(result)
    assert stored_hashes(resources["store"]) == before, "the good matrix must stay as it was"
