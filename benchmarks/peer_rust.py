"""One measurement of a Rust peer, run by benchmarks/peers.py in the peers' own environment
(.genie/peers: scenic-rs 0.3.0 and rustscenic 0.5.1, not this project's dependencies), with
RAYON_NUM_THREADS=1 (one core, as every engine in the comparison).

Neither takes a list of targets: each fits every gene of the matrix it is given. So the matrix
passed is the regulators and the targets asked (a regulator is also a target, as in a real
run), the CPU seconds of the whole call are divided by the genes it fitted, and the links of
the targets asked are written. Usage: python peer_rust.py TASK.json (written by peers.py).
"""

import json
import sys
import time

import numpy as np

# GRNBoost2's published settings (arboreto's SGBM_KWARGS), which both peers default to.
GRNBOOST2 = dict(n_estimators=5000, learning_rate=0.01, max_depth=3, subsample=0.9,
                 early_stop_window=25)


def main() -> None:
    task = json.loads(open(sys.argv[1]).read())
    values = np.load(task["values"])
    genes, regulators = task["genes"], task["regulators"]
    column = {g: i for i, g in enumerate(genes)}
    fitted = list(dict.fromkeys([*regulators, *task["targets"]]))
    matrix = np.ascontiguousarray(values[:, [column[g] for g in fitted]], dtype=np.float32)
    engine, seed = task["engine"], task["seed"]
    started = time.process_time()
    if engine == "scenic-rs GENIE3":
        import scenic_rs

        links = scenic_rs.genie3(matrix, fitted, regulators, n_estimators=1000,
                                 max_features="sqrt", seed=seed)
    elif engine == "scenic-rs GRNBoost2":
        import scenic_rs

        links = scenic_rs.grnboost2(matrix, fitted, regulators, max_features="0.1", seed=seed,
                                    **GRNBOOST2)
    elif engine == "rustscenic":
        import rustscenic.grn

        links = rustscenic.grn.infer((matrix, fitted), regulators, max_features=0.1, seed=seed,
                                     verbose=False, **GRNBOOST2)
    else:
        raise SystemExit(f"unknown engine {engine!r}")
    seconds = time.process_time() - started
    links = links.rename(columns={"TF": "regulator"})
    links = links[links.target.isin(task["targets"])]
    links[["regulator", "target", "importance"]].to_parquet(task["output"])
    print(json.dumps({"seconds": [seconds / len(fitted)] * len(task["targets"]),
                      "genes_fitted": len(fitted)}))


if __name__ == "__main__":
    main()
