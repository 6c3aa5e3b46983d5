# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The SSL profiles of an API-M gateway: deployment.toml's owned keys and the live sslprofiles.xml.

Owned keys of deployment.toml (nothing else is ever changed):
  [transport.passthru_https.sender.ssl_profile] interval
  [keystore.tls] file_name, type, password, key_password      (the default '*' profile's keystore)
  [truststore] file_name, type, password                      (the default '*' profile's truststore)
  [[keystore.ssl_profile.custom]]                            (one entry per backend server list)

Shape: ``load`` (Current) -> ``plan_changes(current, request)`` (Plan) -> ``apply_plan``; ``converge`` runs the
three under the locks of both files' directories.

Why the TOML is edited as text: tomlkit keeps every byte of what it parses, but its document model puts a new
[[keystore.ssl_profile.custom]] next to the first [keystore.*] table instead of after the last entry or at the
end of the file, and renders an emptied array of tables as ``keystore.ssl_profile.custom = []``. So tomlkit
parses and checks the file, renders keys and values, and parses every result again to prove that exactly the
planned values changed; the edits are splices at statement boundaries found by ``scan_toml``.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import ipaddress
import math
import os
import re
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape as _xml_escape

from ansible_collections.apim.certificates.plugins.module_utils._errors import (
    ApimCertificatesError,
    GatewayConfigError,
    TruststoreError,
)
from ansible_collections.apim.certificates.plugins.module_utils._fileio import locked, read_bytes, touch, write_atomic, write_problem
from ansible_collections.apim.certificates.plugins.module_utils._gateway import (
    DEFAULTS,
    DEPLOYMENT_TOML,
    MIN_INTERVAL_MS,
    SECURITY_DIR,
    flatten,
    tomllib_module,
    load_toml,
    toml_text_values,
    resolve_location,
)

try:
    import tomlkit
    import tomlkit.exceptions
except ImportError:  # pragma: no cover
    HAS_TOMLKIT = False
else:
    HAS_TOMLKIT = True


class SslProfileError(ApimCertificatesError):
    """A requested SSL profile change that cannot be made; nothing was written."""


CUSTOM = ("keystore", "ssl_profile", "custom")
INTERVAL = ("transport", "passthru_https", "sender", "ssl_profile", "interval")
KEYSTORE_TLS = ("keystore", "tls")
TRUSTSTORE = ("truststore",)
KEYSTORE_FIELDS = ("file_name", "type", "password", "key_password")
TRUSTSTORE_FIELDS = ("file_name", "type", "password")
CUSTOM_KEYSTORE_FIELDS = ("location", "type", "password", "key_password")
CUSTOM_TRUSTSTORE_FIELDS = ("location", "type", "password")
SECRET_FIELDS = ("password", "key_password")
DEFAULT_STORE_TYPE = "JKS"
MASK = "********"
SVNS = "http://org.wso2.securevault/configuration"
XML_NEW_FILE_MODE = 0o600

_SECRET_KEY = re.compile(r"pass(?:word|wd|phrase)?(?:$|_)|secret|token", re.IGNORECASE)
_PROTECTED = re.compile(r"\$(secret|env|sys)\{[^}]*\}")
_UNRESOLVABLE = re.compile(r"\$(env|sys)\{(?!carbon\.home\})[^}]*\}")
_REF = re.compile(r"\$ref\{([^}]+)\}")
_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# --- deployment.toml as statements -----------------------------------------------------------------------


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
            written, rendered = _render_like(raw, value)
            self._splice(statement.value_start, statement.value_end, rendered)
            return written
        for other in self.statements:
            if other.kind == "kv" and len(other.path) < len(path) and path[:len(other.path)] == other.path:
                raise SslProfileError(
                    f"{self.source}: line {other.line}: {_dotted(other.path)} is written as an inline value; "
                    f"ssl_profile cannot change {_dotted(path)} inside it: write it as a table"
                )
        parent = path[:-1]
        written, rendered = _render_like(None, value)
        siblings = [s for s in self.statements if s.kind == "kv" and s.path[:-1] == parent]
        if siblings:
            last = siblings[-1]
            indent_end = self.ws_end(last.start)
            indent = self.text[last.start:indent_end]
            separator = self.text[self._key_end(last):last.value_start]
            self._insert_lines(last.end, [f"{indent}{_render_key(path[len(last.table):])}{separator}{rendered}"])
            return written
        headers = [h for h in self.headers() if h.table == parent]
        host = None
        if headers:
            host = headers[-1]
        elif parent[:len(CUSTOM)] == CUSTOM and len(parent) > len(CUSTOM):
            host = next((h for h in self.headers() if h.kind == "array" and h.table == parent[:len(CUSTOM) + 1]), None)
        if host is not None:
            keys = [s for s in self.section(host) if s.kind == "kv"]
            after = keys[-1] if keys else host
            self._insert_lines(after.end, [f"{_render_key(path[len(host.table):])} = {rendered}"])
            return written
        self._new_tables.setdefault(parent, []).append(f"{_render_key(path[-1:])} = {rendered}")
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
        lines = ["", f"[[{_render_key(array)}]]"] + [f"{_render_key(key)} = {_render_like(None, value)[1]}" for key, value in keys]
        self._insert_lines(offset, lines)

    def result(self) -> str:
        for table, lines in self._new_tables.items():
            self._insert_lines(self._content_end(), ["", f"[{_render_key(table)}]"] + lines)
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


def _dotted(path: tuple) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else p for p in path).replace(".[", "[")


def _render_key(path: tuple) -> str:
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


def _render_like(raw: str | None, value):
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


# --- values: WSO2 defaults and references -------------------------------------------------------------


class _Values:
    """deployment.toml values as WSO2's config mapper sees them: defaults for absent keys, $ref{} resolved."""

    def __init__(self, values: dict, home: str | None):
        self.flat = flatten(values)
        self.home = home

    def raw(self, key: str):
        return self.flat.get(key, DEFAULTS.get(key))

    def text(self, key: str, value=None, depth: int = 0) -> str:
        value = self.raw(key) if value is None else value
        if value is None:
            return ""
        value = str(value)
        if depth > 10:
            return value

        def substitute(match):
            return self.text(match.group(1), None, depth + 1)

        return _REF.sub(substitute, value)


# --- the request ----------------------------------------------------------------------------------------


@dataclasses.dataclass
class DesiredProfile:
    servers: str  # as given
    hosts: tuple  # host:port entries, lower-case, as given order
    keystore: dict  # only the keys given
    truststore: dict
    state: str = "present"

    @property
    def key(self) -> frozenset:
        return frozenset(self.hosts)


@dataclasses.dataclass
class Request:
    apim_home: str | None = None
    path: str | None = None
    sslprofiles_path: str | None = None
    live: bool | None = None
    interval: int | None = None
    keystore: dict = dataclasses.field(default_factory=dict)
    truststore: dict = dataclasses.field(default_factory=dict)
    custom_profiles: list = dataclasses.field(default_factory=list)
    exclusive: bool = False
    validate_stores: bool = True
    warnings: list = dataclasses.field(default_factory=list)

    @classmethod
    def from_params(cls, params: dict) -> "Request":
        """Check and normalise module parameters (a plain dict); raises SslProfileError with what to fix."""
        apim_home, path = params.get("apim_home"), params.get("path")
        if (apim_home is None) == (path is None):
            raise SslProfileError("give apim_home (the API-M home) or path (a deployment.toml), not both")
        live = params.get("live")
        if live is None:
            live = apim_home is not None
        interval = params.get("interval")
        if interval is not None and interval < MIN_INTERVAL_MS:
            raise SslProfileError(
                f"interval {interval} ms is below {MIN_INTERVAL_MS} ms, the shortest interval the gateway honours "
                f"(Synapse raises anything lower to {MIN_INTERVAL_MS}); give at least {MIN_INTERVAL_MS}"
            )
        request = cls(
            apim_home=apim_home, path=path, sslprofiles_path=params.get("sslprofiles_path"), live=live,
            interval=interval,
            keystore=_given(params.get("keystore"), KEYSTORE_FIELDS, "keystore", "file_name"),
            truststore=_given(params.get("truststore"), TRUSTSTORE_FIELDS, "truststore", "file_name"),
            exclusive=bool(params.get("exclusive")),
            validate_stores=params.get("validate_stores", True) is not False,
        )
        if request.sslprofiles_path is not None and not live:
            request.warnings.append("sslprofiles_path is ignored because live is false")
        seen: dict = {}
        for number, item in enumerate(params.get("custom_profiles") or [], start=1):
            where = f"custom_profiles[{number - 1}]"
            hosts = parse_servers(item.get("servers"), where, request.warnings)
            for host in hosts:
                if host in seen:
                    raise SslProfileError(
                        f"{where}: server '{host}' is also in custom_profiles[{seen[host]}]; "
                        "a server may belong to one SSL profile only"
                    )
                seen[host] = number - 1
            request.custom_profiles.append(DesiredProfile(
                servers=str(item["servers"]).strip(), hosts=hosts,
                keystore=_given(item.get("keystore"), CUSTOM_KEYSTORE_FIELDS, f"{where}.keystore", "location"),
                truststore=_given(item.get("truststore"), CUSTOM_TRUSTSTORE_FIELDS, f"{where}.truststore", "location"),
                state=item.get("state") or "present",
            ))
        return request

    @property
    def deployment_toml(self) -> str:
        if self.path is not None:
            return os.path.abspath(self.path)
        return os.path.join(os.path.abspath(self.apim_home), DEPLOYMENT_TOML)

    @property
    def home(self) -> str | None:
        """The API-M home relative store locations resolve against, when it can be known."""
        if self.apim_home is not None:
            return os.path.abspath(self.apim_home)
        for candidate, tail in ((self.deployment_toml, DEPLOYMENT_TOML),
                                (self.sslprofiles_path, os.path.join(SECURITY_DIR, "sslprofiles.xml"))):
            if candidate and os.path.abspath(candidate).endswith(os.sep + os.path.normpath(tail)):
                return os.path.abspath(candidate)[:-len(os.path.normpath(tail)) - 1] or os.sep
        return None


def _given(options, fields: tuple, where: str, name_field: str) -> dict:
    given = {k: v for k, v in (options or {}).items() if k in fields and v is not None}
    for field in (name_field, "type"):
        if field in given and not str(given[field]).strip():
            raise SslProfileError(f"{where}.{field} must not be empty")
    return {k: str(v) for k, v in given.items()}


def parse_servers(servers, where: str = "servers", warnings: list | None = None) -> tuple:
    """The host:port entries of a servers list (lower-case). Raises SslProfileError on anything WSO2 cannot match."""
    if servers is None or not str(servers).strip():
        raise SslProfileError(f"{where}: servers is empty; give comma-separated host:port entries, e.g. 'orders.internal:443'")
    hosts = []
    for raw in str(servers).split(","):
        entry = raw.strip()
        if entry == "*":
            raise SslProfileError(
                f"{where}: '*' is the default SSL profile; it cannot be removed or given as custom servers "
                "(set its stores with the keystore and truststore options)"
            )
        if not entry:
            raise SslProfileError(f"{where}: servers '{servers}' has an empty entry; give comma-separated host:port entries")
        match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d+)|([^:\s\[\]]+):(\d+)", entry)
        if not match:
            raise SslProfileError(
                f"{where}: '{entry}' is not host:port; every entry of servers needs a port, e.g. '{entry.split(':')[0] or 'host'}:443'"
            )
        host, port = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        if not 1 <= int(port) <= 65535:
            raise SslProfileError(f"{where}: '{entry}' has port {int(port)}; a port is 1 to 65535")
        is_ip = False
        try:
            ipaddress.ip_address(host)
            is_ip = True
        except ValueError:
            if match.group(1) or not _HOST.match(host):
                raise SslProfileError(f"{where}: '{entry}': '{host}' is not a host name or IP address") from None
        if is_ip and warnings is not None:
            warnings.append(
                f"{where}: '{entry}' uses an IP address; WSO2 advises host names (the gateway matches the host "
                "exactly as the endpoint URL writes it)"
            )
        normalized = f"{host.lower()}:{int(port)}" if not match.group(1) else f"[{host.lower()}]:{int(port)}"
        if normalized in hosts:
            raise SslProfileError(f"{where}: servers lists '{entry}' twice")
        hosts.append(normalized)
    return tuple(hosts)


