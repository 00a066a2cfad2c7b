#!/usr/bin/env bash
# Set up a virtualenv in .venv with every extra (torch, Korean, workbench, peers for comparison,
# dev tools) and run the whole test suite. Exits non-zero when any test fails.
# Usage: scripts/test.sh [pytest options]
source "$(dirname "$0")/_venv.sh"
$PIP -e '.[torch,demo,ko,mecab,app,bench,dev,scale]'
$PIP --no-deps scattertext
# pytorch-grad-cam, to compare the CAMs with it: without its dependencies, which would pull
# torchvision and a second torch (the tests import it with stand-ins for torchvision and cv2).
$PIP --no-deps grad-cam ttach
.venv/bin/ruff check src tests benchmarks
# One BLAS/OpenMP/torch thread per test worker: pytest-xdist runs one worker per core, and
# workers waiting on each other's threads made small torch models ~100x slower.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
.venv/bin/python -m pytest -n auto --durations=15 "$@"
# The workbench's load test (200 concurrent requests on 127.0.0.1), out of the default run.
exec .venv/bin/python -m pytest -q -m load tests/app/test_load.py
