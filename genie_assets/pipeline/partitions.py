"""Target-gene shards: one static partition of `importance_shards` per shard."""

from dagster import StaticPartitionsDefinition

from genie_assets.settings import deployment
from genie_assets.shard.sharding import shard_keys

# Fixed per deployment: changing it changes every partition key.
N_SHARDS = deployment().n_shards

shard_partitions = StaticPartitionsDefinition(shard_keys(N_SHARDS))
