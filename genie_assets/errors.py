"""The project's exceptions, and its one policy for raising them.

- A user's mistake is an `InputError` (a `ValueError`) of the kind that names the input:
  `ExpressionMatrixError`, `RegulatorListError`, `GoldStandardError`, `ExportError`, and
  `ParameterError` for GENIE3's parameters and the engine's arguments (the engine raises only
  this). Its message names the file and the row, column or gene, or the parameter and the value.
- A deployment setting that cannot be used is a `SettingsError`, naming the variable.
- A shard that cannot be computed, or shard outputs that do not fit together, is a
  `ShardError` (a `RuntimeError`), raised by the shard program, the runners and the merge alike;
  `MissingShardsError` and `StaleShardsError` name every shard concerned.
- A machine too small for a shard is a `ShardMemoryError`, raised before any work starts.
- Deterministic failures (`InputError`, `ShardMemoryError` and their kinds, and the training
  toolkit's failure to install or import the code channel) fail the same way every time, so
  they are never retried, which on SageMaker would bill a job for a certain failure; the
  others (a killed process, a lost spot instance) are retried.
- Spark's driver JVM ending mid-asset (killed, out of memory) is a `SparkDriverLostError`
  naming the asset, in place of the socket error py4j gives; the run fails and is re-run whole.
- Nothing is half-written whatever is raised: outputs go to a temporary name and are renamed.
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


class ParameterError(InputError):
    """A GENIE3 parameter, or an argument to the engine, is not valid."""


class SettingsError(ValueError):
    """An environment variable's value cannot be used; the message names the variable."""


class ShardError(RuntimeError):
    """A shard could not be computed, or shard outputs do not fit together."""


class MissingShardsError(ShardError):
    """The merge was asked for while some shards have no output yet."""


class StaleShardsError(ShardError):
    """Shards were computed from another expression matrix, other parameters or shard count."""


class ExportError(InputError):
    """A result cannot be written in the format asked for (a gene name it cannot hold)."""


class SparkDriverLostError(RuntimeError):
    """Spark's driver JVM ended while an asset was using it."""


class PublishError(RuntimeError):
    """A finished artifact could not be stored where it is read from (S3 stopped answering);
    the previous version stays current."""


class ShardMemoryError(MemoryError):
    """The machine is too small for this shard; raised before any work starts."""


def _kinds(*bases: type) -> set[str]:
    found, todo = set(), list(bases)
    while todo:
        kind = todo.pop()
        found.add(kind.__name__)
        todo.extend(kind.__subclasses__())
    return found


# The SageMaker training toolkit's errors for a code channel the image cannot install or import.
TOOLKIT_DETERMINISTIC = {"InstallRequirementsError", "InstallModuleError", "ImportModuleError"}


def names_a_deterministic_failure(reason: str) -> bool:
    """Whether a failure's text (the shard program's failure file, SageMaker's FailureReason,
    which quotes it) names an error that would recur on a retry."""
    kinds = _kinds(InputError, ShardMemoryError) | TOOLKIT_DETERMINISTIC
    return bool(re.search(r"\b(" + "|".join(sorted(kinds)) + r")\b", reason))