def _server_key(servers) -> frozenset:
    """The identity of an existing profile's servers (lenient: existing files are not re-validated)."""
    out = set()
    for raw in str(servers).split(","):
        entry = raw.strip().lower()
        if entry:
            host, _colon, port = entry.rpartition(":")
            out.add(f"{host}:{int(port)}" if port.isdigit() and host else entry)
    return frozenset(out)


# --- sslprofiles.xml ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class XmlStore:
    location: str
    store_type: str
    password: str
    key_password: str | None = None  # KeyStore only


@dataclasses.dataclass(frozen=True)
class XmlProfile:
    servers: str
    keystore: XmlStore | None
    truststore: XmlStore | None
    novalidatecert: bool = False

    def meaning(self) -> tuple:
        return (tuple(s.strip() for s in self.servers.split(",") if s.strip()), self.novalidatecert, self.keystore, self.truststore)

    @property
    def is_default(self) -> bool:
        return "*" in [s.strip() for s in self.servers.split(",")]

    def facts(self) -> dict:
        def store(s):
            return None if s is None else {"location": s.location, "type": s.store_type}
        return {"servers": self.servers, "keystore": store(self.keystore), "truststore": store(self.truststore)}


def read_sslprofiles(path: str) -> list | None:
    """The profiles of an sslprofiles.xml file, None when it does not exist."""
    if not os.path.lexists(path):
        return None
    data = read_bytes(path, "sslprofiles.xml")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise GatewayConfigError(f"{path} is not well-formed XML ({exc}); fix or remove it") from None
    except (LookupError, ValueError) as exc:  # an unknown encoding declaration, for one
        raise GatewayConfigError(f"{path} cannot be read as XML ({exc}); fix or remove it") from None
    if root.tag != "parameter":
        raise GatewayConfigError(f"{path}: the root element is <{root.tag}>, not <parameter name=\"customSSLProfiles\">")
    profiles = []
    for number, element in enumerate(root.findall("profile"), start=1):
        servers = element.findtext("servers")
        if servers is None or not servers.strip():
            raise GatewayConfigError(f"{path}: <profile> number {number} has no <servers>")
        profiles.append(XmlProfile(
            servers.strip(),
            _read_xml_store(element.find("KeyStore"), key=True),
            _read_xml_store(element.find("TrustStore"), key=False),
            (element.get("novalidatecert") or "").strip().lower() == "true",
        ))
    return profiles


