"""Worker processes: shards really run in forked workers, give the same numbers as one process,
and a failing worker is an error in the parent, not a hang."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

from initlab.engine import nn, train, workers
from initlab.experiments.plan import from_file, initial_values

from conftest import HE


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


def _run_shard_and(setup, action):
    """A ``_Shard.run`` that does ``action(shard)`` in the worker holding experiments 4…7 (the
    second of two shards of 8), on its second segment."""
    real_run = train._Shard.run
    fifth = setup[1]["W1"][4]

    def run(self, start, stop):
        if start == 0:
            self.second = np.array_equal(self.p.W[0][0], fifth)
        elif self.second and os.getpid() != PARENT:
            action(self)
        return real_run(self, start, stop)
    return run


PARENT = os.getpid()


def _lost_second_shard(setup, hist, p):
    alone, _ = _fit(setup, 1)
    assert list(hist.lost) == [False] * 4 + [True] * 4
    assert hist.n_iterations == 128 and not hist.interrupted  # the segment in flight finished
    first = alone.take(0, 4)
    plan, start = setup
    q = nn.ParamStore(np, plan.net, 4, np.float64)
    q.load({k: v[:4] for k, v in start.items()})
    short = plan.config.train.model_copy(update={"epochs": 128})
    train.fit(np, plan.net, q, plan.dataset.X_train, plan.dataset.y_train, short)
    np.testing.assert_array_equal(p.take(0, 4).flat, q.flat)
    assert not np.array_equal(p.take(0, 4).flat, first.flat)  # 128, not 130, iterations
    assert hist.log_iterations == [0, 40, 80, 120, 128]
    assert np.isfinite(hist.log_costs[1]).all()  # logged at 40, before the worker died
    assert np.isnan(hist.log_costs[3][4:]).all() and np.isfinite(hist.log_costs[3][:4]).all()


def test_a_failing_worker_is_reported_and_the_other_shard_is_kept(setup, monkeypatch):
    monkeypatch.setattr(train, "MIN_SHARD_ELEMENTS", 1)

    def boom(shard):
        raise ValueError("boom in a worker")

    monkeypatch.setattr(train._Shard, "run", _run_shard_and(setup, boom))
    p, hist = _fit(setup, 2)
    assert hist.failure == "worker 1 failed: ValueError: boom in a worker"
    _lost_second_shard(setup, hist, p)


def test_a_killed_worker_names_the_signal_and_the_other_shard_is_kept(setup, monkeypatch):
    monkeypatch.setattr(train, "MIN_SHARD_ELEMENTS", 1)
    monkeypatch.setattr(train._Shard, "run",
                        _run_shard_and(setup, lambda shard: os.kill(os.getpid(),
                                                                     signal.SIGKILL)))
    p, hist = _fit(setup, 2)
    assert hist.failure == "worker 1 was killed (SIGKILL) — out of memory?"
    _lost_second_shard(setup, hist, p)


def test_spawned_workers_give_the_same_numbers(setup, monkeypatch):
    monkeypatch.setattr(train, "MIN_SHARD_ELEMENTS", 1)
    alone, hist1 = _fit(setup, 1)
    monkeypatch.setattr(workers, "start_method", lambda: "spawn")
    spawned, hist2 = _fit(setup, 2)
    np.testing.assert_array_equal(spawned.flat, alone.flat)
    np.testing.assert_array_equal(np.stack(hist2.log_costs), np.stack(hist1.log_costs))


def test_bounds_are_contiguous_balanced_and_need_enough_work(setup):
    plan, _ = setup
    assert train.shard_bounds(plan.net, 60, 300, 2) == [(0, 30), (30, 60)]
    assert train.shard_bounds(plan.net, 7, 300, 3) == [(0, 7)]  # 7·16·300 < 2·65 536
    assert train.shard_bounds(plan.net, 100, 300, 3) == [(0, 33), (33, 67), (67, 100)]
    assert train.shard_bounds(plan.net, 100, 300, 1) == [(0, 100)]
