# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Editing TOML text at statement boundaries, keeping every byte it does not change (the TOML splice editor).

``scan_toml`` finds the statements of a TOML text tomlkit has already parsed (blank lines, comments, table and
array-of-tables headers, key/value pairs with their value spans), each with its resolved table path.
``TomlEditor`` sets values, appends and removes array-of-tables entries as splices of that text; the caller parses
the result again to prove that exactly the planned values changed.

Why not tomlkit's document model: it keeps every byte of what it parses, but puts the first entry of an array of
tables ([[keystore.ssl_profile.custom]]) right after the first table of its parent ([keystore.tls]), in the middle
of the file and glued to the next table, instead of at the end (tomlkit 0.15.2). The canary test
``tests/unit/plugins/module_utils/test_toml_splice.py::test_tomlkit_still_misplaces_a_new_array_of_tables_entry``
fails the day tomlkit gets this right; then this module should give way to tomlkit.
"""

from __future__ import annotations

import dataclasses
import re

from ansible_collections.apim.certificates.plugins.module_utils._errors import GatewayConfigError, SslProfileError

try:
    import tomlkit
except ImportError:  # pragma: no cover - the modules report tomlkit missing before they get here
    tomlkit = None


@dataclasses.dataclass
class Statement:
    """One logical line of a TOML file (a key/value may span several physical lines)."""

    kind: str  # blank, comment, table, array (an [[...]] header), kv
    start: int  # offset of the first character of its first physical line
    end: int  # offset just after its line terminator (or the end of the text)
    line: int  # 1-based line number of its first line
    key: tuple = ()  # header: the table's key; kv: the key as written (dotted parts)
    value_start: int = 0
    value_end: int = 0
    table: tuple = ()  # resolved path of the enclosing table (array entries get their index)

    @property
    def path(self) -> tuple:
        """kv: the key's full path; header: the table's resolved path."""
        return self.table + self.key if self.kind == "kv" else self.table


class _ScanError(Exception):
    pass


class _Scanner:
    """Finds statement boundaries, key paths and value spans in valid TOML (tomlkit has already parsed it)."""

    _BARE = re.compile(r"[A-Za-z0-9_-]+")
    _DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})?")
    _SCALAR = re.compile(r"[^\s#,\]\}=]+")

    def __init__(self, text: str):
        self.text = text
        self.n = len(text)

    def ws(self, i: int) -> int:
        while i < self.n and self.text[i] in " \t":
            i += 1
        return i

    def line_end(self, i: int) -> int:
        """After an optional comment, the offset just past the line terminator."""
        i = self.ws(i)
        if i < self.n and self.text[i] == "#":
            j = self.text.find("\n", i)
            return self.n if j < 0 else j + 1
        if self.text.startswith("\r\n", i):
            return i + 2
        if i < self.n and self.text[i] == "\n":
            return i + 1
        if i >= self.n:
            return self.n
        raise _ScanError(i)

    def key(self, i: int):
        parts = []
        while True:
            i = self.ws(i)
            if i >= self.n:
                raise _ScanError(i)
            char = self.text[i]
            if char == '"':
                j = self.basic_string_end(i)
                parts.append(_decode_quoted_key(self.text[i:j]))
            elif char == "'":
                j = self.text.index("'", i + 1) + 1
                parts.append(self.text[i + 1:j - 1])
            else:
                match = self._BARE.match(self.text, i)
                if not match:
                    raise _ScanError(i)
                j = match.end()
                parts.append(match.group())
            i = self.ws(j)
            if i < self.n and self.text[i] == ".":
                i += 1
                continue
            return tuple(parts), i

    def basic_string_end(self, i: int) -> int:
        j = i + 1
        while j < self.n:
            char = self.text[j]
            if char == "\\":
                j += 2
                continue
            if char == '"':
                return j + 1
            if char == "\n":
                break
            j += 1
        raise _ScanError(i)

    def value_end(self, i: int) -> int:
        text = self.text
        if text.startswith('"""', i):
            j = i + 3
            while j < self.n:
                if text[j] == "\\":
                    j += 2
                elif text.startswith('"""', j):
                    j += 3
                    extra = 0
                    while j < self.n and text[j] == '"' and extra < 2:
                        j, extra = j + 1, extra + 1
                    return j
                else:
                    j += 1
            raise _ScanError(i)
        if text.startswith("'''", i):
            j = text.index("'''", i + 3) + 3
            extra = 0
            while j < self.n and text[j] == "'" and extra < 2:
                j, extra = j + 1, extra + 1
            return j
        if i >= self.n:
            raise _ScanError(i)
        char = text[i]
        if char == '"':
            return self.basic_string_end(i)
        if char == "'":
            return text.index("'", i + 1) + 1
        if char in "[{":
            return self.container_end(i)
        match = self._DATETIME.match(text, i)
        if match:
            return match.end()
        match = self._SCALAR.match(text, i)
        if not match:
            raise _ScanError(i)
        return match.end()

    def container_end(self, i: int) -> int:
        close = "]" if self.text[i] == "[" else "}"
        j = i + 1
        while j < self.n:
            char = self.text[j]
            if char in " \t\r\n,=.":
                j += 1
            elif char == "#":
                k = self.text.find("\n", j)
                j = self.n if k < 0 else k + 1
            elif char == close:
                return j + 1
            else:
                j = self.value_end(j)
        raise _ScanError(i)

    def statements(self) -> list:
        out = []
        pos, line = 0, 1
        while pos < self.n:
            start = pos
            i = self.ws(pos)
            if i >= self.n or self.text[i] in "\r\n":
                statement = Statement("blank", start, self.line_end(i), line)
            elif self.text[i] == "#":
                statement = Statement("comment", start, self.line_end(i), line)
            elif self.text[i] == "[":
                array = self.text.startswith("[[", i)
                key, j = self.key(i + (2 if array else 1))
                closing = "]]" if array else "]"
                if not self.text.startswith(closing, j):
                    raise _ScanError(j)
                statement = Statement("array" if array else "table", start, self.line_end(j + len(closing)), line, key)
            else:
                key, j = self.key(i)
                if j >= self.n or self.text[j] != "=":
                    raise _ScanError(j)
                value_start = self.ws(j + 1)
                value_end = self.value_end(value_start)
                statement = Statement("kv", start, self.line_end(value_end), line, key, value_start, value_end)
            out.append(statement)
            line += self.text.count("\n", statement.start, statement.end)
            pos = statement.end
        return out


