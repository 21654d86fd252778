"""The cost arithmetic of benchmark_report, as a plain function of the shards' reports."""

import pytest

from genie_assets.pipeline.pricing import GENOME_SCALE_TARGETS, cost_usd, run_costs


def report(key, *, targets, compute, cores, start, finish, instance=None, billable=None,
           compile_seconds=None):
    found = {"partition_key": key, "n_targets": targets, "compute_seconds": compute,
             "cores": cores, "started_at": start, "finished_at": finish,
             "total_seconds": finish - start, "wall_seconds": finish - start,
             "seconds_per_target": compute / targets, "n_regulators": 50, "n_samples": 200}
    if instance:
        found.update(instance_type=instance, instance_count=1, billable_seconds=billable)
    if compile_seconds is not None:
        found["compile_seconds"] = compile_seconds
    return found


def test_two_local_shards_add_up():
    costs = run_costs([
        report("shard-0000", targets=10, compute=8.0, cores=2, start=100.0, finish=110.0),
        report("shard-0001", targets=30, compute=12.0, cores=2, start=105.0, finish=120.0),
    ])
    assert (costs.n_shards, costs.n_targets, costs.n_regulators, costs.n_samples) == \
        (2, 40, 50, 200)
    assert costs.core_seconds == 40.0  # (8 + 12) × 2 cores
    assert costs.wall_seconds == 20.0  # 100 → 120
    assert costs.concurrency == pytest.approx(20.0 / 20.0)
    assert costs.parallel_efficiency == pytest.approx(40.0 / (10 * 2 + 15 * 2))
    assert costs.core_seconds_per_target == 1.0
    assert costs.projected_core_hours == pytest.approx(GENOME_SCALE_TARGETS / 3600)
    # Held: (10 s + 15 s) × 2 cores for 40 targets, start-up and writing included.
    assert costs.projected_held_core_hours == pytest.approx(
        50.0 / 40 * GENOME_SCALE_TARGETS / 3600)
    assert costs.cost_usd == 0.0 and costs.compile_seconds == 0.0
    assert list(costs.per_shard.partition_key) == ["shard-0000", "shard-0001"]


def test_training_jobs_are_priced_per_billable_second_and_projected():
    costs = run_costs([
        report("shard-0000", targets=100, compute=50.0, cores=4, start=0.0, finish=60.0,
               instance="ml.m5.xlarge", billable=3600.0, compile_seconds=30.0),
        report("shard-0001", targets=100, compute=50.0, cores=4, start=0.0, finish=60.0,
               instance="ml.m5.xlarge", billable=1800.0, compile_seconds=None),
    ])
    assert costs.cost_usd == pytest.approx(cost_usd("ml.m5.xlarge", 1, 5400.0))
    assert costs.cost_usd == pytest.approx(0.23 * 1.5)
    assert costs.compile_seconds == 30.0
    assert costs.projected_cost_usd == pytest.approx(0.345 / 200 * GENOME_SCALE_TARGETS)
