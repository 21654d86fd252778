"""How target genes are split into shards: one shard is one partition of `importance_shards`."""

from __future__ import annotations

from typing import Sequence

SHARD_KEY_PREFIX = "shard-"


def shard_keys(n_shards: int) -> list[str]:
    """Partition keys, in order: shard-0000, shard-0001, ..."""
    if n_shards < 1:
        raise ValueError(f"the number of shards must be at least 1, got {n_shards}")
    return [f"{SHARD_KEY_PREFIX}{index:04d}" for index in range(n_shards)]


def shard_index(key: str) -> int:
    if not key.startswith(SHARD_KEY_PREFIX) or not key[len(SHARD_KEY_PREFIX):].isdigit():
        raise ValueError(f"not a shard key: {key!r}")
    return int(key[len(SHARD_KEY_PREFIX):])


def targets_for_shard(targets: Sequence[str], index: int, n_shards: int) -> list[str]:
    """The targets of shard `index` of `n_shards`: every n-th gene in name order.

    Dealing genes round-robin in name order balances shards and depends only on the gene names,
    so any machine computes the same split.
    """
    if not 0 <= index < n_shards:
        raise ValueError(f"shard index {index} is outside 0..{n_shards - 1}")
    return sorted(targets)[index::n_shards]
