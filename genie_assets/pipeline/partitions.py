"""Target-gene shards: one static partition of `importance_shards` per shard; and, where the
cells come in conditions, one partition of `condition_shards` per condition and shard."""

from dagster import (
    DynamicPartitionsDefinition,
    MultiPartitionsDefinition,
    StaticPartitionsDefinition,
)

from genie_assets.settings import deployment
from genie_assets.shard.sharding import shard_keys

# Fixed per deployment: changing it changes every partition key.
N_SHARDS = deployment().n_shards

shard_partitions = StaticPartitionsDefinition(shard_keys(N_SHARDS))

# The conditions of the stored matrix (expression_matrix's `conditions` config), registered by
# expression_matrix as it stores them: a new condition adds partitions, a gone one removes them.
CONDITIONS = "conditions"
condition_partitions = DynamicPartitionsDefinition(name=CONDITIONS)
CONDITION, SHARD = "condition", "shard"
condition_shard_partitions = MultiPartitionsDefinition(
    {CONDITION: condition_partitions, SHARD: shard_partitions})
