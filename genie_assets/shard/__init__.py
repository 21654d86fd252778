"""The shard program and its contract: GENIE3 for one shard of target genes, the same program in
a SageMaker training container and in a local subprocess. It imports the engine and
dagster-pipes, never Dagster itself; `pipeline/` builds its tasks and reads its reports through
`contract`."""
