"""The ``initlab`` command line: parse options → call a command → save its result → render it.

One path from an error to an exit code (``main``): bad input → one line on stderr, exit 2; a run
that could not finish (a worker died, a file could not be written) → one line, exit 1, what
could be saved saved; Ctrl-C or SIGTERM → what finished saved, exit 130; a closed stdout →
exit 141 once the results are saved. Commands and their libraries are imported inside the
command functions, so ``initlab --help`` does not load the numerics.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

import initlab
from initlab.engine import interrupts
from initlab.errors import InitlabError, RunFailed, shown
from initlab.reporting.live import STDOUT

# The click typer raises from: the standalone package (older typer) or its vendored copy
# (typer._click, newer typer), whichever typer itself uses, whatever else is installed.
ClickException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")

app = typer.Typer(
    help="initlab — how does the way I initialize weights change what my network does?\n\n"
         "Write a small YAML experiment file (`initlab configs` lists one per source article), "
         "run it, and read per-layer activation and gradient statistics and final accuracy, "
         "across initializers and many seeds trained together in one batched run.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console(file=STDOUT)
err_console = Console(stderr=True)
_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        print(f"initlab {initlab.__version__}")
        raise typer.Exit(0)


@app.callback()
def _options(debug: bool = typer.Option(False, "--debug",
                                        help="Show Python tracebacks instead of one-line errors."),
             version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")) -> None:
    _state["debug"] = debug


SET_OPTION = typer.Option(
    [], "--set", show_default=False,
    help="Override a key of the file, value parsed as YAML: --set train.lr=0.05, --set "
         "model.layers=[2,20,1], --set init.weights=xavier_uniform. Repeatable.")
DEVICE_OPTION = typer.Option(None, "--device", show_default=False,
                             help="cpu | gpu | auto (auto: the GPU when CuPy sees one). Overrides "
                                  "the file's `device`.")
ENGINE_OPTION = typer.Option(None, "--engine", show_default=False,
                             help="auto | fused | numpy: the training engine (auto: the fused, "
                                  "compiled one where it applies — CPU, full batch — else "
                                  "NumPy). Overrides the file's `engine`.")
WORKERS_OPTION = typer.Option(None, "--workers", min=1, show_default=False,
                              help="CPU worker processes sharing the experiments (default: one "
                                   "per core). The numbers do not depend on it.")
OUT_OPTION = typer.Option(None, "--out", show_default=False,
                          help="Write the results folder here (absent or empty, or give "
                               "--overwrite) instead of a new one under results/.")
OVERWRITE_OPTION = typer.Option(False, "--overwrite",
                                help="Replace an existing --out folder as a whole, once the new "
                                     "one is complete.")
QUIET_OPTION = typer.Option(False, "--quiet", "-q", help="Print only the final table.")
JSON_OPTION = typer.Option(False, "--json",
                           help="Print the result on stdout as one JSON document (what the "
                                "saved metrics.json or probe.json holds) instead of tables.")
PLOT_OPTION = typer.Option(False, "--plot",
                           help="Also draw the pictures (PNG and SVG) and write report.html into "
                                "the results folder; needs matplotlib: pip install "
                                "'initlab\\[plot]'. `initlab report FOLDER` does it later.")
DRY_RUN_OPTION = typer.Option(False, "--dry-run",
                              help="Validate, check the memory and show what would run; compute "
                                   "and write nothing.")
MAX_MEMORY_OPTION = typer.Option(None, "--max-memory", show_default=False,
                                 help="Memory the run may use, e.g. 2GB (default: a quarter of "
                                      "what is free). Experiments that do not fit at once are "
                                      "trained in chunks; one that cannot fit is refused.")


def _with_device(overrides: list[str], device: str | None,
                 engine: str | None = None) -> list[str]:
    """The ``--set`` overrides with ``--device`` and ``--engine`` last (they win over the
    file)."""
    return list(overrides) + ([f"device={device}"] if device is not None else []) + (
        [f"engine={engine}"] if engine is not None else [])


def _workers(n_workers: int | None) -> int:
    from initlab.engine.backend import default_threads  # noqa: PLC0415

    return n_workers or default_threads()


def _limit(max_memory: str | None) -> int | None:
    from initlab.engine.memory import parse_bytes  # noqa: PLC0415

    return None if max_memory is None else parse_bytes(max_memory)


def _out(out: str | None) -> Path | None:
    if out is not None and not out.strip():
        raise InitlabError("--out needs a folder name; leave --out out for a new folder under "
                           "results/")
    return None if out is None else Path(out)


def _show(quiet: bool, as_json: bool) -> Console:
    """Where tables go: stdout, or nowhere with --quiet or --json."""
    return Console(file=STDOUT, quiet=True) if quiet or as_json else console


def _emit_json(document: dict[str, Any]) -> None:
    import json  # noqa: PLC0415

    from initlab.reporting.folder import finite_or_null  # noqa: PLC0415

    STDOUT.write(json.dumps(finite_or_null(document), indent=1, allow_nan=False) + "\n")
    STDOUT.flush()


def _finish(path: Path, failure: str | None, interrupted: bool, as_json: bool) -> None:
    """The last lines of a command that saved a folder, and its exit code."""
    (err_console if as_json else console).print(f"results: {path}", markup=False)
    if failure:
        raise RunFailed(f"{failure}; the experiments of the other workers are saved in {path}")
    if interrupted:
        err_console.print("interrupted: what finished is saved, run marked 'interrupted'")
        sys.exit(130)
    if STDOUT.broken:
        sys.exit(141)


RUN_HELP = (
    "Train one experiment file (one seed, or N seeds as slices of one batched training) and "
    "report per-layer statistics and accuracy.\n\n"
    "CONFIG is a path or the name of a shipped file (`initlab configs` lists them). Prints the "
    "resolved experiment, a per-layer table at initialization, the cost every train.log_every "
    "iterations, the per-layer table after training (with the number of distinct units per "
    "layer: symmetry), and train/test accuracy.\n\n"
    "Writes config.yaml, metrics.json, history.csv, weights_init.npz, weights_final.npz and "
    "environment.json to results/<timestamp>-<name>/ (or --out), complete or not at all: the "
    "folder is written under a hidden name and renamed when done. Ctrl-C or SIGTERM stops the "
    "training after the current segment of 64 iterations, saves what finished (marked "
    "'interrupted') and exits 130. Example: initlab run he_circles --seeds 20 --set "
    "train.lr=0.05")


@app.command(help=RUN_HELP, short_help="Train one experiment file (or N seeds of it).")
def run(
    config: str = typer.Argument(..., show_default=False,
                                 help="Experiment file: a path or a shipped name (he_circles)."),
    overrides: list[str] = SET_OPTION,
    seeds: int | None = typer.Option(None, "--seeds", min=1, show_default=False,
                                     help="Train N seeds (seed, seed+1, …) as N slices of one "
                                          "batched training."),
    device: str | None = DEVICE_OPTION, engine: str | None = ENGINE_OPTION,
    n_workers: int | None = WORKERS_OPTION,
    max_memory: str | None = MAX_MEMORY_OPTION, out: str | None = OUT_OPTION,
    overwrite: bool = OVERWRITE_OPTION, quiet: bool = QUIET_OPTION,
    as_json: bool = JSON_OPTION, dry_run: bool = DRY_RUN_OPTION, plot: bool = PLOT_OPTION,
) -> None:
    """The `run` command (help text: RUN_HELP)."""
    from initlab.commands import run as command  # noqa: PLC0415
    from initlab.experiments import config as config_mod  # noqa: PLC0415
    from initlab.experiments import runner  # noqa: PLC0415
    from initlab.reporting import folder, live, records, run_tables  # noqa: PLC0415

    plan, backend = command.prepare(config_mod.locate(config),
                                    _with_device(overrides, device, engine), seeds)
    chunks, target = runner.chunks_for(plan, backend, _limit(max_memory)), _out(out)
    folder.check_target(target, overwrite)
    show = _show(quiet, as_json)
    run_tables.header(show, plan, backend.label)
    if overrides:
        show.print(f"overrides: {' '.join(overrides)}", markup=False, style="dim")
    workers = _workers(n_workers)
    if dry_run or chunks.count > 1:
        show.print(run_tables.chunking_line(
            chunks, runner.worker_count(plan, backend, chunks.size, workers), plan.engine),
            markup=False)
    if dry_run:
        console.print(f"dry run: {plan.n_experiments} experiment(s), "
                      f"{plan.config.train.epochs} epochs; nothing trained or written")
        return
    with interrupts.stop_requests(), folder.RunFolder(target, plan.config.name,
                                                      overwrite=overwrite) as dest:
        with live.training(show, live.bar_console(show, err_console), log_costs=True) as calls:
            result = command.run(plan, backend, calls, workers, chunks)
        folder.save_run(dest.path, result, config_mod.dump(result.plan.config),
                        folder.environment(backend.label, list(overrides)),
                        interrupted=interrupts.requested)
        path = dest.commit()
    stopped = interrupts.requested()
    if as_json:
        _emit_json(records.metrics(result, stopped))
    run_tables.lsuv_lines(show, result)
    if len(result.chunks) > 1:
        run_tables.layer_table(show, result.layers_init, "Per layer at initialization",
                               symmetry=True)
    run_tables.layer_table(show, result.layers_final, "Per layer after training", symmetry=True)
    if not as_json:
        run_tables.final_table(console, result)
    if plot:
        _plot(path, as_json)
    _finish(path, result.history.failure, stopped, as_json)


PROBE_HELP = (
    "Signal propagation through a deep stack at initialization, no training: per layer the "
    "activation mean and std beside the mean-field prediction q_l = σ_w²·E[φ(√q_(l-1) z)²] + "
    "σ_b² (composite Gauss–Legendre quadrature), saturated/dead shares, and the std of a "
    "unit-variance gradient propagated down from the top, beside its prediction.\n\n"
    "Options override the file's keys (or the defaults, which reproduce CS231n's 10 tanh layers "
    "of 500 units on 1000 gaussian inputs). Writes probe.json to the results folder. "
    "Example: initlab probe --depth 50 --width 256 --activation relu "
    "--inits he,xavier_normal,lecun_normal --seeds 5")


@app.command(help=PROBE_HELP, short_help="Signal propagation at initialization, beside theory.")
def probe(
    config: str | None = typer.Argument(
        None, show_default=False, help="Probe file: a path or a shipped name (deep_tanh_probe)."),
    depth: int | None = typer.Option(None, "--depth", show_default=False, help="Layers (≥ 1)."),
    width: int | None = typer.Option(None, "--width", show_default=False,
                                     help="Units per layer (≥ 1)."),
    activation: str | None = typer.Option(None, "--activation", show_default=False,
                                          help="tanh, relu, sigmoid, linear, selu, gelu, …"),
    inits_: str | None = typer.Option(None, "--inits", show_default=False,
                                      help="Comma-separated initializers, parameters allowed: "
                                           "small,big,xavier_normal or 'normal(std=0.5),he'."),
    seeds: int | None = typer.Option(None, "--seeds", min=1, show_default=False,
                                     help="Average over N seeds (0 … N−1)."),
    batch: int | None = typer.Option(None, "--batch", show_default=False,
                                     help="Gaussian inputs (samples)."),
    input_: str | None = typer.Option(None, "--input", show_default=False,
                                      help="gaussian (default) or a data set name; a data set "
                                           "also gives a real loss gradient."),
    histograms: bool = typer.Option(False, "--histograms",
                                    help="Show per-layer histograms (--plot draws them too)."),
    jacobian: bool = typer.Option(False, "--jacobian",
                                  help="Singular values of the input–output Jacobian."),
    device: str | None = DEVICE_OPTION, overrides: list[str] = SET_OPTION,
    max_memory: str | None = MAX_MEMORY_OPTION, out: str | None = OUT_OPTION,
    overwrite: bool = OVERWRITE_OPTION, quiet: bool = QUIET_OPTION,
    as_json: bool = JSON_OPTION, dry_run: bool = DRY_RUN_OPTION, plot: bool = PLOT_OPTION,
) -> None:
    """The `probe` command (help text: PROBE_HELP)."""
    from initlab.commands import probe as command  # noqa: PLC0415
    from initlab.engine.backend import get_backend  # noqa: PLC0415
    from initlab.experiments import config as config_mod  # noqa: PLC0415
    from initlab.reporting import folder, live, probe_tables, records  # noqa: PLC0415

    data = config_mod.read(config_mod.locate(config)) if config is not None else {}
    given = {"depth": depth, "width": width, "activation": activation, "batch": batch,
             "input": input_,
             "inits": config_mod.split_specs(inits_) if inits_ is not None else None,
             "seeds": list(range(seeds)) if seeds is not None else None,
             "histograms": histograms or plot or None, "jacobian": jacobian or None}
    data.update({k: v for k, v in given.items() if v is not None})
    for assignment in _with_device(overrides, device):
        config_mod.apply_override(data, assignment)
    cfg = config_mod.validate(data, str(config or "probe options"), config_mod.ProbeConfig)
    backend = get_backend(cfg.device)
    need = command.check_memory(cfg, backend, _limit(max_memory))
    target = _out(out)
    folder.check_target(target, overwrite)
    show = _show(quiet, as_json)
    show.print(command.describe(cfg, backend.label, need), markup=False)
    if dry_run:
        console.print("dry run: nothing computed or written", markup=False)
        return
    with live.progress(live.bar_console(show, err_console), "probing") as on_step:
        found = command.run(cfg, backend.xp, on_step)
    with interrupts.stop_requests(), folder.RunFolder(target, cfg.name,
                                                      overwrite=overwrite) as dest:
        folder.save_probe(dest.path, found, config_mod.dump(cfg),
                          folder.environment(backend.label, list(overrides)))
        path = dest.commit()
    if as_json:
        _emit_json(records.probe_record(found))
    for result in found:
        probe_tables.probe_table(show, result, cfg.histograms)
        if quiet and not as_json:
            probe_tables.probe_summary(console, result)
    if plot:
        _plot(path, as_json)
    _finish(path, None, interrupts.requested(), as_json)


COMPARE_HELP = (
    "Train one experiment file under several initializers × seeds in one batched training, and "
    "compare them as distributions, not anecdotes.\n\n"
    "Without CONFIG the file is the shipped he_circles (the Coursera circles network). Seeds "
    "are seed, seed+1, … from the file's `seed` (--seeds N), or --seed-list. With rng: legacy, "
    "seed s trains exactly as `initlab run` with seed s. A config.yaml written by compare holds "
    "a `compare` section (inits, seeds, success, target_cost): `initlab compare "
    "results/<id>/config.yaml` runs the same comparison again.\n\n"
    "Prints the per-layer statistics at initialization side by side, one row per initializer "
    "(train/test accuracy mean ± 95% CI and min–max over the seeds that did not diverge, success "
    "rate, median final cost, median iteration to reach --target-cost, diverged seeds; best row "
    "in bold), the median cost curve of each, and a verdict that says when confidence intervals "
    "overlap. Writes the run folder of `initlab run`, with a `summary` list in metrics.json. "
    "Ctrl-C or SIGTERM saves what finished, prints no verdict and exits 130.\n\n"
    "Example: initlab compare --inits zeros,random,he --seeds 20")


@app.command(help=COMPARE_HELP, short_help="Initializers × seeds in one batched training.")
def compare(
    config: str | None = typer.Argument(None, show_default=False,
                                        help="Experiment file: a path or a shipped name "
                                             "(default: he_circles)."),
    inits_: str | None = typer.Option(None, "--inits", show_default=False,
                                      help="Comma-separated initializers, parameters in "
                                           "parentheses: 'zeros,normal(std=0.5),he(mode=fan_out)'"
                                           "; framework presets (torch_default, …), lsuv, and "
                                           "per-layer lists or mappings: '{default: he, last: "
                                           "zeros}'. Default: zeros,random,he. See "
                                           "`initlab inits`."),
    seeds: int | None = typer.Option(None, "--seeds", show_default=False,
                                     help="Seeds per initializer: seed … seed+N−1 (default 1)."),
    seed_list: str | None = typer.Option(None, "--seed-list", show_default=False,
                                         help="Explicit seeds instead of --seeds: 0,7,19."),
    success: float | None = typer.Option(None, "--success", min=0.0, max=1.0,
                                         show_default=False,
                                         help="A seed succeeds when its train accuracy reaches "
                                              "this (default 0.9)."),
    target_cost: float | None = typer.Option(None, "--target-cost", min=0.0, show_default=False,
                                             help="Report the median iteration at which the "
                                                  "training cost first falls below this "
                                                  "(default 0.3)."),
    metric: str = typer.Option("train_accuracy", "--metric",
                               help="What the best is chosen on and compared with the others "
                                    "seed by seed: train_accuracy, test_accuracy, final_cost or "
                                    "iterations_to_target."),
    ci: str = typer.Option("auto", "--ci",
                           help="Accuracy intervals: t (Student), bootstrap (BCa), or auto: "
                                "bootstrap when some seed sits at 0 or 1, else t."),
    overrides: list[str] = SET_OPTION, device: str | None = DEVICE_OPTION,
    engine: str | None = ENGINE_OPTION,
    n_workers: int | None = WORKERS_OPTION, max_memory: str | None = MAX_MEMORY_OPTION,
    out: str | None = OUT_OPTION, overwrite: bool = OVERWRITE_OPTION,
    quiet: bool = typer.Option(False, "--quiet", "-q",
                               help="Print only the summary table and the verdict."),
    as_json: bool = JSON_OPTION, dry_run: bool = DRY_RUN_OPTION, plot: bool = PLOT_OPTION,
) -> None:
    """The `compare` command (help text: COMPARE_HELP)."""
    from initlab.commands import compare as command  # noqa: PLC0415
    from initlab.engine.backend import get_backend  # noqa: PLC0415
    from initlab.experiments import config as config_mod  # noqa: PLC0415
    from initlab.experiments import runner  # noqa: PLC0415
    from initlab.reporting import (  # noqa: PLC0415
        compare_tables,
        folder,
        live,
        records,
        run_tables,  # noqa: PLC0415
    )

    opts = command.options(config, inits_, seeds, seed_list,
                           _with_device(overrides, device, engine),
                           success, target_cost, metric, ci)
    plan = command.setup(opts)
    backend = get_backend(plan.config.device)
    chunks, target = runner.chunks_for(plan, backend, _limit(max_memory)), _out(out)
    folder.check_target(target, overwrite)
    show = _show(quiet, as_json)
    run_tables.header(show, plan, backend.label)
    workers = _workers(n_workers)
    show.print(run_tables.chunking_line(
        chunks, runner.worker_count(plan, backend, chunks.size, workers), plan.engine),
        markup=False)
    if dry_run:
        console.print(f"dry run: {plan.n_experiments} experiment(s), nothing trained or written")
        return
    with interrupts.stop_requests(), folder.RunFolder(target, f"{plan.config.name}-compare",
                                                      overwrite=overwrite) as dest:
        with live.training(show, live.bar_console(show, err_console), log_costs=False) as calls:
            found = command.run(plan, backend, chunking=chunks, callbacks=calls,
                                n_workers=workers, metric=opts.metric, ci=opts.ci)
        folder.save_run(dest.path, found.run, config_mod.dump(found.run.plan.config),
                        folder.environment(backend.label, list(overrides)),
                        extra=records.compare_extra(found), interrupted=interrupts.requested)
        path = dest.commit()
    stopped = interrupts.requested()
    if as_json:
        _emit_json(records.metrics(found.run, stopped) | records.compare_extra(found))
    else:
        compare_tables.render(console if quiet else show, found, summary_only=quiet)
        if found.run.weights_init is None:
            show.print("weights not saved: above the 1 GiB kept for chunked runs", markup=False)
    if plot:
        _plot(path, as_json)
    _finish(path, found.run.history.failure, stopped, as_json)


SWEEP_HELP = (
    "A grid over any keys of an experiment or probe file — depth, width, lr, the activation, "
    "σ_w, σ_b — with initializers × seeds batched inside every grid point. The sweep file names "
    "a base file and a grid:\n\n"
    "base: digits_tanh / grid: {model.depth: [2, 4, 8], train.lr: [0.01, 0.1]} / inits: "
    "[xavier_normal, he] / seeds: 5 / metric: train_accuracy\n\n"
    "(model.depth, model.width: uniform hidden stacks of a run base). Every point is validated "
    "with its memory first; then each is one compare (or probe) in a worker process — a local "
    "pool (--backend local) or Ray tasks (--backend ray, pip install 'initlab\\[ray]'), on a "
    "local cluster or a running one (--address) — and its folder is written as it arrives. A "
    "point's numbers do not depend on the backend, the worker or the order. A failed point "
    "(an error, every seed diverged, a dead worker) is recorded and the sweep goes on; --resume "
    "FOLDER reruns the points that did not complete. Ctrl-C or SIGTERM keeps what finished "
    "(exit 130).\n\n"
    "Writes points/p0000…/ (each a compare or probe folder), sweep.json and sweep.csv (one row "
    "per point × initializer), and prints a table: a row per point, a column per initializer, "
    "the best of each row in bold.\n\n"
    "Example: initlab sweep sweep_depth --dry-run")


@app.command(help=SWEEP_HELP, short_help="Grids over any key, locally or on a Ray cluster.")
def sweep(
    file: str = typer.Argument(..., show_default=False,
                               help="Sweep file: a path or a shipped name (sweep_depth)."),
    backend: str = typer.Option("local", "--backend",
                                help="local (a process pool) or ray (Ray tasks)."),
    address: str | None = typer.Option(None, "--address", show_default=False,
                                       help="Ray: a running cluster (ray://head:10001 or "
                                            "auto); default: start a local one."),
    n_workers: int | None = typer.Option(None, "--workers", min=1, show_default=False,
                                         help="Points at a time (default: one per core; "
                                              "ray: the cluster's CPUs / --cpus-per-point)."),
    cpus_per_point: float = typer.Option(1.0, "--cpus-per-point", min=0.01,
                                         help="Ray: CPUs each point asks for."),
    gpus_per_point: float = typer.Option(0.0, "--gpus-per-point", min=0.0,
                                         help="Ray: GPUs each point asks for (with --device "
                                              "gpu)."),
    resume: str | None = typer.Option(None, "--resume", show_default=False,
                                      help="A sweep folder: rerun only its points that did "
                                           "not complete."),
    device: str | None = DEVICE_OPTION, max_memory: str | None = MAX_MEMORY_OPTION,
    out: str | None = OUT_OPTION, overwrite: bool = OVERWRITE_OPTION,
    quiet: bool = QUIET_OPTION, as_json: bool = JSON_OPTION, dry_run: bool = DRY_RUN_OPTION,
    plot: bool = typer.Option(False, "--plot",
                              help="Draw the metric against the grid (one key: lines with 95% "
                                   "bands; more: a heatmap per initializer), PNG and SVG."),
) -> None:
    """The `sweep` command (help text: SWEEP_HELP)."""
    from initlab.commands import sweep as command  # noqa: PLC0415
    from initlab.experiments import sweep as sweep_file  # noqa: PLC0415
    from initlab.reporting import folder, live, sweep_files, sweep_tables  # noqa: PLC0415

    if backend not in command.BACKENDS:
        raise InitlabError(f"--backend: unknown backend {backend!r}; valid: "
                           f"{', '.join(command.BACKENDS)}")
    if backend == "local" and (address is not None or gpus_per_point):
        raise InitlabError("--address and --gpus-per-point are for --backend ray")
    if resume is not None and (out is not None or overwrite):
        raise InitlabError("--resume writes into the sweep folder it is given; leave out --out "
                           "and --overwrite")
    found = sweep_file.load(file)
    pool = None
    if backend == "ray" and not dry_run:
        pool = command.RayPool(address, cpus_per_point, gpus_per_point, n_workers)
    workers = pool.slots if pool is not None else _workers(n_workers)
    plan = command.plan(found, workers=workers, limit=_limit(max_memory), device=device)
    show = _show(quiet, as_json)
    show.print(sweep_tables.grid_line(plan), markup=False)
    if dry_run:
        for p in plan.points:
            show.print(f"  point {p.point.index}: {p.point.label()}  ({p.experiments} models, "
                       f"~{_human(p.bytes)})", markup=False)
        console.print(f"dry run: {len(plan.points)} point(s), nothing run or written",
                      markup=False)
        return
    root = Path(resume) if resume is not None else None
    kept: dict[int, dict] = {}
    if root is not None:
        kept = {i: r for i, r in sweep_files.read_resumed(root, plan).items()
                if r["status"] == "completed"}
    else:
        target = _out(out)
        folder.check_target(target, overwrite)
        root = target or folder.new_run_dir(folder.RESULTS, f"{found.file.name}-sweep")
        if target is not None and target.exists() and overwrite:
            import shutil  # noqa: PLC0415

            shutil.rmtree(target)
        (root / "points").mkdir(parents=True, exist_ok=True)
        folder.atomic_write(root / "sweep.yaml", found.source.read_bytes())
    by_index = {p.point.index: p for p in plan.points}
    records_ = {i: kept.get(i) or sweep_files.point_record(p.point, "pending", None,
                                                          found.kind)
                for i, p in by_index.items()}
    todo = [p.task.marked(root / "points" / f".p{i:04d}.running")
            for i, p in by_index.items() if i not in kept]
    label = pool.name if pool is not None else "local"
    record = lambda status: sweep_files.sweep_record(  # noqa: E731
        plan, [records_[i] for i in sorted(records_)], status, label)
    sweep_files.write_sweep(root, record("running"))
    pool = pool or command.LocalPool(workers)

    def arrived(outcome: Any) -> None:
        point = by_index[outcome.index].point
        if outcome.found is not None:
            sweep_files.write_point(root, point, outcome, found.kind)
        records_[outcome.index] = sweep_files.point_record(point, outcome.status, outcome,
                                                           found.kind)
        Path(root / "points" / f".p{outcome.index:04d}.running").unlink(missing_ok=True)
        sweep_files.append_point(root, records_[outcome.index])
        if outcome.status != "completed":
            show.print(f"point {outcome.index} ({point.label()}): {outcome.status}"
                       f"{': ' + outcome.error if outcome.error else ''}", markup=False)

    with interrupts.stop_requests(), live.progress(live.bar_console(show, err_console),
                                                   "points") as on_step:
        left = command.execute(todo, pool, arrived, interrupts.requested,
                               lambda pr: on_step(pr.done, pr.total))
    for i in left:
        records_[i] = sweep_files.point_record(by_index[i].point, "interrupted", None,
                                               found.kind)
        Path(root / "points" / f".p{i:04d}.running").unlink(missing_ok=True)
    failed = sum(r["status"] == "failed" for r in records_.values())
    status = "interrupted" if left else "failed" if failed else "completed"
    final = record(status)
    sweep_files.write_sweep(root, final)
    if as_json:
        _emit_json(final)
    else:
        sweep_tables.summary_table(console if quiet else show, final)
    if plot and not left:
        _sweep_pictures(root, final, err_console if as_json else console)
    if failed and not left:
        console.print(f"results: {root}", markup=False)
        raise RunFailed(f"{failed} of {len(records_)} point(s) failed; initlab sweep {file} "
                        f"--resume {root} reruns them")
    _finish(root, None, bool(left), as_json)


def _sweep_pictures(root: Path, record: dict, out: Console) -> None:
    from initlab.reporting import plots, sweep_plots  # noqa: PLC0415

    why = plots.missing()
    if why is not None:
        err_console.print(f"no pictures: {why}", markup=False, highlight=False, soft_wrap=True)
        return
    for path in sweep_plots.draw(root, record):
        out.print(f"wrote {path}", markup=False, highlight=False, soft_wrap=True)


def _human(n: int) -> str:
    from initlab.engine.memory import human_bytes  # noqa: PLC0415

    return human_bytes(n)


REPORT_HELP = (
    "Print again the tables of a saved results folder (of run, compare or probe), from its "
    "files alone: nothing is trained or probed again. With matplotlib installed "
    "(pip install 'initlab\\[plot]') it also draws the folder's pictures (PNG and SVG) and "
    "writes report.html, one self-contained page with the experiment, the tables, the verdict "
    "and the pictures, which --open shows in the browser.\n\n"
    "Example: initlab report results/20261202-101500-123-he_circles --open")


@app.command(help=REPORT_HELP, short_help="Tables, pictures and report.html of a saved folder.")
def report(
    folder: Path = typer.Argument(..., show_default=False,
                                  help="A results folder written by run, compare or probe."),
    open_page: bool = typer.Option(False, "--open", help="Open report.html in the browser."),
    quiet: bool = typer.Option(False, "--quiet", "-q",
                               help="Print only the paths of what was written."),
) -> None:
    """The `report` command (help text: REPORT_HELP)."""
    from initlab.commands import report as command  # noqa: PLC0415
    from initlab.reporting import replay  # noqa: PLC0415

    saved = command.load(folder)
    replay.tables(_show(quiet, False), saved)
    page = _draw(saved, console)
    if open_page:
        import webbrowser  # noqa: PLC0415

        if not webbrowser.open(page.resolve().as_uri()):
            err_console.print(f"no browser found; open {page} yourself", markup=False)


def _draw(saved: object, out: Console) -> Path:
    """Draw the pictures of a saved folder and write its report.html, printing their paths on
    ``out``; without matplotlib, one line saying how to install it and a page without
    pictures."""
    from initlab.reporting import html, plots  # noqa: PLC0415

    why = plots.missing()
    if why is not None:
        err_console.print(f"no pictures: {why}", markup=False, highlight=False, soft_wrap=True)
    with interrupts.stop_requests():
        pictures = [] if why is not None else plots.draw(saved)
        page = html.write(saved, pictures)
    for path in [*pictures, page]:
        out.print(f"wrote {path}", markup=False, highlight=False, soft_wrap=True)
    return page


def _plot(path: Path, as_json: bool) -> None:
    """--plot: the pictures and report.html of the folder just saved (not after a stop)."""
    from initlab.commands import report as saved_folder  # noqa: PLC0415

    if not interrupts.requested():
        _draw(saved_folder.load(path), err_console if as_json else console)


EXPORT_HELP = (
    "Write one experiment's starting weights (or, with --final, its trained ones) from a saved "
    "run or compare folder in another framework's naming and layout, and print a snippet that "
    "loads them there. Formats: safetensors and torch (the state_dict of nn.Sequential: "
    "0.weight (n_out, n_in), 0.bias, 2.weight, …; safetensors needs no PyTorch to write, torch "
    "does), keras (Dense kernel = Wᵀ and bias, in model.get_weights() order, as .npz), flax "
    "(params tree Dense_0/kernel = Wᵀ, as .npz) and npz (initlab's W1, b1, …).\n\n"
    "The file goes to FOLDER/export/<init>-seed<s>-<init|final>.<ext> unless --out; an "
    "existing file is never replaced. Example: initlab export results/<id> --init he --seed 3 "
    "--format safetensors")


@app.command(help=EXPORT_HELP, short_help="One experiment's weights for PyTorch, Keras, Flax.")
def export(
    folder: Path = typer.Argument(..., show_default=False,
                                  help="A results folder written by run or compare."),
    init: str = typer.Option(..., "--init", show_default=False,
                             help="The experiment's initializer, as the folder names it (he, "
                                  "'normal(std=0.5)')."),
    seed: int = typer.Option(..., "--seed", show_default=False, help="The experiment's seed."),
    fmt: str = typer.Option("safetensors", "--format",
                            help="safetensors | torch | keras | flax | npz."),
    final: bool = typer.Option(False, "--final", help="The weights after training instead of "
                                                      "the starting ones."),
    out: Path | None = typer.Option(None, "--out", show_default=False,
                                    help="Write this file instead."),
) -> None:
    """The `export` command (help text: EXPORT_HELP)."""
    from initlab.commands import export as command  # noqa: PLC0415

    with interrupts.stop_requests():
        path, snippet = command.export(folder, init, seed, fmt, final=final, out=out)
    console.print(f"wrote {path}", markup=False, highlight=False, soft_wrap=True)
    console.print(snippet, markup=False, highlight=False, soft_wrap=True)


@app.command()
def configs() -> None:
    """List the experiment and probe files that ship with initlab (run them by name:
    initlab run he_circles) and what each reproduces."""
    from initlab.experiments import config as config_mod  # noqa: PLC0415
    from initlab.reporting.format import catalogue_table  # noqa: PLC0415

    rows = [{"name": name, "description": config_mod.describe(path)}
            for name, path in config_mod.shipped().items()]
    catalogue_table(console, f"Shipped experiment files ({config_mod.SHIPPED})", rows,
                    ["name", "description"])


INITS_HELP = (
    "List every initializer, alias, framework preset and LSUV with its law (weights are "
    "(n_out, n_in): fan_in = n_in, fan_out = n_out).\n\n"
    "With NAME, describe one: its law, every parameter with its value (defaults marked), the "
    "formula, the realised std where it does not depend on the layer, and its source, e.g. "
    "initlab inits 'truncated_normal(std=0.02, a=-0.04, b=0.04)' or initlab inits "
    "keras.he_normal.\n\n"
    "he_normal, xavier_normal, lecun_normal are PyTorch's (untruncated); keras.* and jax.* "
    "are those frameworks' laws (he_normal there is truncated at ±2σ, σ corrected by "
    "0.8796). With --gains: PyTorch's gain table beside the computed gain 1/√E[φ(z)²] that "
    "gain=auto uses.")


@app.command(help=INITS_HELP, short_help="List or describe initializers; --gains: the gain table.")
def inits(
    name: str | None = typer.Argument(None, show_default=False,
                                      help="An initializer to describe: a name, "
                                           "'name(key=value, …)', a preset or lsuv."),
    gains: bool = typer.Option(False, "--gains",
                               help="Print the gain table: PyTorch's value and the computed "
                                    "one for every activation."),
) -> None:
    """The `inits` command (help text: INITS_HELP)."""
    from initlab.inits import draw, fans  # noqa: PLC0415
    from initlab.reporting.format import catalogue_table, describe_table  # noqa: PLC0415

    if name is not None and gains:
        raise InitlabError("give an initializer NAME or --gains, not both")
    if gains:
        four = lambda v, none: none if v is None else f"{v:.4f}"  # noqa: E731
        rows = [{**r, "pytorch": four(r["pytorch"], "none (raises)"),
                 "auto": four(r["auto"], "none")} for r in fans.gain_table()]
        catalogue_table(console, f"Gains: pytorch from {fans.PYTORCH_GAIN_SOURCE}; auto "
                                 "computed, 1/√E[φ(z)²] for z ~ N(0, 1) (gain=auto)", rows,
                        ["name", "pytorch", "auto", "note"])
    elif name is not None:
        from initlab.experiments import config as config_mod  # noqa: PLC0415

        specs = config_mod.split_specs(name)
        if len(specs) != 1:
            raise InitlabError(f"describe one initializer at a time, got {len(specs)}: "
                               f"{shown(name)}")
        describe_table(console, f"Initializer {name}", draw.describe(specs[0]))
    else:
        catalogue_table(console, "Initializers (weights are (n_out, n_in): fan_in = n_in, "
                                 "fan_out = n_out)", draw.catalogue(),
                        ["name", "params", "formula", "note"])


@app.command(short_help="This machine: CPU, NumPy/BLAS, CuPy, CUDA and every GPU.")
def devices(as_json: bool = typer.Option(False, "--json",
                                         help="Print one JSON document instead of tables.")
            ) -> None:
    """What initlab can run on here: the CPU and its cores, the memory, NumPy and the BLAS it
    calls, CuPy with the CUDA runtime and driver versions, and for each GPU its name, memory
    (total and free), compute capability and whether TF32 matmuls are available. One line each
    says what is wrong when CuPy is missing, sees no device, or the driver is older than the
    runtime needs: the check to end a GPU install with."""
    from initlab.commands import devices as command  # noqa: PLC0415
    from initlab.reporting.device_tables import devices_tables  # noqa: PLC0415

    found = command.query()
    if as_json:
        _emit_json(found.record())
        return
    devices_tables(console, found)


@app.command("datasets")
def list_datasets() -> None:
    """List the data sets (all generated or shipped; nothing is downloaded) and their keys."""
    from initlab.experiments import datasets  # noqa: PLC0415
    from initlab.reporting.format import catalogue_table  # noqa: PLC0415

    catalogue_table(console, "Data sets (dataset: {name: …, key: value})", datasets.catalogue(),
                    ["name", "task", "params", "description"])


@app.command(short_help="Print the JSON Schema of an experiment or probe file.")
def schema(probe_file: bool = typer.Option(False, "--probe",
                                           help="The schema of a probe file instead.")) -> None:
    """Print the JSON Schema of an experiment file (or, with --probe, a probe file), with every
    initializer, activation and data set and their parameters, for an editor's YAML language
    server: initlab schema > experiment.schema.json"""
    from initlab.experiments import config as config_mod  # noqa: PLC0415

    kind = config_mod.ProbeConfig if probe_file else config_mod.RunConfig
    _emit_json(config_mod.schema(kind))


@app.command("bench-sweep", short_help="Speed: the sweep's engines, local pool and Ray.")
def bench_sweep(
    points: int = typer.Option(20, "--points", min=1, help="Grid points (a learning-rate grid)."),
    epochs: int = typer.Option(2000, "--epochs", min=1, help="Epochs of every point."),
    n_workers: int | None = typer.Option(None, "--workers", min=1, show_default=False,
                                         help="Points at a time for the parallel rows "
                                              "(default: one per core)."),
    repeat: int = typer.Option(1, "--repeat", min=1, help="Timed repetitions (best is kept)."),
) -> None:
    """Time one grid of he_circles points: one after another in one process (the baseline),
    then whole `initlab sweep` processes on the local pool (1 and N workers) and on a local Ray
    cluster (when Ray is installed); each row's speed-up and its overhead per point."""
    from initlab.commands import bench_sweep as command  # noqa: PLC0415
    from initlab.reporting.bench_tables import bench_table  # noqa: PLC0415

    bench_table(console, command.run(points, epochs, _workers(n_workers), repeat))


