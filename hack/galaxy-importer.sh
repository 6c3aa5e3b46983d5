#!/usr/bin/env bash
# Galaxy readiness: galaxy-importer (PyPI), the checks Galaxy and Automation Hub run on an upload, on the artifact
# `ansible-galaxy collection build` makes, with the container-dependent steps off (hack/galaxy-importer/galaxy-importer.cfg).
# Fails on any ERROR or WARNING line of the importer, not only on its exit code.
# Its venv (build/galaxy-importer/venv) is apart from .venv: galaxy-importer pins attrs<24 and caps ansible-lint.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=${PYTHON:-python3}
work="$root/build/galaxy-importer"
venv="$work/venv"
requirements="$root/hack/galaxy-importer/requirements.txt"
stamp="$venv/.stamp"
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  rm -rf "$venv"
  echo "galaxy-importer: creating $venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -r "$requirements"
  echo "$want" > "$stamp"
fi
dist="$work/dist"
rm -rf "$dist" "$work/run"
mkdir -p "$dist" "$work/run" "$work/tmp"
"$venv/bin/ansible-galaxy" collection build --force --output-path "$dist" "$root" >/dev/null
tarball=$(ls "$dist"/apim-certificates-*.tar.gz)
echo "galaxy-importer: $("$venv/bin/python" -m pip show galaxy-importer 2>/dev/null | sed -n 's/^Version: //p') on $(basename "$tarball")"
log="$work/importer.log"
rc=0
# importer_result.json lands in the working directory; ansible-lint and ansible-doc run from the importer's venv
(cd "$work/run" && env -u ANSIBLE_COLLECTIONS_PATH -u ANSIBLE_PYTHON_INTERPRETER \
   PATH="$venv/bin:$PATH" GALAXY_IMPORTER_CONFIG="$root/hack/galaxy-importer/galaxy-importer.cfg" \
   GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP="$work/tmp" TMPDIR="$work/tmp" \
   "$venv/bin/python" -m galaxy_importer.main "$tarball") > "$log" 2>&1 || rc=$?
cat "$log"
if [ "$rc" -ne 0 ]; then
  echo "galaxy-importer: failed (exit code $rc)" >&2
  exit 1
fi
if grep -qE '^(WARNING|ERROR|CRITICAL)' "$log"; then
  echo "galaxy-importer: the import reported errors or warnings (above)" >&2
  exit 1
fi
test -s "$work/run/importer_result.json"
echo "galaxy-importer: import passed with no errors or warnings ($work/run/importer_result.json)"
