"""Settings: both deployments load from an environment, and bad values are named."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from genie_assets.errors import SettingsError
from genie_assets.settings import Settings
from genie_assets_tests.conftest import REPO

SHOW_RESOURCES = """
import json
import sys
from dagster import AssetKey
from genie_assets import definitions
r = definitions.defs.resources
print(json.dumps({
    "store": type(r["store"]).__name__, "runner": type(r["shard_runner"]).__name__,
    "bucket": getattr(r["store"], "bucket", None),
    "role": getattr(r["shard_runner"], "role_arn", None),
    "instance_count": getattr(r["shard_runner"], "instance_count", None),
    "n_trees": r["genie3"].n_trees,
    "partitions": definitions.defs.resolve_assets_def("importance_shards")
        .partitions_def.get_partition_keys(),
    "code_version": definitions.defs.resolve_assets_def("importance_shards")
        .code_versions_by_key[AssetKey("importance_shards")],
    "aws_modules": sorted(m for m in ("dagster_aws", "boto3") if m in sys.modules),
    "shard_executor": definitions.defs.resolve_job_def("shards_job").executor_def.name,
}, default=str))
"""


def load_definitions(tmp_path, **variables):
    env = {key: value for key, value in os.environ.items() if not key.startswith("GENIE_")}
    env.update(GENIE_ARTIFACTS_DIR=str(tmp_path / "artifacts"), **variables)
    return subprocess.run([sys.executable, "-c", SHOW_RESOURCES], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_local_deployment_loads_with_its_resources(tmp_path):
    done = load_definitions(tmp_path, GENIE_N_SHARDS="3", GENIE_N_TREES="50")
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert (loaded["store"], loaded["runner"]) == ("ArtifactStore", "LocalShardRunner")
    assert loaded["partitions"] == ["shard-0000", "shard-0001", "shard-0002"]
    assert loaded["n_trees"] == 50
    # What every shard run's worker pays at start: a local one loads no AWS client (a second
    # of imports), and runs its step in its own process instead of starting another.
    assert loaded["aws_modules"] == []
    assert loaded["shard_executor"] == "in_process"
    # The shards' code version comes from the registered parameters: 50 trees, not 1000.
    default = json.loads(load_definitions(tmp_path).stdout.splitlines()[-1])
    assert loaded["code_version"] != default["code_version"]


def test_the_aws_deployment_loads_with_its_resources(tmp_path):
    done = load_definitions(tmp_path, GENIE_ENV="aws", GENIE_S3_BUCKET="my-bucket",
                            GENIE_SAGEMAKER_ROLE_ARN="arn:aws:iam::123456789012:role/genie",
                            GENIE_SAGEMAKER_INSTANCE_COUNT="2", AWS_REGION="eu-west-1")
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert (loaded["store"], loaded["runner"]) == ("S3ArtifactStore", "SageMakerShardRunner")
    assert loaded["bucket"] == "my-bucket"
    assert loaded["role"] == "arn:aws:iam::123456789012:role/genie"
    assert loaded["instance_count"] == 2


def test_an_unknown_environment_is_refused_naming_the_choices(tmp_path):
    done = load_definitions(tmp_path, GENIE_ENV="gcp")
    assert done.returncode != 0
    assert "GENIE_ENV='gcp' is not one of local, aws" in done.stderr


@pytest.mark.parametrize("variable,value,message", [
    ("GENIE_N_TREES", "many", "GENIE_N_TREES='many' is not a whole number"),
    ("GENIE_N_SHARDS", "0", "GENIE_N_SHARDS='0' must be at least 1"),
    ("GENIE_SAGEMAKER_SPOT", "maybe", "GENIE_SAGEMAKER_SPOT='maybe' must be true or false"),
    ("GENIE_SAGEMAKER_TAGS", "[1]", "GENIE_SAGEMAKER_TAGS must be a JSON object"),
    ("GENIE_SAGEMAKER_POLL_SECONDS", "0", "GENIE_SAGEMAKER_POLL_SECONDS='0' must be more than 0"),
    ("GENIE_SAGEMAKER_POLL_SECONDS", "soon", "'soon' is not a number of seconds"),
    ("GENIE_METHOD", "GBT", "method must be one of"),
    ("GENIE_SPARK_MASTER", "spark:/host", "GENIE_SPARK_MASTER='spark:/host' is not a Spark master"),
    ("GENIE_SPARK_CONF", '["spark.executor.memory"]', "GENIE_SPARK_CONF must be a JSON object"),
    ("GENIE_SPARK_REMOTE", "http://host:15002", "GENIE_SPARK_REMOTE='http://host:15002' is not "
     "a Spark Connect URL"),
])
def test_a_value_that_cannot_be_used_names_its_variable(variable, value, message):
    with pytest.raises(SettingsError, match=message.replace("[", r"\[")):
        Settings.from_environ({variable: value})


def test_the_environment_is_read_in_the_settings_module_only():
    readers = []
    for path in sorted((REPO / "genie_assets").rglob("*.py")):
        if path.name == "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")
                    and isinstance(node.value, ast.Name) and node.value.id == "os"):
                readers.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert readers == []
    assert Path(REPO / "genie_assets" / "settings.py").is_file()


@pytest.mark.parametrize("master,expected", [
    (None, {"spark.master": "local[3]", "spark.driver.host": "127.0.0.1",
            "spark.sql.shuffle.partitions": "6"}),
    ("spark://127.0.0.1:7077", {"spark.master": "spark://127.0.0.1:7077",
                                "spark.driver.host": "127.0.0.1",
                                "spark.pyspark.python": sys.executable,
                                "spark.sql.shuffle.partitions": None}),
    ("yarn", {"spark.master": "yarn", "spark.driver.host": None,
              "spark.sql.shuffle.partitions": None, "spark.pyspark.python": None}),
])
def test_the_spark_master_chooses_what_local_mode_settings_stay(master, expected):
    from genie_assets.pipeline.resources import spark_config

    env = {"GENIE_SPARK_CORES": "3", "GENIE_SPARK_CONF": '{"spark.executor.memory": "16g"}'}
    if master:
        env["GENIE_SPARK_MASTER"] = master
    config = spark_config(Settings.from_environ(env).spark)
    assert {key: config.get(key) for key in expected} == expected
    assert config["spark.executor.memory"] == "16g", "the profile goes on top"


def test_spark_connect_takes_the_place_of_a_master():
    from genie_assets.pipeline.resources import spark_config

    with pytest.raises(SettingsError, match="GENIE_SPARK_MASTER and GENIE_SPARK_REMOTE"):
        Settings.from_environ({"GENIE_SPARK_MASTER": "yarn",
                               "GENIE_SPARK_REMOTE": "sc://spark-connect:15002"})
    config = spark_config(Settings.from_environ({
        "GENIE_SPARK_REMOTE": "sc://spark-connect:15002",
        "GENIE_SPARK_CONF": '{"spark.sql.shuffle.partitions": "400"}'}).spark)
    # The server owns its JVM: no master, driver or jar settings from the client.
    assert config == {"spark.remote": "sc://spark-connect:15002", "spark.app.name": "genie-assets",
                      "spark.sql.shuffle.partitions": "400"}


def test_spark_reads_s3_with_the_cached_hadoop_aws_and_the_endpoint_set_or_refuses(tmp_path):
    from genie_assets.pipeline.resources import spark_config
    from genie_assets.pipeline.spark_jars import hadoop_aws_set, pyspark_hadoop_version

    env = {"GENIE_ENV": "aws", "GENIE_SPARK_READS_S3": "true", "AWS_REGION": "eu-west-1",
           "AWS_ENDPOINT_URL": "http://127.0.0.1:5999", "GENIE_JARS_DIR": str(tmp_path)}
    settings = Settings.from_environ(env)
    with pytest.raises(SettingsError, match="GENIE_SPARK_READS_S3=true needs hadoop-aws"):
        spark_config(settings.spark, s3a=settings.aws)
    jar_set = hadoop_aws_set(pyspark_hadoop_version())
    folder = tmp_path / jar_set.folder_name
    folder.mkdir()
    (folder / "hadoop-aws.jar").write_bytes(b"PK")
    (folder / "bundle.jar").write_bytes(b"PK")
    (folder / "manifest.json").write_text(json.dumps(
        {"coordinates": list(jar_set.coordinates), "jars": ["bundle.jar", "hadoop-aws.jar"]}))
    config = spark_config(settings.spark, s3a=settings.aws)
    assert config["spark.jars"].split(",") == [str(folder / "bundle.jar"),
                                               str(folder / "hadoop-aws.jar")]
    assert config["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:5999"
    assert config["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert config["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert config["spark.hadoop.fs.s3a.endpoint.region"] == "eu-west-1"
    assert not any("secret" in key or "access.key" in key for key in config), \
        "credentials stay in the SDK's chain"
