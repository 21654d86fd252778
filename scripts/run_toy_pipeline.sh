#!/usr/bin/env bash
# The toy pipeline through Dagster's CLI, one job at a time, sharing one instance (DAGSTER_HOME).
set -euo pipefail
: "${DAGSTER_HOME:?set DAGSTER_HOME so that every dagster command shares one instance}"
mkdir -p "$DAGSTER_HOME"
location=(-m genie_assets.definitions)

dagster job execute "${location[@]}" -j expression_job
for key in $(python -c 'from genie_assets.pipeline.partitions import shard_partitions as p; print(*p.get_partition_keys())'); do
  dagster job execute "${location[@]}" -j shards_job --tags "{\"dagster/partition\": \"$key\"}"
done
dagster job execute "${location[@]}" -j network_job
python - <<'PY'
import os
import pandas as pd
hubs = os.path.join(os.environ.get("GENIE_ARTIFACTS_DIR", ".genie/artifacts"), "network", "hub_genes.parquet")
print(pd.read_parquet(hubs).to_string(index=False))
PY
