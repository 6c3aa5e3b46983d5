"""docs/architecture.md stays true: every file, module and function it names exists, and every module_util and
plugin_util has its row in the "which file holds which behaviour" table (one fact -> one file)."""

from __future__ import annotations

import ast
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DOC = os.path.join(ROOT, "docs", "architecture.md")
FOLDERS = [os.path.join(ROOT, "plugins", folder) for folder in ("module_utils", "plugin_utils", "modules", "action")]


def _modules() -> dict:
    """name -> set of top-level names (functions, classes, assignments, and their methods as Class.method)."""
    found = {}
    for folder in FOLDERS:
        for name in os.listdir(folder):
            if not name.endswith(".py") or name == "__init__.py":
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                tree = ast.parse(handle.read())
            names = set()
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    names.add(node.name)
                    if isinstance(node, ast.ClassDef):
                        names.update(f"{node.name}.{item.name}" for item in node.body if isinstance(item, ast.FunctionDef))
                        names.update(item.name for item in node.body if isinstance(item, ast.FunctionDef))
                elif isinstance(node, ast.Assign):
                    names.update(t.id for t in node.targets if isinstance(t, ast.Name))
                elif isinstance(node, (ast.ImportFrom, ast.Import)):
                    names.update(alias.asname or alias.name for alias in node.names)
            found[name[:-3]] = names
    return found


def _doc() -> str:
    with open(DOC, encoding="utf-8") as handle:
        return handle.read()


def test_every_file_module_and_function_the_architecture_names_exists():
    modules, text = _modules(), _doc()
    missing = []
    for name in set(re.findall(r"`(?:plugins/[a-z_/]+/)?(_?[a-z][a-z0-9_]*)\.py`", text)):
        if name not in modules and not name.startswith("<"):
            missing.append(f"{name}.py")
    for module, attribute in set(re.findall(r"`?\b(_[a-z][a-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_.]*?)(?:\(\))?`", text)):
        if module not in modules:
            missing.append(f"{module} (in {module}.{attribute})")
        elif attribute != "py" and attribute not in modules[module]:
            missing.append(f"{module}.{attribute}")
    assert not missing, f"docs/architecture.md names what does not exist: {sorted(missing)}"


def test_every_module_util_and_plugin_util_has_its_row_in_the_table():
    table = _doc().split("## Which file holds which behaviour", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`(?:plugins/[a-z_/]+/)?(_[a-z0-9_]+)\.py`", table))
    for folder in FOLDERS[:2]:
        files = {name[:-3] for name in os.listdir(folder) if name.startswith("_") and name.endswith(".py") and name != "__init__.py"}
        assert not files - named, f"no row in the architecture table for {sorted(files - named)}"


def test_the_test_layout_table_lists_every_test_folder_and_only_those():
    rule = _doc().split("- Tests live by what they need", 1)[1].split("\n- ", 1)[0].split("\n## ", 1)[0]
    listed = {name.rstrip("/") for name in re.findall(r"^  \| `(tests/[a-z_/]+)` \|", rule, re.M)}
    present = set()
    for folder, _dirs, files in os.walk(os.path.join(ROOT, "tests")):
        relative = os.path.relpath(folder, ROOT)
        if relative.startswith(os.path.join("tests", "integration", "targets")):
            present.add(os.path.join("tests", "integration", "targets"))
        elif any(name.startswith("test_") and name.endswith(".py") for name in files):
            present.add(relative)
    assert listed == present, f"docs/architecture.md's test layout: not listed {sorted(present - listed)}, " \
                              f"listed but without tests {sorted(listed - present)}"