def _read_xml_store(element, key: bool) -> XmlStore | None:
    if element is None:
        return None

    def secret(name):
        child = element.find(name)
        if child is None:
            return None
        alias = child.get(f"{{{SVNS}}}secretAlias")
        return f"svns:secretAlias={alias}" if alias else (child.text or "")

    return XmlStore(
        (element.findtext("Location") or "").strip(),
        (element.findtext("Type") or "").strip(),
        secret("Password") or "",
        (secret("KeyPassword") or "") if key else None,
    )


def render_sslprofiles(profiles: list) -> bytes:
    """sslprofiles.xml as WSO2's sslprofiles.xml.j2 lays it out, with XML special characters escaped."""
    lines = [
        '<?xml version="1.0" encoding="ISO-8859-1"?>',
        f'<parameter name="customSSLProfiles" xmlns:svns="{SVNS}">',
    ]
    for profile in profiles:
        lines.append("    <profile>")
        lines.append(f"        <servers>{_xml_text(profile.servers, 'servers')}</servers>")
        for tag, store in (("KeyStore", profile.keystore), ("TrustStore", profile.truststore)):
            if store is None:
                continue
            lines.append(f"        <{tag}>")
            lines.append(f"            <Location>{_xml_text(store.location, tag + ' Location')}</Location>")
            lines.append(f"            <Type>{_xml_text(store.store_type, tag + ' Type')}</Type>")
            lines.append(f"            <Password>{_xml_text(store.password, tag + ' Password')}</Password>")
            if store.key_password is not None:
                lines.append(f"            <KeyPassword>{_xml_text(store.key_password, tag + ' KeyPassword')}</KeyPassword>")
            lines.append(f"        </{tag}>")
        lines.append("    </profile>")
    lines.append("</parameter>")
    return ("\n".join(lines) + "\n").encode("iso-8859-1", "xmlcharrefreplace")


