"""The ``initlab`` command line: parse options → call a command → save its result → render it.

One path from error to exit code: bad input → one line on stderr and exit 2; Ctrl-C → what
finished is saved, exit 130. Commands and their libraries are imported inside the command
functions, so ``initlab --help`` does not load the numerics.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from initlab.errors import InitlabError

# The click typer raises from: the standalone package (older typer) or its vendored copy
# (typer._click, newer typer), whichever typer itself uses, whatever else is installed.
ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")

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


def _with_device(overrides: list[str], device: str | None) -> list[str]:
    """The ``--set`` overrides with ``--device`` as the last one (it wins over the file)."""
    return list(overrides) + ([f"device={device}"] if device is not None else [])


def _workers(n_workers: int | None) -> int:
    from initlab.engine.backend import default_threads  # noqa: PLC0415

    return n_workers or default_threads()


def _exit_if_interrupted(interrupted: bool, what: str) -> None:
    """After a run's results are saved: exit 130 with one line when it was interrupted."""
    if interrupted:
        err_console.print(f"interrupted: {what}, run marked 'interrupted'")
        raise typer.Exit(130)


@contextlib.contextmanager
def _training(show: Console, *, log_costs: bool) -> Iterator[Any]:
    """Runner callbacks under a progress bar: with ``log_costs``, the table at initialization
    (a single chunk's, as soon as it is known) and one line per logged cost."""
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from initlab.experiments.runner import Callbacks  # noqa: PLC0415
    from initlab.reporting import run_tables  # noqa: PLC0415

    progress = Progress(TextColumn("training"), BarColumn(), MofNCompleteColumn(),
                        TimeRemainingColumn(), console=show, transient=True)
    task = progress.add_task("train", total=None)

    def on_init_stats(chunk, layers) -> None:
        if chunk.count == 1:
            run_tables.layer_table(show, layers, "Per layer at initialization", symmetry=True)

    def on_log(chunk, iteration: int, costs) -> None:
        where = f"chunk {chunk.index + 1}/{chunk.count}" if chunk.count > 1 else ""
        progress.console.print(run_tables.cost_line(iteration, costs, where), markup=False)

    def on_step(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    with progress:
        yield Callbacks(on_init_stats if log_costs else None, on_log if log_costs else None,
                        on_step)


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
    from initlab.commands import run as command  # noqa: PLC0415
    from initlab.experiments import config as config_mod  # noqa: PLC0415
    from initlab.reporting import folder, run_tables  # noqa: PLC0415

    plan, backend = command.prepare(config, _with_device(overrides, device), seeds)
    folder.check_target(out)
    show = Console(quiet=True) if quiet else console
    run_tables.header(show, plan, backend.label)
    if overrides:
        show.print(f"overrides: {' '.join(overrides)}", markup=False, style="dim")
    if dry_run:
        console.print(f"dry run: {plan.n_experiments} experiment(s), "
                      f"{plan.config.train.epochs} epochs; nothing trained or written")
        return
    with _training(show, log_costs=True) as callbacks:
        result = command.run(plan, backend, callbacks, _workers(n_workers))
    if len(result.chunks) > 1:
        run_tables.layer_table(show, result.layers_init, "Per layer at initialization",
                               symmetry=True)
    path = folder.create(out, plan.config.name)
    folder.save_run(path, result, config_mod.dump(plan.config),
                    folder.environment(backend.label, list(overrides)))
    run_tables.layer_table(show, result.layers_final, "Per layer after training", symmetry=True)
    run_tables.final_table(console, result)
    console.print(f"results: {path}", markup=False)
    _exit_if_interrupted(result.history.interrupted, "partial results saved")


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
    seeds: int | None = typer.Option(None, "--seeds", min=1, show_default=False,
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
    from initlab.commands import probe as command  # noqa: PLC0415
    from initlab.engine.backend import get_backend  # noqa: PLC0415
    from initlab.experiments import config as config_mod  # noqa: PLC0415
    from initlab.reporting import folder, probe_tables  # noqa: PLC0415

    data = config_mod.read(config) if config is not None else {}
    given = {"depth": depth, "width": width, "activation": activation, "batch": batch,
             "input": input_,
             "inits": config_mod.split_specs(inits_) if inits_ is not None else None,
             "seeds": list(range(seeds)) if seeds is not None else None,
             "histograms": histograms or None, "jacobian": jacobian or None}
    data.update({k: v for k, v in given.items() if v is not None})
    for assignment in _with_device(overrides, device):
        config_mod.apply_override(data, assignment)
    cfg = config_mod.validate(data, str(config or "probe options"), config_mod.ProbeConfig)
    backend = get_backend(cfg.device)
    folder.check_target(out)
    console.print(f"probe: {cfg.depth} × {cfg.width} {cfg.activation}, input {cfg.input}, "
                  f"{len(cfg.seeds)} seed(s), {backend.label}", markup=False)
    found = command.run(cfg, backend.xp)
    for result in found:
        probe_tables.probe_table(console, result, cfg.histograms)
    path = folder.create(out, cfg.name)
    folder.save_probe(path, found, config_mod.dump(cfg),
                      folder.environment(backend.label, list(overrides)))
    console.print(f"results: {path}", markup=False)


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
    from initlab.commands import compare as command  # noqa: PLC0415
    from initlab.engine import memory  # noqa: PLC0415
    from initlab.engine.backend import get_backend  # noqa: PLC0415
    from initlab.experiments import config as config_mod  # noqa: PLC0415
    from initlab.experiments import runner  # noqa: PLC0415
    from initlab.reporting import compare_tables, folder, records, run_tables  # noqa: PLC0415

    opts = command.options(config, inits_, seeds, seed_list, _with_device(overrides, device))
    limit = memory.parse_bytes(max_memory) if max_memory is not None else None
    plan = command.setup(opts)
    backend = get_backend(plan.config.device)
    chunks = runner.chunks_for(plan, backend, limit)
    folder.check_target(out)
    run_tables.header(console, plan, backend.label)
    workers = _workers(n_workers)
    console.print(run_tables.chunking_line(
        chunks, runner.worker_count(plan, backend, chunks.size, workers)), markup=False)
    if dry_run:
        console.print(f"dry run: {plan.n_experiments} experiment(s), nothing trained or written")
        return
    with _training(console, log_costs=False) as callbacks:
        found = command.run(plan, backend, success=success, target_cost=target_cost,
                            chunking=chunks, callbacks=callbacks, n_workers=workers)
    result = found.run
    path = folder.create(out, f"{plan.config.name}-compare")
    folder.save_run(path, result, config_mod.dump(result.plan.config),
                    folder.environment(backend.label, list(overrides)),
                    extra=records.compare_extra(found))
    compare_tables.render(console, found)
    if result.weights_init is None:
        console.print("weights not saved: above the 1 GiB kept for chunked runs", markup=False)
    console.print(f"results: {path}", markup=False)
    _exit_if_interrupted(result.history.interrupted, "finished experiments saved")


@app.command()
def inits() -> None:
    """List every initializer and alias with its law (layout (n_out, n_in): fan_in = n_in)."""
    from initlab.inits import laws  # noqa: PLC0415
    from initlab.reporting.format import catalogue_table  # noqa: PLC0415

    catalogue_table(console, "Initializers (weights are (n_out, n_in): fan_in = n_in, "
                             "fan_out = n_out)", laws.catalogue(),
                    ["name", "params", "formula", "note"])


@app.command("datasets")
def list_datasets() -> None:
    """List the data sets (all generated or shipped; nothing is downloaded) and their keys."""
    from initlab.experiments import datasets  # noqa: PLC0415
    from initlab.reporting.format import catalogue_table  # noqa: PLC0415

    catalogue_table(console, "Data sets (dataset: {name: …, key: value})", datasets.catalogue(),
                    ["name", "task", "params", "description"])


@app.command()
def schema(probe_file: bool = typer.Option(False, "--probe",
                                           help="The schema of a probe file instead.")) -> None:
    """Print the JSON Schema of an experiment file (or, with --probe, a probe file), with every
    initializer, activation and data set and their parameters, for an editor's YAML language
    server: initlab schema > experiment.schema.json"""
    import json  # noqa: PLC0415

    from initlab.experiments import config as config_mod  # noqa: PLC0415

    kind = config_mod.ProbeConfig if probe_file else config_mod.RunConfig
    print(json.dumps(config_mod.schema(kind), indent=1, ensure_ascii=False))


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
    from initlab.commands import bench_train as command  # noqa: PLC0415
    from initlab.reporting.bench_tables import bench_table  # noqa: PLC0415

    bench_table(console, command.train_benchmark(iterations, repeat))
    bench_table(console, command.compare_benchmark(compare_iterations, repeat,
                                                   _workers(n_workers)))


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

    from initlab.commands import bench_rng as command  # noqa: PLC0415
    from initlab.reporting import bench_tables  # noqa: PLC0415

    if device not in ("cpu", "gpu", "all"):
        raise InitlabError(f"unknown --device {device!r}; valid: cpu, gpu, all")
    n = _bench_rng_size(size)
    rows = command.run(device, n, repeat, _workers(threads), network)
    if as_json:
        for row in rows:
            print(json.dumps(row))
        return
    bandwidth = ", ".join(f"{r['device']} {r['gb_per_s']:.1f} GB/s" for r in rows
                          if r["table"] == "generators" and r["distribution"] == "fill")
    bench_tables.rng_generator_table(console, rows, f"Generators: {n:,} entries each, best of "
                                                    f"{repeat}; write bandwidth {bandwidth}")
    bench_tables.rng_network_table(console, rows, "The article's network 10000→5000→1000→10: "
                                                  f"{command.NETWORK_ENTRIES:,} float32 Gaussian "
                                                  f"weights, allocated and filled, best of "
                                                  f"{repeat}")


def main() -> None:
    """Console entry point: one line per error, exit codes 2 (bad input) and 130 (Ctrl-C)."""
    try:
        code = app(standalone_mode=False)
    except InitlabError as exc:
        if _state["debug"]:
            raise
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except ClickException as exc:
        err_console.print(f"error: {exc.format_message()}", markup=False, highlight=False,
                          soft_wrap=True)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("interrupted")
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
