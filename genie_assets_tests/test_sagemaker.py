"""Shards as SageMaker training jobs, against a real SageMaker/S3 API (moto) on loopback."""

import io
import json
import os
import shutil
import subprocess
import tarfile
import urllib.request
from pathlib import Path

import boto3
import pandas as pd
import pytest
from moto.server import ThreadedMotoServer

from genie_assets.engine import genie3
from genie_assets.engine.compile_cache import (
    MANIFEST,
    SHIPPED_FOLDER,
    portable_cache,
    shared_cache_name,
)
from genie_assets.errors import PublishError
from genie_assets.inputs.toy import toy_dataset
from genie_assets.pipeline.resources import S3ArtifactStore, SageMakerShardRunner
from genie_assets.pipeline.resources.sagemaker_runner import (
    CONTAINER_REQUIREMENTS,
    DEFAULT_SKLEARN_IMAGE,
    SKLEARN_IMAGE_PYTHON,
    job_name,
    source_tarball,
)
from genie_assets.shard.sharding import targets_for_shard
from genie_assets_tests.helpers import (
    DAGSTER,
    DOWNSTREAM,
    REPO,
    SHARD_KEYS,
    execute_job,
    failure_messages,
    free_port,
    local_resources,
    new_instance,
    overlap,
    run,
    run_shard_partitions_at_once,
)
from genie_assets_tests.sagemaker_standin import (
    SageMakerContainerStandIn,
    resolve_requirements,
)

# Credentials moto accepts, distinct enough to be found wherever they leak.
ACCESS_KEY_ID = "AKIAGENIEASSETSTEST1"
SECRET_KEY = "genie-secret-never-logged-7f3a9c"
N_TREES = 100
BUCKET = "genie-test"
ROLE = "arn:aws:iam::123456789012:role/genie-sagemaker"


class MotoOnLoopback:
    """A moto server on a free loopback port, which a test may stop and start again there
    (moto's state lives in this process, so it outlasts a stop)."""

    def __init__(self):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.server = None

    def start(self):
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def stop(self):
        if self.server is not None:
            self.server.stop()
            self.server = None


@pytest.fixture
def moto_server():
    server = MotoOnLoopback()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def moto_endpoint(moto_server, monkeypatch, tmp_path):
    endpoint = moto_server.endpoint
    # moto's backends live in the process and outlast a server: start each test from nothing.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    for name, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
                        "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": "us-east-1",
                        "AWS_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    role = boto3.client("iam").create_role(RoleName="genie-sagemaker",
                                           AssumeRolePolicyDocument=json.dumps(trust))
    assert role["Role"]["Arn"] == ROLE
    standin = SageMakerContainerStandIn(endpoint, tmp_path / "containers")
    standin.install(monkeypatch)
    return endpoint, standin


def aws_resources(root, **runner):
    resources = local_resources(root, n_trees=N_TREES)
    resources["store"] = S3ArtifactStore(root=str(root), bucket=BUCKET, prefix="runs")
    # The default image: the prebuilt scikit-learn one, whose Python the stand-in checks can
    # install the code channel's requirements.txt.
    resources["shard_runner"] = SageMakerShardRunner(
        role_arn=ROLE, bucket=BUCKET, prefix="runs", instance_type="ml.c5.2xlarge",
        poll_seconds=0.2, **runner)
    return resources


def test_job_names_are_valid_and_unique():
    names = {job_name(key, run_id, attempt) for key in SHARD_KEYS
             for run_id in ("0f1e2d3c-aaaa", "9a8b7c6d-bbbb") for attempt in (0, 1)}
    assert len(names) == len(SHARD_KEYS) * 4
    for name in names:
        assert len(name) <= 63 and name.replace("-", "").isalnum() and name[0].isalnum()


def test_the_code_channel_ships_the_engine_compiled_for_any_sagemaker_cpu():
    shipped = portable_cache()
    with tarfile.open(fileobj=io.BytesIO(source_tarball(engine_cache=shipped))) as archive:
        names = set(archive.getnames())
        manifest = json.load(archive.extractfile(f"genie_assets/{SHIPPED_FOLDER}/{MANIFEST}"))
    assert manifest["cpu"] == "x86-64-v3" and manifest["numba"] in CONTAINER_REQUIREMENTS[0]
    compiled = [n for n in names if n.startswith(f"genie_assets/{SHIPPED_FOLDER}/")
                and n.endswith(".nbc")]
    assert any("grow_forest" in n for n in compiled), sorted(names)


