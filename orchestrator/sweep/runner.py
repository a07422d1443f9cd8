"""Run a sweep: expand it into trials, run those without a result, write the table.

The steps, and why in this order: every point is resolved (and keyed) before anything runs, so
a bad axis stops the sweep at once rather than after an hour; trials whose file exists are
skipped (resume), so an interrupted sweep, a machine that went away or ``--max-trials`` costs
nothing on the rerun; the table is rebuilt from the trial files at the end, so it always shows
every result the folder holds for this sweep, however many runs it took to get them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from orchestrator.sweep import parallelism, table
from orchestrator.sweep.config import resolve_point
from orchestrator.sweep.local import run_local
from orchestrator.sweep.spec import SweepSpec, expand_points
from orchestrator.sweep.store import PREDICT_FIGURES, TrialStore
from orchestrator.sweep.trial import STATUS_OK, Trial

Executor = Callable[[Sequence[Trial], int], Iterator[dict[str, Any]]]
EXECUTORS = ("local", "ray")


def executor_named(name: str) -> Executor:
    if name == "local":
        return run_local
    if name == "ray":
        from orchestrator.sweep.ray_executor import run_ray
        return run_ray
    raise ValueError(f"unknown executor {name!r}; expected one of {', '.join(EXECUTORS)}")


@dataclass(slots=True)
class SweepReport:
    trials: int = 0                  # distinct trials of the sweep
    skipped: int = 0                 # already had a result (resume)
    ran: int = 0                     # run now
    failed: int = 0                  # of all trials with a result, those with status error
    missing: int = 0                 # still without a result (--max-trials, interrupted)
    notes: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    best: list[str] = field(default_factory=list)   # a parallelism search's best trials


def make_trials(spec: SweepSpec) -> tuple[list[Trial], list[str]]:
    """The sweep's distinct trials in table order, and notes (added keys, duplicates)."""
    if spec.kind == parallelism.KIND:
        return _search_trials(spec)
    trials: list[Trial] = []
    seen: set[str] = set()
    added: dict[str, None] = {}
    duplicates = 0
    digests: dict[str, str] = {}
    for point in expand_points(spec):
        resolved = resolve_point(spec.base, point, spec.base_dir, spec.source, digests)
        # options.* have defaults (validate_options checks the names): adding one is normal.
        added.update(dict.fromkeys(path for path in resolved.added
                                   if not path.startswith("options.")))
        if resolved.key in seen:
            duplicates += 1
            continue
        seen.add(resolved.key)
        config = {"name": f"{spec.name}-{resolved.key[:12]}", **resolved.config}
        trials.append(Trial(resolved.key, point, config, spec.base_dir, spec.source))
    notes = [f"{spec.source}: axes: {path}: not in the base experiment; each trial adds it"
             for path in added]
    if duplicates:
        notes.append(f"{spec.source}: {duplicates} point(s) resolve to a config another point "
                     "already has; each distinct config runs once")
    return trials, notes


def _search_trials(spec: SweepSpec) -> tuple[list[Trial], list[str]]:
    """A parallelism search's trials: only the points that can run (parallelism.py)."""
    trials: list[Trial] = []
    seen: set[str] = set()
    pruned: dict[str, tuple[int, dict[str, Any]]] = {}
    for point in expand_points(spec):
        job = parallelism.point_job(spec.base, point)
        why = "tp x pp x cp does not divide gpus" if job is None else \
            parallelism.feasibility(job)
        if why is not None:
            count, example = pruned.get(why, (0, point))
            pruned[why] = (count + 1, example)
            continue
        key = parallelism.trial_key(job)
        if key in seen:
            continue
        seen.add(key)
        trials.append(Trial(key, point, {"name": f"{spec.name}-{key[:12]}", "predict": job},
                            spec.base_dir, spec.source))
    notes = [f"{count} point(s) left out: {why} (e.g. "
             + " ".join(f"{path}={value}" for path, value in example.items()) + ")"
             for why, (count, example) in pruned.items()]
    return trials, notes


def _progress_line(done: int, total: int, record: dict[str, Any]) -> str:
    axes = "  ".join(f"{path}={value}" for path, value in record["axes"].items())
    width = len(str(total))
    if record["status"] == STATUS_OK and "tflops_per_gpu" in record["summary"]:
        outcome = (f"ok     {record['summary']['tflops_per_gpu']:.1f} TFLOP/s per GPU, "
                   f"{record['summary']['memory_gb']:.1f} GB")
    elif record["status"] == STATUS_OK:
        outcome = f"ok     total_ns={record['summary']['total_ns']}"
    else:
        outcome = f"error  {record['error'].splitlines()[0]}"
    return f"[{done:>{width}}/{total}] {axes}  {outcome}  ({record['wall_s']:.2f} s)"


