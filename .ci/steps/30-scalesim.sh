#!/usr/bin/env bash
# SCALE-Sim 3.0.0 for tests/adapters/scalesim and tests/workload/generate. Its declared
# dependencies (numba, cython, pandas, matplotlib, absl-py, ...) are not what the
# single-layer simulation imports: that needs numpy (below 2.4) and tqdm only, so install
# without them. Argument: the project's venv.
set -euo pipefail
venv="$1"
"$venv/bin/pip" install -q --no-deps "scalesim==3.0.0" "numpy<2.4" tqdm
"$venv/bin/python" -c "from scalesim.single_layer_sim import single_layer_sim; import numpy; print('scalesim 3.0.0 with numpy', numpy.__version__)"