def _decode_quoted_key(raw: str) -> str:
    return next(iter(tomlkit.parse(f"{raw} = 0").keys()))


def scan_toml(text: str, source: str = "deployment.toml") -> list:
    """The statements of a TOML text, each with its resolved table path (array entries indexed from 0)."""
    try:
        statements = _Scanner(text).statements()
    except (_ScanError, ValueError, IndexError) as exc:
        position = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        where = f" at line {text.count(chr(10), 0, position) + 1}" if position is not None else ""
        raise GatewayConfigError(
            f"{source}: ssl_profile cannot locate the statements of this TOML file{where}; nothing was changed"
        ) from None
    array_counts: dict = {}
    table: tuple = ()

    def resolve(key: tuple) -> tuple:
        resolved: tuple = ()
        for part in key:
            resolved += (part,)
            if resolved in array_counts:
                resolved += (array_counts[resolved] - 1,)
        return resolved

    for statement in statements:
        if statement.kind == "table":
            table = resolve(statement.key)
        elif statement.kind == "array":
            array = resolve(statement.key[:-1]) + (statement.key[-1],)
            array_counts[array] = array_counts.get(array, 0) + 1
            table = array + (array_counts[array] - 1,)
        statement.table = table
    return statements


class TomlEditor:
    """Planned splices of a TOML text: value replacements, key insertions, entry removals, appended tables."""

    def __init__(self, text: str, source: str):
        self.text = text
        self.source = source
        self.statements = scan_toml(text, source)
        first_newline = text.find("\n")
        self.nl = "\r\n" if first_newline > 0 and text[first_newline - 1] == "\r" else "\n"
        self._edits: list = []  # (start, end, replacement, sequence)
        self._new_tables: dict = {}  # table path -> [(key, rendered value)]

    # -- lookups

    def kv(self, path: tuple):
        for statement in self.statements:
            if statement.kind == "kv" and statement.path == path:
                return statement
        return None

    def headers(self):
        return [s for s in self.statements if s.kind in ("table", "array")]

    def section(self, header) -> list:
        """The statements after header up to the next header."""
        index = self.statements.index(header)
        out = []
        for statement in self.statements[index + 1:]:
            if statement.kind in ("table", "array"):
                break
            out.append(statement)
        return out

    def entry_span(self, array: tuple, index: int):
        """(header, last statement) of array entry index: its [[...]] header, keys and sub-tables, trailing
        blank lines and comments excluded."""
        entry = array + (index,)
        header = next(s for s in self.statements if s.kind == "array" and s.table == entry)
        last = header
        for statement in self.statements[self.statements.index(header) + 1:]:
            if statement.kind in ("table", "array"):
                if statement.table[:len(entry)] != entry:
                    break
                last = statement
            elif statement.kind == "kv":
                last = statement
        return header, last

    def array_headers(self, array: tuple) -> list:
        return [s for s in self.statements if s.kind == "array" and s.table[:-1] == array]

    # -- edits

    def _splice(self, start: int, end: int, replacement: str) -> None:
        self._edits.append((start, end, replacement, len(self._edits)))

    def _insert_lines(self, offset: int, lines: list) -> None:
        """Insert whole lines at a line boundary; at the end of a file without a final newline, keep it so."""
        if offset == 0 and lines and lines[0] == "" and not any(e[0] == 0 for e in self._edits):
            lines = lines[1:]  # no blank separator line at the top of a file
        if offset == len(self.text) and self.text and not self.text.endswith("\n"):
            self._splice(offset, offset, "".join(self.nl + line for line in lines))
        else:
            self._splice(offset, offset, "".join(line + self.nl for line in lines))

    def _content_end(self) -> int:
        """Where content appended to the file goes: after its last non-blank statement."""
        for statement in reversed(self.statements):
            if statement.kind != "blank":
                return statement.end
        return 0

    def set(self, path: tuple, value) -> object:
        """Make path hold value. Returns the value as written (a number stays a string where the file used one)."""
        statement = self.kv(path)
        if statement is not None:
            raw = self.text[statement.value_start:statement.value_end]
            written, rendered = render_like(raw, value)
            self._splice(statement.value_start, statement.value_end, rendered)
            return written
        for other in self.statements:
            if other.kind == "kv" and len(other.path) < len(path) and path[:len(other.path)] == other.path:
                raise SslProfileError(
                    f"{self.source}: line {other.line}: {dotted(other.path)} is written as an inline value; "
                    f"ssl_profile cannot change {dotted(path)} inside it: write it as a table"
                )
        parent = path[:-1]
        written, rendered = render_like(None, value)
        siblings = [s for s in self.statements if s.kind == "kv" and s.path[:-1] == parent]
        if siblings:
            last = siblings[-1]
            indent_end = self.ws_end(last.start)
            indent = self.text[last.start:indent_end]
            separator = self.text[self._key_end(last):last.value_start]
            self._insert_lines(last.end, [f"{indent}{render_key(path[len(last.table):])}{separator}{rendered}"])
            return written
        headers = [h for h in self.headers() if h.table == parent]
        host = None
        if headers:
            host = headers[-1]
        else:  # a key inside an entry of an array of tables: the entry's header hosts it
            host = next((h for h in self.headers() if h.kind == "array" and len(parent) > len(h.table)
                         and parent[:len(h.table)] == h.table), None)
        if host is not None:
            keys = [s for s in self.section(host) if s.kind == "kv"]
            after = keys[-1] if keys else host
            self._insert_lines(after.end, [f"{render_key(path[len(host.table):])} = {rendered}"])
            return written
        self._new_tables.setdefault(parent, []).append(f"{render_key(path[-1:])} = {rendered}")
        return written

    def ws_end(self, offset: int) -> int:
        while offset < len(self.text) and self.text[offset] in " \t":
            offset += 1
        return offset

    def _key_end(self, statement) -> int:
        """Offset just after the key of a kv statement (before the spaces and '=')."""
        equals = self.text.rindex("=", statement.start, statement.value_start)
        end = equals
        while end > statement.start and self.text[end - 1] in " \t":
            end -= 1
        return end

    def remove_entry(self, array: tuple, index: int) -> None:
        """Remove entry index of array (header, keys, sub-tables) and one blank line before it."""
        header, last = self.entry_span(array, index)
        start, end = header.start, last.end
        position = self.statements.index(header)
        if position > 0 and self.statements[position - 1].kind == "blank":
            start = self.statements[position - 1].start
        self._splice(start, end, "")

    def append_entry(self, array: tuple, keys: list) -> None:
        """A new [[array]] entry (dotted keys), after the last existing entry or at the end of the file."""
        headers = self.array_headers(array)
        offset = self.entry_span(array, len(headers) - 1)[1].end if headers else self._content_end()
        lines = ["", f"[[{render_key(array)}]]"] + [f"{render_key(key)} = {render_like(None, value)[1]}" for key, value in keys]
        self._insert_lines(offset, lines)

    def result(self) -> str:
        for table, lines in self._new_tables.items():
            self._insert_lines(self._content_end(), ["", f"[{render_key(table)}]"] + lines)
        self._new_tables = {}
        out, position = [], 0
        # Insertions at an offset go before a removal starting there; same-offset insertions keep their order.
        for start, end, replacement, _sequence in sorted(self._edits, key=lambda e: (e[0], e[1] > e[0], e[3])):
            if start < position:
                raise SslProfileError(f"{self.source}: ssl_profile planned overlapping edits; nothing was changed")
            out.append(self.text[position:start])
            out.append(replacement)
            position = end
        out.append(self.text[position:])
        text = "".join(out)
        if self.text and not self.text.endswith("\n") and text.endswith("\n"):
            # An entry that ended a file without a final newline was removed: so must what remains end.
            text = text[:-2] if text.endswith("\r\n") else text[:-1]
        return text


