"""Target-gene shards: one static partition of `importance_shards` per shard."""

import os

from dagster import StaticPartitionsDefinition

from genie_assets.sharding import shard_keys

# Fixed per deployment: changing it changes every partition key, so it is read once, here.
N_SHARDS = int(os.environ.get("GENIE_N_SHARDS", "4"))

shard_partitions = StaticPartitionsDefinition(shard_keys(N_SHARDS))
