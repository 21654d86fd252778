"""Where the pipeline's artifacts live: a local folder laid out by asset, mirrored to an
s3:// prefix in aws mode (s3_storage.py).

Assets write through `writing(...)` (a temporary name, renamed when complete, then published)
and read through `local_copy(...)` (a local copy, fetched first where the artifacts live in S3),
so the same asset code runs on a laptop and against a bucket.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path
from typing import Iterator

from dagster import ConfigurableResource

from genie_assets.errors import PublishError
from genie_assets.files import atomic_path
from genie_assets.pipeline import layout


class ArtifactStore(ConfigurableResource):
    """Artifacts under a local folder: expression/, shards/, edges/, network/, exports/."""

    root: str

    def path(self, *parts: str) -> Path:
        return Path(self.root).resolve().joinpath(*parts)

    def writing(self, *parts: str) -> contextlib.AbstractContextManager[Path]:
        """A temporary path for the artifact at `parts`, which becomes the artifact only if the
        block completes (see `writing_at`)."""
        return self.writing_at(self.path(*parts))

    @contextlib.contextmanager
    def writing_at(self, final: Path) -> Iterator[Path]:
        """A temporary path beside `final`: published, then renamed into place, only if the
        block completes. Publishing first means a failed upload leaves the previous version
        current both in the bucket and in the local copy."""
        with atomic_path(final) as temporary:
            yield temporary
            try:
                self.publish(temporary, final)
            except Exception as error:
                raise PublishError(
                    f"{self.location_of(final)}: could not be stored ({type(error).__name__}: "
                    f"{error}); the previous version is still the current one") from error
        self.mark_current(final)

    def local_copy(self, *parts: str) -> Path:
        """A local path holding the current artifact at `parts` (in S3 mode, downloaded where
        the local copy is not current)."""
        return self.path(*parts)

    def within(self, *parts: str) -> "ArtifactStore":
        """The same store rooted at `parts` (a condition's artifacts, in the same layout)."""
        return ArtifactStore(root=str(self.path(*parts)))

    def spark_path(self, *parts: str) -> str:
        """Where Spark reads the artifact at `parts`."""
        return str(self.local_copy(*parts))

    def publish(self, content: Path, final: Path) -> None:
        """Make `content` (a finished file or folder) the artifact at `final` wherever it is
        read from other machines (locally, the rename that follows does it)."""

    def mark_current(self, final: Path) -> None:
        """Note that the local copy at `final` is the current version (nothing to note here)."""

    def location(self, *parts: str) -> str:
        """Where a user finds the artifact (shown in metadata)."""
        return str(self.path(*parts))

    def location_of(self, final: Path) -> str:
        """Where the artifact at the local path `final` is stored (asking nothing of S3)."""
        return str(final)

    def expression_dir(self) -> Path:
        return self.local_copy(*layout.EXPRESSION)

    def expression_manifest(self) -> dict:
        """What the current expression matrix is (fingerprint, genes, source), as stored by
        expression_matrix."""
        path = self.expression_dir() / layout.EXPRESSION_MANIFEST[-1]
        if not path.is_file():
            raise FileNotFoundError(f"{self.location(*layout.EXPRESSION_MANIFEST)}: no "
                                    "expression matrix yet; materialize expression_matrix first")
        return json.loads(path.read_text())

    def shard_file(self, partition_key: str) -> Path:
        return self.path(*layout.shard_edges(partition_key))

    def shard_report_file(self, partition_key: str) -> Path:
        return self.path(*layout.shard_report(partition_key))

    def list_shards(self) -> list[str]:
        """The partition keys of the shards stored (listing only, nothing is read)."""
        folder = self.path(*layout.SHARDS)
        if not folder.is_dir():
            return []
        return [p.name.removesuffix(layout.SHARD_EDGES_SUFFIX) for p in sorted(
            folder.glob(f"{layout.SHARD_NAME_PREFIX}*{layout.SHARD_EDGES_SUFFIX}"))]

    def shard_files_local_copies(self) -> dict[str, Path]:
        """Every stored shard's file, as local paths (in S3 mode, downloaded)."""
        return {key: self.shard_file(key) for key in self.list_shards()}

    def shard_report(self, partition_key: str) -> dict:
        """The report a stored shard's runner wrote beside it (in S3 mode, that small file is
        downloaded, not the shard)."""
        return json.loads(self.shard_report_file(partition_key).read_text())

    def put_file(self, source: Path, destination: Path) -> Path:
        """Copy a finished file into the store under its final name, atomically."""
        with self.writing_at(destination) as temporary:
            shutil.copyfile(source, temporary)
        return destination

    def put_text(self, destination: Path, text: str) -> Path:
        with self.writing_at(destination) as temporary:
            temporary.write_text(text)
        return destination

    def put_s3_object(self, client, bucket: str, key: str, destination: Path) -> Path:
        """An object of S3 into the store under its final name (here: downloaded)."""
        with self.writing_at(destination) as temporary:
            client.download_file(bucket, key, str(temporary))
        return destination
