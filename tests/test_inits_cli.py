"""``initlab inits``: the listing (laws, aliases, presets, LSUV), one initializer described (the
realised std of each truncation scheme against scipy.stats.truncnorm), the gain table, and the
one-line refusals."""

from __future__ import annotations

import math
import re

import pytest
from scipy import stats

from initlab.inits import fans, presets

from conftest import run_cli


def _value(stdout: str, what: str) -> str:
    match = re.search(rf"^{re.escape(what)}\s+(\S+)", stdout, re.M)
    assert match, f"no {what!r} line in {stdout}"
    return match.group(1)


@pytest.mark.parametrize(("spec", "law"), [
    ("truncated_normal(std=0.02, a=-0.04, b=0.04)", stats.truncnorm(-2, 2, scale=0.02)),
    ("truncated_normal(std=0.02, a=-2, b=2)", stats.truncnorm(-2 / 0.02, 2 / 0.02, scale=0.02)),
    ("truncated_normal(mean=1, std=0.5, a=0, b=3)", stats.truncnorm(-2, 4, loc=1, scale=0.5)),
    ("truncated_normal(std=1, lower=-1, upper=3)", stats.truncnorm(-1, 3)),
    ("truncated_normal(std=2, cut=1.5)", stats.truncnorm(-1.5, 1.5, scale=2)),
    ("truncated_normal", stats.truncnorm(-2, 2)),
])
def test_describe_gives_the_realised_std_of_each_truncation_scheme(tmp_path, spec, law):
    """Absolute a, b (PyTorch: std=0.02 with its default a, b = ∓2 is effectively
    untruncated), lower, upper in σ units (JAX, asymmetric), and the symmetric cut (Keras, the
    default 2)."""
    ran = run_cli(tmp_path, "inits", spec, columns=120)
    assert ran.returncode == 0, ran.explain()
    assert float(_value(ran.stdout, "realised std")) == pytest.approx(law.std(), rel=1e-5)


def test_the_listing_has_laws_aliases_presets_and_lsuv(tmp_path):
    ran = run_cli(tmp_path, "inits", columns=250)
    assert ran.returncode == 0, ran.explain()
    names = {line.split()[0] for line in ran.stdout.splitlines() if line.strip()}
    assert {"he_normal", "keras.he_normal", "jax.lecun_normal", "variance_scaling", "sparse",
            "torch_linear", "lsuv", *presets.PRESETS} <= names
    assert "xavier" not in names and "glorot" not in names  # retired


def test_a_preset_is_described_with_its_bias_law_and_source(tmp_path):
    ran = run_cli(tmp_path, "inits", "torch_default", columns=200)
    assert ran.returncode == 0, ran.explain()
    assert _value(ran.stdout, "weights") == "torch_linear"
    assert _value(ran.stdout, "bias") == "fan_in_uniform"
    assert "Linear.reset_parameters" in ran.stdout


def test_the_gain_table_prints_both_columns(tmp_path):
    ran = run_cli(tmp_path, "inits", "--gains", columns=200)
    assert ran.returncode == 0, ran.explain()
    rows = {line.split()[0]: line.split()[1:3] for line in ran.stdout.splitlines()
            if line.strip() and line.split()[0] in {"tanh", "relu", "gelu", "softmax"}}
    assert rows["relu"] == [f"{math.sqrt(2):.4f}", f"{math.sqrt(2):.4f}"]
    assert rows["tanh"] == [f"{5 / 3:.4f}", f"{fans.auto_gain('tanh'):.4f}"]
    assert rows["gelu"] == ["none", "(raises)"]  # then the auto column
    assert f"{fans.auto_gain('gelu'):.4f}" in next(
        line for line in ran.stdout.splitlines() if line.strip().startswith("gelu "))


@pytest.mark.parametrize(("args", "words"), [
    (["inits", "hee"], "unknown initializer 'hee'"),
    (["inits", "torch_defualt"], "did you mean 'torch_default'?"),
    (["inits", "he,zeros"], "describe one initializer at a time"),
    (["inits", "he", "--gains"], "not both"),
    (["inits", "he(nonlinearity=gelu)"], "use nonlinearity=auto"),
    (["inits", "xavier"], "xavier_normal"),
])
def test_bad_names_are_one_line(tmp_path, args, words):
    ran = run_cli(tmp_path, *args)
    assert ran.returncode == 2, ran.explain()
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], ran.stderr
