# Shared by scripts/demo.sh and scripts/test.sh: create .venv with Python >= 3.11 and
# install torch==2.13.0 first (a CPU wheel; any looser request pulls a multi-GB CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "whylens needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)." >&2
    echo "Set PYTHON=/path/to/python3.11 and run again." >&2
    exit 2
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=".venv/bin/python -m pip install --disable-pip-version-check -q"
$PIP --upgrade pip
$PIP torch==2.13.0
