#!/usr/bin/env bash
# Create (once) the private Piper reference virtualenv and print its python.
# Used by setup.sh (golden data) and tools/golden/parity.ts (npm run test:parity).
# Environment: PYTHON (default python3), GOLDEN_VENV (default tools/golden/.venv).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${GOLDEN_VENV:-$here/.venv}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
  echo "creating $venv" >&2
  "$python" -m venv "$venv" >&2
fi
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$here/requirements.txt" >&2
echo "$venv/bin/python"
