"""The records the split kernels pass, in place of long lists of positional arrays.

A kernel takes the node being split as one `Node` (with the tree's `Workspace` whole, which
holds the node's samples, weights and accumulators, and the target's `Regulators` or ranks),
and gives back a `Split`. Two arrays of one type swapped in a call compile just as well and
compute something else; two fields of a record cannot be swapped.
"""

from __future__ import annotations

from collections import namedtuple

# The node being split: ws.samples[start:start + m] are its samples, ws.node_n/ws.node_s
# their bootstrap weights and weighted targets by position in it, total_n/total_s their
# sums; inverse[w] is 1/w (the target's table, shared by every node).
Node = namedtuple("Node", ["start", "m", "total_n", "total_s", "inverse"])

# A regulator's best split of a node: its proxy gain (sL²/nL + sR²/nR), the highest rank that
# goes left (-1 where the regulator is constant in the node), and whether it is.
Split = namedtuple("Split", ["proxy", "rank", "constant"])

