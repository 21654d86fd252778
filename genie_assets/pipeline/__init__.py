"""The Dagster layer: assets and their checks, resources (where shards run, where artifacts
live, the Spark session), jobs, partitions and sensors. Thin and declarative; the algorithms
live in the layers below. With `genie_assets.definitions` and the command-line entry points,
the only code that imports Dagster."""
