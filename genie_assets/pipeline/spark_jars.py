"""The JVM jars Spark needs beyond pyspark's own, fetched once from Maven Central into a cache.

Two sets, each matched to what is installed:
- GraphFrames of the installed graphframes-py's release exactly (its core, its GraphX fork and
  its Spark Connect plugin): the Python half calls the JVM half by name, and across releases
  that fails inside Py4J with "Method ... does not exist".
- hadoop-aws of the Hadoop inside pyspark (`jars/hadoop-client-api-<version>.jar`), with the
  AWS SDK bundle it needs, for Spark's `s3a://` reads.

`make setup` runs this module (`python -m genie_assets.pipeline.spark_jars`): each set
is fetched with Maven into a folder of its own under GENIE_JARS_DIR (`.genie/jars`), named by
its version and written under a temporary name and renamed, so a cache is whole or absent;
a cached set is reused. Where Maven or an artifact cannot be had, setup says so in one line and
goes on: without GraphFrames' jars the graph is computed with Spark SQL (its assets record
which engine ran). Nothing is fetched when a session starts or a test runs.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Optional

import pyspark

from genie_assets import settings
from genie_assets.files import atomic_path
from genie_assets.pipeline.layout import JAR_SET_MANIFEST

# maven-dependency-plugin's copy-dependencies, at a release Maven Central serves here.
COPY_DEPENDENCIES = "org.apache.maven.plugins:maven-dependency-plugin:3.11.0:copy-dependencies"
GRAPHFRAMES_GROUP = "io.graphframes"
# Spark 4's Scala: the artifacts' suffix.
GRAPHFRAMES_ARTIFACTS = ("graphframes-spark4_2.13", "graphframes-graphx-spark4_2.13",
                         "graphframes-connect-spark4_2.13")


@dataclasses.dataclass(frozen=True)
class JarSet:
    """Maven artifacts fetched together, with what they depend on at run time."""

    name: str
    version: str
    coordinates: tuple[str, ...]
    # Artifacts pyspark's own jars/ already hold (the Hadoop client): not copied twice.
    exclude: tuple[str, ...] = ()

    @property
    def folder_name(self) -> str:
        return f"{self.name}-{self.version}"


def installed_graphframes_version() -> Optional[str]:
    try:
        return version("graphframes-py")
    except PackageNotFoundError:
        return None


def pyspark_hadoop_version() -> Optional[str]:
    """The Hadoop release inside pyspark, read off its client jar's name."""
    jars = Path(pyspark.__file__).parent / "jars"
    for jar in sorted(jars.glob("hadoop-client-api-*.jar")):
        return jar.name.removeprefix("hadoop-client-api-").removesuffix(".jar")
    return None


def graphframes_set(release: str) -> JarSet:
    return JarSet("graphframes", release,
                  tuple(f"{GRAPHFRAMES_GROUP}:{artifact}:{release}"
                        for artifact in GRAPHFRAMES_ARTIFACTS))


def hadoop_aws_set(hadoop: str) -> JarSet:
    return JarSet("hadoop-aws", hadoop, (f"org.apache.hadoop:hadoop-aws:{hadoop}",),
                  exclude=("org.apache.hadoop:hadoop-common",
                           "org.apache.hadoop:hadoop-client-api",
                           "org.apache.hadoop:hadoop-client-runtime"))


def wanted_sets() -> list[JarSet]:
    """The sets this installation needs: GraphFrames of graphframes-py's release, hadoop-aws
    of pyspark's Hadoop."""
    found = []
    release = installed_graphframes_version()
    if release:
        found.append(graphframes_set(release))
    hadoop = pyspark_hadoop_version()
    if hadoop:
        found.append(hadoop_aws_set(hadoop))
    return found


def cached_jars(jar_set: JarSet, jars_dir: Path) -> list[Path]:
    """The set's jars in the cache, or [] where it is not there whole (or is another
    version's)."""
    folder = jars_dir / jar_set.folder_name
    try:
        manifest = json.loads((folder / JAR_SET_MANIFEST).read_text())
    except (OSError, ValueError):
        return []
    if manifest.get("coordinates") != list(jar_set.coordinates):
        return []
    jars = [folder / name for name in manifest.get("jars", [])]
    return jars if jars and all(jar.is_file() for jar in jars) else []


