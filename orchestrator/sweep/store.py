"""Trial results on disk: ``OUT/trials/<key>.json``, one file per trial.

One small file per trial (rather than one growing results file) makes resuming trivial and
safe: a trial is done exactly when its file exists, files are written whole (to a temporary
name, then renamed), so an interrupted sweep never leaves a half-written result that a rerun
would mistake for a finished one, and no two writers ever touch the same file. A file is
also checked when it is read (``problem``): one edited or damaged by hand (an ``ok`` status
without its figures, a figure that is not a whole number or lies beyond int64) does not count
as a result, so a resumed sweep runs that trial again instead of tabling nonsense.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from orchestrator.errors import InputError
from orchestrator.limits import INT64_MAX, is_number

TRIALS_DIR = "trials"
STATUSES = ("ok", "error")
FIGURES = ("total_ns", "min_finish_ns", "compute_ns", "exposed_comm_ns", "payload_bytes",
           "events_processed")    # the summary's whole-number figures the table shows
# ... and those of a parallelism search's trial (parallelism.py)
PREDICT_FIGURES = ("iteration_ns", "tflops_per_gpu", "mfu", "memory_gb", "hbm_gb",
                   "micro_batches")


def problem(record: Any, key: str) -> str | None:
    """What makes ``record`` unusable as trial ``key``'s result, or None when it is fine."""
    if not isinstance(record, dict):
        return "not a JSON object"
    if record.get("key") != key:
        return f"key is {record.get('key')!r}, not the file's name"
    status = record.get("status")
    if status not in STATUSES:
        return f"status is {status!r}; expected ok or error"
    if not isinstance(record.get("axes"), dict):
        return "axes is missing"
    if status == "error":
        return None if isinstance(record.get("error"), str) and record["error"] else \
            "status is error but the error message is missing"
    summary = record.get("summary")
    if not isinstance(summary, dict) or not summary:
        return "status is ok but the summary is missing or empty"
    config = record.get("config")
    if isinstance(config, dict) and "predict" in config:       # a parallelism search
        for name in PREDICT_FIGURES:
            value = summary.get(name)
            whole = name in ("iteration_ns", "micro_batches")
            if not is_number(value) or (whole and not isinstance(value, int)) \
                    or not 0 <= value <= INT64_MAX:
                return f"summary.{name} is {value!r}; expected a {'whole ' if whole else ''}" \
                       "number >= 0"
        return None
    for name in FIGURES:
        value = summary.get(name)
        if name == "total_ns" and value is None:
            return "status is ok but summary.total_ns is missing"
        # beyond int64 no run can have produced it (and the table's int64 columns fail)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 0 <= value <= INT64_MAX):
            return f"summary.{name} is {value!r}; expected a whole number from 0 to {INT64_MAX}"
    return None


def check_sweep_folder(out_dir: str) -> None:
    """A sweep writes into a new or empty folder, or resumes in one of its own (it has
    ``trials/``). Any other folder - a run's result, a folder of other files - would end up
    holding both, and ``report`` would show whichever it finds first (issue 14: never a mix)."""
    if os.path.isfile(out_dir):
        raise InputError("--out: is a file; expected a folder for the sweep's results", out_dir)
    try:
        names = os.listdir(out_dir)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"--out: cannot read the folder ({exc.strerror})", out_dir) from None
    if names and not os.path.isdir(os.path.join(out_dir, TRIALS_DIR)):
        what = "a run's result" if "summary.json" in names else "files of something else"
        raise InputError(f"--out: holds {what}, not a sweep's trials/; expected a new or empty "
                         "folder, or one a sweep wrote (to resume it)", out_dir)


class TrialStore:
    def __init__(self, out_dir: str) -> None:
        check_sweep_folder(out_dir)
        self.out_dir = out_dir
        self.trials_dir = os.path.join(out_dir, TRIALS_DIR)

    def path(self, key: str) -> str:
        return os.path.join(self.trials_dir, f"{key}.json")

    def load(self, key: str) -> dict[str, Any] | None:
        """The trial's record, or None when it has none (or an unusable one: rerun it)."""
        return self.read(key)[0]

    def read(self, key: str) -> tuple[dict[str, Any] | None, str | None]:
        """(record, None) for a usable file; (None, why) for a file that exists but is not a
        usable result; (None, None) when there is no file."""
        try:
            with open(self.path(key), encoding="utf-8") as handle:
                record = json.load(handle)
        except FileNotFoundError:
            return None, None
        except (OSError, ValueError) as exc:
            return None, f"unreadable ({type(exc).__name__})"
        why = problem(record, key)
        return (record, None) if why is None else (None, why)

    def save(self, record: dict[str, Any]) -> str:
        os.makedirs(self.trials_dir, exist_ok=True)
        path = self.path(record["key"])
        handle, temporary = tempfile.mkstemp(dir=self.trials_dir, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(record, out, indent=2, sort_keys=False)
                out.write("\n")
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        return path
