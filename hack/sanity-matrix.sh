#!/usr/bin/env bash
# ansible-test sanity with the newest ansible-core that the newest Python on this machine can run
# (make sanity covers the default Python's ansible-core). The venv lives in build/, apart from .venv.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=""
for version in 3.13 3.12; do
  # pyenv's shims exist for every version but run only the selected one: try each candidate for real
  for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version"*/bin/python"$version" "$(command -v "python$version" || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import venv' >/dev/null 2>&1; then
      python=$candidate
      break 2
    fi
  done
done
if [ -z "$python" ]; then
  echo "sanity-matrix: no Python 3.12 or 3.13 on this machine; only the default sanity run applies" >&2
  exit 0
fi
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
venv="$root/build/venv-sanity-$version"
if [ ! -x "$venv/bin/ansible-test" ]; then
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet ansible-core
fi
echo "sanity-matrix: $("$venv/bin/ansible-test" --version) on Python $version"
cd "$root"
exec "$venv/bin/python" hack/sanity.py "$@"
