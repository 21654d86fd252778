"""The Spark session: local mode by default, GraphFrames' jar resolved from configuration."""


import os
import re
import shutil
import subprocess
from typing import Any, Optional

from dagster_pyspark import LazyPySparkResource

from genie_assets import settings

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
                       graphframes: Optional[tuple[Optional[str], Optional[str]]] = None
                       ) -> dict[str, Any]:
    """Local-mode settings sized for a laptop; GraphFrames from `graphframes` (package, jar),
    by default from GENIE_GRAPHFRAMES_PACKAGE / GENIE_GRAPHFRAMES_JAR."""
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
        deployed = settings.deployment()
        graphframes = deployed.graphframes_package, deployed.graphframes_jar
    package, jar = graphframes
    if package:
        config["spark.jars.packages"] = package
    if jar:
        config["spark.jars"] = jar
    return config


class SparkResource(LazyPySparkResource):
    """dagster-pyspark's lazy session, checking for Java first with a clear message."""

    def _init_session(self) -> None:
        require_java()
        super()._init_session()

    def may_have_graphframes(self) -> bool:
        """Whether this session loads any extra jar, GraphFrames' perhaps (asked without
        starting Spark: without one, GraphFrames cannot be there)."""
        config = self.spark_config or {}
        return any(config.get(key) for key in ("spark.jars", "spark.jars.packages"))
