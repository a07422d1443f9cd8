"""Checks on an adapter's endpoint before the engine waits for it.

A ``tcp://HOST:PORT`` whose host does not resolve would otherwise cost the whole adapter
timeout (ZeroMQ retries the name quietly); e.g. a container's service name ``ns3`` used
outside its compose network. Failing at once, naming the host, saves that wait.
"""

from __future__ import annotations

import socket

from orchestrator.errors import InputError


def host_of(endpoint: str) -> str | None:
    """The host of a ``tcp://HOST:PORT`` endpoint (brackets of IPv6 removed); None for other
    transports."""
    scheme, sep, rest = endpoint.partition("://")
    if not sep or scheme != "tcp":
        return None
    host = rest.rsplit(":", 1)[0] if ":" in rest else rest
    return host.strip("[]")


def check_resolvable(endpoint: str, kind: str) -> None:
    """Raise an ``InputError`` naming the host when ``endpoint``'s host does not resolve."""
    host = host_of(endpoint)
    if host is None or host == "*":
        return
    try:
        socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError) as exc:
        raise InputError(f"{kind} adapter endpoint {endpoint}: host {host!r} does not resolve "
                         f"({exc.strerror if isinstance(exc, socket.gaierror) else exc}); a "
                         "container's service name resolves only inside its compose network "
                         "(run with --placement process to start the adapter here)") from None
