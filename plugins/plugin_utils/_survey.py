# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Role variables as an AWX survey sends them: booleans and numbers as strings, lists and dicts as text.

Runs on the controller only (filters). normalise() turns each value into the type the role's argument spec declares,
then validates the result with that same spec (ansible's ArgumentSpecValidator), so nested options (the keys of each
certificate) are checked too. Errors name the variable and say what form is accepted; they never echo a value of an
option the spec marks no_log, nor the value of a dict or list (they may hold passwords).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping

import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import BOOLEANS_FALSE, BOOLEANS_TRUE

ROLE = "gateway_sync"
SPEC_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                         "roles", ROLE, "meta", "argument_specs.yml")

# Options the argument spec declares as raw (so that the role's automatic validation, which runs before any task,
# lets YAML text through): their real type, used once the text is parsed.
TEXT_TYPES = {
    "gateway_sync_certificates": {"type": "list", "elements": "dict"},
    "gateway_sync_ssl_profile": {"type": "dict"},
    "gateway_sync_listener_certificates": {"type": "list", "elements": "dict"},
    "gateway_sync_listener_checks": {"type": "list", "elements": "dict"},
}
# Lower bounds the spec cannot express.
MINIMUM = {"gateway_sync_expiry_warn_days": 0, "gateway_sync_endpoint_timeout": 1}


class SurveyInputError(ValueError):
    """One or more role variables cannot be read; the message lists every problem."""


@functools.lru_cache(maxsize=None)
def role_spec(path: str = SPEC_PATH) -> dict:
    """The options of the role's main entry point, with raw text-capable options given their real type."""
    # libyaml's loader where PyYAML has it: 3 ms instead of 40 ms, paid by each task's worker that reads the role's
    # variables (the cache does not outlive the worker)
    with open(path, encoding="utf-8") as handle:
        options = dict(yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))["argument_specs"]["main"]["options"])  # noqa: S506
    for name, real in TEXT_TYPES.items():
        option = dict(options[name])
        option.update(real)
        options[name] = option
    # description/default are documentation; the validator must not fill in defaults for variables not given
    return {name: {k: v for k, v in option.items() if k not in ("description", "default", "required")}
            for name, option in options.items()}


