"""Where the pipeline's artifacts live: one folder (local) laid out by asset."""


import shutil
from pathlib import Path

from dagster import ConfigurableResource

from genie_assets.files import atomic_path


class LocalArtifactStore(ConfigurableResource):
    """Artifacts under a local folder: expression/, shards/, edges/, network/, exports/."""

    root: str

    def path(self, *parts: str) -> Path:
        return Path(self.root).resolve().joinpath(*parts)

    def expression_dir(self) -> Path:
        return self.path("expression")

    def shard_file(self, partition_key: str) -> Path:
        return self.path("shards", f"{partition_key}.parquet")

    def existing_shard_files(self) -> dict[str, Path]:
        folder = self.path("shards")
        if not folder.is_dir():
            return {}
        return {p.stem: p for p in sorted(folder.glob("shard-*.parquet"))}

    def put_file(self, source: Path, destination: Path) -> Path:
        """Copy a finished file into the store under its final name, atomically."""
        with atomic_path(destination) as temporary:
            shutil.copyfile(source, temporary)
        return destination

    def put_text(self, destination: Path, text: str) -> Path:
        with atomic_path(destination) as temporary:
            temporary.write_text(text)
        return destination
