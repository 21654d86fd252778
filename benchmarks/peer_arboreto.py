"""One arboreto measurement, run by benchmarks/peers.py in arboreto's own environment
(.genie/peers: arboreto and its dask, not this project's dependencies).

Runs arboreto's per-target step (arboreto.core.infer_partial_network, what its dask graph runs
for each target) on one core for the targets asked, timing each in CPU seconds, and writes the
links it found. Usage: python peer_arboreto.py TASK.json (written by peers.py).
"""

import json
import sys
import time

import numpy as np
import pandas as pd
from arboreto.core import (
    EARLY_STOP_WINDOW_LENGTH,
    ET_KWARGS,
    RF_KWARGS,
    SGBM_KWARGS,
    infer_partial_network,
)

KWARGS = {"GBM": SGBM_KWARGS, "RF": RF_KWARGS, "ET": ET_KWARGS}


def main() -> None:
    task = json.loads(open(sys.argv[1]).read())
    values = np.load(task["values"])
    genes = task["genes"]
    regulators = task["regulators"]
    column = {g: i for i, g in enumerate(genes)}
    tf_matrix = values[:, [column[r] for r in regulators]]
    method = task["method"]
    links, seconds = [], []
    for target in task["targets"]:
        started = time.process_time()
        found = infer_partial_network(
            method, KWARGS[method], tf_matrix, regulators, target,
            values[:, column[target]], include_meta=False,
            early_stop_window_length=EARLY_STOP_WINDOW_LENGTH, seed=task["seed"])
        seconds.append(time.process_time() - started)
        links.append(found)
    pd.concat(links).rename(columns={"TF": "regulator"}).to_parquet(task["output"])
    print(json.dumps({"seconds": seconds}))


if __name__ == "__main__":
    main()