@app.command("bench-train", short_help="Speed: start-up, the batched engine vs the notebook loop.")
def bench_train(
    config: str | None = typer.Argument(
        None, show_default=False,
        help="An experiment file (or a shipped name such as neanderthal_big): time its init and "
             "training at each --experiments E on --device instead of the he_circles suite."),
    iterations: int | None = typer.Option(
        None, "--iterations", min=1, show_default=False,
        help="Gradient-descent iterations for the one-model runs (default 15000; with CONFIG: "
             "its epochs, default the file's)."),
    compare_iterations: int = typer.Option(1000, "--compare-iterations", min=1,
                                           help="Iterations for the 60-model compare benchmark."),
    peer_iterations: int = typer.Option(15000, "--peer-iterations", min=1,
                                        help="Iterations for the engines-and-JAX table (60 "
                                             "models)."),
    repeat: int = typer.Option(3, "--repeat", min=1, help="Timed repetitions (best is kept)."),
    n_workers: int | None = typer.Option(None, "--workers", min=1, show_default=False,
                                         help="Worker processes for the parallel rows (default: "
                                              "one per core)."),
    device: str | None = typer.Option(None, "--device", show_default=False,
                                      help="With CONFIG: cpu, gpu or auto (default: the file's)."),
    experiments: str = typer.Option("1", "--experiments",
                                    help="With CONFIG: batch sizes E to time, comma-separated "
                                         "(seeds from the file's seed on), e.g. 1,100,1000."),
    tf32: bool = typer.Option(False, "--tf32",
                              help="With CONFIG on a GPU: allow TF32 matmuls (float32 inputs "
                                   "rounded to 10-bit mantissas in the tensor cores)."),
    as_json: bool = typer.Option(False, "--json", help="With CONFIG: JSON Lines, a row each."),
) -> None:
    """Time initlab against the notebook-style NumPy loop on he_circles: whole processes
    (`initlab --help`, `initlab run he_circles`, the same with --plot when matplotlib is
    installed, and the notebook loop as its own script, best of --repeat, interleaved), one
    model (E = 1) and 20 seeds in one process, then `compare --inits zeros,random,he --seeds 20`
    (60 models) against the loop training the same 60 models one at a time. Ratios > 1: initlab
    is faster.

    With CONFIG: that file's initialisation (host draw and copy to the device) and training at
    each E of --experiments, with µs per model-iteration, GFLOP/s and, on a GPU of known peak,
    its share; and the same network in a direct PyTorch loop on the same device when torch is
    importable. Example: initlab bench-train neanderthal_big --device gpu --tf32"""
    from initlab.reporting import live  # noqa: PLC0415
    from initlab.reporting.bench_tables import bench_table, config_bench_table  # noqa: PLC0415

    bar = live.bar_console(console, err_console)
    if config is not None:
        from initlab.commands import bench_config  # noqa: PLC0415

        sizes = _experiment_sizes(experiments)
        with live.progress(bar, "timing") as on_step:
            found = bench_config.config_benchmark(config, device, sizes, repeat, tf32,
                                                  iterations, on_step)
        if as_json:
            import dataclasses  # noqa: PLC0415
            import json  # noqa: PLC0415

            for row in found.rows:
                print(json.dumps({"table": found.title, **dataclasses.asdict(row)}))
            return
        config_bench_table(console, found)
        return
    from initlab.commands import bench_train as command  # noqa: PLC0415

    for label, measure in (
            ("start-up and whole process", lambda step: command.process_benchmark(repeat, step)),
            ("one model and 20 seeds", lambda step: command.train_benchmark(
                iterations or 15000, repeat, step)),
            ("60 models", lambda step: command.compare_benchmark(
                compare_iterations, repeat, _workers(n_workers), step)),
            ("engines and the JAX peer", lambda step: command.peer_benchmark(
                peer_iterations, repeat, _workers(n_workers), step))):
        with live.progress(bar, label) as on_step:
            found = measure(on_step)
        bench_table(console, found)


