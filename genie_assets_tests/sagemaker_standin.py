"""A stand-in for the SageMaker training container, for tests against a moto server.

moto records a training job but runs nothing and marks it Completed at once. This plays the
part SageMaker's machines play, behind moto's real API: when a job is created it is marked
InProgress, its input channels are downloaded from moto's S3, the code channel's tarball is
unpacked and its entry point run under the SageMaker contract (SM_* variables, hyperparameters
file, the job's Environment) on each of the job's hosts (one process per host, SM_CURRENT_HOST
algo-1, algo-2, ...), each host's output goes to CloudWatch Logs as the stream
`<job>/<host>-<epoch>` in /aws/sagemaker/TrainingJobs, algo-1's model directory is uploaded as
model.tar.gz, and the job ends Completed, or Failed with the text of a failed host's
/opt/ml/output/failure as its FailureReason. It also answers StopTrainingJob, which moto lacks.
The code under test talks to moto only over HTTP.
"""

import functools
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import boto3
from moto.core.responses import ActionResult
from moto.sagemaker.responses import SageMakerResponse

from genie_assets.pipeline.resources.sagemaker_runner import image_python

LOG_GROUP = "/aws/sagemaker/TrainingJobs"


class SageMakerContainerStandIn:
    def __init__(self, endpoint_url: str, workdir: Path):
        self.endpoint_url = endpoint_url
        self.workdir = workdir
        self.processes: dict[str, list[subprocess.Popen]] = {}
        self.threads: list[threading.Thread] = []
        self.created: list[dict] = []
        # Each job's (start, end) in wall-clock seconds: from InProgress to its final status.
        self.windows: dict[str, tuple[float, float]] = {}

    def install(self, monkeypatch) -> None:
        standin = self
        original_create = SageMakerResponse.create_training_job

        def create_training_job(response):
            result = original_create(response)
            name = response._get_param("TrainingJobName")
            job = response.sagemaker_backend.training_jobs[name]
            job.training_job_status, job.secondary_status = "InProgress", "Training"
            environment = response._get_param("Environment") or {}
            standin.created.append({"name": name, "environment": environment,
                                    "hyper_parameters": dict(job.hyper_parameters),
                                    "resource_config": job.resource_config,
                                    "tags": job.tags,
                                    "spot": job.enable_managed_spot_training})
            thread = threading.Thread(target=standin.run_container, args=(job, environment),
                                      daemon=True)
            standin.threads.append(thread)
            thread.start()
            return result

        def stop_training_job(response):
            name = response._get_param("TrainingJobName")
            job = response.sagemaker_backend.training_jobs[name]
            job.training_job_status = "Stopping"
            for process in standin.processes.get(name, []):
                if process.poll() is None:
                    process.terminate()
            return ActionResult({})

        monkeypatch.setattr(SageMakerResponse, "create_training_job", create_training_job)
        monkeypatch.setattr(SageMakerResponse, "stop_training_job", stop_training_job,
                            raising=False)

    def s3(self):
        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name="us-east-1")

    def run_container(self, job, environment: dict) -> None:
        began = time.time()
        try:
            self._run_container(job, environment)
        finally:
            self.windows[job.training_job_name] = (began, time.time())

    def _run_container(self, job, environment: dict) -> None:
        started = time.monotonic()
        root = self.workdir / job.training_job_name
        s3 = self.s3()
        channels = {}
        for channel in job.input_data_config:
            name = channel["ChannelName"]
            uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
            bucket, prefix = uri.removeprefix("s3://").split("/", 1)
            target = root / "input" / "data" / name
            target.mkdir(parents=True, exist_ok=True)
            for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
                s3.download_file(bucket, item["Key"], str(target / Path(item["Key"]).name))
            channels[name] = target
        config = root / "input" / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "hyperparameters.json").write_text(json.dumps(job.hyper_parameters))
        # What the training toolkit does with sagemaker_submit_directory and sagemaker_program:
        # unpack the code (/opt/ml/code in a real container), here into the job's own folder.
        # Like a fresh container, it has no compiled engine but what the code channel ships.
        tarball = Path(job.hyper_parameters["sagemaker_submit_directory"].replace(
            "/opt/ml/input/data/code", str(channels["code"])))
        code = unpacked_code(tarball, root / "code")
        refused = self.refused_requirements(job, code)
        if refused:
            job.failure_reason = refused
            job.training_job_status = job.secondary_status = "Failed"
            return
        hosts = [f"algo-{i}" for i in range(1, job.resource_config["InstanceCount"] + 1)]
        logs = boto3.client("logs", endpoint_url=self.endpoint_url, region_name="us-east-1")
        try:
            logs.create_log_group(logGroupName=LOG_GROUP)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        processes, forwarders = [], []
        for host in hosts:
            host_root = root / host
            model, output = host_root / "model", host_root / "output"
            model.mkdir(parents=True)
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")},
                **environment,
                "PYTHONPATH": str(code), "PYTHONUNBUFFERED": "1",
                "SM_INPUT_DIR": str(root / "input"), "SM_INPUT_CONFIG_DIR": str(config),
                "SM_MODEL_DIR": str(model), "SM_OUTPUT_DIR": str(output),
                "SM_CURRENT_HOST": host, "SM_HOSTS": json.dumps(hosts),
                "SM_NUM_CPUS": str(os.cpu_count() or 1),
                **{f"SM_CHANNEL_{name.upper()}": str(path) for name, path in channels.items()},
            }
            process = subprocess.Popen(
                [sys.executable, str(code / job.hyper_parameters["sagemaker_program"])],
                cwd=code, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            processes.append(process)
            stream = f"{job.training_job_name}/{host}-{int(time.time())}"
            logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=stream)
            forwarder = threading.Thread(target=self.send_to_cloudwatch,
                                         args=(logs, stream, process), daemon=True)
            forwarder.start()
            forwarders.append(forwarder)
        self.processes[job.training_job_name] = processes
        codes = [process.wait() for process in processes]
        for forwarder in forwarders:
            forwarder.join()
        job.billable_time_in_seconds = (int(time.monotonic() - started) + 1) * len(hosts)
        if job.training_job_status == "Stopping":
            job.training_job_status = job.secondary_status = "Stopped"
            return
        for host, code_returned in zip(hosts, codes):
            if code_returned != 0:
                failure = root / host / "output" / "failure"
                job.failure_reason = (failure.read_text() if failure.exists()
                                      else f"AlgorithmError: exit code {code_returned}")
                job.training_job_status = job.secondary_status = "Failed"
                return
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for path in sorted((root / "algo-1" / "model").iterdir()):
                archive.add(path, arcname=path.name)
        bucket, key = job.model_artifacts["S3ModelArtifacts"].removeprefix("s3://").split("/", 1)
        s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
        job.training_job_status = job.secondary_status = "Completed"

    @staticmethod
    def refused_requirements(job, code: Path) -> str:
        """What the training toolkit does with requirements.txt, for the image's Python (from
        the runner's image table): pip's own resolver, for that Python and platform. Empty when
        it installs (or there is nothing to install)."""
        requirements = code / "requirements.txt"
        if not requirements.is_file():
            return ""
        image = job.algorithm_specification["TrainingImage"]
        python = image_python(image)
        if python is None:
            return f"stand-in: no Python version known for image {image}"
        resolved = resolve_requirements(python, requirements.read_text())
        if resolved.returncode == 0:
            return ""
        errors = [line for line in resolved.stderr.splitlines() if line.startswith("ERROR")]
        return (f"AlgorithmError: InstallRequirementsError: pip could not install "
                f"requirements.txt on {image} (Python {python}): "
                f"{(errors[-1] if errors else resolved.stderr)[:600]}")

    @staticmethod
    def send_to_cloudwatch(logs, stream: str, process: subprocess.Popen) -> None:
        for line in process.stdout:
            logs.put_log_events(logGroupName=LOG_GROUP, logStreamName=stream, logEvents=[
                {"timestamp": int(time.time() * 1000), "message": line.rstrip("\n")}])


@functools.lru_cache(maxsize=None)
def resolve_requirements(python_version: str, requirements: str) -> subprocess.CompletedProcess:
    """pip's resolver for a container's Python on Linux x86-64, installing nothing (wheels
    only, as the toolkit's pip would find no compiler for most of these)."""
    with tempfile.TemporaryDirectory() as scratch:
        listed = Path(scratch) / "requirements.txt"
        listed.write_text(requirements)
        return subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
             "--only-binary=:all:", "--python-version", python_version, "--implementation",
             "cp", "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64",
             "--target", str(Path(scratch) / "target"), "--quiet", "-r", str(listed)],
            capture_output=True, text=True, timeout=600)


def unpacked_code(tarball: Path, code: Path) -> Path:
    """The code channel's tarball unpacked into `code`."""
    code.mkdir(parents=True)
    with tarfile.open(tarball) as archive:
        archive.extractall(code, filter="data")
    return code
