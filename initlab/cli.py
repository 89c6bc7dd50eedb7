"""The ``initlab`` command line: parse, delegate, render. One path from error to exit code:
bad input → one line on stderr and exit 2; Ctrl-C → what finished is saved, exit 130."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from initlab.engine.backend import default_threads, get_backend
from initlab.errors import InitlabError
from initlab.experiments import config as config_mod
from initlab.experiments import datasets, runner
from initlab.experiments import plan as experiment
from initlab.inits import laws as initializers
from initlab.reporting import folder as results
from initlab.reporting import tables as report

try:  # typer up to 0.2x depends on click; newer releases vendor it as typer._click
    from click.exceptions import Abort as ClickAbort
    from click.exceptions import UsageError
except ImportError:  # pragma: no cover - depends on the installed typer
    from typer._click.exceptions import UsageError

    ClickAbort = typer.Abort

app = typer.Typer(
    help="initlab — how does the way I initialize weights change what my network does?\n\n"
         "Write a small YAML experiment (configs/ has one per source article), run it, and read "
         "per-layer activation and gradient statistics and final accuracy, across initializers "
         "and many seeds trained together in one batched run.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console()
err_console = Console(stderr=True)
_state = {"debug": False}


@app.callback()
def _options(debug: bool = typer.Option(False, "--debug",
                                        help="Show Python tracebacks instead of one-line errors.")
             ) -> None:
    _state["debug"] = debug


SET_HELP = ("Override a key of the experiment file, value parsed as YAML: --set train.lr=0.05, "
            "--set model.layers=[2,20,1], --set init.weights=xavier_uniform. Repeatable.")


SET_OPTION = typer.Option([], "--set", help=SET_HELP, show_default=False)
DEVICE_OPTION = typer.Option(None, "--device", show_default=False,
                             help="cpu | gpu | auto (auto: the GPU when CuPy sees one). Overrides "
                                  "the file's `device`.")
WORKERS_OPTION = typer.Option(None, "--workers", min=1, show_default=False,
                              help="CPU worker processes sharing the experiments (default: one "
                                   "per core). The numbers do not depend on it.")


RUN_HELP = (
    "Train one experiment (or N seeds of it) and report per-layer statistics and accuracy.\n\n"
    "Prints the resolved experiment, a per-layer table at initialization, the cost every "
    "train.log_every iterations, the per-layer table after training (with the number of "
    "distinct units per layer: symmetry), and train/test accuracy.\n\n"
    "Writes config.yaml, metrics.json, history.csv, weights_init.npz, weights_final.npz and "
    "environment.json to results/<timestamp>-<name>/ (or --out). Example: initlab run "
    "configs/he_circles.yaml --seeds 20 --set train.lr=0.05")


@app.command(help=RUN_HELP)
def run(
    config: Path = typer.Argument(..., help="Experiment YAML file, e.g. configs/he_circles.yaml.",
                                  show_default=False),
    overrides: list[str] = SET_OPTION,
    seeds: int | None = typer.Option(None, "--seeds", min=1, show_default=False,
                                     help="Train N seeds (seed, seed+1, …) as N slices of one "
                                          "batched training."),
    device: str | None = DEVICE_OPTION,
    n_workers: int | None = WORKERS_OPTION,
    out: Path | None = typer.Option(None, "--out", show_default=False,
                                    help="Write the run folder here instead of "
                                         "results/<timestamp>-<name>/."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the final table."),
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="Validate and show what would run; train and write nothing."),
) -> None:
    """The `run` command (help text: RUN_HELP)."""
    all_overrides = list(overrides) + ([f"device={device}"] if device is not None else [])
    plan, backend = runner.prepare(config, all_overrides, seeds)
    cfg = plan.config
    root = out if out is not None else Path("results")
    results.check_writable(root, "--out" if out is not None else "results folder")
    show = Console(quiet=True) if quiet else console
    report.header(show, plan, backend.label)
    if overrides:
        show.print(f"overrides: {' '.join(overrides)}", markup=False, style="dim")
    if dry_run:
        console.print(f"dry run: {plan.n_experiments} experiment(s), "
                      f"{cfg.train.epochs} epochs; nothing trained or written")
        return
    result = _train_with_progress(plan, backend, show, n_workers=n_workers or default_threads())
    folder = root if out is not None else results.new_run_dir(root, cfg.name)
    folder.mkdir(parents=True, exist_ok=True)
    results.save_run(folder, result, config_mod.dump(cfg),
                     results.environment(backend.label, list(overrides)))
    report.layer_table(show, result.layers_final, "Per layer after training", symmetry=True)
    report.final_table(console, result)
    console.print(f"results: {folder}", markup=False)
    if result.history.interrupted:
        err_console.print("interrupted: partial results saved, run marked 'interrupted'")
        raise typer.Exit(130)


def _train_with_progress(plan: experiment.Plan, backend, show: Console, *, log_costs: bool = True,
                         **execute_options) -> runner.RunResult:
    """runner.execute under a progress bar; the init table and (``log_costs``) cost lines are
    printed as they come."""
    progress = Progress(TextColumn("training"), BarColumn(), MofNCompleteColumn(),
                        TimeRemainingColumn(), console=show, transient=True)
    task = progress.add_task("train", total=None)

    def on_init_stats(layers: list[list[dict]]) -> None:
        report.layer_table(show, layers, "Per layer at initialization", symmetry=True)

    def on_log(iteration: int, costs) -> None:
        progress.console.print(report.cost_line(iteration, costs), markup=False)

    def on_step(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        if not log_costs:
            return runner.execute(plan, backend, on_step=on_step, **execute_options)
        return runner.execute(plan, backend, on_log=on_log, on_step=on_step,
                              on_init_stats=on_init_stats, **execute_options)


PROBE_HELP = (
    "Signal propagation through a deep stack at initialization, no training: per layer the "
    "activation mean and std beside the mean-field prediction q_l = σ_w²·E[φ(√q_(l-1) z)²] + "
    "σ_b² (composite Gauss–Legendre quadrature), saturated/dead shares, and the std of a "
    "unit-variance gradient propagated down from the top, beside its prediction.\n\n"
    "Options override the file's keys (or the defaults, which reproduce CS231n's 10 tanh layers "
    "of 500 units on 1000 gaussian inputs). Writes probe.json to the results folder. "
    "Example: initlab probe --depth 50 --width 256 --activation relu "
    "--inits he,xavier,lecun_normal --seeds 5")


@app.command(help=PROBE_HELP)
def probe(
    config: Path | None = typer.Argument(
        None, show_default=False, help="Probe YAML file, e.g. configs/deep_tanh_probe.yaml."),
    depth: int | None = typer.Option(None, "--depth", show_default=False, help="Layers (≥ 1)."),
    width: int | None = typer.Option(None, "--width", show_default=False,
                                     help="Units per layer (≥ 1)."),
    activation: str | None = typer.Option(None, "--activation", show_default=False,
                                          help="tanh, relu, sigmoid, linear, selu, gelu, …"),
    inits_: str | None = typer.Option(None, "--inits", show_default=False,
                                      help="Comma-separated initializers, parameters allowed: "
                                           "small,big,xavier or 'normal(std=0.5),he'."),
    seeds: int | None = typer.Option(None, "--seeds", show_default=False,
                                     help="Average over N seeds (0 … N−1)."),
    batch: int | None = typer.Option(None, "--batch", show_default=False,
                                     help="Gaussian inputs (samples)."),
    input_: str | None = typer.Option(None, "--input", show_default=False,
                                      help="gaussian (default) or a data set name; a data set "
                                           "also gives a real loss gradient."),
    histograms: bool = typer.Option(False, "--histograms", help="Show per-layer histograms."),
    jacobian: bool = typer.Option(False, "--jacobian",
                                  help="Singular values of the input–output Jacobian."),
    device: str | None = DEVICE_OPTION,
    overrides: list[str] = SET_OPTION,
    out: Path | None = typer.Option(None, "--out", show_default=False,
                                    help="Write probe.json here instead of results/<run>/."),
) -> None:
    """The `probe` command (help text: PROBE_HELP)."""
    from initlab.commands import probe as probe_mod  # noqa: PLC0415

    data = config_mod.read(config) if config is not None else {}
    given = {"depth": depth, "width": width, "activation": activation, "batch": batch,
             "input": input_, "device": device,
             "inits": config_mod.split_specs(inits_) if inits_ is not None else None,
             "seeds": list(range(seeds)) if seeds is not None else None,
             "histograms": histograms or None, "jacobian": jacobian or None}
    data.update({k: v for k, v in given.items() if v is not None})
    for assignment in overrides:
        config_mod.apply_override(data, assignment)
    if seeds is not None and seeds < 1:
        raise InitlabError(f"--seeds must be at least 1, got {seeds}")
    cfg = config_mod.validate(data, str(config or "probe options"), config_mod.ProbeConfig)
    spec = probe_mod.ProbeSpec(
        depth=cfg.depth, width=cfg.width, activation=cfg.activation, inits=tuple(cfg.inits),
        batch=cfg.batch, seeds=tuple(cfg.seeds), bias=cfg.bias, input=cfg.input, rng=cfg.rng,
        histograms=cfg.histograms, jacobian=cfg.jacobian)
    probe_mod.validate(spec)
    backend = get_backend(cfg.device)
    root = out if out is not None else Path("results")
    results.check_writable(root, "--out" if out is not None else "results folder")
    console.print(f"probe: {cfg.depth} × {cfg.width} {cfg.activation}, input {cfg.input}, "
                  f"{len(cfg.seeds)} seed(s), {backend.label}", markup=False)
    found = probe_mod.run(spec, backend.xp)
    for result in found:
        report.probe_table(console, result, cfg.histograms)
    folder = root if out is not None else results.new_run_dir(root, cfg.name)
    folder.mkdir(parents=True, exist_ok=True)
    results.save_probe(folder, found, config_mod.dump(cfg),
                       results.environment(backend.label, list(overrides)))
    console.print(f"results: {folder}", markup=False)


COMPARE_HELP = (
    "Train the same experiment under several initializers × seeds in one batched training, and "
    "compare them as distributions, not anecdotes.\n\n"
    "Without CONFIG the experiment is configs/he_circles.yaml (the Coursera circles network). "
    "Seeds are seed, seed+1, … from the file's `seed` (--seeds N), or --seed-list. With rng: "
    "legacy, seed s trains exactly as `initlab run` with seed s.\n\n"
    "Prints the per-layer statistics at initialization side by side, one row per initializer "
    "(train/test accuracy mean ± 95% CI and min–max over seeds, success rate, median final cost, "
    "median iteration to reach --target-cost, diverged seeds; best row in bold), the median cost "
    "curve of each, and a verdict that says when confidence intervals overlap. Writes the run "
    "folder of `initlab run`, with a `summary` list in metrics.json.\n\n"
    "Example: initlab compare --inits zeros,random,he --seeds 20")


@app.command(help=COMPARE_HELP)
def compare(
    config: Path | None = typer.Argument(None, show_default=False,
                                         help="Experiment YAML file (default: "
                                              "configs/he_circles.yaml)."),
    inits_: str | None = typer.Option(None, "--inits", show_default=False,
                                      help="Comma-separated initializers, parameters in "
                                           "parentheses: 'zeros,normal(std=0.5),he(mode=fan_out)'"
                                           ". Default: zeros,random,he. See `initlab inits`."),
    seeds: int | None = typer.Option(None, "--seeds", show_default=False,
                                     help="Seeds per initializer: seed … seed+N−1 (default 1)."),
    seed_list: str | None = typer.Option(None, "--seed-list", show_default=False,
                                         help="Explicit seeds instead of --seeds: 0,7,19."),
    success: float = typer.Option(0.9, "--success", min=0.0, max=1.0,
                                  help="A seed succeeds when its train accuracy reaches this."),
    target_cost: float = typer.Option(0.3, "--target-cost", min=0.0,
                                      help="Report the median iteration at which the training "
                                           "cost first falls below this."),
    overrides: list[str] = SET_OPTION,
    device: str | None = DEVICE_OPTION,
    n_workers: int | None = WORKERS_OPTION,
    max_memory: str | None = typer.Option(None, "--max-memory", show_default=False,
                                          help="Memory for the batched arrays, e.g. 2GB (default: "
                                               "a quarter of what is free). Experiments that do "
                                               "not fit are trained in chunks."),
    out: Path | None = typer.Option(None, "--out", show_default=False,
                                    help="Write the run folder here instead of "
                                         "results/<timestamp>-<name>-compare/."),
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="Validate, show the plan and the chunking; train nothing."),
) -> None:
    """The `compare` command (help text: COMPARE_HELP)."""
    from initlab.commands import compare as compare_mod  # noqa: PLC0415
    from initlab.engine import memory  # noqa: PLC0415

    all_overrides = list(overrides) + ([f"device={device}"] if device is not None else [])
    opts = compare_mod.options(config, inits_, seeds, seed_list, all_overrides)
    limit = memory.parse_bytes(max_memory) if max_memory is not None else None
    plan = compare_mod.setup(opts)
    backend = get_backend(plan.config.device)
    chunks = memory.chunk_plan(plan, backend, limit)
    root = out if out is not None else Path("results")
    results.check_writable(root, "--out" if out is not None else "results folder")
    report.header(console, plan, backend.label)
    n_workers = n_workers or default_threads()
    console.print(f"batching: {chunks.describe()}; "
                  f"{n_workers if backend.name == 'cpu' else 1} worker(s) at most", markup=False)
    if dry_run:
        console.print(f"dry run: {plan.n_experiments} experiment(s), nothing trained or written")
        return
    result = _train_with_progress(plan, backend, console, log_costs=False, n_workers=n_workers,
                                  chunks=chunks)
    summaries = compare_mod.summarize(result, success, target_cost)
    best = compare_mod.seedstats.best(summaries)
    labels = [m.init for m in result.plan.members]
    report.init_side_by_side(console, result.layers_init, labels)
    report.curve_lines(console, compare_mod.median_curves(result), result.history.log_iterations)
    report.compare_table(console, summaries, best, success, target_cost,
                         result.plan.config.train.log_every)
    console.print(f"verdict: {compare_mod.seedstats.verdict(summaries)}", markup=False)
    folder = root if out is not None else results.new_run_dir(root, f"{plan.config.name}-compare")
    folder.mkdir(parents=True, exist_ok=True)
    extra = {"summary": [s.record() for s in summaries],
             "compare": {"success_threshold": success, "target_cost": target_cost,
                         "log_every": result.plan.config.train.log_every,
                         "chunk_size": chunks.size, "chunks": chunks.count}}
    results.save_run(folder, result, config_mod.dump(plan.config),
                     results.environment(backend.label, list(overrides)), extra=extra)
    if result.weights_init is None:
        console.print("weights not saved: above the 1 GiB kept for chunked runs", markup=False)
    console.print(f"results: {folder}", markup=False)
    if result.history.interrupted:
        err_console.print("interrupted: finished experiments saved, run marked 'interrupted'")
        raise typer.Exit(130)


@app.command()
def inits() -> None:
    """List every initializer and alias with its law (layout (n_out, n_in): fan_in = n_in)."""
    report.catalogue_table(console, "Initializers (weights are (n_out, n_in): fan_in = n_in, "
                                    "fan_out = n_out)",
                           initializers.catalogue(), ["name", "params", "formula", "note"])


@app.command("datasets")
def list_datasets() -> None:
    """List the data sets (all generated or shipped; nothing is downloaded) and their keys."""
    report.catalogue_table(console, "Data sets (dataset: {name: …, key: value})",
                           datasets.catalogue(), ["name", "task", "params", "description"])


@app.command("bench-train")
def bench_train(
    iterations: int = typer.Option(15000, "--iterations", min=1,
                                   help="Gradient-descent iterations for the one-model runs."),
    compare_iterations: int = typer.Option(1000, "--compare-iterations", min=1,
                                           help="Iterations for the 60-model compare benchmark."),
    repeat: int = typer.Option(3, "--repeat", min=1, help="Timed repetitions (best is kept)."),
    n_workers: int | None = typer.Option(None, "--workers", min=1, show_default=False,
                                         help="Worker processes for the parallel rows (default: "
                                              "one per core)."),
) -> None:
    """Time the batched engine against the notebook-style NumPy loop on he_circles: one model
    (E = 1) and 20 seeds, then `compare --inits zeros,random,he --seeds 20` (60 models) against
    the loop training the same 60 models one at a time. Ratios > 1: initlab is faster."""
    from initlab.commands import bench_train as bench  # noqa: PLC0415

    bench.train_benchmark(console, iterations, repeat)
    bench.compare_benchmark(console, compare_iterations, repeat, n_workers or default_threads())


BENCH_RNG_HELP = (
    "What does drawing initial weights cost? Times each generator per entry: ns per entry, GB/s "
    "written, and the share of this machine's write bandwidth, measured in the same run by "
    "filling a preallocated array of the same size (the physical limit). Rows, for normal and "
    "uniform × float32 and float64: a pure-Python per-element loop (the article's baseline, "
    "timed on 50,000 entries only), NumPy Box–Muller written naively, numpy Generator with "
    "PCG64 / Philox / SFC64 / MT19937, default_rng() on one thread (the baseline of the "
    "'× vs default_rng' column) and initlab's fast fill (the rng: numpy stream) on 1 thread and "
    "on --threads; --device gpu adds CuPy's generators and host fill + copy to the GPU.\n\n"
    "A second table initializes the article's 10000→5000→1000→10 network end to end (weights "
    "only: 55,010,000 float32 Gaussian entries, 220 MB, allocated and filled) with each method, "
    "beside the article's 14.3 s (JVM loop) and 209 ms (MKL). Goals: the fast fill under 150 ms "
    "and at least 4× default_rng on one thread; on the GPU, more than half the card's write "
    "bandwidth.\n\n"
    "--json prints JSON Lines instead of tables: one object per row with method, device, "
    "distribution, dtype, ns_per_entry, gb_per_s, bandwidth_share (plus table, entries, seconds, "
    "threads, note, speedup). Example: initlab bench-rng --device all --size 1e7 --repeat 7 "
    "--json")


def _bench_rng_size(text: str) -> int:
    import math  # noqa: PLC0415

    from initlab.commands.bench_rng import MAX_SIZE, MIN_SIZE  # noqa: PLC0415

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value != int(value) or not MIN_SIZE <= value <= MAX_SIZE:
        raise InitlabError(f"--size must be a whole number of entries from {MIN_SIZE:.0e} to "
                           f"{MAX_SIZE:.0e} (e.g. 1e7), got {text!r}")
    return int(value)


@app.command("bench-rng", help=BENCH_RNG_HELP)
def bench_rng(
    device: str = typer.Option("cpu", "--device", help="cpu | gpu (CuPy) | all."),
    size: str = typer.Option("1e7", "--size", help="Entries per generator measurement "
                                                   "(1e5 … 2e8; 1e7 style accepted)."),
    repeat: int = typer.Option(3, "--repeat", min=1, help="Timed rounds; the best is kept."),
    threads: int | None = typer.Option(None, "--threads", min=1, show_default=False,
                                       help="Threads for the fast fill's multi-threaded rows "
                                            "(default: all cores)."),
    network: bool = typer.Option(True, "--network/--no-network",
                                 help="Also time the article's network end to end."),
    as_json: bool = typer.Option(False, "--json", help="JSON Lines on stdout, no tables."),
) -> None:
    """The `bench-rng` command (help text: BENCH_RNG_HELP)."""
    import json  # noqa: PLC0415

    from initlab.commands import bench_rng as rngbench  # noqa: PLC0415

    if device not in ("cpu", "gpu", "all"):
        raise InitlabError(f"unknown --device {device!r}; valid: cpu, gpu, all")
    n = _bench_rng_size(size)
    threads = threads or default_threads()
    rows = rngbench.run(device, n, repeat, threads, network)
    if as_json:
        for row in rows:
            print(json.dumps(row))
        return
    bandwidth = ", ".join(f"{r['device']} {r['gb_per_s']:.1f} GB/s" for r in rows
                          if r["table"] == "generators" and r["distribution"] == "fill")
    report.rng_generator_table(console, rows, f"Generators: {n:,} entries each, best of {repeat}; "
                                              f"write bandwidth {bandwidth}")
    report.rng_network_table(console, rows, "The article's network 10000→5000→1000→10: "
                                            f"{rngbench.NETWORK_ENTRIES:,} float32 Gaussian "
                                            f"weights, allocated and filled, best of {repeat}")


def main() -> None:
    """Console entry point: one line per error, exit codes 2 (bad input) and 130 (Ctrl-C)."""
    try:
        code = app(standalone_mode=False)
    except InitlabError as exc:
        if _state["debug"]:
            raise
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except UsageError as exc:
        err_console.print(f"error: {exc.format_message()}", markup=False, highlight=False,
                          soft_wrap=True)
        sys.exit(2)
    except (ClickAbort, typer.Abort, KeyboardInterrupt):
        err_console.print("interrupted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