def _pom(jar_set: JarSet) -> str:
    exclusions = "".join(
        f"<exclusion><groupId>{g}</groupId><artifactId>{a}</artifactId></exclusion>"
        for g, a in (entry.split(":") for entry in jar_set.exclude))
    dependencies = "".join(
        f"<dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version>"
        f"<exclusions>{exclusions}</exclusions></dependency>"
        for g, a, v in (coordinate.split(":") for coordinate in jar_set.coordinates))
    return ('<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0'
            '</modelVersion><groupId>genie-assets</groupId><artifactId>spark-jars</artifactId>'
            '<version>1</version><packaging>pom</packaging>'
            f'<dependencies>{dependencies}</dependencies></project>')


class FetchError(RuntimeError):
    """Maven could not fetch a set of jars (unreachable, or an artifact it does not serve)."""


def fetch(jar_set: JarSet, jars_dir: Path) -> list[Path]:
    """The set's jars, from the cache or fetched into it with Maven (whole or not at all)."""
    cached = cached_jars(jar_set, jars_dir)
    if cached:
        return cached
    mvn = shutil.which("mvn")
    if mvn is None:
        raise FetchError("Maven (mvn) is not installed")
    jars_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=jars_dir, prefix=".maven-") as scratch:
        work = Path(scratch)
        (work / "pom.xml").write_text(_pom(jar_set))
        with atomic_path(jars_dir / jar_set.folder_name) as folder:
            done = subprocess.run(
                [mvn, "-B", "-q", "-f", str(work / "pom.xml"), COPY_DEPENDENCIES,
                 f"-DoutputDirectory={folder}", "-DincludeScope=runtime",
                 # A repository of its own, removed after: the jars are kept once, here.
                 f"-Dmaven.repo.local={work / 'repository'}"],
                capture_output=True, text=True)
            if done.returncode != 0:
                raise FetchError(_maven_reason(done.stdout + done.stderr))
            jars = sorted(path.name for path in folder.glob("*.jar"))
            (folder / JAR_SET_MANIFEST).write_text(json.dumps(
                {"coordinates": list(jar_set.coordinates), "jars": jars}, indent=1))
    return cached_jars(jar_set, jars_dir)


def _maven_reason(output: str) -> str:
    """Maven's reason in a few words (it prints the same failure in many lines)."""
    if "Could not find artifact" in output or "was not found in" in output:
        return "not served there"
    if "Could not transfer" in output or "Unknown host" in output or "resolve host" in output:
        return "unreachable"
    tail = [line.replace("[ERROR]", "").strip() for line in output.splitlines()
            if line.strip()]
    return (tail[-1] if tail else "mvn failed")[:200]


def graphframes_jars(jars_dir: Path) -> list[Path]:
    """The cached GraphFrames jars of the installed graphframes-py, or []."""
    release = installed_graphframes_version()
    return cached_jars(graphframes_set(release), jars_dir) if release else []


def hadoop_aws_jars(jars_dir: Path) -> list[Path]:
    """The cached hadoop-aws jars of pyspark's Hadoop, or []."""
    hadoop = pyspark_hadoop_version()
    return cached_jars(hadoop_aws_set(hadoop), jars_dir) if hadoop else []


CONSEQUENCE = {
    "graphframes": "gene_degrees and gene_modules compute with Spark SQL and Leiden alone "
                   "(their `engine` metadata says so); GENIE_GRAPHFRAMES_JAR points at jars "
                   "of your own",
    "hadoop-aws": "Spark reads S3 artifacts from the local copy (GENIE_SPARK_READS_S3 needs "
                  "these jars)",
}


def main() -> int:
    jars_dir = Path(settings.deployment().spark.jars_dir)
    for jar_set in wanted_sets():
        was_cached = bool(cached_jars(jar_set, jars_dir))
        if not was_cached:
            print(f"spark jars: fetching {jar_set.folder_name} from Maven Central ...", flush=True)
        try:
            jars = fetch(jar_set, jars_dir)
        except FetchError as error:
            print(f"spark jars: {jar_set.folder_name} ({jar_set.coordinates[0]}"
                  f"{' and its kin' if len(jar_set.coordinates) > 1 else ''}) not fetched "
                  f"from Maven Central, {error}: {CONSEQUENCE[jar_set.name]}", flush=True)
            continue
        size = sum(jar.stat().st_size for jar in jars) / 2**20
        print(f"spark jars: {jar_set.folder_name} {'cached' if was_cached else 'fetched'} "
              f"({len(jars)} jars, {size:.0f} MiB) in {jars_dir / jar_set.folder_name}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
