"""The live processes of this machine, read from /proc: what tests check is left behind (an
adapter child, a sweep's workers, a gem5 run). Zombies are left out: they have exited and only
wait for their parent to reap them."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Process:
    pid: int
    ppid: int
    session: int
    cmdline: str        # arguments joined by spaces


def live_processes() -> list[Process]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                # the command name may hold spaces and parentheses: the fields follow the last ")"
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue            # gone meanwhile
        if fields[0] != "Z":
            found.append(Process(int(entry), int(fields[1]), int(fields[3]), cmdline))
    return found
