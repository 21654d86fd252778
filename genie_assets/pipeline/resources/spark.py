"""The Spark session: local mode by default, a cluster's master (GENIE_SPARK_MASTER) or a Spark
Connect server (GENIE_SPARK_REMOTE), with GraphFrames' jar resolved from configuration."""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any, Iterator, Optional
from urllib.parse import urlsplit

from dagster_pyspark import LazyPySparkResource

from genie_assets import settings
from genie_assets.errors import SettingsError, SparkDriverLostError
from genie_assets.pipeline import spark_jars
from genie_assets.settings import AwsSettings, SparkSettings

MIN_JAVA = 17


class JavaMissingError(EnvironmentError):
    """Spark needs a Java runtime that is not there."""


def require_java() -> str:
    """Return the java version string, or raise with what to install."""
    java_home = settings.java_home()
    java = os.path.join(java_home, "bin", "java") if java_home else shutil.which("java")
    if not java or not os.path.exists(java):
        raise JavaMissingError(
            f"Spark needs Java {MIN_JAVA} or newer and none was found (JAVA_HOME="
            f"{java_home or 'unset'}, no `java` on PATH). Install it, e.g. "
            f"`sudo apt-get install openjdk-{MIN_JAVA}-jre-headless`, or set JAVA_HOME."
        )
    output = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    major = int(match.group(1)) if match else 0
    if major == 1 and match and match.group(2):  # "1.8" style
        major = int(match.group(2))
    if major < MIN_JAVA:
        raise JavaMissingError(
            f"Spark needs Java {MIN_JAVA} or newer; {java} is "
            f"{output.splitlines()[0] if output else 'unknown'}"
        )
    return output.splitlines()[0]


def local_spark_config(cores: int = 2, driver_memory: str = "4g",
                       graphframes: Optional[tuple[Optional[str], Optional[str]]] = None,
                       jars_dir: Optional[str] = None) -> dict[str, Any]:
    """Local-mode settings sized for a laptop; GraphFrames from `graphframes` (package, jar),
    by default the deployment's (GENIE_GRAPHFRAMES_PACKAGE / GENIE_GRAPHFRAMES_JAR), else the
    jars `make setup` fetched into `jars_dir` (by default GENIE_JARS_DIR)."""
    config: dict[str, Any] = {
        "spark.master": f"local[{cores}]",
        "spark.app.name": "genie-assets",
        "spark.driver.memory": driver_memory,
        "spark.sql.shuffle.partitions": str(max(2, cores * 2)),
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.driver.host": "127.0.0.1",
    }
    if graphframes is None:
        deployed = settings.deployment().spark
        graphframes = deployed.graphframes_package, deployed.graphframes_jar
    package, jar = graphframes
    if not package and not jar:
        cache = Path(jars_dir or settings.deployment().spark.jars_dir)
        jar = ",".join(str(path) for path in spark_jars.graphframes_jars(cache))
    if package:
        config["spark.jars.packages"] = package
    if jar:
        config["spark.jars"] = jar
    return config


def s3a_config(aws: AwsSettings, jars_dir: str) -> dict[str, Any]:
    """Spark's s3a:// reads of the artifacts' bucket: hadoop-aws and its AWS SDK (fetched by
    `make setup`), the region, and an endpoint of S3's own where one is set (path-style, as an
    S3-compatible store wants). Credentials stay in the SDK's own chain (environment, profile,
    instance role), never in Spark's settings."""
    jars = spark_jars.hadoop_aws_jars(Path(jars_dir))
    if not jars:
        raise SettingsError(
            "GENIE_SPARK_READS_S3=true needs hadoop-aws on Spark's classpath and none is in "
            f"{jars_dir}: run `make setup` (it fetches hadoop-aws "
            f"{spark_jars.pyspark_hadoop_version()} from Maven Central), or set it false")
    config = {"spark.jars": ",".join(str(jar) for jar in jars),
              "spark.hadoop.fs.s3a.endpoint.region": aws.region}
    if aws.s3_endpoint:
        endpoint = urlsplit(aws.s3_endpoint)
        config.update({
            "spark.hadoop.fs.s3a.endpoint": aws.s3_endpoint,
            "spark.hadoop.fs.s3a.path.style.access": "true",
            "spark.hadoop.fs.s3a.connection.ssl.enabled": str(endpoint.scheme == "https").lower(),
        })
    return config


class GraphFramesMismatchError(EnvironmentError):
    """The GraphFrames jar configured is not the release of the graphframes-py installed."""


# The jar's version in a Maven coordinate (io.graphframes:graphframes-spark4_2.13:0.12.1) or a
# jar's file name (graphframes-spark4_2.13-0.12.1.jar).
GRAPHFRAMES_JAR_VERSION = re.compile(r"graphframes[-\w.]*?[:-](\d+\.\d+)(\.\d+)?(?:\.jar)?$")


