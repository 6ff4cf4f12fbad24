#!/usr/bin/env bash
# Create the private Piper reference virtualenv (tools/golden/.venv, git-ignored)
# and regenerate test/golden/* from test/golden/corpus.txt.
#
#   bash tools/golden/setup.sh                         # voice: models/en_US-joe-medium.onnx
#   bash tools/golden/setup.sh --model /path/voice.onnx
#
# Extra arguments are passed to generate.py (see --help).
# Environment: PYTHON (default python3), GOLDEN_VENV (default tools/golden/.venv).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="$(bash "$here/venv.sh")"

cd "$root"
exec "$python" "$here/generate.py" "$@"
