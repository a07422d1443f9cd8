#!/bin/sh
# Entry point of an adapter container: `astra-cosim adapter serve ARGS...`, again and again.
# A served adapter gives each engine a session and keeps serving after its goodbye; should the
# server end cleanly anyway, the container starts it again rather than stop (a container that
# stopped would make `docker compose up --exit-code-from engine` stop the engine before it
# writes its results), and it ends on the first failure (e.g. --idle-timeout, a bad key).
set -u
while :; do
    astra-cosim adapter serve "$@" || exit $?
done