def require_matching_graphframes(config: dict[str, Any]) -> None:
    """The configured GraphFrames jar and graphframes-py are one release (same major.minor):
    their Python and JVM halves call each other, and across releases that fails mid-job."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        python_side = version("graphframes-py")
    except PackageNotFoundError:
        return
    for key in ("spark.jars.packages", "spark.jars"):
        for entry in filter(None, (config.get(key) or "").split(",")):
            match = GRAPHFRAMES_JAR_VERSION.search(entry.strip())
            if match and match.group(1) != ".".join(python_side.split(".")[:2]):
                raise GraphFramesMismatchError(
                    f"{key}={entry.strip()} is GraphFrames {match.group(1)}{match.group(2) or ''}"
                    f" but graphframes-py is {python_side}: use the jar of release "
                    f"{'.'.join(python_side.split('.')[:2])}.x (e.g. io.graphframes:"
                    f"graphframes-spark4_2.13:{python_side})")


LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Local-mode sizing that a cluster decides for itself (or its profile, GENIE_SPARK_CONF, does).
LOCAL_ONLY = ("spark.driver.bindAddress", "spark.driver.host", "spark.sql.shuffle.partitions")


def spark_config(spark: SparkSettings, driver_memory: str = "4g",
                 s3a: Optional[AwsSettings] = None) -> dict[str, Any]:
    """The deployment's settings: local mode sized by GENIE_SPARK_CORES, or its master, with
    s3a:// reads of `s3a`'s bucket where given, then GENIE_SPARK_CONF on top."""
    if spark.remote:
        # The server owns the JVM, its master and its jars; only session settings go with us.
        return {"spark.remote": spark.remote, "spark.app.name": "genie-assets", **spark.conf}
    config = local_spark_config(cores=spark.cores, driver_memory=driver_memory,
                                graphframes=(spark.graphframes_package, spark.graphframes_jar),
                                jars_dir=spark.jars_dir)
    config["spark.master"] = spark.master
    if s3a is not None:
        reads = s3a_config(s3a, spark.jars_dir)
        config["spark.jars"] = ",".join(filter(None, (config.get("spark.jars"),
                                                      reads.pop("spark.jars"))))
        config.update(reads)
    if not spark.master.startswith("local"):
        hosts = {urlsplit(f"//{address}").hostname
                 for address in spark.master.removeprefix("spark://").split(",")}
        if spark.master.startswith("spark://") and hosts <= LOOPBACK:
            # A cluster on this machine: its executors run this Python, reached on loopback.
            config["spark.pyspark.python"] = sys.executable
            config.pop("spark.sql.shuffle.partitions")
        else:
            for key in LOCAL_ONLY:
                config.pop(key)
    config.update(spark.conf)
    return config


def where_spark_runs(session, remote: Optional[str] = None) -> dict[str, Any]:
    """The session's master and how many executors it had (for a session of the Spark
    Connect server `remote`, the server and its master), for an asset's metadata."""
    master = session.conf.get("spark.master")
    if remote:
        # The executors are the server's business: a Connect client cannot list them.
        return {"spark_remote": remote, "spark_master": master}
    if master.startswith("local"):
        return {"spark_master": master, "spark_executors": 1}
    # The driver is listed too.
    registered = session.sparkContext._jsc.sc().getExecutorMemoryStatus().size()  # noqa: SLF001
    return {"spark_master": master, "spark_executors": registered - 1}


class SparkResource(LazyPySparkResource):
    """dagster-pyspark's lazy session, checking for Java and a GraphFrames jar of the right
    release first, with a clear message."""

    def _init_session(self) -> None:
        if not self.remote:  # a Connect client has no JVM
            require_java()
            require_matching_graphframes(self.spark_config or {})
        super()._init_session()

    @property
    def remote(self) -> Optional[str]:
        """The Spark Connect server the session talks to, if it is one's."""
        return (self.spark_config or {}).get("spark.remote")

    def where_it_runs(self) -> dict[str, Any]:
        """`where_spark_runs` of this resource's session."""
        return where_spark_runs(self.spark_session, self.remote)

    def may_have_graphframes(self) -> bool:
        """Whether this session loads any extra jar, GraphFrames' perhaps (asked without
        starting Spark: without one, GraphFrames cannot be there)."""
        config = self.spark_config or {}
        return any(config.get(key) for key in ("spark.jars", "spark.jars.packages"))


def _driver_lost(error: BaseException) -> bool:
    """Whether `error` is py4j finding Spark's driver JVM gone: a socket error raised inside
    py4j, or the JVM exiting while the session started."""
    if getattr(error, "getCondition", lambda: None)() == "JAVA_GATEWAY_EXITED":
        return True
    if type(error).__name__ == "Py4JNetworkError":
        return True
    return isinstance(error, ConnectionError) and any(
        "py4j" in frame.filename for frame in traceback.extract_tb(error.__traceback__))


@contextlib.contextmanager
def driver_loss_explained(asset: str) -> Iterator[None]:
    """Run an asset's Spark work; if the driver JVM dies meanwhile, say so in place of py4j's
    `Connection refused`, which names neither Spark nor the asset."""
    try:
        yield
    except Exception as error:
        if not _driver_lost(error):
            raise
        raise SparkDriverLostError(
            f"{asset}: Spark's driver JVM ended mid-job ({type(error).__name__}: {error}). It "
            f"was killed, or ran out of memory (raise spark.driver.memory in GENIE_SPARK_CONF). "
            f"The stored {asset} was not replaced; run the job again.") from error
