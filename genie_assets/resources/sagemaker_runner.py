"""The cloud shard runner: one Amazon SageMaker training job per shard partition.

In the style of dagster-aws's Pipes clients (ECS, Glue, EMR Serverless): it opens a Pipes
session whose context and messages travel through S3 (dagster-aws's PipesS3ContextInjector and
PipesS3MessageReader), starts the job with the bootstrap variables in its environment, polls it
to the end, stops it if the Dagster run is interrupted, and fails the partition with SageMaker's
FailureReason. The job runs the same shard program as the local runner: its code arrives as the
`code` channel (a source tarball the training toolkit installs and runs), its inputs as the
`expression` channel.
"""

import hashlib
import io
import json
import re
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Optional

import boto3
from dagster import AssetExecutionContext, MaterializeResult
from dagster._core.errors import DagsterExecutionInterruptedError
from dagster._core.pipes.utils import open_pipes_session
from dagster_aws.pipes import PipesS3ContextInjector, PipesS3MessageReader
from pydantic import Field

from genie_assets.errors import ShardError
from genie_assets.pricing import cost_usd
from genie_assets.resources.shard_runner import ShardRunner
from genie_assets.resources.storage import LocalArtifactStore
from genie_assets.shard import PIPES_TRANSPORT_ENV

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
ENTRY_POINT = "genie_shard_entry.py"
# What the training image must add to run the shard program (installed by the toolkit).
CONTAINER_REQUIREMENTS = ["numba>=0.60", "dagster-pipes==1.13.27", "pyarrow>=14", "boto3"]
TERMINAL = {"Completed", "Failed", "Stopped"}
MAX_JOB_NAME = 63


def job_name(partition_key: str, run_id: str, attempt: int) -> str:
    """Valid (letters, digits, hyphens; ≤ 63) and unique per run, partition and attempt."""
    raw = f"genie-{partition_key}-{run_id[:8]}-a{attempt}"
    name = re.sub(r"[^a-zA-Z0-9-]", "-", raw).strip("-")
    return name[:MAX_JOB_NAME].rstrip("-")


