"""_module: which no_log values stay masked by Ansible, and which are returned as data; every module's no_log options
(from their own argument specs) are found and masked."""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
import types

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.apim.certificates.plugins.module_utils import _module
from ansible_collections.apim.certificates.tests.support import ROOT

SPEC = dict(
    path=dict(type="path"),
    password=dict(type="str", no_log=True),
    alias=dict(type="str"),
    certificates=dict(type="list", elements="dict", options=dict(alias=dict(type="str"), key_password=dict(type="str", no_log=True))),
)


def _run(monkeypatch, capsys, args: dict, result: dict, fail: bool = False) -> str:
    """A real AnsibleModule with these arguments; returns what exit_json/fail_json printed."""
    monkeypatch.setattr(basic, "_ANSIBLE_ARGS", to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args})))
    monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)
    module = basic.AnsibleModule(argument_spec=SPEC)
    with pytest.raises(SystemExit):
        if fail:
            _module.fail_json(module, result.pop("msg"), **result)
        else:
            _module.exit_json(module, **result)
    return capsys.readouterr().out


@pytest.fixture(autouse=True)
def _no_stdin(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["module"])


def test_a_password_equal_to_a_returned_alias_is_returned(monkeypatch, capsys):
    out = _run(monkeypatch, capsys, {"path": "/x/wso2carbon.jks", "password": "wso2carbon"},
               {"results": [{"alias": "wso2carbon"}], "path": "/x/wso2carbon.jks"})
    data = json.loads(out)
    assert data["results"][0]["alias"] == "wso2carbon" and data["path"] == "/x/wso2carbon.jks"
    assert data["invocation"]["module_args"]["password"] == _module.NO_LOG_PLACEHOLDER


def test_a_password_in_a_path_the_task_names_stays_readable_in_a_failure(monkeypatch, capsys):
    out = _run(monkeypatch, capsys, {"path": "/x/wso2carbon.jks", "password": "wso2carbon"},
               {"msg": "/x/wso2carbon.jks: wrong password"}, fail=True)
    assert json.loads(out)["msg"] == "/x/wso2carbon.jks: wrong password"


@pytest.mark.parametrize("field", ["subject", "msg_detail", "warning_text"])
def test_a_password_that_collides_with_no_alias_or_path_stays_masked(monkeypatch, capsys, field):
    """Ansible's masking stays on as a safety net: a value that is no alias or path is masked wherever it appears."""
    out = _run(monkeypatch, capsys, {"path": "/x/store.jks", "password": "Example", "alias": "orders"},
               {"results": [{"alias": "orders", field: "CN=orders,O=Example"}], "path": "/x/store.jks"})
    assert "Example" not in out
    assert json.loads(out)["results"][0]["alias"] == "orders"


def test_suboption_passwords_are_handled_too(monkeypatch, capsys):
    out = _run(monkeypatch, capsys,
               {"path": "/x/s.jks", "certificates": [{"alias": "stock", "key_password": "stock"}, {"alias": "b", "key_password": "Hidden1"}]},
               {"results": [{"alias": "stock"}, {"alias": "b", "subject": "CN=Hidden1"}]})
    data = json.loads(out)
    assert [r["alias"] for r in data["results"]] == ["stock", "b"]
    assert "Hidden1" not in out


# --- every module's own argument spec (plugins/modules/), not a hand-picked one ----------------------------------

MODULES = os.path.join(ROOT, "plugins", "modules")
# the modules that run on the node; the others (gateway_sync_node, gateway_sync_report) are action plugins' docs
NODE_MODULES = sorted(name[:-3] for name in os.listdir(MODULES)
                      if name.endswith(".py") and "AnsibleModule(" in open(os.path.join(MODULES, name), encoding="utf-8").read())
SECRET_NAME = re.compile(r"(^|_)(password|passphrase|secret|token)($|_)")


class _Captured(Exception):
    pass


def module_arguments(monkeypatch, name: str) -> dict:
    """The keyword arguments the module's main() gives AnsibleModule (argument_spec, supports_check_mode, ...)."""
    module = importlib.import_module(f"ansible_collections.apim.certificates.plugins.modules.{name}")
    captured = {}

    def capture(**kwargs):
        captured.update(kwargs)
        raise _Captured

    monkeypatch.setattr(module, "AnsibleModule", capture)
    with pytest.raises(_Captured):
        module.main()
    return captured


def options(spec: dict, prefix: str = ""):
    """(dotted name, option) of every option, sub-options at any depth included."""
    for name, option in spec.items():
        yield prefix + name, option
        yield from options(option.get("options") or {}, f"{prefix}{name}.")


def test_the_node_modules_are_found():
    assert {"endpoint_certificate", "ssl_profile", "truststore_info"} <= set(NODE_MODULES)
    others = {name[:-3] for name in os.listdir(MODULES) if name.endswith(".py")} - set(NODE_MODULES)
    assert all(os.path.exists(os.path.join(ROOT, "plugins", "action", f"{name}.py")) for name in others), others


@pytest.mark.parametrize("name", NODE_MODULES)
def test_every_secret_option_is_no_log_and_check_mode_is_supported(monkeypatch, name):
    arguments = module_arguments(monkeypatch, name)
    exposed = [dotted for dotted, option in options(arguments["argument_spec"])
               if SECRET_NAME.search(dotted.rsplit(".", 1)[-1]) and option.get("no_log") is not True]
    assert exposed == [], f"{name}: options named as secrets without no_log=True"
    assert arguments.get("supports_check_mode") is True


def _params_with_secrets(spec: dict, prefix: str = "") -> tuple:
    """Parameters that give every no_log option (at any depth) a value of its own; (params, those values)."""
    params, secrets = {}, []
    for name, option in spec.items():
        if option.get("no_log"):
            params[name] = f"S3cret-{prefix}{name}"
            secrets.append(params[name])
        elif option.get("options"):
            inner, found = _params_with_secrets(option["options"], f"{prefix}{name}.")
            params[name] = [inner] if option.get("type") == "list" else inner
            secrets += found
    return params, secrets


@pytest.mark.parametrize("name", NODE_MODULES)
def test_every_no_log_option_is_found_and_masked_in_the_invocation(monkeypatch, name):
    spec = module_arguments(monkeypatch, name)["argument_spec"]
    params, secrets = _params_with_secrets(spec)
    assert secrets, f"{name} has no no_log option"
    # pylint: disable=protected-access
    assert sorted(_module._secret_values(types.SimpleNamespace(argument_spec=spec, params=params))) == sorted(secrets)
    sanitized = json.dumps(_module._sanitized(spec, params))
    assert [secret for secret in secrets if secret in sanitized] == []
    assert sanitized.count(_module.NO_LOG_PLACEHOLDER) == len(secrets)
