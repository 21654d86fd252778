"""The network built from the shards: merging, filtering, degrees and hubs (Spark), modules,
regulons, exports, views and scores against a gold standard. Spark, pyarrow and pandas; no
Dagster."""
