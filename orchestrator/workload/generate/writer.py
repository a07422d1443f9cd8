"""A generated workload as ASTRA-sim 1.0 text (SEMANTICS §3.1), tab-separated like the
files upstream's generator and the tutorial ship."""

from __future__ import annotations

from orchestrator.workload.generate.generator import GeneratedWorkload


def format_workload(workload: GeneratedWorkload) -> str:
    lines = [workload.header, str(len(workload.rows))]
    for row in workload.rows:
        columns = [row.name, "-1", row.fwd_cycles, *row.fwd_comm, row.ig_cycles, *row.ig_comm,
                   row.wg_cycles, *row.wg_comm, row.update_delay]
        lines.append("\t".join(str(column) for column in columns))
    return "\n".join(lines) + "\n"