@pytest.mark.slow
def test_jobs_whose_image_the_shipped_cache_does_not_fit_compile_once_and_share_it(
        moto_endpoint, tmp_path):
    """The first job compiles the engine for any SageMaker CPU and leaves it in the bucket; the
    next one starts from it. Here no cache is shipped, as for an image whose Python differs."""
    resources = aws_resources(tmp_path / "store", ship_engine_cache=False)
    instance = new_instance()
    assert run(["expression_matrix"], resources, instance).success
    compiled = []
    for key in SHARD_KEYS[:2]:
        result = run(["importance_shards"], resources, instance, partition_key=key)
        assert result.success, failure_messages(result)
        metadata = result.asset_materializations_for_node("importance_shards")[0].metadata
        compiled.append(metadata["compile_seconds"].value)
    assert compiled[0] > 10 and compiled[1] < 5, compiled
    shared = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="runs/engine-cache/")
    assert [o["Key"] for o in shared["Contents"]] == [
        f"runs/engine-cache/{shared_cache_name()}.tar.gz"]


def test_source_tarball_carries_the_shard_program():

    with tarfile.open(fileobj=io.BytesIO(source_tarball())) as archive:
        names = set(archive.getnames())
    assert {"genie_assets/shard/program.py", "genie_assets/shard/__main__.py",
            "genie_assets/engine/fast.py", "genie_shard_entry.py", "requirements.txt"} <= names
    assert not any(name.startswith("genie_assets/pipeline/") for name in names), \
        "the Dagster layer stays out of the container"
    assert source_tarball() == source_tarball(), "deterministic, so uploaded once"
    with tarfile.open(fileobj=io.BytesIO(source_tarball(with_requirements=False))) as archive:
        assert "requirements.txt" not in archive.getnames(), "your own image installs nothing"


def test_the_default_image_can_install_the_code_channel_and_an_older_one_cannot():
    """pip's resolver for each image's Python: a pin the image cannot install fails here."""
    requirements = "\n".join(CONTAINER_REQUIREMENTS)
    default = SKLEARN_IMAGE_PYTHON[DEFAULT_SKLEARN_IMAGE]
    resolved = resolve_requirements(default, requirements)
    assert resolved.returncode == 0, resolved.stderr[-2000:]
    too_old = resolve_requirements(SKLEARN_IMAGE_PYTHON["1.2-1"], requirements)
    assert too_old.returncode != 0
    # Python 3.9: neither this numba release nor dagster-pipes 1.13 is built for it.
    refused = too_old.stderr.rsplit("No matching distribution found for ", 1)[-1].split()[0]
    assert refused in CONTAINER_REQUIREMENTS, too_old.stderr[-2000:]


def test_an_image_that_cannot_install_the_code_channel_fails_once(moto_endpoint, tmp_path):
    resources = aws_resources(tmp_path / "store", sklearn_image_version="1.2-1")
    instance = new_instance()
    assert run(["expression_matrix"], resources, instance).success
    result = run(["importance_shards"], resources, instance, partition_key=SHARD_KEYS[0])
    assert not result.success
    message = failure_messages(result)
    assert "InstallRequirementsError" in message and "Python 3.9" in message
    assert any(r in message for r in CONTAINER_REQUIREMENTS) and "not retried" in message
    _, standin = moto_endpoint
    assert len(standin.created) == 1, "a certain failure is billed once"
    assert not resources["store"].shard_file(SHARD_KEYS[0]).exists()