def _xml_text(value: str, what: str) -> str:
    if _XML_ILLEGAL.search(value):
        raise SslProfileError(f"the {what} of an SSL profile contains a control character that XML 1.0 cannot hold")
    return _xml_escape(value)


def profiles_from_values(values: dict, home: str | None, *, strict: bool) -> list:
    """The profiles WSO2's sslprofiles.xml.j2 renders from these deployment.toml values.

    With strict, a value WSO2 resolves from the gateway's environment ($env{}, $sys{} other than carbon.home)
    is refused: only the gateway can render it.
    """
    resolved = _Values(values, home)

    def text(key, raw=None, where=None):
        value = resolved.text(key, raw)
        found = _UNRESOLVABLE.search(value) if strict else None
        if found:
            raise SslProfileError(
                f"{where or key} uses {found.group(0)}, which WSO2 resolves from the gateway's environment at "
                "start-up; ssl_profile cannot render sslprofiles.xml from it: set live to false (the change then "
                "takes effect at the next restart)"
            )
        if home is not None:
            value = value.replace("$sys{carbon.home}", home).replace("${carbon.home}", home)
        return value

    profiles = [XmlProfile(
        text("keystore.ssl_profile.default.servers"),
        XmlStore(f"{SECURITY_DIR}/{text('keystore.tls.file_name')}", text("keystore.tls.type"),
                 text("keystore.tls.password"), text("keystore.tls.key_password")),
        XmlStore(f"{SECURITY_DIR}/{text('truststore.file_name')}", text("truststore.type"), text("truststore.password")),
    )]
    for item in _customs(values):
        flat = flatten(item) if isinstance(item, dict) else {}
        fields = {
            name: text(name, flat.get(name, ""), f"{name} of the custom SSL profile '{flat.get('servers', '')}'")
            for name in ("servers",) + tuple(f"keystore.{f}" for f in CUSTOM_KEYSTORE_FIELDS)
            + tuple(f"truststore.{f}" for f in CUSTOM_TRUSTSTORE_FIELDS)
        }
        profiles.append(XmlProfile(
            fields["servers"],
            XmlStore(*(fields[f"keystore.{f}"] for f in CUSTOM_KEYSTORE_FIELDS)),
            XmlStore(*(fields[f"truststore.{f}"] for f in CUSTOM_TRUSTSTORE_FIELDS)),
        ))
    return profiles


def _customs(values: dict) -> list:
    node = values
    for part in CUSTOM:
        node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return []
    return node if isinstance(node, list) else []


def keep_live_truststore(rendered: list, live: list | None, truststore_file_name: str):
    """The 4.x rule: keep the default profile's live TrustStore Location when it is the gateway's start-up copy.

    A gateway copies the persistent truststore (say client-truststore.jks) at start-up to a file whose name is
    the persistent store's stem, '-', and a suffix (client-truststore-temp.jks, client-truststore-sender.ks),
    and points sslprofiles.xml at the copy. Re-rendering would point the gateway back at the persistent file and
    drop what it deployed into the copy, so a default-profile Location that differs from the rendered one and
    whose file name starts with '<stem>-' is kept. Returns (profiles, kept Location or None).
    """
    if not live:
        return rendered, None
    current = next((p for p in live if p.is_default), None)
    default = rendered[0]
    if current is None or current.truststore is None or default.truststore is None:
        return rendered, None
    live_location = current.truststore.location
    stem = os.path.splitext(os.path.basename(truststore_file_name))[0]
    if live_location and live_location != default.truststore.location \
            and os.path.basename(live_location).startswith(stem + "-"):
        kept = dataclasses.replace(default, truststore=dataclasses.replace(default.truststore, location=live_location))
        return [kept] + rendered[1:], live_location
    return rendered, None


# --- load -----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Current:
    deployment_toml: str
    toml_bytes: bytes
    text: str
    values: dict
    home: str | None
    live: bool
    sslprofiles_path: str | None = None
    xml_bytes: bytes | None = None
    xml_profiles: list | None = None

    @classmethod
    def load_toml(cls, request: Request) -> "Current":
        path = request.deployment_toml
        if request.apim_home is not None and not os.path.isdir(request.apim_home):
            raise GatewayConfigError(f"apim_home {os.path.abspath(request.apim_home)} is not a directory")
        data = read_bytes(path, "deployment.toml")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise GatewayConfigError(f"{path} is not UTF-8 text (byte {exc.start})") from None
        document = load_toml(path, text)
        values = toml_text_values(text, path, document)
        if document.as_string() != text and tomllib_module() is None:
            # the values came from tomlkit's reading of the file: they are only trustworthy where it reproduces it
            raise GatewayConfigError(
                f"{path}: tomlkit cannot reproduce this file byte for byte (tomlkit {getattr(tomlkit, '__version__', '')}; "
                "before 0.15.2 it misreads an array of tables split by other tables); ssl_profile leaves the file "
                "alone. Install tomlkit >= 0.15.2 on the node for this file"
            )
        current = cls(path, data, text, values, request.home, request.live)
        if request.live:
            current.sslprofiles_path = current.resolve_sslprofiles_path(request)
        return current

    def resolve_sslprofiles_path(self, request: Request) -> str:
        if request.sslprofiles_path is not None:
            return os.path.abspath(request.sslprofiles_path)
        if self.home is None:
            raise SslProfileError(
                f"live is true but the API-M home of {self.deployment_toml} is unknown: give sslprofiles_path, "
                "use apim_home, or set live to false"
            )
        location = _Values(self.values, self.home).text("transport.passthru_https.sender.ssl_profile.file_path")
        return resolve_location(self.home, location)

    def load_xml(self) -> None:
        if self.sslprofiles_path is None:
            return
        self.xml_profiles = read_sslprofiles(self.sslprofiles_path)
        if self.xml_profiles is not None:
            self.xml_bytes = read_bytes(self.sslprofiles_path, "sslprofiles.xml")


