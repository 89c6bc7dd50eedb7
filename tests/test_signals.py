"""The interrupt policy, end to end through the console script: SIGINT and SIGTERM alike, sent
at a synchronised point of each stage (training, final statistics, between chunks, writing,
printing), end with a complete folder and exit 130; a killed worker is an error naming the
signal, and the other workers' experiments are saved; workers die with their parent; a closed
stdout loses nothing. Each signal is sent by the program to itself from a hooked function
(``conftest.hooked_cli``), never after a sleep."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import (
    COMPARE_FILES,
    INITLAB,
    RUN_FILES,
    cli_env,
    hooked_cli,
    load_metrics,
    run_cli,
    tree,
)

SIGNALS = [signal.SIGINT, signal.SIGTERM]
KILL_SELF = "os.kill(os.getpid(), {})"
LONG = ["--set", "train.epochs=2000000", "--set", "train.log_every=100"]


def _stopped(tmp_path: Path, target: str, args: list[str], signum: int, nth: int = 1,
             when: str = "before"):
    ran = run_cli(tmp_path, *args, "--out", "OUT",
                  python_code=hooked_cli(target, KILL_SELF.format(int(signum)), nth, when))
    assert ran.returncode == 130, ran.explain()
    assert "Traceback" not in ran.output, ran.explain()
    assert "interrupted" in ran.stderr
    return ran, tmp_path / "OUT"


def _complete(folder: Path, files: set[str] = RUN_FILES) -> dict:
    assert {p.name for p in folder.iterdir()} == files
    return load_metrics(folder)


@pytest.mark.parametrize("signum", SIGNALS)
def test_during_training_what_finished_is_saved(tmp_path, signum):
    ran, out = _stopped(tmp_path, "initlab.engine.train:_log", ["run", "he_circles", *LONG],
                        signum, nth=3)
    m = _complete(out)
    assert m["status"] == "interrupted"
    assert 200 <= m["iterations"] < m["planned_iterations"] == 2_000_000
    exp = m["experiments"][0]
    assert exp["iterations"] == m["iterations"] == exp["cost_curve"][-1][0]
    assert not [p for p in tree(tmp_path) if ".tmp-" in p]


@pytest.mark.parametrize("signum", SIGNALS)
def test_during_the_final_statistics_the_finished_training_is_saved(tmp_path, signum):
    ran, out = _stopped(tmp_path, "initlab.engine.stats:layer_stats",
                        ["run", "he_circles", "--set", "train.epochs=300"], signum, nth=2)
    m = _complete(out)
    assert m["status"] == "interrupted" and m["iterations"] == m["planned_iterations"] == 300
    assert m["experiments"][0]["layers_final"][0]["activation_std"] is not None


@pytest.mark.parametrize("signum", SIGNALS)
def test_between_chunks_the_finished_chunk_is_saved_and_no_other_starts(tmp_path, signum):
    args = ["compare", "--inits", "zeros,he", "--seeds", "3", "--set", "train.epochs=300",
            "--max-memory", "800KiB"]  # ~343 KiB each: chunks of 2
    ran, out = _stopped(tmp_path, "initlab.experiments.runner:_train_chunk", args, signum,
                        nth=1, when="after")
    m = _complete(out, COMPARE_FILES)
    assert m["status"] == "interrupted"
    assert [(e["init"], e["seed"], e["iterations"]) for e in m["experiments"]] == [
        ("zeros", 3, 300), ("zeros", 4, 300)]
    assert "verdict: none — the comparison did not finish" in ran.stdout
    assert "highest" not in ran.stdout and "only one initializer" not in ran.stdout
    assert ran.stdout.count("interrupted at iteration 300 of 300") == 3  # above every table


@pytest.mark.parametrize("signum", SIGNALS)
def test_during_writing_the_save_completes(tmp_path, signum):
    ran, out = _stopped(tmp_path, "initlab.reporting.folder:write_csv",
                        ["run", "he_circles", "--set", "train.epochs=300"], signum)
    m = _complete(out)
    assert m["status"] == "interrupted" and m["iterations"] == 300  # it came before the save


@pytest.mark.parametrize("signum", SIGNALS)
def test_during_printing_the_saved_folder_stays_complete(tmp_path, signum):
    ran, out = _stopped(tmp_path, "initlab.reporting.run_tables:final_table",
                        ["run", "he_circles", "--set", "train.epochs=300"], signum)
    m = _complete(out)
    assert m["status"] == "completed"  # saved, whole, before the tables were printed


def test_a_killed_worker_is_an_error_naming_the_signal_and_the_others_are_saved(tmp_path):
    # 39 experiments on 2 workers: shards of 20 and 19; the worker with 19 kills itself on its
    # second segment
    action = ("os.kill(os.getpid(), signal.SIGKILL) if args[0].p.n_exp == 19 and "
              "os.getpid() != PARENT else None")
    code = "PARENT = __import__('os').getpid()\n" + hooked_cli(
        "initlab.engine.train:_Shard.run", action, nth=2)
    ran = run_cli(tmp_path, "compare", "--engine", "numpy", "--seeds", "13", "--workers", "2",
                  "--set",
                  "train.epochs=300", "--out", "OUT", python_code=code)
    assert ran.returncode == 1, ran.explain()
    lines = [ln for ln in ran.stderr.splitlines() if ln.strip()]
    assert lines == [lines[0]] and lines[0].startswith("error: worker 1 was killed (SIGKILL)")
    assert "out of memory?" in lines[0]
    m = _complete(tmp_path / "OUT", COMPARE_FILES)
    assert m["status"] == "failed" and "worker 1 was killed" in m["failure"]
    assert len(m["experiments"]) == 20  # the first shard: zeros × 13, random × 7
    assert all(e["iterations"] == 128 for e in m["experiments"])


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_their_parent_and_a_pipe_reader_gets_eof(tmp_path):
    pids = tmp_path / "workers.txt"
    action = (f"open({str(pids)!r}, 'w').write(' '.join(str(p.pid) for p in args[0].procs))")
    code = hooked_cli("initlab.engine.workers:Forked.__init__", action, when="after")
    proc = subprocess.Popen([sys.executable, "-c", code, "compare", "--engine", "numpy",
                             "--seeds", "20",
                             "--workers", "2", *LONG, "--out", "OUT"], cwd=tmp_path,
                            env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    cat = subprocess.Popen(["cat"], stdin=proc.stdout, stdout=subprocess.DEVNULL)
    proc.stdout.close()
    try:
        deadline = time.monotonic() + 60
        while not (pids.exists() and pids.read_text().strip()):
            assert time.monotonic() < deadline and proc.poll() is None, "no workers started"
            time.sleep(0.05)
        workers = [int(p) for p in pids.read_text().split()]
        assert len(workers) == 2 and all(_alive(p) for p in workers)
        proc.kill()
        proc.wait(timeout=10)
        deadline = time.monotonic() + 1.0
        while any(_alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not any(_alive(p) for p in workers), "workers outlived their parent by 1 s"
        assert cat.wait(timeout=10) == 0  # nobody holds the pipe open any more
        assert not (tmp_path / "OUT").exists()
    finally:
        for p in (proc, cat):
            if p.poll() is None:
                p.kill()


def test_a_closed_stdout_loses_no_results(tmp_path):
    proc = subprocess.Popen([INITLAB, "compare", "--inits", "zeros,he", "--seeds", "2",
                             "--set", "train.epochs=300", "--out", "OUT"], cwd=tmp_path,
                            env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    head = subprocess.Popen(["head", "-n", "1"], stdin=proc.stdout, stdout=subprocess.PIPE,
                            text=True)
    proc.stdout.close()
    first, _ = head.communicate(timeout=120)
    _, stderr = proc.communicate(timeout=120)
    assert first.startswith("experiment")
    assert proc.returncode == 141, stderr
    assert "Traceback" not in stderr and stderr.strip() == ""
    m = _complete(tmp_path / "OUT", COMPARE_FILES)
    assert m["status"] == "completed" and len(m["summary"]) == 2


def test_ctrl_c_while_the_command_line_loads_is_one_line(tmp_path):
    code = """
import importlib.abc, os, signal, sys
class Stop(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "typer":
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Stop())
from initlab.__main__ import main
main()
"""
    ran = run_cli(tmp_path, "--help", python_code=code)
    assert ran.returncode == 130, ran.explain()
    assert ran.stderr.strip() == "interrupted" and ran.stdout == ""
