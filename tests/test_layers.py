"""The layer rule of the package (cli → reporting → commands → experiments → inits → engine →
params → errors), checked by import-linter's contract in pyproject.toml — and shown to fail when
a module imports a layer above its own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

LINT = """
import sys
from importlinter.cli import lint_imports
sys.exit(lint_imports(config_filename="pyproject.toml", no_cache=True))
"""


def lint(root: Path) -> subprocess.CompletedProcess:
    """import-linter on the package under ``root`` (found first on the path)."""
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run([sys.executable, "-c", LINT], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def scratch(tmp_path) -> Path:
    """A copy of the package and its pyproject.toml."""
    shutil.copytree(REPO / "initlab", tmp_path / "initlab",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_package_keeps_its_layers():
    ran = lint(REPO)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "1 kept, 0 broken" in ran.stdout


@pytest.mark.parametrize(("module", "upward"), [
    ("engine/nn.py", "from initlab.experiments import config"),
    ("inits/laws.py", "import initlab.commands.probe"),
    ("errors.py", "from initlab import params"),
    ("experiments/runner.py", "from initlab.reporting import folder"),
])
def test_an_upward_import_breaks_the_contract(scratch, module, upward):
    assert lint(scratch).returncode == 0  # the copy itself is clean
    path = scratch / "initlab" / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{upward}  # upward\n",
                    encoding="utf-8")
    ran = lint(scratch)
    assert ran.returncode != 0, ran.stdout
    assert "BROKEN" in ran.stdout and "0 kept, 1 broken" in ran.stdout
    importer = "initlab." + module.removesuffix(".py").replace("/", ".")
    assert importer in ran.stdout
