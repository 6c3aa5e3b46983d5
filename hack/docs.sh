#!/usr/bin/env bash
# Generate the reference pages (modules, filters, role) from the collection's own documentation with antsibull-docs.
#   hack/docs.sh DIR          write them to DIR
#   hack/docs.sh --check DIR  fail when DIR differs from what would be generated (a stale reference)
set -euo pipefail
check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
dest=${1:?usage: hack/docs.sh [--check] DIR}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$root/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$root/build/collections"
out=$(mktemp -d)  # antsibull-docs wants a directory only its owner can write
trap 'rm -rf "$out"' EXIT
antsibull-docs collection --use-current --squash-hierarchy --fail-on-error --output-format simplified-rst \
  --dest-dir "$out" apim.certificates >/dev/null
if [ "$check" = 1 ]; then
  if ! diff -ru "$dest" "$out"; then
    echo "docs/reference is stale: run 'make docs' and commit the result" >&2
    exit 1
  fi
  echo "docs/reference is up to date"
else
  mkdir -p "$dest"
  rm -f "$dest"/*.rst
  cp "$out"/*.rst "$dest"/
  echo "wrote $(find "$dest" -name '*.rst' | wc -l) pages to $dest"
fi