def load(request: Request) -> Current:
    current = Current.load_toml(request)
    current.load_xml()
    return current


# --- plan -----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class StoreCheck:
    what: str  # e.g. "the truststore of the custom SSL profile 'orders.internal:443'"
    location: str
    store_type: str
    password: str
    key_password: str | None = None


@dataclasses.dataclass
class Plan:
    current: Current
    new_text: str
    new_values: dict
    actions: dict
    profiles: list  # XmlProfile, as sslprofiles.xml has (or would have) them
    new_xml: bytes | None
    interval: int
    interval_changed: bool
    default_stores_changed: bool
    kept_live_location: str | None
    warnings: list
    store_checks: list
    started_interval: int | None = None

    @property
    def toml_changed(self) -> bool:
        return self.new_text != self.current.text

    @property
    def xml_changed(self) -> bool:
        return self.new_xml is not None

    @property
    def changed(self) -> bool:
        return self.toml_changed or self.xml_changed

    @property
    def restart_required(self) -> bool:
        """Whether the change only takes effect at the next restart (what sslprofiles.xml does not carry)."""
        if not self.toml_changed:
            return False
        return not self.current.live or self.interval_changed or self.default_stores_changed

    @property
    def reload_within_ms(self) -> int | None:
        """How soon the running gateway picks up sslprofiles.xml: the interval it was started with (deployment.toml
        before this run; a change of the interval needs a restart)."""
        if not self.current.live or self.started_interval is None:
            return None
        return max(self.started_interval, MIN_INTERVAL_MS)

    def diff(self) -> list:
        """before/after of each file, every password masked; Ansible renders them as a unified diff."""
        current = self.current
        out = [{
            "before_header": current.deployment_toml,
            "after_header": current.deployment_toml,
            "before": mask_toml(current.text),
            "after": mask_toml(self.new_text),
        }]
        if current.sslprofiles_path is not None:
            before = current.xml_bytes.decode("iso-8859-1") if current.xml_bytes is not None else ""
            after = self.new_xml.decode("iso-8859-1") if self.new_xml is not None else before
            out.append({
                "before_header": current.sslprofiles_path,
                "after_header": current.sslprofiles_path,
                "before": mask_xml(before),
                "after": mask_xml(after),
            })
        return out


def _interval_of(values: dict, source: str) -> int:
    raw = _Values(values, None).raw(".".join(INTERVAL))
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        raise GatewayConfigError(
            f"{source}: [transport.passthru_https.sender.ssl_profile] interval is '{raw}', not a number of milliseconds"
        ) from None


def _same(field: str, current, desired: str) -> bool:
    if current is None:
        return False
    if field == "type":
        return str(current).strip().upper() == desired.strip().upper()
    return str(current) == desired


def plan_changes(current: Current, request: Request) -> Plan:
    """Everything a run would change, checked: the new TOML text (verified by parsing it again) and sslprofiles.xml."""
    source = current.deployment_toml
    editor = TomlEditor(current.text, source)
    warnings = list(request.warnings)
    expected = copy.deepcopy(current.values)
    resolved = _Values(current.values, current.home)

    def set_value(path: tuple, value) -> None:
        written = editor.set(path, value)
        _put(expected, path, written)

    # The interval and the default profile's stores: compared as WSO2 reads them (defaults, $ref{} resolved).
    interval_changed = False
    try:
        started_interval = _interval_of(current.values, source)
    except GatewayConfigError:
        if request.interval is None:
            raise
        started_interval = None  # not a number: the requested value replaces it
    if request.interval is not None:
        if started_interval != request.interval:
            set_value(INTERVAL, request.interval)
            interval_changed = True
    default_stores_changed = False
    for table, given in ((KEYSTORE_TLS, request.keystore), (TRUSTSTORE, request.truststore)):
        for field_name, value in given.items():
            key = ".".join(table + (field_name,))
            raw = resolved.raw(key)
            effective = resolved.text(key) if raw is not None and not _PROTECTED.search(str(raw)) else raw
            if not _same(field_name, effective, value):
                set_value(table + (field_name,), value)
                default_stores_changed = True

    actions = _plan_custom_profiles(editor, current, request, expected, source)

    new_text = editor.result()
    new_values = _verify(new_text, expected, source)

    interval = _interval_of(new_values, source)
    profiles = profiles_from_values(new_values, current.home, strict=current.live)
    kept = None
    new_xml = None
    if current.live:
        truststore_file = _Values(new_values, current.home).text("truststore.file_name")
        profiles, kept = keep_live_truststore(profiles, current.xml_profiles, truststore_file)
        if kept is not None and default_stores_changed and (
                "type" in request.truststore or "password" in request.truststore):
            warnings.append(
                f"the default profile keeps its live truststore {kept}, the gateway's start-up copy of "
                f"{truststore_file}; it was made with the previous [truststore] settings, which it keeps until restart"
            )
        if current.xml_profiles is None:
            warnings.append(f"{current.sslprofiles_path} does not exist; it is created")
            new_xml = render_sslprofiles(profiles)
        elif [p.meaning() for p in current.xml_profiles] != [p.meaning() for p in profiles]:
            removed = {servers for servers, action in actions.items() if action == "removed"}
            dropped = {p.servers for p in current.xml_profiles} - {p.servers for p in profiles} - removed
            for servers in sorted(dropped):
                warnings.append(
                    f"{current.sslprofiles_path} had a profile for '{servers}' that {source} does not define; "
                    "it is dropped, as the gateway would drop it at its next restart"
                )
            new_xml = render_sslprofiles(profiles)
    plan = Plan(
        current=current, new_text=new_text, new_values=new_values, actions=actions, profiles=profiles,
        new_xml=new_xml, interval=interval, interval_changed=interval_changed,
        default_stores_changed=default_stores_changed, kept_live_location=kept, warnings=warnings, store_checks=[],
        started_interval=started_interval,
    )
    plan.store_checks = _store_checks(plan)
    return plan


