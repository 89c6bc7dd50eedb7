"""A plain (non-editable) install works from any folder: the wheel carries the shipped configs,
so `initlab compare` and `initlab run he_circles` find them by name. The wheel is built from this
checkout and installed into a fresh virtual environment whose dependencies are this one's."""

from __future__ import annotations

import json
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import REPO, cli_env


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The ``initlab`` console script of a fresh venv holding only the built wheel."""
    root = tmp_path_factory.mktemp("install")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w",
                    str(root / "dist"), str(REPO)], check=True, capture_output=True,
                   timeout=600)
    (wheel,) = (root / "dist").glob("initlab-*.whl")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")],
                   check=True, timeout=120)
    python = root / "venv" / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    # the dependencies come from this environment: a plain path line, so that this
    # environment's own .pth files (the editable install of the checkout) are not read
    (Path(purelib) / "deps.pth").write_text("\n".join(sorted(ours)) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--no-deps", "--no-index", "--quiet", str(wheel)], check=True,
                   capture_output=True, timeout=300)
    return root / "venv" / "bin" / "initlab"


def _call(script: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(script), *args], cwd=cwd, env=cli_env(), capture_output=True,
                          text=True, timeout=300)


def test_the_installed_package_is_not_the_checkout(installed, tmp_path):
    code = "import initlab; print(initlab.__file__)"
    where = subprocess.run([str(installed.parent / "python"), "-c", code], cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout
    assert str(REPO) not in where and "site-packages" in where


def test_compare_runs_from_an_empty_folder(installed, tmp_path):
    ran = _call(installed, tmp_path, "compare", "--inits", "zeros,random,he", "--seeds", "2",
                "--set", "train.epochs=50", "--out", "OUT")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    m = json.loads((tmp_path / "OUT" / "metrics.json").read_text())
    assert [s["init"] for s in m["summary"]] == ["zeros", "random", "he"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".OUT.lock", "OUT"]


def test_run_finds_a_shipped_config_by_name(installed, tmp_path):
    ran = _call(installed, tmp_path, "run", "he_circles", "--dry-run")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "he_circles" in ran.stdout and "dry run: 1 experiment(s)" in ran.stdout
    assert list(tmp_path.iterdir()) == []
    listed = _call(installed, tmp_path, "configs")
    assert listed.returncode == 0 and "deep_tanh_probe" in listed.stdout
