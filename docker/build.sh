#!/usr/bin/env bash
# Build the astra-cosim images: the shared base, then one image per role, each a stage of
# docker/Dockerfile (the same stages `docker compose up --build` builds).
#
#   docker/build.sh [engine] [ns3] [scalesim]        # default: all three
#
# Environment:
#   BASE_IMAGE     the Python 3.11 image the base starts from (default python:3.11-slim);
#                  without a registry, build one with docker/build-local-base.sh and name it here
#   PIP_CA_BUNDLE  a CA bundle file outside the repository, for pip behind a TLS-intercepting
#                  proxy (e.g. /etc/ssl/certs/ca-certificates.crt); passed as a BuildKit secret,
#                  so it is never written into an image
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

# BuildKit is needed for the CA secret. Docker clients from 23 on build with BuildKit only
# through the buildx plugin; Debian's docker.io client (20.10) has it built in. Take the first
# client on PATH that can.
docker_cli=""
while read -r candidate; do
    if DOCKER_BUILDKIT=1 "$candidate" build --help >/dev/null 2>&1; then
        docker_cli="$candidate"
        break
    fi
done < <(type -ap docker)
[ -n "$docker_cli" ] || fail "no docker client on PATH builds with BuildKit; install the buildx" \
    "plugin (docker-buildx) or Debian's docker.io"

secret=()
if [ -n "${PIP_CA_BUNDLE:-}" ]; then
    bundle="$(realpath "$PIP_CA_BUNDLE")" || fail "PIP_CA_BUNDLE=$PIP_CA_BUNDLE: no such file"
    [ -s "$bundle" ] || fail "PIP_CA_BUNDLE=$PIP_CA_BUNDLE: no such file, or empty"
    case "$bundle" in
        "$repo"/*) fail "PIP_CA_BUNDLE must be outside the repository (never committed): $bundle" ;;
    esac
    secret=(--secret "id=ca_bundle,src=$bundle")
fi

if ! "$docker_cli" image inspect "$base_image" >/dev/null 2>&1 \
        && ! "$docker_cli" pull -q "$base_image" >/dev/null 2>&1; then
    fail "cannot pull $base_image; without an image registry, build a base from Debian" \
         "packages: sudo docker/build-local-base.sh &&" \
         "BASE_IMAGE=astra-cosim/python-base:3.11-bookworm docker/build.sh"
fi

build() {  # build STAGE: docker/Dockerfile's stage, tagged astra-cosim/STAGE
    local name="$1"
    local start=$SECONDS
    DOCKER_BUILDKIT=1 "$docker_cli" build --progress=plain "${secret[@]}" \
        -f "$repo/docker/Dockerfile" --target "$name" --build-arg "BASE_IMAGE=$base_image" \
        -t "astra-cosim/$name:$tag" "$repo"
    echo "built astra-cosim/$name:$tag in $((SECONDS - start)) s"
}

build base
for role in "${roles[@]}"; do
    build "$role"
done
