"""Names of the dimension-scheduling policies and the ASPLOS'23 aliases (SEMANTICS §4.1).

The ``tutorial-mlsys2022`` tag knows only the 1.0 names; the ASPLOS'23 tutorial files use the
aliases, which later 1.0 code maps to the same policies. We accept both and say so, so that a
user who copied a tutorial file knows which policy ran.
"""

from __future__ import annotations

import warnings

ASCENDING = "ascending"
ROUND_ROBIN = "roundRobin"
OFFLINE_GREEDY = "offlineGreedy"
OFFLINE_GREEDY_FLEX = "offlineGreedyFlex"
INTER_POLICIES = (ASCENDING, OFFLINE_GREEDY, OFFLINE_GREEDY_FLEX, ROUND_ROBIN)

FIFO = "FIFO"
RG = "RG"
SMALLEST_FIRST = "smallestFirst"
LESS_REMAINING_PHASE_FIRST = "lessRemainingPhaseFirst"
INTRA_POLICIES = (FIFO, RG, SMALLEST_FIRST, LESS_REMAINING_PHASE_FIRST)

INTER_ALIASES = {"baseline": ASCENDING, "themis": OFFLINE_GREEDY,
                 "themisFlex": OFFLINE_GREEDY_FLEX}
INTRA_ALIASES = {"SCF": SMALLEST_FIRST}


class SchedulingAliasWarning(UserWarning):
    """An ASPLOS'23 alias was read and mapped to its ASTRA-sim 1.0 policy name."""


def resolve(value: str, aliases: dict[str, str], key: str, where: str) -> str:
    """The 1.0 name for ``value``; an alias is mapped with a note naming both spellings."""
    if value in aliases:
        warnings.warn(f"{where}: {key}: {value!r} is the ASPLOS'23 alias of "
                      f"{aliases[value]!r} (the name ASTRA-sim 1.0 tutorial-mlsys2022 uses); "
                      f"running {aliases[value]}", SchedulingAliasWarning, stacklevel=3)
        return aliases[value]
    return value