def test_shards_as_training_jobs_give_the_local_edges(moto_endpoint, tmp_path, spark):
    _, standin = moto_endpoint
    resources = aws_resources(tmp_path / "store", use_spot=True, tags={"team": "grn"})
    instance = new_instance()
    assert run(["expression_matrix"], resources, instance).success
    for key in SHARD_KEYS:
        result = run(["importance_shards"], resources, instance, partition_key=key)
        assert result.success, failure_messages(result)
        metadata = result.asset_materializations_for_node("importance_shards")[0].metadata
        assert metadata["runner"].value == "sagemaker"
        assert metadata["instance_type"].value == "ml.c5.2xlarge"
        assert metadata["billable_seconds"].value >= 1
        assert metadata["estimated_cost_usd"].value > 0
        assert metadata["seconds_per_target"].value > 0, "Pipes metadata came back through S3"
        # The container had no compiled engine but the portable one its code channel ships.
        assert metadata["compile_seconds"].value < 5, metadata["compile_seconds"].value
        assert metadata["job_name"].value.startswith(f"genie-{key}-")
        # One host's edges were copied inside S3 (CopyObject), not through this machine.
        assert not resources["store"].shard_file(key).exists()
        assert resources["store"].shard_report(key)["partition_key"] == key
    # Downstream on a machine that has nothing but the bucket: a fresh, empty working copy.
    elsewhere = dict(resources, store=S3ArtifactStore(root=str(tmp_path / "elsewhere"),
                                                      bucket=BUCKET, prefix="runs"))
    result = run(DOWNSTREAM, elsewhere, instance)
    assert result.success, failure_messages(result)
    s3 = boto3.client("s3")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="runs/")["Contents"]}
    assert {f"runs/shards/{key}.parquet" for key in SHARD_KEYS} <= keys
    assert "runs/edges/edge_table.parquet" in keys
    assert any(k.startswith("runs/network/filtered_network.parquet.versions/") and "/part-" in k
               for k in keys)
    assert "runs/network/filtered_network.parquet.current" in keys
    assert {"runs/network/hub_genes.tsv", "runs/exports/filtered_network.graphml"} <= keys
    hubs = result.asset_materializations_for_node("hub_genes")[0].metadata
    assert hubs["path"].value == f"s3://{BUCKET}/runs/network/hub_genes.parquet"

    expression, regulators, _ = toy_dataset()
    expected = genie3(expression, regulators, n_trees=N_TREES)
    local = tmp_path / "edge_table.parquet"
    s3.download_file(BUCKET, "runs/edges/edge_table.parquet", str(local))
    edges = pd.read_parquet(local)
    joined = expected.merge(edges, on=["regulator", "target"])
    assert len(joined) == len(expected) == len(edges)
    assert (joined.importance_x == joined.importance_y).all()

    # No credential in any event, log line, metadata, job environment or stored object.
    from dagster._serdes import serialize_value

    logged = "\n".join(serialize_value(entry) for run_record in instance.get_runs()
                       for entry in instance.all_logs(run_record.run_id))
    jobs = json.dumps([job["environment"] | job["hyper_parameters"] for job in standin.created])
    stored = "\n".join(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode("latin-1")
                       for key in keys if key.endswith((".json", ".tsv", ".graphml")))
    for secret in (ACCESS_KEY_ID, SECRET_KEY):
        for where, text in (("events", logged), ("jobs", jobs), ("bucket", stored)):
            assert secret not in text, f"{secret} in the {where}"
    assert len(logged) > 10_000, "the events were read"
    assert "engine cache: using the shipped one" in logged

    first = standin.created[0]
    assert first["environment"]["GENIE_PIPES_TRANSPORT"] == "s3"
    assert "DAGSTER_PIPES_CONTEXT" in first["environment"]
    assert first["spot"] is True
    assert {"Key": "team", "Value": "grn"} in first["tags"]
    assert first["hyper_parameters"]["n_trees"] == str(N_TREES)


@pytest.mark.slow
def test_a_backfill_never_has_more_training_jobs_running_than_the_pool_allows(
        moto_endpoint, tmp_path):
    """More shards started at once, each its own `dagster job execute` in aws mode, than the
    pool allows: the training jobs (as the stand-in ran them) keep to the limit. Slow (90 s,
    `make test-slow`): test_cli checks the same pool with the local runner in every CI run."""
    import os

    import yaml

    _, standin = moto_endpoint
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    limit = yaml.safe_load((home / "dagster.yaml").read_text())["concurrency"]["pools"][
        "default_limit"]
    env = {**os.environ, "DAGSTER_HOME": str(home), "GENIE_ENV": "aws",
           "GENIE_S3_BUCKET": BUCKET, "GENIE_S3_PREFIX": "runs", "GENIE_SAGEMAKER_ROLE_ARN": ROLE,
           "GENIE_SAGEMAKER_POLL_SECONDS": "0.5", "GENIE_ARTIFACTS_DIR": str(tmp_path / "art"),
           "GENIE_N_SHARDS": str(limit + 2), "GENIE_N_TREES": "50"}
    expressed = execute_job(env, "expression_job")
    assert expressed.returncode == 0, expressed.stderr[-3000:]
    keys = [f"shard-{index:04d}" for index in range(limit + 2)]
    whole_runs = run_shard_partitions_at_once(env, keys)

    assert len(standin.created) == len(keys)
    assert sorted(job["name"].split("-")[2] for job in standin.created) == \
        sorted(key.split("-")[1] for key in keys)
    assert overlap(whole_runs) > limit, "the runs were under way together"
    assert overlap(list(standin.windows.values())) <= limit, \
        "yet no more training jobs than the pool's limit ran at once"
    stored = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix="runs/shards/")
    assert {o["Key"] for o in stored["Contents"] if o["Key"].endswith(".parquet")} == {
        f"runs/shards/{key}.parquet" for key in keys}


