"""One exception type per kind of user mistake; each message names the file, row, column or gene.

Two kinds of failure: deterministic ones (the input is wrong, the machine is too small) fail the
same way every time, so they are never retried, which on SageMaker would bill a job for a
certain failure; the others (a killed process, a lost spot instance) are retried.
"""

import re


class InputError(ValueError):
    """Something about the user's input is wrong; the message says what and where."""


class ExpressionMatrixError(InputError):
    """The expression matrix file cannot be used as it is."""


class RegulatorListError(InputError):
    """The regulator list does not fit the expression matrix."""


class GoldStandardError(InputError):
    """The gold standard file cannot be used to score the network."""


class ShardError(RuntimeError):
    """A shard could not be computed, or shard outputs do not fit together."""


class MissingShardsError(ShardError):
    """The merge was asked for while some shards have no output yet."""


class StaleShardsError(ShardError):
    """Shards were computed from another expression matrix, other parameters or shard count."""


class ExportError(InputError):
    """A result cannot be written in the format asked for (a gene name it cannot hold)."""


class ShardMemoryError(MemoryError):
    """The machine is too small for this shard; raised before any work starts."""


def _kinds(*bases: type) -> set[str]:
    found, todo = set(), list(bases)
    while todo:
        kind = todo.pop()
        found.add(kind.__name__)
        todo.extend(kind.__subclasses__())
    return found


def names_a_deterministic_failure(reason: str) -> bool:
    """Whether a failure's text (the shard program's failure file, SageMaker's FailureReason,
    which quotes it) names an error that would recur on a retry."""
    kinds = _kinds(InputError, ShardMemoryError)
    return bool(re.search(r"\b(" + "|".join(sorted(kinds)) + r")\b", reason))
