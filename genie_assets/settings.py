"""Every setting read from the environment, read and checked here and nowhere else.

Two groups: the deployment's (`Settings`: where things run, the GENIE3 parameters, the cloud),
read once when the code location loads; and the shard process's own (`ShardProcess`: the
SageMaker container contract, a memory limit), read by the shard program where it runs. A value
that cannot be used is refused with the variable's name and what it takes. Only the standard
library and the engine's parameters are imported, so the shard program carries this module to
SageMaker as it is.

No secret is read: AWS credentials stay in boto3's own chain (environment, profile, instance
role) and never pass through a setting, metadata or log.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Mapping, Optional

from genie_assets.engine.params import Genie3Params
from genie_assets.errors import SettingsError

ENVIRONMENTS = ("local", "aws")
# The shard process's transport for Pipes messages, set by the SageMaker runner.
PIPES_TRANSPORT_ENV = "GENIE_PIPES_TRANSPORT"
MEMORY_LIMIT_ENV = "GENIE_MEMORY_LIMIT_BYTES"
GRAPHFRAMES_PACKAGE_ENV = "GENIE_GRAPHFRAMES_PACKAGE"
GRAPHFRAMES_JAR_ENV = "GENIE_GRAPHFRAMES_JAR"
JARS_DIR_ENV = "GENIE_JARS_DIR"
SPARK_MASTER_FORMS = "local[N], spark://host:port, k8s://https://host:port or yarn"
SPARK_REMOTE = re.compile(r"sc://[^/\s:]+(:\d+)?/?(;[^\s]*)?")
SPARK_MASTER = re.compile(r"local(\[(\d+|\*)(,\d+)?\])?|spark://[^/\s]+:\d+(,[^/\s]+:\d+)*"
                          r"|k8s://\S+|yarn")


def _integer(env: Mapping[str, str], name: str, default: int, minimum: Optional[int] = None
             ) -> int:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"{name}={text!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name}={text!r} must be at least {minimum}")
    return value


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"{name}={text!r} is not a number of seconds") from None
    if not value > 0:
        raise SettingsError(f"{name}={text!r} must be more than 0 seconds")
    return value


def _json_object(env: Mapping[str, str], name: str) -> dict:
    text = env.get(name, "").strip() or "{}"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise SettingsError(f"{name} is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise SettingsError(f"{name} must be a JSON object of name: value")
    return {str(key): str(item) for key, item in value.items()}


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    text = env.get(name, str(default)).strip().lower()
    if text not in ("true", "false", "1", "0", "yes", "no", ""):
        raise SettingsError(f"{name}={text!r} must be true or false")
    return text in ("true", "1", "yes") or (text == "" and default)


@dataclasses.dataclass(frozen=True)
class AwsSettings:
    """GENIE_ENV=aws: shards as SageMaker training jobs, artifacts under s3://bucket/prefix/."""

    bucket: str
    prefix: str
    region: str
    role_arn: str
    image_uri: Optional[str]
    instance_type: str
    instance_count: int
    tags: dict
    volume_size_gb: int
    max_runtime_seconds: int
    use_spot: bool
    spark_reads_s3: bool
    poll_seconds: float
    # S3's address where it is not AWS's own (an S3-compatible store; moto in the tests), as
    # boto3 takes it: Spark's s3a connector is told the same.
    s3_endpoint: Optional[str] = None

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> "AwsSettings":
        return cls(
            bucket=env.get("GENIE_S3_BUCKET", ""),
            prefix=env.get("GENIE_S3_PREFIX", "genie-assets"),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            role_arn=env.get("GENIE_SAGEMAKER_ROLE_ARN", ""),
            image_uri=env.get("GENIE_SAGEMAKER_IMAGE") or None,
            instance_type=env.get("GENIE_SAGEMAKER_INSTANCE_TYPE", "ml.m5.xlarge"),
            instance_count=_integer(env, "GENIE_SAGEMAKER_INSTANCE_COUNT", 1, minimum=1),
            tags=_json_object(env, "GENIE_SAGEMAKER_TAGS"),
            volume_size_gb=_integer(env, "GENIE_SAGEMAKER_VOLUME_GB", 30, minimum=1),
            max_runtime_seconds=_integer(env, "GENIE_SAGEMAKER_MAX_RUNTIME", 24 * 3600,
                                         minimum=1),
            use_spot=_flag(env, "GENIE_SAGEMAKER_SPOT"),
            spark_reads_s3=_flag(env, "GENIE_SPARK_READS_S3"),
            poll_seconds=_seconds(env, "GENIE_SAGEMAKER_POLL_SECONDS", 15.0),
            s3_endpoint=(env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
                         or None),
        )