def test_failed_job_fails_its_partition_with_the_failure_reason(moto_endpoint, tmp_path,
                                                                monkeypatch):
    resources = aws_resources(tmp_path / "store")
    instance = new_instance()
    assert run(["expression_matrix"], resources, instance).success
    # The job's container sees a tiny machine: the shard program refuses, the job ends Failed.
    monkeypatch.setenv("GENIE_MEMORY_LIMIT_BYTES", str(32 << 20))
    result = run(["importance_shards"], resources, instance, partition_key=SHARD_KEYS[1])
    assert not result.success
    message = failure_messages(result)
    assert "ended Failed" in message and "ShardMemoryError" in message
    assert "not retried: it would fail again" in message
    assert SHARD_KEYS[1] not in resources["store"].list_shards()
    # A certain failure is billed once: one training job, no retry.
    _, standin = moto_endpoint
    jobs = [job for job in standin.created if f"-{SHARD_KEYS[1]}-" in job["name"]]
    assert len(jobs) == 1, [job["name"] for job in jobs]
    # Fix the cause, backfill the partition: it completes.
    monkeypatch.delenv("GENIE_MEMORY_LIMIT_BYTES")
    assert run(["importance_shards"], resources, instance, partition_key=SHARD_KEYS[1]).success
    # In the bucket (copied there inside S3), with its report.
    assert SHARD_KEYS[1] in resources["store"].list_shards()
    assert resources["store"].shard_report(SHARD_KEYS[1])["runner"] == "sagemaker"


