"""A checker for the Chrome trace-event JSON format (the "JSON Object Format" of Google's
Trace Event Format document), restricted to the event kinds astra-cosim writes."""

from __future__ import annotations

from collections import defaultdict
from numbers import Real

PHASES = {"X", "M", "C"}
METADATA = {"process_name", "process_sort_index", "thread_name", "thread_sort_index"}


def check_trace(document: dict) -> list[str]:
    """Every problem found; an empty list means the trace is well formed."""
    problems: list[str] = []
    if not isinstance(document.get("traceEvents"), list):
        return ["no traceEvents list"]
    if document.get("displayTimeUnit") not in (None, "ms", "ns"):
        problems.append(f"displayTimeUnit {document['displayTimeUnit']!r}")
    named_processes, named_threads = set(), set()
    used_threads = set()
    spans = defaultdict(list)
    for index, event in enumerate(document["traceEvents"]):
        where = f"event {index}"
        ph = event.get("ph")
        if ph not in PHASES:
            problems.append(f"{where}: ph {ph!r}")
            continue
        if not isinstance(event.get("name"), str) or not event["name"]:
            problems.append(f"{where}: name {event.get('name')!r}")
        if not isinstance(event.get("pid"), int):
            problems.append(f"{where}: pid {event.get('pid')!r}")
        if ph == "M":
            if event["name"] not in METADATA:
                problems.append(f"{where}: metadata {event['name']!r}")
            args = event.get("args", {})
            key = "name" if event["name"].endswith("_name") else "sort_index"
            if key not in args:
                problems.append(f"{where}: metadata without args.{key}")
            if event["name"] == "process_name":
                named_processes.add(event["pid"])
            if event["name"] == "thread_name":
                named_threads.add((event["pid"], event.get("tid")))
            continue
        ts = event.get("ts")
        if not isinstance(ts, Real) or ts < 0:
            problems.append(f"{where}: ts {ts!r}")
            continue
        if ph == "X":
            dur = event.get("dur")
            if not isinstance(event.get("tid"), int):
                problems.append(f"{where}: tid {event.get('tid')!r}")
            if not isinstance(dur, Real) or dur < 0:
                problems.append(f"{where}: dur {dur!r}")
                continue
            used_threads.add((event["pid"], event["tid"]))
            spans[(event["pid"], event["tid"])].append((ts, ts + dur, event["name"]))
        if ph == "C":
            args = event.get("args")
            if not args or not all(isinstance(v, Real) for v in args.values()):
                problems.append(f"{where}: counter args {args!r}")
    for pid in {pid for pid, _ in used_threads} - named_processes:
        problems.append(f"process {pid} has no process_name")
    for thread in sorted(used_threads - named_threads):
        problems.append(f"thread {thread} has no thread_name")
    for thread, items in spans.items():
        items.sort()
        for (s1, e1, n1), (s2, e2, n2) in zip(items, items[1:]):
            if s2 < e1 - 1e-9 and e2 > e1 + 1e-9:     # overlapping without nesting
                problems.append(f"thread {thread}: {n1!r} and {n2!r} overlap")
    return problems
