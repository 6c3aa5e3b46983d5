"""_module: which no_log values stay masked by Ansible, and which are returned as data."""

from __future__ import annotations

import json
import sys

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.apim.certificates.plugins.module_utils import _module

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
