#!/usr/bin/env bash
# Build a Python 3.11 base image from Debian packages, for machines that cannot pull the
# default base (python:3.11-slim) because no image registry is reachable.
#
#   sudo docker/build-local-base.sh [TAG]      # default tag: astra-cosim/python-base:3.11-bookworm
#   BASE_IMAGE=astra-cosim/python-base:3.11-bookworm docker/build.sh
#
# debootstrap lays out a minimal Debian bookworm (whose python3 is 3.11) with python3-venv,
# and `docker import` turns that tree into an image. Only a Debian mirror is needed
# (DEBIAN_MIRROR, default http://deb.debian.org/debian). Needs root, debootstrap and a
# running Docker daemon.
#
# The image is made on this machine for this machine, so it trusts what the machine trusts:
# HOST_CA_BUNDLE (default /etc/ssl/certs/ca-certificates.crt; empty: Debian's own) becomes its
# CA bundle and pip's (PIP_CERT). Behind a TLS-intercepting proxy that lets
# `docker compose up --build` install packages with no secret to pass (compose v1 cannot pass
# one). Do not push such an image anywhere.
set -euo pipefail

tag="${1:-astra-cosim/python-base:3.11-bookworm}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
suite=bookworm

if [ "$(id -u)" != 0 ]; then
    echo "build-local-base.sh: debootstrap needs root; run it with sudo" >&2
    exit 2
fi
if ! command -v debootstrap >/dev/null; then
    echo "build-local-base.sh: debootstrap is missing: apt-get install -y debootstrap" >&2
    exit 2
fi

rootfs="$(mktemp -d /tmp/astra-cosim-rootfs.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT

debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    "$suite" "$rootfs" "$mirror"

# The role images run apt-get update themselves; the archives and lists only add size.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
# Same shape as the official image: `python` and `python3` on PATH.
ln -sf python3 "$rootfs/usr/bin/python"
host_ca="${HOST_CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}"
if [ -n "$host_ca" ]; then
    [ -s "$host_ca" ] || { echo "build-local-base.sh: HOST_CA_BUNDLE=$host_ca: no such file," \
                               "or empty (HOST_CA_BUNDLE= keeps Debian's)" >&2; exit 2; }
    cp "$host_ca" "$rootfs/etc/ssl/certs/ca-certificates.crt"
fi

tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["python3"]' \
    --message "Debian $suite with python3 and python3-venv (docker/build-local-base.sh)" \
    - "$tag"
echo "built $tag"
