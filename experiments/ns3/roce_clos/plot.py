#!/usr/bin/env python3
"""The contrast of issue 19: a 16 MiB all-to-all on a 2:1 oversubscribed two-level Clos
(``clos16.txt``) over RoCE with PFC and DCQCN, with PFC alone, and with PFC off (lossy,
go-back-N; DCQCN on). Runs the three experiments of this folder in one process and writes
``results.csv`` and ``clos_a2a.png`` (completion time; pause frames, CNPs, drops) beside them.

    python experiments/ns3/roce_clos/plot.py
"""

from __future__ import annotations

import csv
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(HERE))))

from orchestrator.experiment.load import load_experiment    # noqa: E402
from orchestrator.experiment.runner import simulate          # noqa: E402

VARIANTS = [("PFC + DCQCN", "clos_a2a_dcqcn.yaml"), ("PFC only", "clos_a2a_pfc_only.yaml"),
            ("lossy + DCQCN", "clos_a2a_lossy.yaml")]
COLUMNS = ["variant", "total_ns", "pauses_sent", "cnps", "ecn_marks", "drops",
           "retransmissions", "timeouts", "max_queue_bytes"]


def run() -> list[dict]:
    rows = []
    for name, yaml in VARIANTS:
        result = simulate(load_experiment(os.path.join(HERE, yaml)))
        stats = result.adapter_stats["network"]
        rows.append({"variant": name, "total_ns": result.total_ns,
                     **{key: int(stats[key]) for key in COLUMNS[2:]}})
        print(rows[-1], flush=True)
    return rows


def plot(rows: list[dict], path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [row["variant"] for row in rows]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    left.bar(names, [row["total_ns"] / 1000 for row in rows], color="#4c72b0")
    left.set_ylabel("all-to-all completion (us)")
    left.set_title("16 MiB all-to-all, 16 NPUs, 2:1 Clos")
    width = 0.27
    for offset, (key, label) in enumerate((("pauses_sent", "PFC pause frames"),
                                           ("cnps", "CNPs"), ("drops", "drops"))):
        right.bar([i + (offset - 1) * width for i in range(len(rows))],
                  [row[key] for row in rows], width, label=label)
    right.set_xticks(range(len(rows)), names)
    right.set_yscale("symlog", linthresh=1)
    right.set_ylabel("count (0, then log)")
    right.legend()
    right.set_title("fabric events")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main() -> int:
    rows = run()
    with open(os.path.join(HERE, "results.csv"), "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, os.path.join(HERE, "clos_a2a.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
