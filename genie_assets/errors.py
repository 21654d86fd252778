"""One exception type per kind of user mistake; each message names the file, row, column or gene."""


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
