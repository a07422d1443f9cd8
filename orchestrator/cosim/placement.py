"""Where a network adapter runs, and how the engine reaches it (SimBricks' "where").

* ``inprocess`` (default): the model is called directly; same rounds, no sockets.
* ``process``: the engine starts ``astra-cosim adapter serve network`` as a child on a
  loopback port and talks protos/cosim.proto to it.
* an endpoint (``tcp://host:port``): an adapter server started elsewhere, e.g. a container.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from adapters.registry import build_network
from orchestrator.cosim.client import AdapterError, InProcessClient, ZmqClient, spawn_adapter
from orchestrator.cosim.port import NetworkPort
from orchestrator.engine.clock import EventQueue
from orchestrator.errors import InputError

PLACEMENTS = ("inprocess", "process")


@dataclass(frozen=True, slots=True)
class AdapterPlacement:
    placement: str = "inprocess"
    endpoint: str | None = None        # a running adapter server; overrides placement
    timeout_s: float = 30.0


def open_network(clock: EventQueue, model: str, config: dict[str, Any], npus_count: int,
                 semantics: str, where: AdapterPlacement, source: str) -> NetworkPort:
    """Connect the engine's network port to the model, wherever it is placed."""
    if where.endpoint is None and where.placement == "inprocess":
        network_model = build_network(model, config, source)
        return NetworkPort(clock, InProcessClient(network_model), network_model.lookahead_ns,
                           npus_count, semantics, not model.endswith("-aware"))
    if where.endpoint is None and where.placement not in PLACEMENTS:
        raise InputError(f"--placement: found {where.placement!r}; expected one of "
                         f"{', '.join(PLACEMENTS)}")
    process = None
    endpoint = where.endpoint
    if endpoint is None:
        endpoint, process = spawn_adapter("network", where.timeout_s)
    client = ZmqClient(endpoint, "network", where.timeout_s, process,
                       clock_now=lambda: clock.now_ns)
    try:
        lookahead = client.handshake(model, json.dumps(config))
        return NetworkPort(clock, client, lookahead, npus_count, semantics,
                           not model.endswith("-aware"))
    except BaseException:
        client.close()
        raise


__all__ = ["AdapterError", "AdapterPlacement", "PLACEMENTS", "open_network"]
