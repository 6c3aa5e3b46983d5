"""_zipload: the collection's module_utils imported from an AnsiballZ-like zip are compiled once, and behave as
zipimport's (file names, tracebacks); outside a zip it does nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

from ansible_collections.apim.certificates.tests.support import COLLECTIONS

PACKAGE = "ansible_collections/apim/certificates/plugins/module_utils"

_CHILD = r"""
import builtins, collections, sys, traceback
compiled = collections.Counter()
_compile = builtins.compile
def counting(source, filename, *args, **kwargs):
    compiled[filename.rsplit("/", 1)[-1]] += 1
    return _compile(source, filename, *args, **kwargs)
builtins.compile = counting
sys.path.insert(0, sys.argv[1])
from ansible_collections.apim.certificates.plugins.module_utils import _errors  # before _zipload: zipimport's way
from ansible_collections.apim.certificates.plugins.module_utils import _zipload
from ansible_collections.apim.certificates.plugins.module_utils import _der
print(compiled["_errors.py"], compiled["_zipload.py"], compiled["_der.py"])
print(_der.__file__)
print(type(_der.__loader__).__name__, type(_errors.__loader__).__name__)
try:
    _der.tlv(b"\x30", 0, 1)
except _der.Unsure:
    print(traceback.format_exc().splitlines()[-2].strip())
"""


def _zip(tmp_path) -> str:
    path = str(tmp_path / "payload.zip")
    source = os.path.join(COLLECTIONS, PACKAGE)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for level in range(1, PACKAGE.count("/") + 2):  # ansible_collections/__init__.py ... module_utils/__init__.py
            archive.writestr("/".join(PACKAGE.split("/")[:level]) + "/__init__.py", "")
        for name in sorted(os.listdir(source)):
            if name.endswith(".py") and name != "__init__.py":
                archive.write(os.path.join(source, name), f"{PACKAGE}/{name}")
    return path


def test_module_utils_from_a_zip_are_compiled_once(tmp_path):
    archive = _zip(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-c", _CHILD, archive], capture_output=True, text=True, check=False, env=env,
                          timeout=60, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    counts, filename, loaders, line = proc.stdout.splitlines()
    # zipimport compiles a module twice (_errors, _zipload); after _zipload, once (_der)
    assert counts.split() == ["2", "2", "1"], counts
    assert filename == f"{archive}/{PACKAGE}/_der.py"
    assert loaders == "_Loader zipimporter"
    assert line == 'raise Unsure("truncated")', line  # tracebacks show the source, as from zipimport


def test_outside_a_zip_it_changes_nothing():
    # ansible-test, the unit tests and AnsiballZ's explode mode import module_utils from a directory
    from ansible_collections.apim.certificates.plugins.module_utils import _der, _zipload  # pylint: disable=import-outside-toplevel

    assert not any(isinstance(finder, _zipload._Finder) for finder in sys.meta_path)  # pylint: disable=protected-access
    assert type(_der.__loader__).__name__ == "SourceFileLoader"
