#!/bin/sh
# Entry point of an adapter container: `astra-cosim adapter serve ARGS...`, again and again.
# A served adapter gives each engine a session and keeps serving after its goodbye; should the
# server end cleanly anyway, the container starts it again rather than stop (a container that
# stopped would make `docker compose up --exit-code-from engine` stop the engine before it
# writes its results), and it ends on the first failure (e.g. --idle-timeout, a bad key).
#
# `docker stop` signals this shell alone (the container's init forwards to its child): the
# server gets the signal passed on and the shell waits for it, so the server can close its
# connections and give its engines time to report that it is gone (server.py, STOP_GRACE_S)
# before the container, and with it the server, ends.
set -u
child=0
stop() {
    if [ "$child" -ne 0 ]; then
        kill -TERM "$child" 2>/dev/null
        wait "$child"
    fi
    exit 143
}
trap stop TERM INT
while :; do
    astra-cosim adapter serve "$@" &
    child=$!
    wait "$child"
    status=$?
    child=0
    [ "$status" -eq 0 ] || exit "$status"
done
