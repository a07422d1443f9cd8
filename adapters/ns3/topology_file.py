"""ASTRA-sim's ns-3 topology file: an explicit fabric (Clos, fat tree, anything point to point).

```
12 4 16                      # nodes, switches, links
8 9 10 11                    # the switch ids
0 8 400Gbps 500ns 0          # one link per line: node, node, rate, delay, error rate
...
```

Nodes are numbered 0 .. nodes-1; the ones not listed as switches are the NPUs, numbered in
ascending node order (NPU 0 is the lowest non-switch id). Rates take ns-3's units (bps or b/s
with an optional k, K, M, G or T prefix; Bps or B/s for bytes), delays a number with ns, us,
ms or s. Blank lines and ``#`` comments are allowed (so, with no switches, the id line may be
blank or absent). Error rates must be 0: an arrival is decided when its last segment starts
down the last link (docs/cosim.md, lookahead), which a loss on that link would make wrong.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from adapters.ns3.topology import Link, Topology
from orchestrator.errors import InputError, not_text

_PREFIXES = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_RATE_UNIT = re.compile(r"^([kKMGT]?)(bps|b/s|Bps|B/s)$")
_DELAY_UNITS = {"ns": Decimal(1), "us": Decimal(10**3), "ms": Decimal(10**6),
                "s": Decimal(10**9)}
_NUMBER_UNIT = re.compile(r"^([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)([A-Za-z/]+)$")


def _split(token: str) -> tuple[Decimal, str] | None:
    match = _NUMBER_UNIT.match(token)
    if match is None:
        return None
    try:
        return Decimal(match.group(1)), match.group(2)
    except InvalidOperation:
        return None


def parse_rate_bps(token: str) -> int | None:
    """``400Gbps`` -> 400e9; None when the token is not a rate."""
    parts = _split(token)
    if parts is None:
        return None
    value, unit = parts
    match = _RATE_UNIT.match(unit)
    if match is None:
        return None
    bits = 8 if match.group(2).startswith("B") else 1
    return int(value * _PREFIXES[match.group(1)] * bits)


def parse_delay_ns(token: str) -> int | None:
    """``0.0005ms`` -> 500; None when the token is not a delay or not a whole ns."""
    parts = _split(token)
    if parts is None or parts[1] not in _DELAY_UNITS:
        return None
    value = parts[0] * _DELAY_UNITS[parts[1]]
    return int(value) if value == int(value) else None


def _lines(text: str) -> list[tuple[int, list[str]]]:
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.split("#", 1)[0].split()
        if words:
            lines.append((number, words))
    return lines


def _whole(word: str, path: str, line: int, what: str) -> int:
    if not re.fullmatch(r"[0-9]+", word):
        raise InputError(f"{what}: found {word!r}; expected a whole number", path, line)
    return int(word)


def load_topology_file(path: str) -> Topology:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise InputError(f"cannot read topology file ({exc.strerror})", path) from None
    except UnicodeDecodeError as exc:
        raise InputError(not_text(exc), path) from None
    return parse_topology_file(text, path)


def parse_topology_file(text: str, path: str) -> Topology:
    lines = _lines(text)
    if not lines:
        raise InputError("empty topology file; expected 'nodes switches links' on the first "
                         "line", path, 1)
    number, words = lines[0]
    if len(words) != 3:
        raise InputError(f"found {' '.join(words)!r}; expected three whole numbers: nodes, "
                         "switches, links", path, number)
    nodes, switch_count, link_count = (_whole(w, path, number, name) for w, name in
                                       zip(words, ("nodes", "switches", "links")))
    if switch_count >= nodes:
        raise InputError(f"{switch_count} switches among {nodes} nodes leaves no NPU", path,
                         number)
    if switch_count == 0:
        switch_line, switch_words, first_link = number, [], 1    # the id line may be blank
    elif len(lines) < 2:
        raise InputError("missing the line of switch ids", path, number + 1)
    else:
        (switch_line, switch_words), first_link = lines[1], 2
    if len(switch_words) != switch_count:
        raise InputError(f"found {len(switch_words)} switch id(s); expected {switch_count} "
                         "(the header's switch count)", path, switch_line)
    switch_ids = [_whole(w, path, switch_line, "switch id") for w in switch_words]
    for switch in switch_ids:
        if switch >= nodes:
            raise InputError(f"switch id {switch} is not a node (nodes are 0..{nodes - 1})",
                             path, switch_line)
    if len(set(switch_ids)) != len(switch_ids):
        raise InputError("a switch id is listed twice", path, switch_line)
    switches = set(switch_ids)
    hosts = [node for node in range(nodes) if node not in switches]
    # NPUs first (in node order), then switches (in node order)
    index = {node: i for i, node in enumerate(hosts + sorted(switches))}
    link_lines = lines[first_link:]
    if len(link_lines) != link_count:
        where = link_lines[link_count][0] if len(link_lines) > link_count else \
            (link_lines[-1][0] + 1 if link_lines else switch_line + 1)
        raise InputError(f"found {len(link_lines)} link line(s); expected {link_count} (the "
                         "header's link count)", path, where)
    links = []
    seen: set[frozenset[int]] = set()
    for number, words in link_lines:
        if len(words) != 5:
            raise InputError(f"found {' '.join(words)!r}; expected 'node node rate delay "
                             "error_rate'", path, number)
        a, b = (_whole(w, path, number, "node") for w in words[:2])
        for node in (a, b):
            if node >= nodes:
                raise InputError(f"node {node} does not exist (nodes are 0..{nodes - 1})",
                                 path, number)
        if a == b:
            raise InputError(f"a link from node {a} to itself", path, number)
        if frozenset((a, b)) in seen:
            raise InputError(f"a second link between nodes {a} and {b} (parallel links are "
                             "not supported: routing would use only one)", path, number)
        seen.add(frozenset((a, b)))
        rate = parse_rate_bps(words[2])
        if not rate:
            raise InputError(f"rate: found {words[2]!r}; expected a positive rate such as "
                             "400Gbps", path, number)
        delay = parse_delay_ns(words[3])
        if delay is None:
            raise InputError(f"delay: found {words[3]!r}; expected a whole number of ns such "
                             "as 500ns or 0.0005ms", path, number)
        try:
            error_rate = float(words[4])
        except ValueError:
            raise InputError(f"error rate: found {words[4]!r}; expected a number", path,
                             number) from None
        if error_rate != 0:
            raise InputError(f"error rate: found {words[4]!r}; expected 0 (losses on a "
                             "link are not modelled: the adapter decides an arrival when "
                             "its last segment starts down the last link)", path, number)
        links.append(Link(index[a], index[b], rate, delay))
    linked = {node for link in links for node in (link.a, link.b)}
    for npu, node in enumerate(hosts):
        if npu not in linked:
            raise InputError(f"NPU {npu} (node {node}) has no link", path)
    return Topology(len(hosts), len(switches), tuple(links), path)
