"""Why a regulator list and a matrix share few gene names: the causes users actually hit.

pySCENIC's most reported error is "intersection of gene_names and tf_names is empty". The
usual causes, each checked by renaming one side and counting again: a list from another
species (human `SOX2` vs mouse `Sox2`: the names differ only in case), Ensembl IDs on one side
and symbols on the other, Ensembl IDs with and without their version (`ENSG00000141510.16`),
and a genome prefix that multi-genome references put on every gene (`GRCh38_TP53`,
`mm10___Sox2`).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Callable, Iterable, Optional

ENSEMBL_ID = re.compile(r"^ENS[A-Z]*G\d{11}(\.\d+)?$")
ENSEMBL_VERSION = re.compile(r"\.\d+$")
GENOME_PREFIX = re.compile(r"^([A-Za-z][A-Za-z0-9.]*?)(_{1,3}|-)(?=.)")


def _share(names: Iterable[str], rule: Callable[[str], bool]) -> float:
    names = list(names)
    return sum(map(rule, names)) / len(names) if names else 0.0


def _common_prefix(names: list[str]) -> Optional[str]:
    """The genome prefix nearly every name carries (`GRCh38_`, `mm10___`), if any."""
    found = Counter(match.group(0) for name in names if (match := GENOME_PREFIX.match(name)))
    if not found:
        return None
    prefix, count = found.most_common(1)[0]
    return prefix if count >= 0.9 * len(names) else None


def mismatch_causes(listed: Iterable[str], genes: Iterable[str]) -> list[str]:
    """Likely reasons why few `listed` names are among `genes`, most likely first (empty
    when none of the known causes fits)."""
    listed, genes = list(dict.fromkeys(listed)), list(dict.fromkeys(genes))
    gene_set = set(genes)
    found = sum(name in gene_set for name in listed)
    causes = []

    folded = {gene.casefold(): gene for gene in genes}
    by_case = [(name, folded[name.casefold()]) for name in listed
               if name not in gene_set and name.casefold() in folded]
    if len(by_case) > found:
        name, gene = by_case[0]
        causes.append(
            f"{len(by_case)} listed names match a gene only when case is ignored (e.g. "
            f"{name!r} listed, {gene!r} in the matrix): is the list for another species "
            "(human symbols are upper case, mouse ones capitalised)?")

    listed_ensembl = _share(listed, lambda n: bool(ENSEMBL_ID.match(n)))
    genes_ensembl = _share(genes, lambda n: bool(ENSEMBL_ID.match(n)))
    if listed_ensembl > 0.5 and genes_ensembl > 0.5:
        unversioned = {ENSEMBL_VERSION.sub("", gene) for gene in genes}
        by_version = sum(ENSEMBL_VERSION.sub("", name) in unversioned for name in listed)
        if by_version > found:
            causes.append(
                f"{by_version} listed Ensembl IDs match once the version suffix is dropped "
                f"(e.g. {listed[0]!r} vs {genes[0]!r}): use the same form on both sides")
    elif listed_ensembl > 0.5 >= genes_ensembl:
        causes.append(f"the list names genes by Ensembl ID (e.g. {listed[0]!r}) and the matrix "
                      f"by symbol (e.g. {genes[0]!r}): map one to the other")
    elif genes_ensembl > 0.5 >= listed_ensembl:
        causes.append(f"the matrix names genes by Ensembl ID (e.g. {genes[0]!r}) and the list "
                      f"by symbol (e.g. {listed[0]!r}): map one to the other")

    for side, names, other in (("matrix", genes, set(listed)), ("list", listed, gene_set)):
        prefix = _common_prefix(names)
        if prefix and sum(name.removeprefix(prefix) in other for name in names) > found:
            causes.append(f"every {side} name starts with {prefix!r} (a genome prefix of a "
                          f"multi-genome reference): drop it from the {side}")
    return causes