def _bool(name: str, value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {str(v).lower() for v in BOOLEANS_TRUE}:
        return True
    if text in {str(v).lower() for v in BOOLEANS_FALSE}:
        return False
    shown = repr(value) if isinstance(value, (str, int, float)) and len(str(value)) <= 40 else type(value).__name__
    raise SurveyInputError(f"{name}: {shown} is not a boolean; give true or false (also yes/no, on/off, 1/0)")


def _int(name: str, value):
    if isinstance(value, bool):
        raise SurveyInputError(f"{name}: a boolean is not a number; give a whole number such as 30")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        number = int(value)
    else:
        shown = repr(value) if isinstance(value, (str, float)) and len(str(value)) <= 40 else type(value).__name__
        raise SurveyInputError(f"{name}: {shown} is not a whole number; give digits only, such as 30")
    if name in MINIMUM and number < MINIMUM[name]:
        raise SurveyInputError(f"{name}: {number} is too small; the least it can be is {MINIMUM[name]}")
    return number


def _parse_text(name: str, text: str, kind: str):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise SurveyInputError(f"{name}: the text is not valid YAML or JSON{where}; give {kind}") from None


def _str_list(name: str, value):
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") or text.startswith("- ") or text == "-":
            value = _parse_text(name, text, "a YAML/JSON list, or one item per line")
            if not isinstance(value, list):
                raise SurveyInputError(f"{name}: expected a list, one item per line")
        elif "\n" in text:
            value = text.splitlines()
        else:
            value = text.split(",")  # one line: comma-separated, as Ansible reads a list given as a string
        value = [item.strip() if isinstance(item, str) else item for item in value]
        return [item for item in value if item not in ("", None) and not (isinstance(item, str) and item.startswith("#"))]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise SurveyInputError(f"{name}: expected a list (or text with one item per line), got a {type(value).__name__}")


def _dict_list(name: str, value):
    if value is None or (isinstance(value, str) and not value.strip()):
        return []
    if isinstance(value, str):
        value = _parse_text(name, value, "a YAML or JSON list of mappings (one '- alias: ...' item per certificate)")
        if value is None:
            return []
    if isinstance(value, dict):
        raise SurveyInputError(f"{name}: expected a list of mappings, got a single mapping; start each item with '- '")
    if not isinstance(value, (list, tuple)):
        raise SurveyInputError(f"{name}: expected a list of mappings (or that list as YAML text), got a {type(value).__name__}")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise SurveyInputError(f"{name}[{index}]: expected a mapping such as '- alias: orders', got a {type(item).__name__}")
    return list(value)


def _dict(name: str, value):
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    if isinstance(value, str):
        value = _parse_text(name, value, "a YAML or JSON mapping")
        if value is None:
            return {}
    if not isinstance(value, dict):
        raise SurveyInputError(f"{name}: expected a mapping (or that mapping as YAML/JSON text), got a {type(value).__name__}")
    return dict(value)


def _coerce(name: str, option: dict, value):
    kind = option.get("type", "str")
    if kind == "bool":
        return _bool(name, value)
    if kind == "int":
        return _int(name, value)
    if kind == "list":
        return _dict_list(name, value) if option.get("elements") == "dict" else _str_list(name, value)
    if kind == "dict":
        return _dict(name, value)
    return value


SECRET_KEYS = frozenset(("password", "key_password"))


def without_secrets(values: dict) -> dict:
    """normalise()'s result without the passwords of gateway_sync_ssl_profile (its keystore, truststore and custom
    profiles): the form the role keeps as a fact, which Ansible shows at -v and AWX stores in its job events."""
    def strip(value):
        if isinstance(value, dict):
            return {key: strip(item) for key, item in value.items() if key not in SECRET_KEYS}
        if isinstance(value, list):
            return [strip(item) for item in value]
        return value

    result = dict(values)
    if "gateway_sync_ssl_profile" in result:
        result["gateway_sync_ssl_profile"] = strip(result["gateway_sync_ssl_profile"])
    return result


def _plain(value):
    """The value as plain dicts and lists. Ansible hands a filter lazily templated containers; the validator deep-copies
    its input, and deep-copying those costs a task's worker about 0.15 s per call (docs/performance.md)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def normalise(values: dict, spec: dict | None = None) -> dict:
    """values: role variable -> value as given. Returns the same variables in the types the spec declares.

    Raises SurveyInputError listing every variable that cannot be read, and why.
    """
    spec = role_spec() if spec is None else spec
    problems, result = [], {}
    for name, value in _plain(values).items():
        if name not in spec:
            problems.append(f"{name}: not a variable of the {ROLE} role")
            continue
        try:
            result[name] = _coerce(name, spec[name], value)
        except SurveyInputError as exc:
            problems.append(str(exc))
    if not problems:
        validated = ArgumentSpecValidator({n: spec[n] for n in result}).validate(result, validate_role_argument_spec=True)
        secrets = {str(v) for v in validated._no_log_values if str(v)}  # pylint: disable=protected-access
        for message in validated.error_messages:
            for secret in secrets:
                message = message.replace(secret, "********")
            problems.append(message)
        given, result = result, {n: validated.validated_parameters[n] for n in result}
        for name, option in spec.items():  # keep list items as given: no None for every sub-option not given
            if name in result and option.get("type") == "list" and option.get("elements") == "dict" and result[name]:
                result[name] = [{k: v for k, v in item.items() if v is not None or k in original}
                                for item, original in zip(result[name], given[name])]
    if problems:
        raise SurveyInputError(f"the {ROLE} role's variables cannot be used as given: " + "; ".join(problems))
    return result
