"""Communicator groups (ASTRA-sim 2.x ``--comm-group-configuration``; SEMANTICS §3.2).

A JSON file ``{"<name>": [npu, ...], ...}``. A collective runs in a group when its node names
the group (``pg_name``, as ASTRA-sim master does) or, failing that, in the group that lists
the NPU (as ``tutorial-micro2024`` does for every collective; the last such group wins). A
group of every NPU uses the system's topology and algorithms on all dimensions; a smaller
group is one ring over its members in the order listed, running the ring algorithm whatever
the system file says (upstream's rule). Group collectives number their chunks per group, so
members agree on message tags however many other collectives each NPU runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from orchestrator.documents import DuplicateKey, load_json
from orchestrator.errors import InputError, not_text

GROUP_STREAM_BASE = 1_000_000


@dataclass(frozen=True, slots=True)
class MemberRing:
    """A ring over an explicit member list (same interface as ``RingView``)."""

    members: tuple[int, ...]
    _position: dict[int, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._position.update({npu: index for index, npu in enumerate(self.members)})

    @property
    def size(self) -> int:
        return len(self.members)

    def index(self, npu: int) -> int:
        return self._position[npu]

    def member(self, npu: int, index: int) -> int:
        return self.members[index]

    def peer(self, npu: int, steps: int) -> int:
        return self.members[(self._position[npu] + steps) % len(self.members)]


@dataclass(slots=True)
class CommGroup:
    name: str
    number: int                      # 1, 2, ...: keeps each group's message tags apart
    members: tuple[int, ...]
    whole_system: bool
    ring: MemberRing
    next_stream: dict[int, int] = field(default_factory=dict)   # npu -> its next stream number

    def stream_number(self, npu: int) -> int:
        number = self.next_stream.get(npu, self.number * GROUP_STREAM_BASE)
        self.next_stream[npu] = number + 1
        return number


@dataclass(slots=True)
class GroupTable:
    by_name: dict[str, CommGroup]
    default_of: dict[int, CommGroup]     # npu -> tutorial-micro2024's group for all collectives


def load_groups(path: str, npus_count: int) -> GroupTable:
    try:
        with open(path, encoding="utf-8-sig") as handle:   # a BOM is skipped
            doc = load_json(handle.read())
    except DuplicateKey as exc:
        raise InputError(str(exc), path) from None
    except OSError as exc:
        raise InputError(f"cannot read communicator groups ({exc.strerror})", path) from None
    except UnicodeDecodeError as exc:
        raise InputError(not_text(exc), path) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", path, exc.lineno) from None
    if not isinstance(doc, dict) or not doc:
        raise InputError('expected a JSON object {"<group name>": [npu ids, ...]}', path)
    by_name: dict[str, CommGroup] = {}
    default_of: dict[int, CommGroup] = {}
    for number, name in enumerate(sorted(doc), start=1):
        members = doc[name]
        if not isinstance(members, list) or not members:
            raise InputError(f"group {name!r}: expected a non-empty list of NPU ids", path)
        for npu in members:
            if isinstance(npu, bool) or not isinstance(npu, int) or not 0 <= npu < npus_count:
                raise InputError(f"group {name!r} names NPU {npu!r}, but the network has NPUs "
                                 f"0..{npus_count - 1}", path)
        if len(set(members)) != len(members):
            raise InputError(f"group {name!r} lists an NPU twice: {members}", path)
        group = CommGroup(name, number, tuple(members), len(members) == npus_count,
                          MemberRing(tuple(members)))
        by_name[name] = group
        for npu in members:
            default_of[npu] = group
    return GroupTable(by_name, default_of)
