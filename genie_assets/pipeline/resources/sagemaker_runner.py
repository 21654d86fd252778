"""The cloud shard runner: one Amazon SageMaker training job per shard partition.

In the style of dagster-aws's Pipes clients (ECS, Glue, EMR Serverless): it opens a Pipes
session whose context and messages travel through S3 (dagster-aws's PipesS3ContextInjector and
PipesS3MessageReader), starts the job with the bootstrap variables in its environment, polls it
to the end, stops it if the Dagster run is interrupted, and fails the partition with SageMaker's
FailureReason. The job runs the same shard program as the local runner: its code arrives as the
`code` channel (a source tarball the training toolkit installs and runs), its inputs as the
`expression` channel. Each of the job's hosts uploads its own output under the job's prefix;
each host's CloudWatch log stream is forwarded to the step's stdout.
"""

import hashlib
import io
import json
import re
import sys
import tarfile
import tempfile
import threading
import time
from importlib.metadata import version
from pathlib import Path
from typing import Optional

import boto3
import botocore.exceptions
from dagster import AssetExecutionContext, MaterializeResult
from dagster._core.errors import DagsterExecutionInterruptedError
from dagster._core.pipes.utils import forward_only_logs_to_file, open_pipes_session
from dagster_aws.pipes import (
    PipesCloudWatchLogReader,
    PipesS3ContextInjector,
    PipesS3MessageReader,
)
from dagster_aws.pipes.message_readers import get_log_events
from pydantic import Field

from genie_assets.errors import ShardError
from genie_assets.pipeline.pricing import cost_usd
from genie_assets.pipeline.resources.shard_runner import (
    ShardRunner,
    interrupted_shard,
    shard_failure,
)
from genie_assets.pipeline.resources.storage import ArtifactStore
from genie_assets.settings import PIPES_TRANSPORT_ENV
from genie_assets.shard.contract import (
    MANIFEST_FILE,
    REQUIREMENTS_FILE,
    SHARD_TOTALS,
    ShardTask,
    edges_file,
    output_name,
    report_file,
    with_runner_facts,
)
from genie_assets.shard.program import combine_host_outputs

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
ENTRY_POINT = "genie_shard_entry.py"
ENTRY_SCRIPT = b"import runpy\nrunpy.run_module('genie_assets.shard', run_name='__main__')\n"
# What the shard program imports, and nothing of the Dagster layer.
CODE_CHANNEL_PARTS = ("__init__.py", "errors.py", "files.py", "settings.py", "engine/", "shard/")
# What the prebuilt image must add to run the shard program (the toolkit installs it from the
# code channel's requirements.txt). NumPy stays 1.x: the image's pandas and scikit-learn are
# built on it.
# numba is this machine's own release: the shipped engine cache is valid for that one only.
CONTAINER_REQUIREMENTS = [f"numba=={version('numba')}", "numpy<2", "dagster-pipes==1.13.27",
                          "pyarrow>=14", "boto3"]
# The prebuilt scikit-learn training images' Python, as their published Dockerfiles set it
# (PYTHON_VERSION). dagster-pipes 1.13 needs 3.10 or newer.
SKLEARN_IMAGE_PYTHON = {"1.2-1": "3.9", "1.4-2": "3.10"}
DEFAULT_SKLEARN_IMAGE = "1.4-2"
SKLEARN_IMAGE_TAG = re.compile(r"/sagemaker-scikit-learn:(?P<version>\d+\.\d+-\d+)-")


def image_python(image_uri: str) -> Optional[str]:
    """The Python version of a prebuilt scikit-learn image (None for any other image)."""
    match = SKLEARN_IMAGE_TAG.search(image_uri)
    return SKLEARN_IMAGE_PYTHON.get(match["version"]) if match else None
TERMINAL = {"Completed", "Failed", "Stopped"}
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
MAX_JOB_NAME = 63


