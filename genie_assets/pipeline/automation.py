"""The network follows the shards by itself.

Everything below `importance_shards` is declared eager: with the daemon running (`make ui`),
an asset is requested once one of its dependencies is newly updated, but never while one is
missing or in progress. The merge depends on every shard partition, so a backfill's shards
landing one by one request nothing until the last has landed, and then the edge table and the
network below it are rebuilt in one run.
"""

from dagster import AutomationCondition

FOLLOWS_UPSTREAM = AutomationCondition.eager()