def test_interrupted_run_stops_its_training_job(moto_endpoint, tmp_path):
    import os
    import signal
    import threading
    import time

    _, standin = moto_endpoint
    resources = aws_resources(tmp_path / "store")
    # A job long enough to interrupt.
    resources["genie3"] = resources["genie3"].__class__(n_trees=8_000)
    instance = new_instance()
    assert run(["expression_matrix"], resources, instance).success

    def interrupt_once_running():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if standin.processes:
                time.sleep(1.0)
                process = next(iter(standin.processes.values()))[0]
                # Only while the step is surely still waiting on its job: a SIGINT outside
                # Dagster's interrupt handling would stop the test session itself.
                if process.poll() is None:
                    os.kill(os.getpid(), signal.SIGINT)  # what cancelling the run delivers
                return
            time.sleep(0.1)

    threading.Thread(target=interrupt_once_running, daemon=True).start()
    # Interrupted (what Terminate delivers): the job is stopped and the step is not retried
    # under its RetryPolicy, which would start another training job.
    result = run(["importance_shards"], resources, instance, partition_key=SHARD_KEYS[0])
    assert not result.success
    assert [job["name"][-3:] for job in standin.created] == ["-a0"], "no second attempt"
    name = standin.created[0]["name"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = boto3.client("sagemaker").describe_training_job(
            TrainingJobName=name)["TrainingJobStatus"]
        if status == "Stopped":
            break
        time.sleep(0.5)
    assert status == "Stopped"
    assert all(p.poll() is not None for p in standin.processes[name]), "the container stopped"


def test_a_job_of_two_hosts_splits_the_shard_and_forwards_both_hosts_logs(
        moto_endpoint, tmp_path, capfd):
    _, standin = moto_endpoint
    resources = aws_resources(tmp_path / "store", instance_count=2)
    instance = new_instance()
    assert run(["expression_matrix"], resources, instance).success
    key = SHARD_KEYS[0]
    result = run(["importance_shards"], resources, instance, partition_key=key)
    assert result.success, failure_messages(result)
    metadata = result.asset_materializations_for_node("importance_shards")[0].metadata
    assert metadata["instance_count"].value == 2
    assert metadata["host"].value == "algo-1,algo-2"
    assert standin.created[0]["resource_config"]["InstanceCount"] == 2

    expression, regulators, _ = toy_dataset()
    targets = targets_for_shard(list(expression.columns), 0, len(SHARD_KEYS))
    assert metadata["n_targets"].value == len(targets)
    expected = genie3(expression, regulators, targets=targets, n_trees=N_TREES)
    shard = pd.read_parquet(resources["store"].shard_file(key))
    joined = expected.merge(shard, on=["regulator", "target"])
    assert len(joined) == len(expected) == len(shard)
    assert (joined.importance_x == joined.importance_y).all()
    report = json.loads(resources["store"].shard_file(key).with_suffix(".json").read_text())
    assert sorted(h["host"] for h in report["hosts"]) == ["algo-1", "algo-2"]
    assert sum(h["n_targets"] for h in report["hosts"]) == len(targets)

    # algo-2 does not speak Pipes: its progress reaches the step only through CloudWatch Logs.
    out = capfd.readouterr().out
    assert f"[algo-2] {key}: " in out and "targets done" in out
    assert f"[algo-2] {key}: output uploaded to s3://{BUCKET}/" in out


def test_a_folder_on_s3_is_replaced_whole_or_not_at_all(moto_endpoint, tmp_path, monkeypatch):
    writer = S3ArtifactStore(root=str(tmp_path / "writer"), bucket=BUCKET, prefix="atomic")
    reader = S3ArtifactStore(root=str(tmp_path / "reader"), bucket=BUCKET, prefix="atomic")

    def write(names, text):
        with writer.writing("network", "table.parquet") as temporary:
            temporary.mkdir()
            for name in names:
                (temporary / name).write_text(text)

    def seen():
        folder = reader.local_copy("network", "table.parquet")
        return {path.name: path.read_text() for path in folder.iterdir()}

    write(["part-0", "part-1"], "v1")
    assert seen() == {"part-0": "v1", "part-1": "v1"}
    # S3 stops answering after the first file of the next version is up.
    uploaded = []
    upload = S3ArtifactStore._upload

    def unreachable_after_one(store, client, path, key):
        if uploaded:
            raise ConnectionError("S3 stopped answering")
        uploaded.append(key)
        upload(store, client, path, key)

    monkeypatch.setattr(S3ArtifactStore, "_upload", unreachable_after_one)
    with pytest.raises(PublishError, match=r"table\.parquet: could not be stored .*S3 stopped "
                       "answering.*the previous version is still the current one"):
        write(["part-0", "part-2"], "v2")
    monkeypatch.setattr(S3ArtifactStore, "_upload", upload)
    assert seen() == {"part-0": "v1", "part-1": "v1"}, "the old version, whole"
    write(["part-0", "part-2"], "v3")
    assert seen() == {"part-0": "v3", "part-2": "v3"}
    write(["part-9"], "v4")
    assert seen() == {"part-9": "v4"}
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(
        Bucket=BUCKET, Prefix="atomic/network/table.parquet.versions/")["Contents"]]
    versions = {key.split(".versions/")[1].split("/")[0] for key in keys}
    assert len(versions) == 2, "the current and the previous version; the rest cleaned up"


def bucket_objects(prefix: str) -> dict[str, tuple[str, float]]:
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    return {o["Key"]: (o["ETag"], o["LastModified"].timestamp()) for o in listed}


