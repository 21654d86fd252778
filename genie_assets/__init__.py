"""genie-assets: GENIE3 gene regulatory networks at genome scale, as Dagster assets.

Layers, each importing only those above it in this list:
    errors, files, settings   what every layer shares
    engine/                   the GENIE3 library (NumPy, numba, scikit-learn)
    shard/                    the shard program and its contract (the code channel of a job)
    inputs/                   expression matrices, regulator lists, gold standards, read and checked
    network/                  the network built from shards: Spark, exports, modules, views
    pipeline/                 the Dagster assets, checks, resources, jobs
    definitions, backfill, demo   the code location and the command-line entry points
"""