def _plan_custom_profiles(editor: TomlEditor, current: Current, request: Request, expected: dict, source: str) -> dict:
    existing = _customs(current.values)
    headers = editor.array_headers(CUSTOM)
    if existing and len(headers) != len(existing):
        raise SslProfileError(
            f"{source}: keystore.ssl_profile.custom is not written as [[keystore.ssl_profile.custom]] tables "
            "(an inline array?); ssl_profile edits only the array-of-tables form"
        )
    for index, item in enumerate(existing):
        if not isinstance(item, dict) or "servers" not in item:
            raise GatewayConfigError(
                f"{source}: line {headers[index].line}: this [[keystore.ssl_profile.custom]] entry has no servers"
            )
    keys = [_server_key(item["servers"]) for item in existing]
    by_key: dict = {}
    for index, key in enumerate(keys):
        if key in by_key:
            raise GatewayConfigError(
                f"{source}: lines {headers[by_key[key]].line} and {headers[index].line} both define the custom SSL "
                f"profile for '{existing[index]['servers']}'; remove one"
            )
        by_key[key] = index

    actions: dict = {str(item["servers"]): "unchanged" for item in existing}
    removed: set = set()
    kept_by_request: set = set()
    additions = []
    for desired in request.custom_profiles:
        index = by_key.get(desired.key)
        if desired.state == "absent":
            if index is not None:
                removed.add(index)
                actions[str(existing[index]["servers"])] = "removed"
            else:
                actions.setdefault(desired.servers, "unchanged")
            continue
        if index is None:
            additions.append(desired)
            actions[desired.servers] = "added"
            continue
        kept_by_request.add(index)
        item = existing[index]
        changed = False
        for store_name, given in (("keystore", desired.keystore), ("truststore", desired.truststore)):
            store = item.get(store_name) if isinstance(item.get(store_name), dict) else {}
            for field_name, value in given.items():
                if not _same(field_name, store.get(field_name), value):
                    path = CUSTOM + (index, store_name, field_name)
                    _put(expected, path, editor.set(path, value))
                    changed = True
        actions[str(item["servers"])] = "updated" if changed else "unchanged"
    if request.exclusive:
        for index, item in enumerate(existing):
            if index not in kept_by_request and index not in removed:
                removed.add(index)
                actions[str(item["servers"])] = "removed"

    # A server may be in one profile only: check the profiles that remain.
    owner: dict = {}
    remaining = [(str(existing[i]["servers"]), keys[i]) for i in range(len(existing)) if i not in removed]
    remaining += [(d.servers, d.key) for d in additions]
    for servers, key in remaining:
        for host in sorted(key):
            if host in owner:
                raise SslProfileError(
                    f"server '{host}' would be in two custom SSL profiles, '{owner[host]}' and '{servers}'; a server may "
                    f"belong to one profile only: list it in one of them (state: absent removes a profile)"
                )
            owner[host] = servers

    for index in sorted(removed, reverse=True):
        editor.remove_entry(CUSTOM, index)
        del _get(expected, CUSTOM)[index]
    for desired in additions:
        entry_keys = [(("servers",), desired.servers)]
        entry_value: dict = {"servers": desired.servers}
        for store_name, given, fields in (("keystore", desired.keystore, CUSTOM_KEYSTORE_FIELDS),
                                          ("truststore", desired.truststore, CUSTOM_TRUSTSTORE_FIELDS)):
            given = dict(given)
            missing = [f for f in ("location", "password") if f not in given]
            if missing:
                raise SslProfileError(
                    f"custom profile '{desired.servers}' is new and has no {store_name}."
                    f"{' or '.join(missing)}: WSO2 renders an empty value and the gateway cannot load its profiles; "
                    f"give {store_name} location and password"
                )
            given.setdefault("type", DEFAULT_STORE_TYPE)
            if store_name == "keystore" and "password" in given:
                given.setdefault("key_password", given["password"])
            for field_name in fields:
                if field_name in given:
                    entry_keys.append(((store_name, field_name), given[field_name]))
                    entry_value.setdefault(store_name, {})[field_name] = given[field_name]
        editor.append_entry(CUSTOM, entry_keys)
        _setdefault_path(expected, CUSTOM, []).append(entry_value)
    return actions


def _get(values: dict, path: tuple):
    node = values
    for part in path:
        node = node[part]
    return node


def _setdefault_path(values: dict, path: tuple, default):
    node = values
    for part in path[:-1]:
        node = node.setdefault(part, {})
    return node.setdefault(path[-1], default)


