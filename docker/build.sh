#!/usr/bin/env bash
# Build the astra-cosim images: the shared base, then one image per role, each a stage of
# docker/Dockerfile (the same stages `docker compose up --build` builds).
#
#   docker/build.sh [engine] [ns3] [scalesim]        # default: all three
#
# Environment:
#   BASE_IMAGE     the Python 3.11 image the base starts from (default python:3.11-slim);
#                  without a registry, build one with docker/build-local-base.sh and name it here
#   PIP_CA_BUNDLE  a CA bundle file, for pip behind a TLS-intercepting proxy (e.g.
#                  /etc/ssl/certs/ca-certificates.crt): the images then start from a local copy
#                  of BASE_IMAGE that trusts it (so they are for this machine only)
#   IMAGE_TAG      tag of the images built (default latest): astra-cosim/{base,engine,ns3,scalesim}
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
base_image="${BASE_IMAGE:-python:3.11-slim}"
tag="${IMAGE_TAG:-latest}"
roles=("$@")
[ ${#roles[@]} -gt 0 ] || roles=(engine ns3 scalesim)

fail() { echo "docker/build.sh: $*" >&2; exit 2; }

for role in "${roles[@]}"; do
    case "$role" in
        engine|ns3|scalesim) ;;
        *) fail "no role '$role'; expected engine, ns3 or scalesim" ;;
    esac
done

# The classic builder, as compose v1 builds (docker-py): its layer cache then serves
# `docker-compose up --build` too. Compose v2 builds with BuildKit, with a cache of its own.
docker_build() { DOCKER_BUILDKIT=0 docker build "$@"; }

if ! docker image inspect "$base_image" >/dev/null 2>&1 \
        && ! docker pull -q "$base_image" >/dev/null 2>&1; then
    fail "cannot pull $base_image; without an image registry, build a base from Debian" \
         "packages: sudo docker/build-local-base.sh &&" \
         "BASE_IMAGE=astra-cosim/python-base:3.11-bookworm docker/build.sh"
fi

# Behind a TLS-intercepting proxy: a local base that trusts the proxy's CA (the bundle and
# pip's PIP_CERT), made on this machine for this machine. Never push images built this way.
if [ -n "${PIP_CA_BUNDLE:-}" ]; then
    bundle="$(realpath "$PIP_CA_BUNDLE")" || fail "PIP_CA_BUNDLE=$PIP_CA_BUNDLE: no such file"
    [ -s "$bundle" ] || fail "PIP_CA_BUNDLE=$PIP_CA_BUNDLE: no such file, or empty"
    context="$(mktemp -d)"
    trap 'rm -rf "$context"' EXIT
    cp "$bundle" "$context/ca-bundle.crt"
    printf '%s\n' "FROM $base_image" \
        "COPY ca-bundle.crt /usr/local/share/astra-cosim/ca-bundle.crt" \
        "ENV PIP_CERT=/usr/local/share/astra-cosim/ca-bundle.crt" > "$context/Dockerfile"
    docker_build -q -t "astra-cosim/python-base-ca:$tag" "$context" >/dev/null
    base_image="astra-cosim/python-base-ca:$tag"
fi

build() {  # build STAGE: docker/Dockerfile's stage, tagged astra-cosim/STAGE
    local name="$1"
    local start=$SECONDS
    docker_build -f "$repo/docker/Dockerfile" --target "$name" \
        --build-arg "BASE_IMAGE=$base_image" \
        -t "astra-cosim/$name:$tag" "$repo"
    echo "built astra-cosim/$name:$tag in $((SECONDS - start)) s"
}

build base
for role in "${roles[@]}"; do
    build "$role"
done