def run_sweep(spec: SweepSpec, out_dir: str, *, executor: str = "local", jobs: int = 1,
              resume: bool = True, retry_failed: bool = False, max_trials: int | None = None,
              progress: Callable[[str], None] | None = print) -> SweepReport:
    trials, notes = make_trials(spec)
    store = TrialStore(out_dir)
    report = SweepReport(trials=len(trials), notes=notes)
    todo = []
    invalid = []
    for trial in trials:
        record, why = store.read(trial.key) if resume else (None, None)
        if why is not None:
            invalid.append(f"{store.path(trial.key)}: {why}")
        if record is not None and (record.get("status") == STATUS_OK or not retry_failed):
            report.skipped += 1
        else:
            todo.append(trial)
    if invalid:
        report.notes.append(f"{len(invalid)} trial file(s) are not a usable result and run "
                            f"again (first: {invalid[0]})")
    if max_trials is not None:
        todo = todo[:max_trials]
    if progress and report.skipped:
        progress(f"{report.skipped} of {len(trials)} trials already have results in "
                 f"{store.trials_dir}/ (resume); running {len(todo)}")
    for record in executor_named(executor)(todo, jobs):
        store.save(record)
        report.ran += 1
        if progress:
            progress(_progress_line(report.ran, len(todo), record))
    records = [store.load(trial.key) for trial in trials]
    report.missing = sum(record is None for record in records)
    report.failed = sum(record is not None and record.get("status") != STATUS_OK
                        for record in records)
    if spec.kind == parallelism.KIND:
        report.outputs, report.best = write_search_tables(spec, out_dir, trials, records)
        return report
    report.outputs, table_notes = write_tables(spec, out_dir, trials, records)
    report.notes.extend(table_notes)
    return report


def write_search_tables(spec: SweepSpec, out_dir: str, trials: Sequence[Trial],
                        records: Sequence[dict[str, Any] | None]) -> tuple[list[str], list[str]]:
    """A parallelism search's table in sweep order, its ranking, and the best trials."""
    axis_paths = [axis.path for axis in spec.axes]
    shown = [*axis_paths, *(key for key in ("tp", "pp", "dp", "cp", "ep", "micro_batch", "zero")
                            if key not in axis_paths)]
    rows = []
    for trial, record in zip(trials, records):
        if record is None:
            continue
        summary = record.get("summary") or {}
        row = {key: trial.config["predict"].get(key, 1 if key in ("tp", "pp", "cp", "ep",
                                                                   "micro_batch") else 0)
               for key in shown}
        row.update((name, summary.get(name)) for name in PREDICT_FIGURES)
        row.update(status=record.get("status"), error=record.get("error"), trial=record["key"])
        rows.append(row)
    columns = [*shown, *PREDICT_FIGURES, "status", "error", "trial"]
    os.makedirs(out_dir, exist_ok=True)
    csv_path = os.path.join(out_dir, table.CSV_NAME)
    ranking_path = os.path.join(out_dir, parallelism.RANKING_NAME)
    table.write_csv(rows, columns, csv_path)
    ranked = parallelism.ranked(rows)
    table.write_csv([{"rank": place, **row} for place, row in enumerate(ranked, 1)],
                    ["rank", *columns], ranking_path)
    return [csv_path, ranking_path], parallelism.best_lines(rows)


def write_tables(spec: SweepSpec, out_dir: str, trials: Sequence[Trial],
                 records: Sequence[dict[str, Any] | None]) -> tuple[list[str], list[str]]:
    axis_paths = [axis.path for axis in spec.axes]
    rows = table.table_rows(axis_paths, [(trial.axes, record)
                                         for trial, record in zip(trials, records)])
    columns = [*axis_paths, *table.TAIL_COLUMNS]
    os.makedirs(out_dir, exist_ok=True)
    csv_path = os.path.join(out_dir, table.CSV_NAME)
    table.write_csv(rows, columns, csv_path)
    outputs, notes = [csv_path], []
    for name, write in ((table.PARQUET_NAME,
                         lambda path: table.write_parquet(rows, axis_paths, columns, path)),
                        (table.PLOT_NAME,
                         lambda path: table.write_plot(rows, axis_paths, path, spec.name))):
        path = os.path.join(out_dir, name)
        note = write(path)
        if note is None:
            outputs.append(path)
        else:
            notes.append(note)
    return outputs, notes