def _put(values: dict, path: tuple, value) -> None:
    node = values
    for part in path[:-1]:
        node = node[part] if isinstance(part, int) else node.setdefault(part, {})
    node[path[-1]] = value


def _prune(value):
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v != {} and v != []}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _verify(new_text: str, expected: dict, source: str) -> dict:
    """Parse the new text; it must hold exactly the expected values (owned keys changed, nothing else)."""
    try:
        values = toml_text_values(new_text, source, tomlkit.parse(new_text))
    except Exception as exc:  # noqa: BLE001 - any parse failure means the edit is wrong
        raise SslProfileError(
            f"{source}: the planned edit would not be valid TOML ({type(exc).__name__}); nothing was written. "
            "Please report this with the layout of the file's [keystore] and [[keystore.ssl_profile.custom]] tables"
        ) from None
    if not _equal_values(_prune(values), _prune(expected)):
        raise SslProfileError(
            f"{source}: the planned edit would change more than the SSL profile keys; nothing was written. "
            "Please report this with the layout of the file's [keystore] and [[keystore.ssl_profile.custom]] tables"
        )
    return values


# --- validate -------------------------------------------------------------------------------------------


def _store_checks(plan: Plan) -> list:
    checks = []
    seen = set()
    for profile in plan.profiles:
        name = "default SSL profile ('*')" if profile.is_default else f"custom SSL profile '{profile.servers}'"
        for kind, store in (("keystore", profile.keystore), ("truststore", profile.truststore)):
            if store is None:
                continue
            key = (store.location, store.store_type, store.password)
            if key in seen:
                continue
            seen.add(key)
            checks.append(StoreCheck(f"the {kind} of the {name}", store.location, store.store_type, store.password,
                                     store.key_password))
    if plan.kept_live_location is not None:
        # The persistent truststore deployment.toml names is what the gateway copies at its next start.
        default = profiles_from_values(plan.new_values, plan.current.home, strict=False)[0].truststore
        checks.append(StoreCheck("the persistent truststore of the default SSL profile ('*')", default.location,
                                 default.store_type, default.password))
    return checks


_TYPE_COMPATIBLE = {("JKS", "PKCS12"), ("PKCS12", "JKS"), ("JCEKS", "JKS")}


def validate_stores(plan: Plan) -> list:
    """Open every store the result references with its password and type. Returns warnings; raises SslProfileError."""
    from ansible_collections.apim.certificates.plugins.module_utils._truststore import (  # pylint: disable=import-outside-toplevel
        load_truststore,
        normalize_store_type,
    )

    warnings = []
    unresolved = []
    home = plan.current.home
    for check in plan.store_checks:
        if not check.location:
            raise SslProfileError(f"validate_stores: {check.what} has no location; give it (nothing was written)")
        if _PROTECTED.search(check.password or ""):
            warnings.append(
                f"validate_stores: {check.what} ({check.location}) was not opened: its password is protected "
                f"({_PROTECTED.search(check.password).group(0).split('{')[0]}{{...}})"
            )
            continue
        if check.password.startswith("svns:secretAlias="):
            warnings.append(f"validate_stores: {check.what} ({check.location}) was not opened: its password is a secure vault alias")
            continue
        if os.path.isabs(check.location):
            path = os.path.normpath(check.location)
        elif home is not None:
            path = resolve_location(home, check.location)
        else:
            unresolved.append(check.location)
            continue
        try:
            declared = normalize_store_type(check.store_type)
        except TruststoreError:
            warnings.append(f"validate_stores: {check.what} ({path}) was not opened: type '{check.store_type}' is not JKS, JCEKS or PKCS12")
            continue
        try:
            store = load_truststore(path, check.password, "auto", kind="keystore" if "keystore" in check.what else "truststore",
                                    open_only=True)
        except TruststoreError as exc:
            raise SslProfileError(f"validate_stores: {check.what} cannot be opened: {exc}; nothing was written") from None
        if declared not in ("auto", store.store_type):
            if (declared, store.store_type) in _TYPE_COMPATIBLE:
                warnings.append(
                    f"validate_stores: {check.what} ({path}) is a {store.store_type} store but its type says {declared}; "
                    "Java reads it anyway"
                )
            else:
                raise SslProfileError(
                    f"validate_stores: {check.what} ({path}) is a {store.store_type} store but its type says "
                    f"{declared}; Java cannot open it as {declared}; nothing was written"
                )
    if unresolved:
        warnings.append(
            f"validate_stores: {', '.join(sorted(set(unresolved)))} not opened: relative locations resolve against the "
            f"API-M home, which is unknown for {plan.current.deployment_toml} (use apim_home, or keep the file at "
            "<home>/repository/conf/deployment.toml)"
        )
    return warnings


# --- apply ----------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    plan: Plan
    warnings: list
    backup_file: str | None = None
    sslprofiles_backup_file: str | None = None

    def result(self, diff: bool = False) -> dict:
        plan = self.plan
        out = {
            "changed": plan.changed,
            "deployment_toml": plan.current.deployment_toml,
            "deployment_toml_changed": plan.toml_changed,
            "sslprofiles_path": plan.current.sslprofiles_path,
            "sslprofiles_changed": plan.xml_changed,
            "profiles": [p.facts() for p in plan.profiles],
            "actions": plan.actions,
            "interval": plan.interval,
            "reload_within_ms": plan.reload_within_ms,
            "restart_required": plan.restart_required,
        }
        if self.backup_file:
            out["backup_file"] = self.backup_file
        if self.sslprofiles_backup_file:
            out["sslprofiles_backup_file"] = self.sslprofiles_backup_file
        if diff:
            out["diff"] = plan.diff()
        return out


