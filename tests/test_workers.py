"""Worker processes: shards really run in forked workers, give the same numbers as one process,
and a failing worker is an error in the parent, not a hang."""

from __future__ import annotations

import os

import numpy as np
import pytest

from initlab.engine import nn, train, workers
from initlab.experiments.plan import from_file, initial_values

from conftest import HE

pytestmark = pytest.mark.skipif(not workers.parallel_available(),
                                reason="worker processes need fork (Linux)")


@pytest.fixture(scope="module")
def setup():
    plan = from_file(HE, ["train.epochs=130", "train.log_every=40"], n_seeds=8)
    return plan, initial_values(plan)


def _fit(setup, n_workers, monkeypatch=None):
    plan, start = setup
    p = nn.ParamStore(np, plan.net, plan.n_experiments, np.float64)
    p.load(start)
    hist = train.fit(np, plan.net, p, plan.dataset.X_train, plan.dataset.y_train,
                     plan.config.train, n_workers=n_workers)
    return p, hist


def test_shards_run_in_other_processes_and_agree_with_one(setup, monkeypatch):
    monkeypatch.setattr(train, "MIN_SHARD_ELEMENTS", 1)
    pids = []
    real_run = train._Shard.run

    def spy(self, start, stop):
        pids.append(os.getpid())
        return real_run(self, start, stop)

    alone, hist1 = _fit(setup, 1)
    monkeypatch.setattr(train._Shard, "run", spy)
    forked, hist3 = _fit(setup, 3)
    assert pids == []  # the spy ran only inside the workers, never in this process
    np.testing.assert_array_equal(forked.flat, alone.flat)
    assert hist3.log_iterations == hist1.log_iterations == [0, 40, 80, 120, 130]
    np.testing.assert_array_equal(np.stack(hist3.log_costs), np.stack(hist1.log_costs))
    np.testing.assert_array_equal(hist3.diverged_at, hist1.diverged_at)


def test_a_failing_worker_raises_in_the_parent(setup, monkeypatch):
    monkeypatch.setattr(train, "MIN_SHARD_ELEMENTS", 1)

    def broken(self, start, stop):
        raise ValueError("boom in a worker")

    monkeypatch.setattr(train._Shard, "run", broken)
    with pytest.raises(RuntimeError, match="boom in a worker"):
        _fit(setup, 2)


def test_bounds_are_contiguous_balanced_and_need_enough_work(setup):
    plan, _ = setup
    assert train.shard_bounds(plan.net, 60, 300, 2) == [(0, 30), (30, 60)]
    assert train.shard_bounds(plan.net, 7, 300, 3) == [(0, 7)]  # 7·16·300 < 2·65 536
    assert train.shard_bounds(plan.net, 100, 300, 3) == [(0, 33), (33, 67), (67, 100)]
    assert train.shard_bounds(plan.net, 100, 300, 1) == [(0, 100)]
