"""The sweep folder: ``sweep.yaml`` (the sweep file as given), one result folder per point under
``points/`` (``p0000``, … — each exactly what compare or probe writes, renamed into place when
complete), ``sweep.json`` (every point: its grid values, status, error, seconds and summary per
initializer; rewritten atomically as each point arrives) and the tidy ``sweep.csv`` (one row per
point × initializer: the grid keys, then the summary).

Each point's record is also appended to ``points.jsonl`` as it arrives (one line, flushed), and
``sweep.json``/``sweep.csv`` are written at the start and the end: the driver writes O(points)
bytes in all, whatever the grid's size. ``--resume`` reads ``sweep.json`` and the journal back:
points ``completed`` are kept, the others run again."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from initlab.commands import sweep as command
from initlab.errors import InitlabError, RunFailed
from initlab.experiments import sweep as sweep_file
from initlab.reporting import folder, records

SUMMARY_KEYS = {  # sweep.csv's summary columns, by base kind
    "run": ["n_seeds", "train_accuracy_mean", "train_accuracy_ci95", "test_accuracy_mean",
            "test_accuracy_ci95", "success_rate", "median_final_cost",
            "median_iterations_to_target", "diverged"],
    "probe": ["forward_ratio", "backward_ratio", "depth_q", "depth_c", "measured_xi_c"],
}
PHASE_COLUMNS = ["q_star", "c_star", "chi1", "chi_c", "xi_q", "xi_c"]  # probe: theory at the
# point's drawn σ_w², σ_b² (meanfield.Phase), empty where the layers mix laws


def summary(outcome: command.PointOutcome, kind: str) -> list[dict[str, Any]]:
    """One record per initializer of a finished point (compare's summaries, or the probe's)."""
    if outcome.found is None:
        return []
    if kind == "run":
        return [s.record() for s in outcome.found.summaries]
    return records.probe_record(outcome.found)["summary"]


def write_point(root: Path, point: sweep_file.Point, outcome: command.PointOutcome,
                kind: str) -> None:
    """The point's result folder, written beside its final name and renamed into place (a
    rerun of the point replaces the old folder whole)."""
    with folder.RunFolder(root / point.folder, point.folder.rsplit("/", 1)[-1],
                          overwrite=True) as dest:
        env = folder.environment(outcome.device, [])
        if kind == "run":
            found = outcome.found
            folder.save_run(dest.path, found.run, outcome.config_yaml, env,
                            extra=records.compare_extra(found))
        else:
            folder.save_probe(dest.path, outcome.found, outcome.config_yaml, env)
        dest.commit()


def point_record(point: sweep_file.Point, status: str, outcome: command.PointOutcome | None,
                 kind: str) -> dict[str, Any]:
    return {"index": point.index, "values": point.values, "folder": point.folder,
            "status": status, "error": None if outcome is None else outcome.error,
            "seconds": None if outcome is None else round(outcome.seconds, 3),
            "summary": [] if outcome is None else summary(outcome, kind)}


def sweep_record(plan: command.SweepPlan, points: list[dict[str, Any]], status: str,
                 backend: str) -> dict[str, Any]:
    """``sweep.json``."""
    file = plan.sweep.file
    return {"name": file.name, "kind": plan.sweep.kind, "base": str(plan.sweep.base),
            "grid": file.grid, "set": file.fixed, "inits": file.inits, "seeds": file.seeds,
            "metric": file.metric, "theory": plan.theory, "backend": backend, "status": status,
            "points": points}


def append_point(root: Path, record: dict[str, Any]) -> None:
    """One arrived point as a line of ``points.jsonl`` (appended and flushed to disk: the
    sweep's journal, what --resume trusts when the driver itself was killed)."""
    line = json.dumps(folder.finite_or_null(record), allow_nan=False) + "\n"
    try:
        with open(root / "points.jsonl", "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise RunFailed(f"cannot write {root / 'points.jsonl'}: {exc.strerror or exc}") from None


def write_sweep(root: Path, record: dict[str, Any]) -> None:
    """``sweep.json`` and ``sweep.csv``, each atomically."""
    try:
        folder.write_json(root / "sweep.json", record)
        folder.write_csv(root / "sweep.csv", *csv_rows(record))
    except OSError as exc:
        raise RunFailed(f"cannot write {exc.filename or root}: {exc.strerror or exc}") from None


def csv_rows(record: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """(header, rows) of sweep.csv: point, the grid keys, status, init, the summary columns
    (an interval as two columns, key_low and key_high); a probe's then its PHASE_COLUMNS."""
    keys, probe = list(record["grid"]), record["kind"] == "probe"
    columns: list[str] = []
    for key in SUMMARY_KEYS[record["kind"]]:
        columns += [f"{key}_low", f"{key}_high"] if key.endswith("_ci95") else [key]
    columns += PHASE_COLUMNS if probe else []
    header = ["point", *keys, "status", "init", *columns]
    rows = []
    for p in record["points"]:
        lead = [p["index"], *[_cell(p["values"][k]) for k in keys], p["status"]]
        for s in p["summary"] or [{}]:
            cells = []
            for key in SUMMARY_KEYS[record["kind"]]:
                value = s.get(key)
                if key.endswith("_ci95"):
                    cells += list(value) if value else [None, None]
                else:
                    cells.append(value)
            if probe:
                theory = s.get("phase") or {}
                cells += [theory.get(key) for key in PHASE_COLUMNS]
            rows.append([*lead, s.get("init"), *cells])
    return header, rows


def _cell(value: Any) -> Any:
    return value if isinstance(value, str | int | float) else json.dumps(value)


def read_resumed(root: Path, plan: command.SweepPlan) -> dict[int, dict[str, Any]]:
    """{index: point record} of a sweep folder being resumed, checked against the plan: the
    same base, grid, inits, seeds and metric (one line naming what differs)."""
    path = root / "sweep.json"
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InitlabError(f"--resume {root}: no sweep.json there; give the folder a sweep "
                           "wrote") from None
    except (OSError, ValueError) as exc:
        raise InitlabError(f"--resume {root}: cannot read sweep.json ({exc})") from None
    now = sweep_record(plan, [], "", "")
    for key in ("kind", "grid", "set", "inits", "seeds", "metric"):
        if json.dumps(saved.get(key, {} if key == "set" else None), sort_keys=True) != json.dumps(
                folder.finite_or_null(now[key]), sort_keys=True):
            raise InitlabError(f"--resume {root}: the sweep file's {key} differs from the one "
                               f"that folder was made with; resume with the same file")
    found = {int(p["index"]): p for p in saved.get("points", [])}
    journal = root / "points.jsonl"
    if journal.exists():
        for line in journal.read_text(encoding="utf-8").splitlines():
            try:
                p = json.loads(line)
            except ValueError:  # a line cut by a kill: that point runs again
                continue
            found[int(p["index"])] = p
    return found
