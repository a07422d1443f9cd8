"""Reader for the ASTRA-sim 1.0 text workload format (SEMANTICS §3.1).

```
<PARALLELISM> [extra header tokens]
<number of layers>
<name> <reserved> <fwd_compute> <fwd_comm_type> <fwd_comm_bytes> <ig_compute> <ig_comm_type>
       <ig_comm_bytes> <wg_compute> <wg_comm_type> <wg_comm_bytes> <update_delay> [policy]
```

Stricter than upstream where upstream would run something the user did not mean: an unknown
communication token (upstream: silently no communication), a layer count that does not match
the layer lines, negative numbers and collectives of zero bytes are errors naming file and line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator.errors import InputError, expected_one_of
from orchestrator.limits import whole_number
from orchestrator.workload.layer import COMM_TYPES, NO_COMM, CommSpec, Layer
from orchestrator.workload.loops.base import TrainingLoop, training_loops

_COLUMNS = ("name", "reserved", "fwd_compute", "fwd_comm_type", "fwd_comm_bytes", "ig_compute",
            "ig_comm_type", "ig_comm_bytes", "wg_compute", "wg_comm_type", "wg_comm_bytes",
            "update_delay")


@dataclass(slots=True)
class TextWorkload:
    """A parsed workload: the training loop chosen by the header and the layers."""

    path: str
    loop_name: str
    loop_cls: type[TrainingLoop]
    header: dict[str, Any]
    layers: list[Layer] = field(default_factory=list)
    header_line: int = 1


def _int(token: str, column: str, path: str, line: int) -> int:
    try:
        value = whole_number(token)
    except ValueError:
        raise InputError(f"column {column}: found {token!r}; expected a whole number",
                         path, line) from None
    if value < 0:
        raise InputError(f"column {column}: found {value}; expected a number >= 0", path, line)
    return value


def _comm(kind: str, size_token: str, column: str, path: str, line: int) -> CommSpec:
    if kind not in COMM_TYPES:
        raise InputError(f"column {column}_type: " + expected_one_of(kind, COMM_TYPES), path, line)
    size = _int(size_token, f"{column}_bytes", path, line)
    if kind == "NONE":
        return NO_COMM
    if kind == "ALLREDUCEALLTOALL":
        raise InputError(f"column {column}_type: ALLREDUCEALLTOALL is parsed by ASTRA-sim 1.0 but "
                         "aborts the run (no collective implements it); use ALLREDUCE or "
                         "ALLTOALL", path, line)
    if size == 0:
        raise InputError(f"column {column}_bytes: {kind} of 0 bytes; expected a size > 0 "
                         "(write NONE 0 for no communication)", path, line)
    return CommSpec(kind, size)


def load_text_workload(path: str) -> TextWorkload:
    try:
        with open(path, encoding="utf-8-sig") as handle:   # a BOM is skipped
            raw_lines = handle.read().splitlines()
    except OSError as exc:
        raise InputError(f"cannot read workload file ({exc.strerror})", path) from None
    except UnicodeDecodeError:
        raise InputError("not a text workload (not UTF-8 text)", path) from None
    lines = [(number, text.split()) for number, text in enumerate(raw_lines, start=1)
             if text.strip()]
    if not lines:
        raise InputError("empty workload file; expected a parallelism header line", path)
    header_line, header_tokens = lines[0]
    loop_name = header_tokens[0]
    if loop_name not in training_loops:     # worded as the format names the token
        raise InputError("unknown parallelism token: "
                         + expected_one_of(loop_name, training_loops.names()), path, header_line)
    loop_cls = training_loops.get(loop_name)
    header = loop_cls.parse_header(header_tokens[1:], path, header_line)
    if len(lines) < 2:
        raise InputError("missing the number-of-layers line after the header", path)
    count_line, count_tokens = lines[1]
    if len(count_tokens) != 1:
        raise InputError(f"found {' '.join(count_tokens)!r}; expected the number of layers alone "
                         "on this line", path, count_line)
    declared = _int(count_tokens[0], "number of layers", path, count_line)
    if declared == 0:
        raise InputError("the workload declares 0 layers; expected at least 1", path, count_line)
    layer_lines = lines[2:]
    if len(layer_lines) != declared:
        raise InputError(f"the layer count is {declared} but {len(layer_lines)} layer line(s) "
                         "follow; expected one line per layer", path, count_line)
    layers = [_parse_layer(index, tokens, loop_cls, path, number)
              for index, (number, tokens) in enumerate(layer_lines)]
    workload = TextWorkload(path, loop_name, loop_cls, header, layers, header_line)
    loop_cls.validate(workload.header, layers, path)
    return workload


def _parse_layer(index: int, tokens: list[str], loop_cls: type[TrainingLoop], path: str,
                 line: int) -> Layer:
    extra = 1 if loop_cls.per_layer_policy else 0
    want = len(_COLUMNS) + extra
    if len(tokens) != want:
        expected = " ".join(_COLUMNS) + (" policy" if extra else "")
        raise InputError(f"found {len(tokens)} columns; expected {want}: {expected}", path, line)
    try:        # upstream reads it into an int and ignores it; a word there derails its reader
        whole_number(tokens[1])
    except ValueError:
        raise InputError(f"column reserved: found {tokens[1]!r}; expected a whole number "
                         "(-1 in every upstream workload)", path, line) from None
    policy = None
    if extra:
        policy = tokens[-1]
        if policy not in loop_cls.layer_policies:
            raise InputError("column policy: " + expected_one_of(policy, loop_cls.layer_policies),
                             path, line)
    return Layer(
        index=index,
        name=tokens[0],
        fwd_compute_cycles=_int(tokens[2], "fwd_compute", path, line),
        fwd_comm=_comm(tokens[3], tokens[4], "fwd_comm", path, line),
        ig_compute_cycles=_int(tokens[5], "ig_compute", path, line),
        ig_comm=_comm(tokens[6], tokens[7], "ig_comm", path, line),
        wg_compute_cycles=_int(tokens[8], "wg_compute", path, line),
        wg_comm=_comm(tokens[9], tokens[10], "wg_comm", path, line),
        update_delay_cycles=_int(tokens[11], "update_delay", path, line),
        policy=policy,
        line=line,
    )