def _experiment_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise InitlabError(f"--experiments takes whole numbers >= 1, comma-separated (1,100,1000)"
                           f"; got {text!r}")
    return sizes


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


@app.command("bench-rng", help=BENCH_RNG_HELP,
             short_help="Speed: random numbers and the article's big-network init.")
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
    from initlab.reporting import bench_tables, live  # noqa: PLC0415

    if device not in ("cpu", "gpu", "all"):
        raise InitlabError(f"unknown --device {device!r}; valid: cpu, gpu, all")
    n = _bench_rng_size(size)
    command.check_memory(device, n, network)
    with live.progress(live.bar_console(_show(False, as_json), err_console), "timing") as step:
        rows = command.run(device, n, repeat, _workers(threads), network, on_step=step)
    if as_json:
        for row in rows:
            STDOUT.write(json.dumps(row) + "\n")
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
    """Console entry point: one line per error; exit codes 2 (bad input), 1 (a run that could
    not finish), 130 (Ctrl-C or SIGTERM), 141 (stdout closed)."""
    interrupts.raise_on_signals()
    try:
        code = app(standalone_mode=False)
    except (InitlabError, RunFailed) as exc:
        if _state["debug"]:
            raise
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2 if isinstance(exc, InitlabError) else 1)
    except ClickException as exc:
        message = exc.format_message()
        if not message:  # bare `initlab`: the help was shown
            sys.exit(0)
        err_console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        code = 130
    if code == 130:  # typer turns a KeyboardInterrupt into this exit code
        err_console.print("interrupted")
    sys.exit(code if isinstance(code, int) else 0)