def test_s3_stopping_mid_merge_leaves_the_previous_edge_table(moto_endpoint, moto_server,
                                                              tmp_path, monkeypatch):
    """The moto server itself is stopped: once while the merge fetches the shards on a fresh
    machine, once as the merged table goes up. Each time the run fails saying so, the bucket
    and the local copy keep the previous table, and with S3 back a re-run gives the same."""
    from genie_assets.pipeline.layout import EDGE_TABLE

    resources = local_resources(tmp_path / "store", n_trees=N_TREES, n_jobs=1)
    store = S3ArtifactStore(root=str(tmp_path / "store"), bucket=BUCKET, prefix="merge")
    resources["store"] = store
    instance = new_instance()
    assert run(["expression_matrix"], resources, instance).success
    for key in SHARD_KEYS:
        assert run(["importance_shards"], resources, instance, partition_key=key).success
    assert run(["edge_table"], resources, instance).success
    table = store.path(*EDGE_TABLE)
    good = pd.read_parquet(table)
    in_bucket = bucket_objects("merge/")
    local = (table.stat().st_mtime_ns, table.read_bytes())

    def stopping_s3(method, after_calls):
        calls = []
        original = getattr(S3ArtifactStore, method)

        def stops_then_calls(self, *args, **kwargs):
            calls.append(args)
            if len(calls) == after_calls:
                moto_server.stop()
            return original(self, *args, **kwargs)

        monkeypatch.setattr(S3ArtifactStore, method, stops_then_calls)
        return original

    def fails_and_keeps_the_previous_table(expected):
        result = run(["edge_table"], resources, instance)
        assert not result.success
        message = failure_messages(result)
        assert expected in message and "Could not connect to the endpoint URL" in message, \
            message
        moto_server.start()
        assert bucket_objects("merge/") == in_bucket, "the bucket changed"
        assert not [p for p in Path(store.root).rglob("*") if ".tmp-" in p.name]

    # A fresh machine: no local shards, S3 stops after the first is fetched.
    shutil.rmtree(store.path("shards"))
    original = stopping_s3("_download", after_calls=2)
    fails_and_keeps_the_previous_table("Could not connect")
    monkeypatch.setattr(S3ArtifactStore, "_download", original)
    assert (table.stat().st_mtime_ns, table.read_bytes()) == local

    # S3 stops as the merged table is uploaded.
    original = stopping_s3("_upload", after_calls=1)
    fails_and_keeps_the_previous_table(
        "s3://genie-test/merge/edges/edge_table.parquet: could not be stored")
    monkeypatch.setattr(S3ArtifactStore, "_upload", original)
    assert (table.stat().st_mtime_ns, table.read_bytes()) == local, "the local copy changed"

    assert run(["edge_table"], resources, instance).success
    pd.testing.assert_frame_equal(pd.read_parquet(store.local_copy(*EDGE_TABLE)), good)



def test_spark_reads_the_artifacts_from_the_bucket_through_s3a(moto_endpoint, toy_run,
                                                               tmp_path):
    """GENIE_ENV=aws with GENIE_SPARK_READS_S3: the Spark assets, run through the CLI on a
    machine with an empty working copy, read the edge table and their own outputs from the
    moto server with hadoop-aws (the jars `make setup` fetched), never from a local copy,
    and give the local run's tables."""
    from genie_assets.pipeline.layout import EDGE_TABLE, FILTERED_NETWORK
    from genie_assets.pipeline.spark_jars import hadoop_aws_jars
    from genie_assets.settings import deployment
    from genie_assets_tests.test_spark_cluster import SPARK_ASSETS, sorted_table

    assert hadoop_aws_jars(Path(deployment().spark.jars_dir)), \
        "hadoop-aws not in the jar cache: `make setup` fetches it"
    local_store, _, _ = toy_run
    uploader = S3ArtifactStore(root=str(tmp_path / "uploader"), bucket=BUCKET, prefix="s3a")
    uploader.put_file(local_store.path(*EDGE_TABLE), uploader.path(*EDGE_TABLE))
    elsewhere = tmp_path / "elsewhere"
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home),
           "GENIE_ARTIFACTS_DIR": str(elsewhere), "GENIE_ENV": "aws",
           "GENIE_S3_BUCKET": BUCKET, "GENIE_S3_PREFIX": "s3a",
           "GENIE_SAGEMAKER_ROLE_ARN": ROLE, "GENIE_SPARK_READS_S3": "true",
           # The credentials from the environment only: the SDK's chain would go on to ask an
           # instance-metadata address, which no test may reach.
           "GENIE_SPARK_CONF": json.dumps({
               "spark.hadoop.fs.s3a.aws.credentials.provider":
                   "software.amazon.awssdk.auth.credentials."
                   "EnvironmentVariableCredentialsProvider"})}
    done = subprocess.run(
        [DAGSTER, "asset", "materialize", "-m", "genie_assets.definitions",
         "--select", ",".join(SPARK_ASSETS)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-4000:]
    # Spark read the edge table through s3a: no local copy of it was ever made.
    assert not elsewhere.joinpath(*EDGE_TABLE).exists()
    reader = S3ArtifactStore(root=str(tmp_path / "reader"), bucket=BUCKET, prefix="s3a",
                             spark_reads_s3=True)
    assert reader.spark_path(*FILTERED_NETWORK).startswith(
        f"s3a://{BUCKET}/s3a/network/filtered_network.parquet.versions/")
    for parts in (FILTERED_NETWORK, ("network", "gene_degrees.parquet"),
                  ("network", "hub_genes.parquet")):
        pd.testing.assert_frame_equal(sorted_table(reader.local_copy(*parts)),
                                      sorted_table(local_store.path(*parts)),
                                      check_exact=False, rtol=1e-9)
