"""Whether a process still runs — one answer for the adapter server watching its engine, sweep
workers watching their driver and result staging deciding which leftovers are stale."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    """Whether ``pid`` runs; a zombie (killed, not yet reaped) counts as gone, so a killed
    parent is seen at once even before it is reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True                   # it exists, under another user
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True                   # no procfs: kill(pid, 0) is all there is