def dotted(path: tuple) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else p for p in path).replace(".[", "[")


def render_key(path: tuple) -> str:
    parts = []
    for part in path:
        if re.fullmatch(r"[A-Za-z0-9_-]+", part):
            parts.append(part)
        else:
            parts.append(toml_basic_string(part))
    return ".".join(parts)


_TOML_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_basic_string(value: str) -> str:
    """value as a TOML basic string ("..."), every control character escaped.

    Written here rather than by tomlkit.item(): tomlkit before 0.11 leaves control characters unescaped, which
    makes invalid TOML (the edit is then refused by the re-parse check, but a valid request should not be)."""
    out = []
    for char in value:
        if char in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def render_like(raw: str | None, value):
    """Render value as TOML; where it replaces raw, keep raw's kind (a quoted number stays quoted, a literal
    string stays literal when it can). Returns (the value as written, its TOML text)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise SslProfileError(f"cannot write a {type(value).__name__} value")
    if isinstance(value, int) and raw is not None and raw[:1] in "\"'":
        value = str(value)
    if isinstance(value, str):
        if raw is not None and raw.startswith("'") and not raw.startswith("'''") and "'" not in value \
                and not re.search(r"[\x00-\x1f\x7f]", value):
            return value, f"'{value}'"
        return value, toml_basic_string(value)
    return value, str(value)
