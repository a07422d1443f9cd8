"""Entry point of the engine container: wait for the experiment's adapters, run it as the
unprivileged user, and hand the results to the user who invoked compose.

``entrypoint.py EXPERIMENT.yaml [astra-cosim run options...]``.

* **Adapters.** Each adapter the experiment names by endpoint (``network.endpoint``,
  ``compute.endpoint``) must answer a protocol hello (``astra-cosim adapter ping``) before the
  run starts: compose starts the containers together, and ns-3 alone takes seconds to import.
  An adapter that does not answer within ``ASTRA_ADAPTER_WAIT_S`` seconds (default 300) ends
  the container with a one-line error naming it.
* **Whose results.** The container starts as root, so that a fresh clone works the same for
  root and for any user: the results belong to ``ASTRA_UID``/``ASTRA_GID`` when set, else to
  the owner of the mounted experiments folder (the checkout, i.e. whoever cloned it).
* **Never root.** The simulation runs as the image's user ``astra`` (uid 10001) in a staging
  folder; its ``results/`` is then copied into the mounted ``/work/results`` and given to that
  owner, whether the run succeeded or not. Started as a non-root user (``docker run --user``),
  the entrypoint runs the simulation as that user, writing ``/work/results`` directly.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import yaml

PING_TIMEOUT_S = 3.0
WORKDIR = "/work"
RESULTS = os.path.join(WORKDIR, "results")
EXPERIMENTS = os.path.join(WORKDIR, "experiments")
RUN_AS = (10001, 10001)          # the image's user `astra` (docker/Dockerfile, base stage)


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


def results_owner() -> tuple[int, int]:
    """ASTRA_UID/ASTRA_GID when set (either may be left empty), else the owner of the mounted
    experiments folder, else of the results folder."""
    for folder in (EXPERIMENTS, RESULTS):
        if os.path.exists(folder):
            info = os.stat(folder)
            uid, gid = info.st_uid, info.st_gid
            break
    else:
        uid = gid = 0
    uid_text, gid_text = os.environ.get("ASTRA_UID", ""), os.environ.get("ASTRA_GID", "")
    try:
        return (int(uid_text) if uid_text else uid, int(gid_text) if gid_text else gid)
    except ValueError:
        raise SystemExit(f"astra-cosim: error: ASTRA_UID/ASTRA_GID: found {uid_text!r}/"
                         f"{gid_text!r}; expected numeric ids") from None


def _drop_privileges() -> None:
    """In the child, before exec: become ``astra`` (no supplementary groups)."""
    os.setgroups([])
    os.setgid(RUN_AS[1])
    os.setuid(RUN_AS[0])


def _run_forwarding_signals(command: list[str], **kwargs) -> int:
    """Run ``command``; SIGTERM/SIGINT sent to us (``docker stop``, Ctrl-C) go to it."""
    child = subprocess.Popen(command, **kwargs)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, _frame: child.send_signal(number))
    return child.wait()


def hand_over(staging: str, owner: tuple[int, int]) -> None:
    """Copy what the run wrote under ``staging`` into /work/results, owned by ``owner``."""
    os.makedirs(RESULTS, exist_ok=True)
    top = os.stat(RESULTS)
    if (top.st_uid, top.st_gid) == (0, 0) and owner != (0, 0) and not os.listdir(RESULTS):
        os.chown(RESULTS, *owner)      # created by Docker for the bind mount: give it away
    for name in sorted(os.listdir(staging)):
        source, target = os.path.join(staging, name), os.path.join(RESULTS, name)
        if os.path.isdir(source):
            shutil.copytree(source, target, dirs_exist_ok=True)
            for root, dirs, files in os.walk(target):
                for entry in [root] + [os.path.join(root, item) for item in dirs + files]:
                    os.chown(entry, *owner)
        else:
            shutil.copy2(source, target)
            os.chown(target, *owner)


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit("usage: entrypoint.py EXPERIMENT.yaml [astra-cosim run options]")
    deadline = time.monotonic() + float(os.environ.get("ASTRA_ADAPTER_WAIT_S", "300"))
    for kind, backend, endpoint in adapter_endpoints(argv[0]):
        wait_for(kind, backend, endpoint, deadline)
    if os.getuid() != 0:                       # docker run --user: already unprivileged
        os.execvp("astra-cosim", ["astra-cosim", "run", *argv])
    owner = results_owner()
    # the run's working folder: experiments/ as mounted, results/ staged for the hand-over
    staging = tempfile.mkdtemp(prefix="astra-cosim-run-")
    os.symlink(EXPERIMENTS, os.path.join(staging, "experiments"))
    results = os.path.join(staging, "results")
    os.mkdir(results)
    os.chown(staging, *RUN_AS)
    os.chown(results, *RUN_AS)
    env = os.environ | {"HOME": "/home/astra", "USER": "astra"}
    try:
        status = _run_forwarding_signals(["astra-cosim", "run", *argv], cwd=staging, env=env,
                                         preexec_fn=_drop_privileges)
    finally:
        hand_over(results, owner)
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == "__main__":
    main(sys.argv[1:])
