"""``--plot``, ``initlab report`` and report.html: the tables come back from a saved folder alone,
the page holds the numbers and the pictures and nothing from the network, a real browser shows
them, and without matplotlib a run still completes."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import INITLAB, RUN_FILES, TIMEOUT, cli_env, run_cli

COLUMNS = 120
RUN = ("run", "he_circles", "--seeds", "3", "--set", "train.epochs=3000", "--plot")
COMPARE = ("compare", "--inits", "zeros,random,he", "--seeds", "3", "--set",
           "train.epochs=1500", "--plot")
PROBE = ("probe", "--depth", "6", "--width", "64", "--batch", "200", "--seeds", "2", "--plot")
PICTURES = {"run": ["decision_boundary", "cost", "layers"],
            "compare": ["decision_boundary", "cost", "layers"], "probe": ["depth", "histograms"]}
NO_MATPLOTLIB = ("import sys; sys.modules['matplotlib'] = None; "
                 "from initlab.cli import main; main()")


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """Each command run once with --plot into OUT, and `initlab report OUT` after it."""
    out = {}
    for kind, args in (("run", RUN), ("compare", COMPARE), ("probe", PROBE)):
        cwd = tmp_path_factory.mktemp(kind)
        command = run_cli(cwd, *args, "--out", "OUT", columns=COLUMNS)
        assert command.returncode == 0, command.explain()
        report = run_cli(cwd, "report", "OUT", columns=COLUMNS)
        assert report.returncode == 0, report.explain()
        out[kind] = (command, report, cwd / "OUT")
    return out


KINDS = ["run", "compare", "probe"]


def _tables(stdout: str) -> list[str]:
    """What a command printed but the lines that name files and the chunking line (its memory
    figures are not saved)."""
    return [line for line in stdout.splitlines()
            if not line.startswith(("results: ", "wrote ", "batching: "))]


@pytest.mark.parametrize("kind", KINDS)
def test_report_prints_again_the_tables_the_command_printed(ran, kind):
    command, report, _ = ran[kind]
    printed = _tables(command.stdout)
    assert len(printed) > 20
    assert _tables(report.stdout) == printed


@pytest.mark.parametrize("kind", KINDS)
def test_plot_writes_every_picture_as_png_and_svg_and_names_them(ran, kind):
    command, report, folder = ran[kind]
    for stem in PICTURES[kind]:
        png = folder / f"{stem}.png"
        head = png.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n", png
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        assert 300 <= width <= 2000 and 200 <= height <= 1500, (png, width, height)
        assert (folder / f"{stem}.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
        for ran_ in (command, report):
            assert f"wrote OUT/{stem}.png" in ran_.stdout.splitlines(), ran_.explain()
    assert "wrote OUT/report.html" in command.stdout.splitlines()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


def _page(folder: Path) -> str:
    return (folder / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("kind", KINDS)
def test_the_page_embeds_every_picture_and_fetches_nothing(ran, kind):
    _, _, folder = ran[kind]
    page = _page(folder)
    embedded = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert [base64.b64decode(d) for d in embedded] == [
        (folder / f"{stem}.png").read_bytes() for stem in PICTURES[kind]]
    without_images = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", page)
    assert not re.search(r"https?:|//[a-z]|<script|<link|@import|url\(", without_images, re.I)
    assert (folder / "config.yaml").read_text(encoding="utf-8").splitlines()[0] in page


def test_the_run_page_holds_the_tables_numbers(ran):
    _, _, folder = ran["run"]
    text = html.unescape(re.sub(r"<[^>]+>", "", _page(folder)))
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    for exp in metrics["experiments"]:
        for key in ("train_accuracy", "test_accuracy"):
            assert f"{exp[key]:.4f}" in text, (key, exp[key])
        assert f"{exp['final_cost']:.6g}" in text
    assert "Per layer after training" in text and "Result after 3000 iterations" in text


def test_the_compare_page_holds_the_verdict_and_the_summary(ran):
    _, _, folder = ran["compare"]
    text = html.unescape(re.sub(r"<[^>]+>", "", _page(folder)))
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["verdict"] and all(line in text for line in metrics["verdict"])
    for summary in metrics["summary"]:
        assert summary["init"] in text
        assert f"{summary['train_accuracy_mean']:.3f}"[:4] in text


def test_report_reads_back_the_saved_numbers(ran):
    from initlab.commands import report  # noqa: PLC0415

    _, _, folder = ran["compare"]
    saved = report.load(folder)
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    assert saved.kind == "compare"
    assert [(e.init, e.seed) for e in saved.run.plan.experiments] == [
        (e["init"], e["seed"]) for e in metrics["experiments"]]
    assert saved.run.train_accuracy.tolist() == [e["train_accuracy"]
                                                 for e in metrics["experiments"]]
    assert [s.record() for s in saved.compare.summaries] == metrics["summary"]
    with np.load(folder / "weights_final.npz") as npz:
        assert np.array_equal(saved.run.weights_final["W1"], npz["W1"])


# ------------------------------------------------------------------------------ a real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (Debian: chromium)")
# appended to a copy of the page (the page itself has no script): what the browser decoded
PROBE_SCRIPT = """<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  document.body.dataset.images = images.map(i => i.naturalWidth + "x" + i.naturalHeight).join(",");
  document.body.dataset.tables = document.querySelectorAll("pre.terminal").length;
  document.body.dataset.title = document.title;
});
</script>"""


def _chromium(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-dev-shm-usage", "--hide-scrollbars", *args],
                          capture_output=True, text=True, timeout=TIMEOUT)


@needs_chromium
@pytest.mark.parametrize("kind", ["run", "compare"])
def test_chromium_decodes_every_picture_and_shows_the_tables(ran, kind, tmp_path):
    _, _, folder = ran[kind]
    copy = tmp_path / "page.html"
    copy.write_text(_page(folder).replace("</body>", PROBE_SCRIPT + "</body>"), encoding="utf-8")
    dom = _chromium("--dump-dom", copy.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body([^>]*)>", dom.stdout).group(1)
    attrs = dict(re.findall(r'data-(\w+)="([^"]*)"', body))
    sizes = [tuple(map(int, s.split("x"))) for s in attrs["images"].split(",")]
    expected = []
    for stem in PICTURES[kind]:
        head = (folder / f"{stem}.png").read_bytes()[16:24]
        expected.append((int.from_bytes(head[:4], "big"), int.from_bytes(head[4:], "big")))
    assert sizes == expected
    assert attrs["tables"] == "1"
    assert attrs["title"] == f"initlab {kind}: he_circles"


@needs_chromium
def test_chromium_screenshot_shows_the_decision_boundary_colours(ran, tmp_path):
    from matplotlib import image  # noqa: PLC0415

    from initlab.reporting import plots  # noqa: PLC0415

    _, _, folder = ran["run"]
    shot = tmp_path / "shot.png"
    done = _chromium(f"--screenshot={shot}", "--window-size=1280,1600",
                     (folder / "report.html").as_uri())
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    pixels = image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (1600, 1280)
    for colour in plots.CLASS_REGIONS:  # the shaded regions of both classes are on screen
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255
        share = (np.abs(pixels - rgb).max(axis=-1) < 0.02).mean()
        assert share > 0.005, (colour, share)


# --------------------------------------------------------------------------- edges and errors

def test_without_matplotlib_plot_says_how_to_install_it_and_the_run_is_saved(tmp_path):
    ran = run_cli(tmp_path, "run", "he_circles", "--set", "train.epochs=200", "--plot",
                  "--out", "OUT", python_code=NO_MATPLOTLIB)
    assert ran.returncode == 0, ran.explain()
    assert ran.stderr.strip().splitlines() == [
        "no pictures: pictures need matplotlib: pip install 'initlab[plot]'"]
    names = {p.name for p in (tmp_path / "OUT").iterdir()}
    assert names == RUN_FILES | {"report.html"}
    assert "<img" not in _page(tmp_path / "OUT")


def test_plot_with_json_keeps_stdout_one_json_document(tmp_path):
    ran = run_cli(tmp_path, "run", "he_circles", "--set", "train.epochs=200", "--plot",
                  "--json", "--out", "OUT")
    assert ran.returncode == 0, ran.explain()
    assert json.loads(ran.stdout)["experiments"]
    assert "wrote OUT/cost.png" in ran.stderr


def test_report_open_hands_the_page_to_the_browser(ran, tmp_path):
    _, _, folder = ran["probe"]
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.py"
    browser.write_text(f"import sys; open({str(opened)!r}, 'w').write(sys.argv[1])\n")
    env = cli_env(COLUMNS) | {"BROWSER": f"{sys.executable} {browser} %s"}
    done = subprocess.run([INITLAB, "report", str(folder), "--open", "--quiet"], env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    assert opened.read_text() == (folder / "report.html").resolve().as_uri()
    assert "Layer" not in done.stdout and "wrote" in done.stdout


@pytest.mark.parametrize("make, message", [
    (lambda root: root / "absent", "no results folder at"),
    (lambda root: root, "is not an initlab results folder: no config.yaml"),
])
def test_report_refuses_what_is_not_a_results_folder(tmp_path, make, message):
    ran = run_cli(tmp_path, "report", str(make(tmp_path)))
    assert ran.returncode == 2, ran.explain()
    assert message in ran.stderr and len(ran.stderr.strip().splitlines()) == 1
    assert "Traceback" not in ran.output and ran.after == ran.before


def test_report_refuses_a_folder_whose_files_disagree(ran, tmp_path):
    _, _, folder = ran["run"]
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    metrics = json.loads((copy / "metrics.json").read_text(encoding="utf-8"))
    metrics["experiments"][1]["seed"] = 99
    (copy / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    before = sorted(os.listdir(copy))
    ran_ = run_cli(tmp_path, "report", "copy")
    assert ran_.returncode == 2, ran_.explain()
    assert "config.yaml and metrics.json describe different experiments" in ran_.stderr
    assert sorted(os.listdir(copy)) == before


@pytest.mark.parametrize("command", ["run", "compare", "probe", "report"])
def test_help_names_the_extra_to_install(tmp_path, command):
    ran = run_cli(tmp_path, command, "--help", columns=200)
    assert ran.returncode == 0, ran.explain()
    assert "pip install 'initlab[plot]'" in ran.stdout
