#!/usr/bin/env bash
# Docker for tests/docker: the engine (docker.io), compose v1 (docker-compose), debootstrap for
# a local base image; starts dockerd when none runs, then builds the images the tests use
# (the ns-3 and SCALE-Sim images once their adapters exist). Argument: the venv (unused: the
# images carry their own Python).
set -euo pipefail
cd "$(dirname "$0")/../.."
step_start=$SECONDS

if ! command -v dockerd >/dev/null || ! command -v docker-compose >/dev/null \
        || ! command -v debootstrap >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq docker.io docker-compose debootstrap >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
    setsid nohup dockerd </dev/null >/tmp/astra-cosim-dockerd.log 2>&1 &
    for _ in $(seq 60); do
        docker info >/dev/null 2>&1 && break
        sleep 1
    done
    docker info >/dev/null 2>&1 || { tail -20 /tmp/astra-cosim-dockerd.log >&2;
                                      echo "40-docker.sh: dockerd did not start" >&2; exit 1; }
fi
echo "docker engine: $(docker version --format '{{.Server.Version}}')"

# The official base when a registry answers; otherwise one built from Debian packages.
base=python:3.11-slim
if ! docker image inspect "$base" >/dev/null 2>&1 \
        && ! timeout 60 docker pull -q "$base" >/dev/null 2>&1; then
    base=astra-cosim/python-base:3.11-bookworm
    if ! docker image inspect "$base" >/dev/null 2>&1; then
        t=$SECONDS
        docker/build-local-base.sh "$base" >/tmp/astra-cosim-local-base.log 2>&1 \
            || { tail -20 /tmp/astra-cosim-local-base.log >&2; exit 1; }
        echo "built $base from Debian packages in $((SECONDS - t)) s"
    fi
fi

# pip inside the builds trusts the machine's CA bundle (a TLS-intercepting proxy's CA lives there).
if [ -z "${PIP_CA_BUNDLE:-}" ] && [ -s /etc/ssl/certs/ca-certificates.crt ]; then
    export PIP_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
fi
roles=(engine)
[ -d adapters/ns3 ] && roles+=(ns3)
[ -d adapters/scalesim ] && roles+=(scalesim)
BASE_IMAGE="$base" docker/build.sh "${roles[@]}" >/tmp/astra-cosim-docker-build.log 2>&1 \
    || { tail -40 /tmp/astra-cosim-docker-build.log >&2; exit 1; }
grep '^built ' /tmp/astra-cosim-docker-build.log
echo "40-docker.sh took $((SECONDS - step_start)) s"
