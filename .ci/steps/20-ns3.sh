#!/usr/bin/env bash
# ns-3 3.44's Python bindings for tests/adapters/ns3: `pip install ns3==3.44.post0` builds
# cppyy from source (about 100 s), which needs a C++ compiler and the Python headers of the
# venv's interpreter (cmake too, for CPyCppyy's build); cling needs the C++ standard library
# headers at run time too (g++).
# Argument: the project's venv.
set -euo pipefail
venv="$1"
python="$venv/bin/python"
minor=$("$python" -c 'import sys; print(f"{sys.version_info.major}.{sys.version_info.minor}")')
include=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')

if ! command -v g++ >/dev/null || ! command -v cmake >/dev/null || [ ! -f "$include/Python.h" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq g++ make cmake "python${minor}-dev" >/dev/null \
        || apt-get install -y -qq g++ make cmake python3-dev >/dev/null
fi
[ -f "$include/Python.h" ] || { echo "20-ns3.sh: no Python.h in $include" >&2; exit 1; }

t=$SECONDS
"$venv/bin/pip" install -q "ns3==3.44.post0"
echo "ns3 installed in $((SECONDS - t)) s"
# the first import compiles and caches cppyy's precompiled header; pay it here, once, from an
# empty directory (the bindings scan the working directory for libraries)
scratch=$(mktemp -d)
(cd "$scratch" && timeout 600 "$python" -c "from ns import ns; print('ns-3', ns.Simulator.Now().GetNanoSeconds() == 0)")
rm -rf "$scratch"
