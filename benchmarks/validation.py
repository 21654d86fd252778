"""How long reading and validating a wide expression matrix takes (it must be linear in genes).

    python benchmarks/validation.py [--genes 100000] [--samples 50]

Writes a samples × genes TSV with a sample-name column to a temporary folder, then times
`read_expression` and `validate_expression` (with every gene as a regulator, and with a list of
2,000 regulators) separately, median of three runs each. Prints seconds, and seconds per
10,000 genes so runs at different widths compare.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from genie_assets.inputs.expression import read_expression, validate_expression


def timed(function, repeats: int = 3) -> tuple[float, object]:
    seconds, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--genes", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    genes = [f"GENE{i:07d}" for i in range(args.genes)]
    frame = pd.DataFrame(rng.random((args.samples, args.genes)).round(4), columns=genes,
                         index=[f"S{i}" for i in range(args.samples)])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "wide.tsv"
        frame.to_csv(path, sep="\t")
        print(f"{args.samples} samples × {args.genes:,} genes, "
              f"{path.stat().st_size / 2**20:.0f} MiB TSV")
        read_seconds, read = timed(lambda: read_expression(path))
        every_seconds, _ = timed(lambda: validate_expression(read, None))
        listed = genes[:: max(1, args.genes // 2000)]
        listed_seconds, _ = timed(lambda: validate_expression(read, listed))
    per = 10_000 / args.genes
    for name, seconds in (("read_expression", read_seconds),
                          ("validate_expression, every gene a regulator", every_seconds),
                          (f"validate_expression, {len(listed):,} regulators", listed_seconds)):
        print(f"{name:48s} {seconds:8.2f} s  ({seconds * per:.3f} s per 10,000 genes)")


if __name__ == "__main__":
    main()