def source_tarball() -> bytes:
    """The genie_assets package, an entry point and requirements.txt, as sourcedir.tar.gz.

    Built deterministically (fixed mtimes, sorted names) so its hash names its S3 key and an
    unchanged code base is uploaded once.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=6) as archive:
        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            archive.addfile(info, io.BytesIO(data))

        for path in sorted(PACKAGE_ROOT.rglob("*.py")):
            add(str(Path("genie_assets") / path.relative_to(PACKAGE_ROOT)), path.read_bytes())
        add(ENTRY_POINT, b"import sys\nfrom genie_assets.shard import main\nsys.exit(main())\n")
        add("requirements.txt", "\n".join(CONTAINER_REQUIREMENTS).encode() + b"\n")
    return buffer.getvalue()


class SageMakerShardRunner(ShardRunner):
    """Runs each shard as a SageMaker training job; artifacts under s3://bucket/prefix/."""

    role_arn: str = Field(description="IAM role SageMaker assumes (S3 read/write, logs)")
    bucket: str
    prefix: str = "genie-assets"
    region: str = "us-east-1"
    image_uri: Optional[str] = Field(
        default=None, description="Training image; default: the prebuilt scikit-learn image "
        "(CPU). Any image with Python 3.9+ and the SageMaker training toolkit works, GPU ones too.")
    sklearn_image_version: str = "1.2-1"
    instance_type: str = "ml.m5.xlarge"
    instance_count: int = Field(default=1, ge=1, le=1, description=(
        "Hosts per job. One for now: whether SageMaker uploads every host's model directory "
        "is not yet verified, so a shard of several hosts could lose the other hosts' edges."))
    volume_size_gb: int = 30
    max_runtime_seconds: int = 24 * 3600
    use_spot: bool = False
    max_wait_seconds: Optional[int] = None
    tags: dict[str, str] = {}
    poll_seconds: float = 15.0

    def _clients(self):
        session = boto3.session.Session(region_name=self.region)
        return session, session.client("s3"), session.client("sagemaker")

    def _key(self, *parts: str) -> str:
        return "/".join([self.prefix.strip("/"), *parts])

    def _upload_inputs(self, s3, store: LocalArtifactStore) -> tuple[str, str]:
        """The expression channel (content-addressed by its manifest) and the code channel."""
        manifest = json.loads((store.expression_dir() / "manifest.json").read_text())
        expression_prefix = self._key("expression", manifest["fingerprint"][:16])
        for path in sorted(store.expression_dir().iterdir()):
            if path.is_file():
                s3.upload_file(str(path), self.bucket, f"{expression_prefix}/{path.name}")
        tarball = source_tarball()
        code_prefix = self._key("code", hashlib.sha256(tarball).hexdigest()[:16])
        s3.put_object(Bucket=self.bucket, Key=f"{code_prefix}/sourcedir.tar.gz", Body=tarball)
        return (f"s3://{self.bucket}/{expression_prefix}/", f"s3://{self.bucket}/{code_prefix}/")

    def _image(self) -> str:
        if self.image_uri:
            return self.image_uri
        from sagemaker.core import image_uris

        return image_uris.retrieve("sklearn", self.region, version=self.sklearn_image_version,
                                   instance_type=self.instance_type)

    def run_shard(self, context: AssetExecutionContext, store: LocalArtifactStore,
                  hyperparameters: dict[str, str]) -> MaterializeResult:
        from sagemaker.core.resources import TrainingJob
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

        partition_key = hyperparameters["partition_key"]
        session, s3, sagemaker = self._clients()
        expression_uri, code_uri = self._upload_inputs(s3, store)
        name = job_name(partition_key, context.run_id, context.retry_number)
        started = time.perf_counter()

        def channel(channel_name: str, uri: str) -> Channel:
            return Channel(channel_name=channel_name, data_source=DataSource(
                s3_data_source=S3DataSource(s3_data_type="S3Prefix", s3_uri=uri,
                                            s3_data_distribution_type="FullyReplicated")))

        with open_pipes_session(
            context=context,
            context_injector=PipesS3ContextInjector(bucket=self.bucket, client=s3,
                                                    key_prefix=self._key("pipes")),
            message_reader=PipesS3MessageReader(bucket=self.bucket, client=s3, interval=5),
        ) as pipes_session:
            environment = {**pipes_session.get_bootstrap_env_vars(), PIPES_TRANSPORT_ENV: "s3"}
            hyper = {
                **hyperparameters,
                "n_jobs": "-1",
                "sagemaker_program": ENTRY_POINT,
                "sagemaker_submit_directory": "/opt/ml/input/data/code/sourcedir.tar.gz",
            }
            stopping = StoppingCondition(max_runtime_in_seconds=self.max_runtime_seconds)
            extra = {}
            if self.use_spot:
                stopping = StoppingCondition(
                    max_runtime_in_seconds=self.max_runtime_seconds,
                    max_wait_time_in_seconds=self.max_wait_seconds or 2 * self.max_runtime_seconds)
                extra = {"enable_managed_spot_training": True, "checkpoint_config":
                         CheckpointConfig(s3_uri=f"s3://{self.bucket}/"
                                          f"{self._key('checkpoints', partition_key)}")}
            job = TrainingJob.create(
                training_job_name=name,
                role_arn=self.role_arn,
                algorithm_specification=AlgorithmSpecification(
                    training_image=self._image(), training_input_mode="File"),
                hyper_parameters=hyper,
                input_data_config=[channel("expression", expression_uri),
                                   channel("code", code_uri)],
                output_data_config=OutputDataConfig(
                    s3_output_path=f"s3://{self.bucket}/{self._key('jobs')}"),
                resource_config=ResourceConfig(instance_type=self.instance_type,
                                               instance_count=self.instance_count,
                                               volume_size_in_gb=self.volume_size_gb),
                stopping_condition=stopping,
                environment=environment,
                tags=[{"key": k, "value": v} for k, v in
                      {"genie-assets:partition": partition_key, **self.tags}.items()],
                session=session, region=self.region, **extra,
            )
            context.log.info(f"{partition_key}: SageMaker training job {name} started")
            try:
                description = self._wait(sagemaker, name)
            except DagsterExecutionInterruptedError:
                context.log.warning(f"{partition_key}: run interrupted, stopping {name}")
                sagemaker.stop_training_job(TrainingJobName=name)
                raise
            status = description["TrainingJobStatus"]
            if status != "Completed":
                raise ShardError(f"{partition_key} failed: SageMaker training job {name} ended "
                                 f"{status}: {description.get('FailureReason', 'no reason given')}")
            facts = self._collect_outputs(s3, store, partition_key, description)
        billable = float(description.get("BillableTimeInSeconds") or 0.0)
        cost = cost_usd(self.instance_type, self.instance_count, billable)
        facts.update({
            "runner": "sagemaker", "job_name": name, "job_arn": job.training_job_arn,
            "instance_type": self.instance_type, "instance_count": self.instance_count,
            "billable_seconds": billable, "managed_spot": self.use_spot,
            "wall_seconds": round(time.perf_counter() - started, 3),
            **({"estimated_cost_usd": cost} if cost is not None else {}),
        })
        report_path = store.shard_file(partition_key).with_suffix(".json")
        store.put_text(report_path, json.dumps({**json.loads(report_path.read_text()), **facts},
                                               indent=2))
        result = pipes_session.get_results()
        reported = result[0].metadata if result else {}
        return MaterializeResult(metadata={**(reported or {}), **facts})

    def _wait(self, sagemaker, name: str) -> dict:
        while True:
            description = sagemaker.describe_training_job(TrainingJobName=name)
            if description["TrainingJobStatus"] in TERMINAL:
                return description
            time.sleep(self.poll_seconds)

    def _collect_outputs(self, s3, store: LocalArtifactStore, partition_key: str,
                         description: dict) -> dict:
        """Unpack model.tar.gz: the shard file(s) land in the store under their final names."""
        uri = description["ModelArtifacts"]["S3ModelArtifacts"]
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        with tempfile.TemporaryDirectory() as scratch:
            archive_path = Path(scratch) / "model.tar.gz"
            s3.download_file(bucket, key, str(archive_path))
            with tarfile.open(archive_path) as archive:
                archive.extractall(Path(scratch) / "model", filter="data")
            model = Path(scratch) / "model"
            parquet = model / f"{partition_key}.parquet"
            if not parquet.is_file():
                raise ShardError(f"{partition_key}: the job's model.tar.gz has no {parquet.name}")
            store.put_file(parquet, store.shard_file(partition_key))
            store.put_file(model / f"{partition_key}.json",
                           store.shard_file(partition_key).with_suffix(".json"))
        return {"model_artifacts": uri}