def apply_plan(plan: Plan, *, backup: bool = False) -> Outcome:
    """Write deployment.toml, then sslprofiles.xml; if the second write fails, the first is undone."""
    outcome = Outcome(plan, list(plan.warnings))
    current = plan.current
    if plan.toml_changed:
        outcome.backup_file = write_atomic(current.deployment_toml, plan.new_text.encode("utf-8"), backup=backup)
    if plan.xml_changed:
        path = current.sslprofiles_path
        before = os.stat(path).st_mtime if current.xml_bytes is not None else None
        try:
            outcome.sslprofiles_backup_file = write_atomic(path, plan.new_xml, backup=backup, new_mode=XML_NEW_FILE_MODE)
            if before is not None and os.stat(path).st_mtime <= before:
                touch(path)  # the gateway reloads only on a newer modification time
        except Exception as exc:  # noqa: BLE001 - whatever failed, deployment.toml must not stay half-changed
            reason = str(exc) if isinstance(exc, ApimCertificatesError) else f"{type(exc).__name__}: {exc}"
            if plan.toml_changed:
                try:
                    write_atomic(current.deployment_toml, current.toml_bytes)
                except ApimCertificatesError as undo:
                    raise SslProfileError(
                        f"{reason}; restoring {current.deployment_toml} failed too ({undo})"
                        + (f"; its original is in {outcome.backup_file}" if outcome.backup_file else "")
                    ) from None
                if outcome.backup_file:
                    with contextlib.suppress(OSError):
                        os.unlink(outcome.backup_file)
                raise SslProfileError(f"{reason}; {current.deployment_toml} was restored to its original content") from None
            raise SslProfileError(reason) from None
    return outcome


def converge(request: Request, *, check_mode: bool = False, backup: bool = False) -> Outcome:
    """load -> plan -> validate -> apply, under the locks of both files' directories (none in check mode)."""
    if request.apim_home is not None and not os.path.isdir(request.apim_home):
        raise GatewayConfigError(f"apim_home {os.path.abspath(request.apim_home)} is not a directory")
    if not os.path.isfile(request.deployment_toml):
        raise GatewayConfigError(f"{request.deployment_toml} does not exist or is not a file")
    with contextlib.ExitStack() as stack:
        if not check_mode:
            stack.enter_context(locked(request.deployment_toml))
        current = Current.load_toml(request)
        if current.sslprofiles_path is not None and not check_mode:
            stack.enter_context(locked(current.sslprofiles_path))
        current.load_xml()
        plan = plan_changes(current, request)
        warnings = []
        if plan.changed and request.validate_stores:
            warnings = validate_stores(plan)
        # what the real run would write must be writable by this account: checked first, in check mode too
        for changed, path, what in ((plan.toml_changed, current.deployment_toml, "deployment.toml"),
                                    (plan.xml_changed, current.sslprofiles_path, "sslprofiles.xml")):
            problem = write_problem(path, what) if changed else None
            if problem:
                raise GatewayConfigError(problem)
        if check_mode or not plan.changed:
            outcome = Outcome(plan, list(plan.warnings))
        else:
            outcome = apply_plan(plan, backup=backup)
        outcome.warnings.extend(warnings)
        return outcome


# --- masking for diffs ----------------------------------------------------------------------------------


_COMMENTED_SECRET = re.compile(
    r"^(\s*#\s*[\w.\"'-]*(?:pass(?:word|wd|phrase)?(?:_|\b|\")|secret|token)[\w.\"'-]*\s*=\s*)(.*?)(\s*)$", re.IGNORECASE)


def _equal_values(left, right) -> bool:
    """Equality of TOML values in which nan equals nan (TOML allows nan; nan != nan would fail every run)."""
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left) and math.isnan(right):
        return True
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_equal_values(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_equal_values(a, b) for a, b in zip(left, right))
    return left == right


_INLINE_SECRET = re.compile(r"""(\b[\w.-]*(?:pass|secret|token)[\w.-]*\s*=\s*)("(?:[^"\\\n]|\\.)*"|'[^'\n]*')""", re.IGNORECASE)


def mask_toml(text: str) -> str:
    """text with the value of every key whose name says password, secret or token replaced by a mask."""
    try:
        statements = scan_toml(text)
    except GatewayConfigError:
        return re.sub(r"(?im)^(\s*#?\s*[\w.\"'-]*(?:pass|secret|token)[\w.\"'-]*\s*=\s*).*$", f'\\g<1>"{MASK}"', text)
    out, position = [], 0
    for statement in statements:
        if statement.kind == "kv" and statement.key and _SECRET_KEY.search(str(statement.key[-1])):
            out.append(text[position:statement.value_start])
            out.append(f'"{MASK}"')
            position = statement.value_end
        elif statement.kind == "comment":
            line = text[statement.start:statement.end]
            body = line.rstrip("\r\n")
            match = _COMMENTED_SECRET.match(body)
            if match:
                out.append(text[position:statement.start])
                out.append(f'{match.group(1)}"{MASK}"{match.group(3)}{line[len(body):]}')
                position = statement.end
    out.append(text[position:])
    # passwords inside inline tables ({ ..., password = "..." }) are values of no statement of their own
    return _INLINE_SECRET.sub(lambda m: f'{m.group(1)}"{MASK}"', "".join(out))


def mask_xml(text: str) -> str:
    return re.sub(r"(<(Key)?Password\b[^>]*>)(.*?)(</(Key)?Password>)", rf"\g<1>{MASK}\g<4>", text, flags=re.DOTALL)
