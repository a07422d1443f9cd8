"""ASTRA-sim 1.0's collective scheduling beyond the default (SEMANTICS §2, §4.2).

* ``policies``: the accepted values of ``inter-dimension-scheduling`` and
  ``intra-dimension-scheduling`` and the ASPLOS'23 aliases.
* ``dimension_order``: the order in which a chunk visits the dimensions (``roundRobin``) and
  Themis's load-balanced order and chunk size (``offlineGreedy``, ``offlineGreedyFlex``).
* ``ordered``: splitting a collective into chunks when a dimension order applies.
* ``intra``: where a stream entering a dimension's queue is placed (``smallestFirst``,
  ``lessRemainingPhaseFirst``, ``RG``).

The default (``ascending`` + ``FIFO``) never touches this package, so its hot path stays as it is.
"""
