"""Filtering a genome-scale edge table: Spark (local mode) and DuckDB, side by side in one run.

Generates a synthetic edge table of --rows rows (default 100 million: 10,000 targets × 10,000
regulators) on disk in chunks, never in memory, then times two queries on both engines:
- top-k per target (k = 10), the filtered_network default rule's shape;
- an importance threshold (a plain scan and filter).
Prints rows/second for each engine and their ratio, and Spark's peak JVM memory.

    python benchmarks/network.py [--rows 100_000_000] [--repeats 3] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

TOP_K = 10
THRESHOLD = 0.999


def generate(folder: Path, n_rows: int, n_regulators: int = 10_000, seed: int = 0) -> int:
    """One Parquet file per chunk of targets; regulator/target names dictionary-encoded."""
    if (folder / "_SUCCESS").exists():
        return sum(pq.ParquetFile(p).metadata.num_rows for p in folder.glob("*.parquet"))
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_targets = n_rows // n_regulators
    regulator_names = pa.array([f"r{i:05d}" for i in range(n_regulators)])
    targets_per_file = max(1, 5_000_000 // n_regulators)
    written = 0
    for first in range(0, n_targets, targets_per_file):
        count = min(targets_per_file, n_targets - first)
        rows = count * n_regulators
        target_names = pa.array([f"g{i:05d}" for i in range(first, first + count)])
        table = pa.table({
            "regulator": pa.DictionaryArray.from_arrays(
                pa.array(np.tile(np.arange(n_regulators, dtype=np.int32), count)),
                regulator_names),
            "target": pa.DictionaryArray.from_arrays(
                pa.array(np.repeat(np.arange(count, dtype=np.int32), n_regulators)),
                target_names),
            "importance": pa.array(rng.random(rows, dtype=np.float32)),
        })
        pq.write_table(table, folder / f"part-{first:06d}.parquet", row_group_size=1 << 20)
        written += rows
    (folder / "_SUCCESS").touch()
    return written


def spark_session(cores: int, memory: str):
    from pyspark.sql import SparkSession

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from genie_assets.pipeline.resources.spark import local_spark_config

    config = local_spark_config(cores=cores, driver_memory=memory)
    # Tuned for a scan-and-rank workload on a small machine (docs/benchmarks.md).
    config.update({
        "spark.sql.shuffle.partitions": str(cores * 4),
        "spark.sql.files.maxPartitionBytes": str(256 << 20),
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.parquet.enableVectorizedReader": "true",
    })
    builder = SparkSession.builder
    for key, value in config.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def jvm_peak_mib(spark) -> float:
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()  # noqa: SLF001
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def time_spark(spark, folder: Path, query: str) -> float:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    edges = spark.read.parquet(str(folder))
    if query == "top_k":
        window = Window.partitionBy("target").orderBy(F.col("importance").desc(),
                                                      F.col("regulator"))
        result = edges.withColumn("rank", F.row_number().over(window)).where(
            F.col("rank") <= TOP_K)
    else:
        result = edges.where(F.col("importance") >= THRESHOLD)
    started = time.perf_counter()
    result.write.format("noop").mode("overwrite").save()
    return time.perf_counter() - started


def time_duckdb(folder: Path, query: str, cores: int) -> float:
    import duckdb

    connection = duckdb.connect()
    connection.execute(f"SET threads = {cores}")
    source = f"read_parquet('{folder}/*.parquet')"
    if query == "top_k":
        sql = (f"SELECT count(*) FROM (SELECT * FROM {source} QUALIFY row_number() OVER "
               f"(PARTITION BY target ORDER BY importance DESC, regulator) <= {TOP_K})")
    else:
        sql = f"SELECT count(*) FROM {source} WHERE importance >= {THRESHOLD}"
    started = time.perf_counter()
    connection.execute(sql).fetchall()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--spark-memory", default="6g")
    parser.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "genie-bench"))
    args = parser.parse_args()

    folder = Path(args.workdir) / f"edges-{args.rows}"
    started = time.perf_counter()
    n_rows = generate(folder, args.rows)
    size = sum(p.stat().st_size for p in folder.glob("*.parquet")) / 2**20
    print(f"edge table: {n_rows:,} rows, {size:,.0f} MiB Parquet at {folder} "
          f"(ready in {time.perf_counter() - started:.0f} s); {args.cores} cores, "
          f"medians of {args.repeats} runs\n")
    spark = spark_session(args.cores, args.spark_memory)
    print(f"{'query':10s} {'Spark rows/s':>14s} {'DuckDB rows/s':>14s} {'DuckDB/Spark':>13s}")
    for query in ("top_k", "threshold"):
        spark_seconds = statistics.median(
            time_spark(spark, folder, query) for _ in range(args.repeats))
        duck_seconds = statistics.median(
            time_duckdb(folder, query, args.cores) for _ in range(args.repeats))
        print(f"{query:10s} {n_rows / spark_seconds:14,.0f} {n_rows / duck_seconds:14,.0f} "
              f"{spark_seconds / duck_seconds:13.2f}", flush=True)
    print(f"\nSpark peak JVM memory: {jvm_peak_mib(spark):,.0f} MiB "
          f"(driver memory {args.spark_memory})")
    spark.stop()


if __name__ == "__main__":
    main()
