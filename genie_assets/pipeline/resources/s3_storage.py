"""The artifact store mirrored to an s3:// prefix (aws mode; docs/aws.md). Apart from
storage.py so that a local deployment never imports dagster-aws and boto3 (a second of every
run worker's start)."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Optional

from dagster_aws.s3 import S3Resource
from pydantic import Field

from genie_assets.files import atomic_path
from genie_assets.pipeline import layout
from genie_assets.pipeline.resources.storage import ArtifactStore

# A folder artifact (Spark's part files, the expression folder) lives in S3 as versions,
# `<key>.versions/<version>/...`, and one small object `<key>.current` naming the current one:
# a new version is uploaded whole, then the pointer is replaced in one PUT, so a reader on
# another machine sees the old version or the new, never a mix.
VERSIONS_SUFFIX = ".versions"
POINTER_SUFFIX = ".current"


class S3ArtifactStore(ArtifactStore):
    """Artifacts in s3://bucket/prefix/ (the same layout), with `root` as the local working copy.

    Every finished artifact is uploaded; every read first brings the local copy up to date, so
    a fresh machine (or a different Dagster host) materialises downstream assets from S3 alone.
    A file is replaced by one PUT; a folder by a new version and its pointer (see above).
    """

    bucket: str
    prefix: str = "genie-assets"
    s3: S3Resource = Field(default_factory=S3Resource)
    spark_reads_s3: bool = Field(default=False, description=(
        "Spark reads s3a:// URIs directly (needs hadoop-aws on its classpath); otherwise it "
        "reads the local copy"))

    def within(self, *parts: str) -> "S3ArtifactStore":
        return S3ArtifactStore(root=str(self.path(*parts)), bucket=self.bucket,
                               prefix="/".join([self.prefix.strip("/"), *parts]), s3=self.s3,
                               spark_reads_s3=self.spark_reads_s3)

    def _key(self, path: Path) -> str:
        relative = path.relative_to(Path(self.root).resolve()).as_posix()
        return f"{self.prefix.strip('/')}/{relative}"

    def location_of(self, final: Path) -> str:
        return f"s3://{self.bucket}/{self._key(final)}"

    def location(self, *parts: str) -> str:
        key = self._key(self.path(*parts))
        folder = self._current_folder(self.s3.get_client(), key)
        return f"s3://{self.bucket}/{folder or key}"

    def spark_path(self, *parts: str) -> str:
        if self.spark_reads_s3:
            key = self._key(self.path(*parts))
            return f"s3a://{self.bucket}/{self._current_folder(self.s3.get_client(), key) or key}"
        return super().spark_path(*parts)

    def publish(self, content: Path, final: Path) -> None:
        client = self.s3.get_client()
        key = self._key(final)
        if not content.is_dir():
            self._upload(client, content, key)
            return
        version = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        files = [f for f in sorted(content.rglob("*")) if f.is_file()]
        for file in files:
            self._upload(client, file, f"{key}{VERSIONS_SUFFIX}/{version}/"
                                       f"{file.relative_to(content).as_posix()}")
        previous = self._pointer(client, key)
        client.put_object(Bucket=self.bucket, Key=key + POINTER_SUFFIX,
                          Body=json.dumps({"version": version, "files": len(files)}).encode())
        # The previous version stays for a reader still fetching it; older ones, and any
        # version a failed publish left half-uploaded, go.
        keep = {version, previous}
        for item in self._list(client, f"{key}{VERSIONS_SUFFIX}/"):
            if item["Key"][len(key) + len(VERSIONS_SUFFIX) + 1:].split("/", 1)[0] not in keep:
                client.delete_object(Bucket=self.bucket, Key=item["Key"])

    def mark_current(self, final: Path) -> None:
        # Written before its upload, the local copy would look older than the object and be
        # downloaded again by the next reader (an edge table of gigabytes).
        now = time.time()
        for file in [final] if final.is_file() else final.rglob("*"):
            if file.is_file():
                os.utime(file, (now, now))

    def put_s3_object(self, client, bucket: str, key: str, destination: Path) -> Path:
        """Copied inside S3 (multipart above 5 GB): the bytes never cross this machine, and
        the object appears whole under its final key. The local copy follows on first read."""
        client.copy({"Bucket": bucket, "Key": key}, self.bucket, self._key(destination))
        return destination

    def _upload(self, client, path: Path, key: str) -> None:
        client.upload_file(str(path), self.bucket, key)

    def _pointer(self, client, key: str) -> Optional[str]:
        """The current version of the folder artifact at `key`, if it is one."""
        try:
            body = client.get_object(Bucket=self.bucket, Key=key + POINTER_SUFFIX)["Body"]
        except client.exceptions.NoSuchKey:
            return None
        return json.loads(body.read())["version"]

    def _current_folder(self, client, key: str) -> Optional[str]:
        version = self._pointer(client, key)
        return f"{key}{VERSIONS_SUFFIX}/{version}" if version else None

    def local_copy(self, *parts: str) -> Path:
        client = self.s3.get_client()
        local = self.path(*parts)
        key = self._key(local)
        folder = self._current_folder(client, key)
        if folder is None:
            exact = [o for o in self._list(client, key) if o["Key"] == key]
            if not exact:
                raise FileNotFoundError(f"{self.location(*parts)}: no such artifact in the "
                                        "bucket; materialize the asset that writes it first")
            self._fetch_file(client, exact[0], local)
            return local
        inside = self._list(client, folder + "/")
        relative = {item["Key"]: item["Key"][len(folder) + 1:] for item in inside}
        if not all(self._current(o, local / relative[o["Key"]]) for o in inside) or \
                len(inside) != sum(1 for f in local.rglob("*") if f.is_file()):
            with atomic_path(local) as temporary:
                for item in inside:
                    self._download(client, item["Key"], temporary / relative[item["Key"]])
        return local

    def list_shards(self) -> list[str]:
        client = self.s3.get_client()
        names = {item["Key"].rsplit("/", 1)[-1]
                 for item in self._list(client, self._key(self.path(*layout.SHARDS)) + "/"
                                        + layout.SHARD_NAME_PREFIX)}
        keys = (n.removesuffix(layout.SHARD_EDGES_SUFFIX) for n in names
                if n.endswith(layout.SHARD_EDGES_SUFFIX))
        # A shard counts once its report is there too: the report is written last.
        return sorted(key for key in keys if layout.shard_report(key)[-1] in names)

    def shard_files_local_copies(self) -> dict[str, Path]:
        found = {}
        for key in self.list_shards():
            found[key] = self.local_copy(*layout.shard_edges(key))
            self.local_copy(*layout.shard_report(key))
        return found

    def shard_report(self, partition_key: str) -> dict:
        return json.loads(self.local_copy(*layout.shard_report(partition_key)).read_text())

    def _list(self, client, prefix: str) -> list[dict]:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                 Prefix=prefix)
        return [item for page in pages for item in page.get("Contents", [])]

    @staticmethod
    def _current(item: dict, local: Path) -> bool:
        return (local.is_file() and local.stat().st_size == item["Size"]
                and local.stat().st_mtime >= item["LastModified"].timestamp())

    def _fetch_file(self, client, item: dict, local: Path) -> None:
        if not self._current(item, local):
            with atomic_path(local) as temporary:
                self._download(client, item["Key"], temporary)

    def _download(self, client, key: str, local: Path) -> None:
        local.parent.mkdir(parents=True, exist_ok=True)
        client.download_file(self.bucket, key, str(local))