def job_name(partition_key: str, run_id: str, attempt: int) -> str:
    """Valid (letters, digits, hyphens; ≤ 63) and unique per run, partition and attempt."""
    raw = f"genie-{partition_key}-{run_id[:8]}-a{attempt}"
    name = re.sub(r"[^a-zA-Z0-9-]", "-", raw).strip("-")
    return name[:MAX_JOB_NAME].rstrip("-")


def source_tarball(with_requirements: bool = True, engine_cache: Optional[Path] = None) -> bytes:
    """The shard program's layers of genie_assets (`CODE_CHANNEL_PARTS`), an entry point,
    (for an image that lacks them) requirements.txt and, if given, the engine compiled for any
    SageMaker instance (compile_cache.portable_cache), as sourcedir.tar.gz.

    Built deterministically (fixed mtimes, sorted names) so its hash names its S3 key and an
    unchanged code base is uploaded once.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as archive:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            archive.addfile(info, io.BytesIO(data))

        for part in CODE_CHANNEL_PARTS:
            paths = sorted((PACKAGE_ROOT / part).rglob("*.py")) if part.endswith("/") else \
                [PACKAGE_ROOT / part]
            for path in paths:
                add(str(Path("genie_assets") / path.relative_to(PACKAGE_ROOT)), path.read_bytes())
        if engine_cache is not None:
            from genie_assets.engine.compile_cache import SHIPPED_FOLDER, shipped_files

            for path in shipped_files(engine_cache):
                add(str(Path("genie_assets", SHIPPED_FOLDER, path.relative_to(engine_cache))),
                    path.read_bytes())
        add(ENTRY_POINT, ENTRY_SCRIPT)
        if with_requirements:
            add(REQUIREMENTS_FILE, "\n".join(CONTAINER_REQUIREMENTS).encode() + b"\n")
    return buffer.getvalue()


class TrainingJobLogReader(PipesCloudWatchLogReader):
    """Forwards one host's CloudWatch log stream to the step's stdout.

    dagster-aws's reader polls without pause and only notices the session's end when a new
    event arrives, so its thread can outlive the step; this one waits between polls, drains
    the stream once more after the session closes, and then ends.
    """

    def __init__(self, *args, poll_seconds: float = 5.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.poll_seconds = poll_seconds

    def start(self, params, is_session_closed: threading.Event) -> None:
        self.thread = threading.Thread(target=self._start, args=(params, is_session_closed),
                                       daemon=True, name=f"logs {self.log_stream}")
        self.thread.start()

    def _start(self, params, is_session_closed: threading.Event) -> None:
        token = None
        while True:
            closed = is_session_closed.is_set()
            while True:
                page = {"nextToken": token} if token else {"startFromHead": True}
                response = get_log_events(self.client, max_retries=self.max_retries,
                                          logGroupName=self.log_group,
                                          logStreamName=self.log_stream, **page)
                for event in response.get("events", []):
                    for line in event.get("message", "").splitlines():
                        if line:
                            forward_only_logs_to_file(line, self.target_stream)
                finished = not response.get("events") or response["nextForwardToken"] == token
                token = response["nextForwardToken"]
                if finished:
                    break
            if closed:
                return
            is_session_closed.wait(self.poll_seconds)


class SageMakerShardRunner(ShardRunner):
    """Runs each shard as a SageMaker training job; artifacts under s3://bucket/prefix/."""

    role_arn: str = Field(description="IAM role SageMaker assumes (S3 read/write, logs)")
    bucket: str
    prefix: str = "genie-assets"
    region: str = "us-east-1"
    image_uri: Optional[str] = Field(
        default=None, description="Your own training image, which must already have "
        "CONTAINER_REQUIREMENTS (nothing is installed at start); default: the prebuilt "
        "scikit-learn image, which installs them from the code channel.")
    sklearn_image_version: str = Field(default=DEFAULT_SKLEARN_IMAGE, description=(
        f"Version of the prebuilt image, one of {sorted(SKLEARN_IMAGE_PYTHON)}"))
    ship_engine_cache: bool = Field(default=True, description=(
        "Ship the engine compiled for x86-64-v3 in the code channel, so that a job whose "
        "Python, numba and NumPy match this machine's starts computing at once instead of "
        "compiling for 1-2 minutes; built once per engine version (a few minutes)."))
    instance_type: str = "ml.m5.xlarge"
    instance_count: int = Field(default=1, ge=1, description=(
        "Hosts per job; the shard's targets are split across them (SM_HOSTS), each host "
        "uploads its own output and only algo-1 speaks Pipes."))
    volume_size_gb: int = 30
    max_runtime_seconds: int = 24 * 3600
    use_spot: bool = False
    max_wait_seconds: Optional[int] = None
    tags: dict[str, str] = {}
    poll_seconds: float = 15.0
    log_group: str = Field(default=LOG_GROUP, description=(
        "CloudWatch Logs group of the jobs' output, forwarded to the step's stdout"))

    def _clients(self):
        session = boto3.session.Session(region_name=self.region)
        return session, session.client("s3"), session.client("sagemaker")

    def hosts(self) -> list[str]:
        return [f"algo-{i}" for i in range(1, self.instance_count + 1)]

    def _key(self, *parts: str) -> str:
        return "/".join([self.prefix.strip("/"), *parts])

    def _upload_inputs(self, s3, store: ArtifactStore) -> tuple[str, str]:
        """The expression channel (content-addressed by its manifest) and the code channel."""
        manifest = json.loads((store.expression_dir() / MANIFEST_FILE).read_text())
        expression_prefix = self._key("expression", manifest["fingerprint"][:16])
        for path in sorted(store.expression_dir().iterdir()):
            if path.is_file():
                s3.upload_file(str(path), self.bucket, f"{expression_prefix}/{path.name}")
        engine_cache = None
        if self.ship_engine_cache:
            from genie_assets.engine.compile_cache import portable_cache

            engine_cache = portable_cache()
        tarball = source_tarball(with_requirements=not self.image_uri, engine_cache=engine_cache)
        code_prefix = self._key("code", hashlib.sha256(tarball).hexdigest()[:16])
        # Named by its content: a code channel already there is this one (it carries the
        # compiled engine, a few MB, so every shard re-sending it would add up).
        if not self._stored(s3, f"{code_prefix}/sourcedir.tar.gz"):
            s3.put_object(Bucket=self.bucket, Key=f"{code_prefix}/sourcedir.tar.gz", Body=tarball)
        return (f"s3://{self.bucket}/{expression_prefix}/", f"s3://{self.bucket}/{code_prefix}/")

    def _stored(self, s3, key: str) -> bool:
        try:
            s3.head_object(Bucket=self.bucket, Key=key)
        except botocore.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def _image(self) -> str:
        if self.image_uri:
            return self.image_uri
        from sagemaker.core import image_uris

        if self.sklearn_image_version not in SKLEARN_IMAGE_PYTHON:
            raise ShardError(
                f"the prebuilt scikit-learn image {self.sklearn_image_version} is not one whose "
                f"Python is known to run the shard program: use one of "
                f"{sorted(SKLEARN_IMAGE_PYTHON)} or your own image (GENIE_SAGEMAKER_IMAGE)")

        return image_uris.retrieve("sklearn", self.region, version=self.sklearn_image_version,
                                   instance_type=self.instance_type)

    def run_shard(self, context: AssetExecutionContext, store: ArtifactStore,
                  task: ShardTask) -> MaterializeResult:
        from sagemaker.core.resources import TrainingJob

        partition_key = task.partition_key
        session, s3, sagemaker = self._clients()
        expression_uri, code_uri = self._upload_inputs(s3, store)
        name = job_name(partition_key, context.run_id, context.retry_number)
        host_outputs = self._key("jobs", name, "hosts")
        started = time.perf_counter()
        message_reader = PipesS3MessageReader(bucket=self.bucket, client=s3, interval=5)
        with open_pipes_session(
            context=context,
            context_injector=PipesS3ContextInjector(bucket=self.bucket, client=s3,
                                                    key_prefix=self._key("pipes")),
            message_reader=message_reader,
        ) as pipes_session:
            hyperparameters = {
                **task.on_runner(
                    n_jobs=-1, output_s3_uri=f"s3://{self.bucket}/{host_outputs}",
                    engine_cache_s3_uri=f"s3://{self.bucket}/{self._key('engine-cache')}")
                .to_hyperparameters(),
                "sagemaker_program": ENTRY_POINT,
                "sagemaker_submit_directory": "/opt/ml/input/data/code/sourcedir.tar.gz",
            }
            job = TrainingJob.create(
                **self._job_request(name, partition_key, hyperparameters,
                                    channels={"expression": expression_uri, "code": code_uri}),
                environment={**pipes_session.get_bootstrap_env_vars(),
                             PIPES_TRANSPORT_ENV: "s3"},
                session=session, region=self.region,
            )
            context.log.info(f"{partition_key}: SageMaker training job {name} started")
            description = self._completed(context, sagemaker, session.client("logs"), name,
                                          message_reader)
            shard = self._collect_outputs(s3, store, partition_key, host_outputs)
        facts = self._job_facts(name, job, description, started, host_outputs)
        # The report goes last: it marks the shard complete.
        store.put_text(store.shard_report_file(partition_key),
                       json.dumps(with_runner_facts(shard, **facts), indent=2))
        result = pipes_session.get_results()
        reported = dict(result[0].metadata or {}) if result else {}
        # algo-1 reported its own part; with several hosts the shard's figures are the sum.
        reported.update({key: shard[key] for key in SHARD_TOTALS})
        return MaterializeResult(metadata={**reported, **facts})

    def _job_request(self, name: str, partition_key: str, hyperparameters: dict[str, str],
                     channels: dict[str, str]) -> dict:
        """`TrainingJob.create`'s arguments but the session's: image, channels, instances,
        limits, spot and tags."""
        from sagemaker.core.shapes import (
            AlgorithmSpecification,
            Channel,
            CheckpointConfig,
            DataSource,
            OutputDataConfig,
            ResourceConfig,
            S3DataSource,
            StoppingCondition,
        )

        spot = {}
        stopping = StoppingCondition(max_runtime_in_seconds=self.max_runtime_seconds)
        if self.use_spot:
            stopping = StoppingCondition(
                max_runtime_in_seconds=self.max_runtime_seconds,
                max_wait_time_in_seconds=self.max_wait_seconds or 2 * self.max_runtime_seconds)
            spot = {"enable_managed_spot_training": True, "checkpoint_config": CheckpointConfig(
                s3_uri=f"s3://{self.bucket}/{self._key('checkpoints', partition_key)}")}
        return dict(
            training_job_name=name,
            role_arn=self.role_arn,
            algorithm_specification=AlgorithmSpecification(
                training_image=self._image(), training_input_mode="File"),
            hyper_parameters=hyperparameters,
            input_data_config=[
                Channel(channel_name=channel_name, data_source=DataSource(
                    s3_data_source=S3DataSource(s3_data_type="S3Prefix", s3_uri=uri,
                                                s3_data_distribution_type="FullyReplicated")))
                for channel_name, uri in channels.items()],
            output_data_config=OutputDataConfig(
                s3_output_path=f"s3://{self.bucket}/{self._key('jobs')}"),
            resource_config=ResourceConfig(instance_type=self.instance_type,
                                           instance_count=self.instance_count,
                                           volume_size_in_gb=self.volume_size_gb),
            stopping_condition=stopping,
            tags=[{"key": k, "value": v} for k, v in
                  {"genie-assets:partition": partition_key, **self.tags}.items()],
            **spot,
        )

    def _completed(self, context: AssetExecutionContext, sagemaker, logs, name: str,
                   message_reader) -> dict:
        """The job's description once it completed; a job that did not is a shard failure,
        and an interrupted run stops its job."""
        partition_key = context.partition_key
        try:
            description = self._wait(sagemaker, name, logs, message_reader)
        except DagsterExecutionInterruptedError as interrupted:
            context.log.warning(f"{partition_key}: run interrupted, stopping {name}")
            sagemaker.stop_training_job(TrainingJobName=name)
            raise interrupted_shard(f"{partition_key}: interrupted; training job {name} "
                                    "stopped") from interrupted
        status = description["TrainingJobStatus"]
        if status != "Completed":
            reason = description.get("FailureReason", "no reason given")
            raise shard_failure(f"{partition_key} failed: SageMaker training job {name} "
                                f"ended {status}: {reason}")
        return description

    def _job_facts(self, name: str, job, description: dict, started: float,
                   host_outputs: str) -> dict:
        """What the runner adds to the shard's report: the job, its instances and its cost."""
        billable = float(description.get("BillableTimeInSeconds") or 0.0)
        cost = cost_usd(self.instance_type, self.instance_count, billable)
        return {
            "runner": "sagemaker", "job_name": name, "job_arn": job.training_job_arn,
            "instance_type": self.instance_type, "instance_count": self.instance_count,
            "billable_seconds": billable, "managed_spot": self.use_spot,
            "wall_seconds": round(time.perf_counter() - started, 3),
            "host_outputs": f"s3://{self.bucket}/{host_outputs}/",
            "model_artifacts": description.get("ModelArtifacts", {}).get("S3ModelArtifacts", ""),
            **({"estimated_cost_usd": cost} if cost is not None else {}),
        }

    def _wait(self, sagemaker, name: str, logs, message_reader) -> dict:
        """Poll the job to its end; forward each host's log stream as it appears."""
        forwarded: set[str] = set()
        while True:
            description = sagemaker.describe_training_job(TrainingJobName=name)
            for stream in self._log_streams(logs, name) - forwarded:
                forwarded.add(stream)
                message_reader.add_log_reader(TrainingJobLogReader(
                    client=logs, log_group=self.log_group, log_stream=stream,
                    target_stream=sys.stdout, poll_seconds=min(self.poll_seconds, 5.0)))
            if description["TrainingJobStatus"] in TERMINAL:
                return description
            time.sleep(self.poll_seconds)

    def _log_streams(self, logs, name: str) -> set[str]:
        """SageMaker names a host's stream `<job>/<host>-<epoch>`; none exist until it starts."""
        try:
            found = logs.describe_log_streams(logGroupName=self.log_group,
                                              logStreamNamePrefix=f"{name}/")
        except logs.exceptions.ResourceNotFoundException:
            return set()
        return {stream["logStreamName"] for stream in found.get("logStreams", [])}

    def _collect_outputs(self, s3, store: ArtifactStore, partition_key: str,
                         host_outputs: str) -> dict:
        """Every host's files, as one shard file in the store under its final name; returns
        the shard's report. One host's edges are copied inside S3; several hosts' are joined
        here."""
        hosts = self.hosts()
        with tempfile.TemporaryDirectory() as scratch:
            parts = []
            for host in hosts:
                name = output_name(partition_key, host, len(hosts))
                report = self._download(s3, partition_key, host, f"{host_outputs}/"
                                        f"{report_file(name)}", Path(scratch))
                edges_key = f"{host_outputs}/{edges_file(name)}"
                if len(hosts) == 1:
                    store.put_s3_object(s3, self.bucket, edges_key,
                                        store.shard_file(partition_key))
                    return json.loads(report.read_text())
                edges = self._download(s3, partition_key, host, edges_key, Path(scratch))
                parts.append((edges, json.loads(report.read_text())))
            combined = Path(scratch) / edges_file(partition_key)
            shard = combine_host_outputs(parts, combined)
            store.put_file(combined, store.shard_file(partition_key))
        return shard

    def _download(self, s3, partition_key: str, host: str, key: str, folder: Path) -> Path:
        local = folder / key.rsplit("/", 1)[-1]
        try:
            s3.download_file(self.bucket, key, str(local))
        except botocore.exceptions.ClientError as error:
            raise ShardError(f"{partition_key}: host {host} of the job left no "
                             f"s3://{self.bucket}/{key} ({error})") from error
        return local
