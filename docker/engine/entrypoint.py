"""Entry point of the engine container: wait for the experiment's adapters, then run it.

``entrypoint.py EXPERIMENT.yaml [astra-cosim run options...]``. Each adapter the experiment
names by endpoint (``network.endpoint``, ``compute.endpoint``) must answer a protocol hello
(``astra-cosim adapter ping``) before the run starts: compose starts the containers together,
and ns-3 alone takes seconds to import. Which adapters to wait for comes from the experiment
file, so swapping a backend there needs no change to the compose file. An adapter that does
not answer within ``ASTRA_ADAPTER_WAIT_S`` seconds (default 300) ends the container with a
one-line error naming it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import yaml

PING_TIMEOUT_S = 3.0


def adapter_endpoints(path: str) -> list[tuple[str, str, str]]:
    """(kind, backend, endpoint) of every adapter section naming an endpoint. A file that cannot
    be read gives none: ``astra-cosim run`` then reports what is wrong with it."""
    try:
        with open(path, encoding="utf-8") as handle:
            doc = yaml.safe_load(handle)
    except (OSError, yaml.YAMLError):
        return []
    found = []
    for kind in ("network", "compute"):
        section = doc.get(kind) if isinstance(doc, dict) else None
        if isinstance(section, dict) and isinstance(section.get("endpoint"), str):
            backend = str(section.get("backend", section.get("adapter", "?")))
            found.append((kind, backend, section["endpoint"]))
    return found


def wait_for(kind: str, backend: str, endpoint: str, deadline: float) -> None:
    print(f"astra-cosim: waiting for the {kind} adapter ({backend}) at {endpoint}",
          file=sys.stderr, flush=True)
    while True:
        ping = subprocess.run(["astra-cosim", "adapter", "ping", endpoint,
                               "--timeout", str(PING_TIMEOUT_S)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if ping.returncode == 0:
            return
        if "refused the connection" in ping.stderr:      # a wrong key: waiting will not help
            raise SystemExit(ping.stderr.strip().splitlines()[-1])
        if time.monotonic() >= deadline:
            reason = ping.stderr.strip().splitlines()[-1:] or ["no answer"]
            raise SystemExit(f"astra-cosim: error: the {kind} adapter ({backend}) at {endpoint} "
                             f"did not answer within {os.environ.get('ASTRA_ADAPTER_WAIT_S', 300)}"
                             f" s ({reason[0]}); is its service running? (COMPOSE_PROFILES)")
        time.sleep(1.0)


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit("usage: entrypoint.py EXPERIMENT.yaml [astra-cosim run options]")
    if os.getuid() == 0:
        raise SystemExit("astra-cosim: error: the engine container does not run as root; set "
                         "ASTRA_UID/ASTRA_GID to a non-root user that may write results/")
    deadline = time.monotonic() + float(os.environ.get("ASTRA_ADAPTER_WAIT_S", "300"))
    for kind, backend, endpoint in adapter_endpoints(argv[0]):
        wait_for(kind, backend, endpoint, deadline)
    os.execvp("astra-cosim", ["astra-cosim", "run", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