@dataclasses.dataclass(frozen=True)
class SparkSettings:
    """Where the Spark assets run, local mode (the default) or a cluster's master, and any
    Spark configuration besides (a cluster profile: executor memory, cores, partitions)."""

    master: str
    cores: int
    conf: dict
    graphframes_package: Optional[str]
    graphframes_jar: Optional[str]
    remote: Optional[str] = None  # a Spark Connect server, in place of a master
    # Where `make setup` keeps the jars it fetched (GraphFrames, hadoop-aws): spark_jars.py.
    jars_dir: str = ".genie/jars"

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> "SparkSettings":
        cores = _integer(env, "GENIE_SPARK_CORES", 2, minimum=1)
        master = env.get("GENIE_SPARK_MASTER", "").strip() or f"local[{cores}]"
        if not SPARK_MASTER.fullmatch(master):
            raise SettingsError(f"GENIE_SPARK_MASTER={master!r} is not a Spark master: "
                                f"{SPARK_MASTER_FORMS}")
        remote = env.get("GENIE_SPARK_REMOTE", "").strip() or None
        if remote and not SPARK_REMOTE.fullmatch(remote):
            raise SettingsError(f"GENIE_SPARK_REMOTE={remote!r} is not a Spark Connect URL: "
                                "sc://host[:port] (15002 by default)")
        if remote and env.get("GENIE_SPARK_MASTER", "").strip():
            raise SettingsError(f"GENIE_SPARK_MASTER and GENIE_SPARK_REMOTE={remote!r} are both "
                                "set: a Spark Connect server has its own master; set one")
        return cls(master=master, cores=cores,
                   conf=_json_object(env, "GENIE_SPARK_CONF"),
                   graphframes_package=env.get(GRAPHFRAMES_PACKAGE_ENV) or None,
                   graphframes_jar=env.get(GRAPHFRAMES_JAR_ENV) or None, remote=remote,
                   jars_dir=str(Path(env.get(JARS_DIR_ENV, "").strip() or ".genie/jars")
                                .resolve()))


@dataclasses.dataclass(frozen=True)
class Settings:
    """This deployment: what GENIE_ENV chooses and what every environment shares."""

    environment: str
    artifacts_dir: str
    n_shards: int
    shard_cores: int
    spark: SparkSettings
    genie3: Genie3Params
    price_table_path: Optional[str]
    automation: bool  # the sensor rebuilding the network after the shards starts on
    aws: AwsSettings

    @classmethod
    def from_environ(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        environment = env.get("GENIE_ENV", "local").strip() or "local"
        if environment not in ENVIRONMENTS:
            raise SettingsError(f"GENIE_ENV={environment!r} is not one of "
                                f"{', '.join(ENVIRONMENTS)}")
        # Every GENIE3 parameter from GENIE_<ITS NAME> (GENIE_METHOD, GENIE_N_TREES, ...);
        # those unset take the method's default.
        given = {name: env.get(f"GENIE_{name.upper()}", "").strip()
                 for name in Genie3Params.field_names()}
        try:
            genie3 = Genie3Params.from_dict(given)
        except ValueError as error:
            # "n_trees='many' is not ..." names its variable: GENIE_N_TREES='many' is not ...
            text = str(error)
            for name in given:
                if text.startswith(f"{name}="):
                    raise SettingsError(f"GENIE_{name.upper()}{text[len(name):]}") from None
            named = ", ".join(f"GENIE_{name.upper()}={value}" for name, value in given.items()
                              if value)
            raise SettingsError(f"{named or 'the GENIE3 defaults'}: {text}") from None
        return cls(
            environment=environment,
            artifacts_dir=str(Path(env.get("GENIE_ARTIFACTS_DIR", ".genie/artifacts"))
                              .resolve()),
            n_shards=_integer(env, "GENIE_N_SHARDS", 4, minimum=1),
            shard_cores=_integer(env, "GENIE_SHARD_CORES", -1),
            spark=SparkSettings.from_environ(env),
            genie3=genie3,
            price_table_path=env.get("GENIE_PRICE_TABLE") or None,
            automation=_flag(env, "GENIE_AUTOMATION", default=True),
            aws=AwsSettings.from_environ(env),
        )


@dataclasses.dataclass(frozen=True)
class ShardProcess:
    """What the shard program reads where it runs: the SageMaker training contract (its
    defaults are SageMaker's paths), a memory limit, and how Pipes reaches Dagster."""

    input_dir: Path
    config_dir: Path
    model_dir: Path
    output_dir: Path
    expression_dir: Path
    current_host: str
    hosts: list
    memory_limit_bytes: Optional[int]
    pipes_over_s3: bool

    @classmethod
    def from_environ(cls, env: Optional[Mapping[str, str]] = None) -> "ShardProcess":
        env = os.environ if env is None else env
        input_dir = Path(env.get("SM_INPUT_DIR", "/opt/ml/input"))
        current_host = env.get("SM_CURRENT_HOST", "algo-1")
        limit = _integer(env, MEMORY_LIMIT_ENV, 0, minimum=0)
        return cls(
            input_dir=input_dir,
            config_dir=Path(env.get("SM_INPUT_CONFIG_DIR", input_dir / "config")),
            model_dir=Path(env.get("SM_MODEL_DIR", "/opt/ml/model")),
            output_dir=Path(env.get("SM_OUTPUT_DIR", "/opt/ml/output")),
            expression_dir=Path(env.get("SM_CHANNEL_EXPRESSION",
                                        input_dir / "data" / "expression")),
            current_host=current_host,
            hosts=json.loads(env.get("SM_HOSTS", json.dumps([current_host]))),
            memory_limit_bytes=limit or None,
            pipes_over_s3=env.get(PIPES_TRANSPORT_ENV) == "s3",
        )


def java_home() -> Optional[str]:
    return os.environ.get("JAVA_HOME") or None


def python_path() -> str:
    return os.environ.get("PYTHONPATH", "")


def deployment() -> Settings:
    """The deployment's settings, read once per process."""
    global _DEPLOYMENT
    if _DEPLOYMENT is None:
        _DEPLOYMENT = Settings.from_environ()
    return _DEPLOYMENT


_DEPLOYMENT: Optional[Settings] = None


def environment_for_child(**overrides: str) -> dict[str, str]:
    """This process's environment with `overrides` on top, for a process it starts (the
    daemon the backfill CLI starts runs without the network's automation, for one)."""
    return {**os.environ, **overrides}


def adopt_environment(values: dict[str, str]) -> None:
    """Put `values` into this process's environment: a forked child taking the environment
    that a process started afresh would have been given."""
    os.environ.update(values)
