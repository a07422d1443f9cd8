"""The engine's compute port: operation durations from a compute adapter.

A compute model answers how long an operation takes the moment it is issued, and the models
we run are *pure*: a duration depends on the request (its shape) alone. So the port asks once
per distinct request and reuses the answer, and before the run it sends every shape found in
the workload in one round (``prefetch``): a whole run costs one round trip, whatever the
adapter's placement, and every duration is known when its operation is issued. The workload
then schedules completions exactly as it schedules a replayed duration, so results do not
depend on where the model runs (docs/cosim.md, "Compute").

An adapter that declares itself not pure (a model with state, e.g. contention between NPUs)
would need its requests time-stamped and answered in synchronisation rounds; it is refused
with a clear error until such a model exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from adapters.base import ComputeRequest
from orchestrator.cosim.inprocess import AdapterError
from orchestrator.engine.clock import EventQueue


class ComputePort:
    """Engine side of one compute adapter."""

    def __init__(self, clock: EventQueue, client: Any, pure: bool) -> None:
        if not pure:
            client.close()
            raise AdapterError(f"{client.name} adapter at {client.endpoint} declares a "
                               "stateful compute model (durations that depend on more than the "
                               "request); only pure compute models are supported")
        self.clock = clock
        self.client = client
        self.rounds = 0
        self.requests = 0            # operations timed for the workload
        self.asked = 0               # distinct requests sent to the adapter
        self._known: dict[ComputeRequest, int] = {}

    def prefetch(self, requests: Iterable[ComputeRequest]) -> None:
        """Ask for every request not yet known, in one round."""
        self._ask(dict.fromkeys(r for r in requests if r not in self._known))

    def duration_ns(self, request: ComputeRequest) -> int:
        """The operation's duration; a request not prefetched costs a round of its own."""
        self.requests += 1
        duration = self._known.get(request)
        if duration is None:
            self._ask({request: None})
            duration = self._known[request]
        return duration

    def _ask(self, requests: dict[ComputeRequest, None]) -> None:
        if not requests:
            return
        now = self.clock.now_ns
        batch = [(op, 0, request) for op, request in enumerate(requests)]
        answered = dict(self.client.compute_round(now, batch))
        self.rounds += 1
        self.asked += len(batch)
        for op, _, request in batch:
            self._known[request] = answered[op] - now

    def metrics(self) -> dict[str, Any]:
        client = self.client
        return {"endpoint": client.endpoint, "rounds": self.rounds,
                "operations": self.requests, "distinct_requests": self.asked,
                "protocol_bytes": client.bytes_moved, "wait_s": round(client.wait_s, 6)}
