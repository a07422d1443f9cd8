#!/bin/sh
# Entry point of an adapter container: `astra-cosim adapter serve ARGS...`, again and again.
# A server stops after the engine's shutdown request; a container that stopped then would make
# `docker compose up --exit-code-from engine` stop the engine before it writes its results,
# so the container serves one run after another and ends on the first failure instead.
set -u
while :; do
    astra-cosim adapter serve "$@" || exit $?
done
