#!/bin/sh
# Regenerates the MLSys'22 exercise 3 and 4 workloads in this folder from model descriptions,
# timing every GEMM with SCALE-Sim 3.0 on the 256x256 weight-stationary preset (SCALE-Sim v2's
# google.cfg). Needs: pip install 'astra-cosim[scalesim]'. Answers are cached in
# ~/.cache/astra-cosim/scalesim, so a second run simulates nothing.
# tests/workload/generate/test_tutorial_workloads.py runs these lines and compares the files.
set -e
cd "$(dirname "$0")"
astra-cosim workload generate --model vgg16 --parallelism DATA --npus 256 --compute scalesim --compute-option preset=tpu-256x256-ws --out vgg16_data_256.txt
astra-cosim workload generate --model gpt3-175b --parallelism TRANSFORMER --npus 256 --tp 16 --compute scalesim --compute-option preset=tpu-256x256-ws --out gpt3_transformer_tp16_256.txt
astra-cosim workload generate --model ../resnet50_slice.yaml --parallelism DATA --npus 64 --compute scalesim --compute-option preset=tpu-256x256-ws --out resnet50_slice_data_64.txt
astra-cosim workload generate --model ../resnet50_slice.yaml --parallelism DATA_REORDER --npus 64 --compute scalesim --compute-option preset=tpu-256x256-ws --out resnet50_slice_data_reorder_64.txt
