# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Import this collection's module_utils from the AnsiballZ zip with one compile each, instead of two.

Ansible runs a module from a zip file (AnsiballZ), and Python imports the module's module_utils from it with
zipimport, which keeps no bytecode: every module run compiles them from source. zipimport compiles each module twice
(CPython 3.8 to 3.13): its find_spec() asks get_filename() where the module would come from, and get_filename()
compiles the module to find out; then get_code() compiles it again. For gateway_trust, whose module_utils are about
165 kB of source, the second compile is about 25 ms of a 230 ms module run, paid on every node at every run
(docs/performance.md, "Fleet cost").

Each module imports this first. It puts a finder in front of sys.meta_path that serves the other modules of this
package from the same zip, compiled once, with the same file names (tracebacks and coverage are unchanged). It acts
only when this package was itself imported from a zip; anything else (a directory, as ansible-test and AnsiballZ's
explode mode use; a module the zip does not hold; any other package) is left to Python's own import system.
"""

from __future__ import annotations

import importlib.util
import sys
import zipimport

_PACKAGE = __name__.rpartition(".")[0]


class _Loader:
    """Executes one module from its source, compiled once."""

    def __init__(self, source: str, path: str):
        self._source = source
        self._path = path

    def create_module(self, spec):  # pylint: disable=unused-argument
        return None  # the default module object

    def exec_module(self, module) -> None:
        code = compile(self._source, self._path, "exec", dont_inherit=True)
        exec(code, module.__dict__)  # pylint: disable=exec-used  # what every loader does with a module's code

    def get_source(self, fullname: str) -> str:  # pylint: disable=unused-argument
        return self._source  # for tracebacks (linecache)


class _Finder:
    """Finds this package's modules in the zip the package came from."""

    def __init__(self, importer, directory: str):
        self._importer = importer
        self._directory = directory

    def find_spec(self, fullname, path=None, target=None):  # pylint: disable=unused-argument
        if fullname.rpartition(".")[0] != _PACKAGE:
            return None
        try:
            if self._importer.is_package(fullname):
                return None
            source = self._importer.get_source(fullname)
        except Exception:  # pylint: disable=broad-except  # not in the zip, or unreadable: Python decides
            return None
        if source is None:
            return None
        origin = self._directory + fullname.rpartition(".")[2] + ".py"
        spec = importlib.util.spec_from_loader(fullname, _Loader(source, origin), origin=origin)
        spec.has_location = True  # sets __file__, as zipimport does
        return spec


def _install() -> None:
    loader = getattr(__spec__, "loader", None)
    package = sys.modules.get(_PACKAGE)
    directories = list(getattr(package, "__path__", None) or [])
    if not isinstance(loader, zipimport.zipimporter) or len(directories) != 1:
        return
    if any(isinstance(finder, _Finder) for finder in sys.meta_path):
        return
    try:
        importer = zipimport.zipimporter(directories[0])
    except Exception:  # pylint: disable=broad-except
        return
    sys.meta_path.insert(0, _Finder(importer, directories[0].rstrip("/\\") + "/"))


_install()
