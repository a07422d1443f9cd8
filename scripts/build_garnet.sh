#!/usr/bin/env bash
# Build gem5's Garnet_standalone binary with astra-cosim's CosimInjector SimObject compiled in
# (adapters/garnet/gem5_extras, through gem5's EXTRAS mechanism), for --network-backend garnet.
#
#   scripts/build_garnet.sh --gem5-source PATH|URL [--dest DIR] [--jobs N]
#
# PATH is a gem5 source tree (built in place, in its build/ folder) or a .tar.gz of one; URL is
# a tarball to download or a git repository (cloned at tag $GEM5_TAG, default v24.0.0.1, the
# release the adapter is written against). Tarballs and clones go to DIR (default
# $ASTRA_GEM5_HOME, else ~/.cache/astra-cosim/gem5). GEM5_SOURCE may be given in the
# environment instead of --gem5-source. Debian packages gem5 needs:
#   scons m4 zlib1g-dev python3-dev libprotobuf-dev protobuf-compiler libgoogle-perftools-dev pkg-config
# Measured: about 70 minutes of wall time on 2 cores. Rerunning after a change to gem5_extras
# rebuilds only what changed (minutes). At the end the script prints the ASTRA_GEM5 to export.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extras="$here/adapters/garnet/gem5_extras"
source_arg="${GEM5_SOURCE:-}"
dest="${ASTRA_GEM5_HOME:-$HOME/.cache/astra-cosim/gem5}"
jobs="$(nproc 2>/dev/null || echo 2)"
tag="${GEM5_TAG:-v24.0.0.1}"

while [ $# -gt 0 ]; do
    case "$1" in
        --gem5-source) source_arg="$2"; shift 2 ;;
        --dest) dest="$2"; shift 2 ;;
        --jobs) jobs="$2"; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "build_garnet.sh: unknown argument $1 (expected --gem5-source, --dest, --jobs)" >&2
           exit 2 ;;
    esac
done
if [ -z "$source_arg" ]; then
    echo "build_garnet.sh: no gem5 source: give --gem5-source PATH|URL or set GEM5_SOURCE" >&2
    exit 2
fi
for tool in scons m4 protoc pkg-config python3-config; do
    if ! command -v "$tool" >/dev/null; then
        echo "build_garnet.sh: $tool is missing; on Debian: apt-get install scons m4 zlib1g-dev" \
             "python3-dev libprotobuf-dev protobuf-compiler libgoogle-perftools-dev pkg-config" >&2
        exit 2
    fi
done

unpack() {   # a .tar.gz into $dest, without its top folder
    mkdir -p "$dest"
    tar -xzf "$1" -C "$dest" --strip-components=1
}

case "$source_arg" in
    *.git|git@*|*github.com/gem5/gem5|*github.com/gem5/gem5/)
        [ -d "$dest/src" ] || git clone --depth 1 --branch "$tag" "$source_arg" "$dest"
        tree="$dest" ;;
    http://*|https://*)
        mkdir -p "$dest"
        archive="$dest.download.tar.gz"
        curl -fL --retry 3 -o "$archive" "$source_arg"
        unpack "$archive"; rm -f "$archive"
        tree="$dest" ;;
    *)
        if [ -d "$source_arg" ]; then
            tree="$(cd "$source_arg" && pwd)"
        elif [ -f "$source_arg" ]; then
            [ -d "$dest/src" ] || unpack "$source_arg"
            tree="$dest"
        else
            echo "build_garnet.sh: --gem5-source $source_arg: no such file, folder or URL" >&2
            exit 2
        fi ;;
esac
if [ ! -f "$tree/SConstruct" ] || [ ! -d "$tree/build_opts" ]; then
    echo "build_garnet.sh: $tree is not a gem5 source tree (no SConstruct or build_opts)" >&2
    exit 2
fi

started=$(date +%s)
cd "$tree"
scons -j"$jobs" EXTRAS="$extras" build/Garnet_standalone/gem5.opt < /dev/null
echo "built in $(( ($(date +%s) - started) / 60 )) min: export ASTRA_GEM5=$tree/build/Garnet_standalone/gem5.opt"
