"""The results folder (reporting.folder.RunFolder): complete under its final name or absent,
--out reuse refused unless --overwrite, one writer at a time, and write errors as one line."""

from __future__ import annotations

import os
import resource
import signal
import stat
import subprocess

import pytest

from initlab.errors import InitlabError, RunFailed
from initlab.reporting.folder import RunFolder

from conftest import INITLAB, RUN_FILES, cli_env, hooked_cli, load_metrics, run_cli, tree

SHORT = ["--set", "train.epochs=50", "--set", "train.log_every=10"]


def test_a_folder_appears_under_its_final_name_only_when_complete(tmp_path):
    with RunFolder(tmp_path / "OUT", "x") as dest:
        (dest.path / "a.txt").write_text("1")
        assert dest.path.name.startswith(".OUT.tmp-") and not (tmp_path / "OUT").exists()
        final = dest.commit()
    assert final == tmp_path / "OUT" and (final / "a.txt").read_text() == "1"
    assert stat.S_IMODE(final.stat().st_mode) == 0o777 & ~_umask()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".OUT.lock", "OUT"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_failure_before_commit_leaves_nothing_and_a_new_results_folder_goes_too(tmp_path):
    with pytest.raises(ValueError, match="boom"), RunFolder(None, "x", root=tmp_path / "results"):
        raise ValueError("boom")
    assert list(tmp_path.iterdir()) == []


def test_default_folders_never_collide(tmp_path):
    finals = []
    folders = [RunFolder(None, "same", root=tmp_path) for _ in range(3)]
    for f in folders:
        (f.path / "x").write_text("x")
    finals = [f.commit() for f in folders]
    assert len(set(finals)) == 3 and all((p / "x").exists() for p in finals)


def test_out_reuse_is_refused_and_overwrite_replaces_the_folder_as_a_whole(tmp_path):
    (tmp_path / "OUT").mkdir()
    (tmp_path / "OUT" / "old.txt").write_text("old")
    ran = run_cli(tmp_path, "run", "he_circles", *SHORT, "--out", "OUT")
    assert ran.returncode == 2 and ran.stdout == "", ran.explain()
    assert "--out OUT exists and is not empty" in ran.stderr and "--overwrite" in ran.stderr
    assert ran.after == ran.before
    ran = run_cli(tmp_path, "run", "he_circles", *SHORT, "--out", "OUT", "--overwrite")
    assert ran.returncode == 0, ran.explain()
    assert {p.name for p in (tmp_path / "OUT").iterdir()} == RUN_FILES  # old.txt is gone
    assert not [p for p in tree(tmp_path) if ".old-" in p or ".tmp-" in p]
    ran = run_cli(tmp_path, "run", "he_circles", *SHORT, "--out", "")
    assert ran.returncode == 2 and "--out needs a folder name" in ran.stderr
    (tmp_path / "EMPTY").mkdir()  # an empty folder is fine
    assert run_cli(tmp_path, "run", "he_circles", *SHORT, "--out", "EMPTY").returncode == 0


def test_a_second_run_into_the_same_out_fails_at_once(tmp_path):
    first = subprocess.Popen([INITLAB, "run", "he_circles", "--set", "train.epochs=2000000",
                              "--out", "OUT"], cwd=tmp_path, env=cli_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in first.stdout:  # the first cost line: it holds the lock and trains
            if line.startswith("cost after iteration 0"):
                break
        second = run_cli(tmp_path, "run", "he_circles", *SHORT, "--out", "OUT")
        assert second.returncode == 2, second.explain()
        assert "another initlab run is writing there" in second.stderr
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
        assert first.returncode == 130
        assert load_metrics(tmp_path / "OUT")["status"] == "interrupted"
    finally:
        if first.poll() is None:
            first.kill()


def test_a_killed_run_leaves_only_a_hidden_temporary_folder(tmp_path):
    code = hooked_cli("initlab.reporting.folder:write_csv", "os.kill(os.getpid(), 9)")
    ran = run_cli(tmp_path, "run", "he_circles", *SHORT, "--out", "OUT", python_code=code)
    assert ran.returncode == -signal.SIGKILL
    names = [p.name for p in tmp_path.iterdir()]
    assert "OUT" not in names and any(n.startswith(".OUT.tmp-") for n in names)
    ran = run_cli(tmp_path, "run", "he_circles", *SHORT, "--out", "OUT")  # the lock died too
    assert ran.returncode == 0, ran.explain()


def _small_files(limit: int):
    def limit_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return limit_files


def test_a_full_disk_is_one_line_naming_the_file_and_leaves_no_folder(tmp_path):
    argv = [INITLAB, "run", "he_circles", *SHORT, "--seeds", "20", "--out", "OUT"]
    ran = subprocess.run(argv, cwd=tmp_path, env=cli_env(), capture_output=True, text=True,
                         timeout=120, preexec_fn=_small_files(50_000))
    assert ran.returncode == 1, ran.stdout + ran.stderr
    lines = [ln for ln in ran.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: cannot write "), ran.stderr
    assert "metrics.json" in lines[0] and "File too large" in lines[0]
    assert "Traceback" not in ran.stderr
    assert [p.name for p in tmp_path.iterdir()] == [".OUT.lock"]


def test_folder_errors_are_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InitlabError, match="is a file"):
        RunFolder(tmp_path / "file", "x")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):  # root ignores the mode: a name too long fails the same way
            with pytest.raises(RunFailed, match="cannot write results"):
                RunFolder(None, "x" * 300, root=ro)
        else:
            with pytest.raises(InitlabError, match="not writable"):
                RunFolder(None, "x", root=ro)
    finally:
        ro.chmod(0o700)
