"""The ssl_profile library: byte-preserving deployment.toml edits, sslprofiles.xml as WSO2 renders it, safety."""

from __future__ import annotations

import difflib
import glob
import hashlib
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _ssl_profiles as sp
from ansible_collections.apim.certificates.plugins.module_utils import _toml_splice as toml_splice
from ansible_collections.apim.certificates.plugins.module_utils._errors import ApimCertificatesError
from ansible_collections.apim.certificates.tests.support import FIXTURES
from ansible_collections.apim.certificates.tests.support.gateway import (
    TOML_KEYSTORE_TLS, TOML_TRUSTSTORE, backend_stores, gateway_toml, make_gateway_node, profile_xml, toml_loads)
from ansible_collections.apim.certificates.tests.support.pki import make_cert

needs_fixtures = pytest.mark.skipif(not os.path.isdir(FIXTURES), reason="../shared/fixtures absent")
FIXTURE_TOMLS = sorted(glob.glob(os.path.join(FIXTURES, "**", "*.toml"), recursive=True))
IDS = [os.path.relpath(p, FIXTURES) for p in FIXTURE_TOMLS]
TEMPLATE = os.path.join(FIXTURES, "apim-4.x-master", "all-in-one", "sslprofiles.xml.j2")
STOCK_XML = os.path.join(FIXTURES, "apim-4.x-master", "all-in-one", "sslprofiles.xml")
STOCK_TRUSTSTORE = os.path.join(FIXTURES, "apim-4.x-master", "all-in-one", "client-truststore.jks")
STOCK_KEYSTORE = os.path.join(FIXTURES, "carbon-kernel-4.9.x", "wso2carbon.jks")
ALL_IN_ONE = os.path.join(FIXTURES, "apim-4.x-master", "all-in-one", "deployment.toml")
SECURITY = os.path.join("repository", "resources", "security")

TRUST_PASSWORD = "Tru5t-&-<Orders>-pw"
KEY_PASSWORD = "K3y-Orders-pw"
BACKEND, BACKEND_KEY = make_cert("orders.internal")

SMALL_TOML = gateway_toml('hostname = "gw.example.internal"   # the node\'s name', TOML_KEYSTORE_TLS,
                          TOML_TRUSTSTORE.replace('"client-truststore.jks"', "'client-truststore.jks'"), """\
[apim.cors]
allow_origins = [
    "https://a.example",   # first
    "[not-a-table]",
]
""")


# --- helpers --------------------------------------------------------------------------------------------


def sha(path) -> str | None:
    if not os.path.exists(path):
        return None
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def identity(path):
    st = os.stat(path)
    return st.st_ino, st.st_mtime_ns


def run(params: dict, **options):
    return sp.converge(sp.Request.from_params(params), **options)


def stores_for_backend(directory) -> tuple:
    """A JKS truststore trusting the backend and a PKCS12 keystore with a private key, distinctive passwords."""
    return backend_stores(str(directory), BACKEND, BACKEND_KEY, TRUST_PASSWORD, KEY_PASSWORD)


def make_home(tmp_path, toml_text: str = SMALL_TOML, *, live_truststore: str | None = None):
    """A simulated gateway (make_gateway_node): deployment.toml, a one-certificate client-truststore.jks, wso2carbon.jks
    with a private key, sslprofiles.xml pointing at live_truststore (4.x: the start-up copy) by a relative path."""
    home = tmp_path / "wso2am"
    make_gateway_node(str(home), toml_text=toml_text, temp_copy=bool(live_truststore), live_name=live_truststore or "",
                      relative_location=True, entries=[("wso2carbon", make_cert("localhost")[0])], own_keystore=True, listener=False)
    return home


def toml_of(home) -> str:
    return (home / "repository" / "conf" / "deployment.toml").read_text()


def xml_of(home):
    return home / SECURITY / "sslprofiles.xml"


def custom(servers="orders.internal:443", keystore=None, truststore=None, **extra):
    item = {"servers": servers, **extra}
    if keystore is not None:
        item["keystore"] = keystore
    if truststore is not None:
        item["truststore"] = truststore
    return item


def backend_profile(tmp_path, servers="orders.internal:443"):
    keystore, truststore = stores_for_backend(tmp_path / "backend-stores")
    return custom(servers, {"location": keystore, "type": "PKCS12", "password": KEY_PASSWORD},
                  {"location": truststore, "password": TRUST_PASSWORD})


def parse_profiles(data: bytes) -> list:
    """Profiles of an sslprofiles.xml, independently of the library: (servers, keystore fields, truststore fields)."""
    root = ET.fromstring(data)
    out = []
    for profile in root.findall("profile"):
        def fields(tag, names):
            element = profile.find(tag)
            return tuple((element.findtext(n) or "").strip() if n != "Password" and n != "KeyPassword" else (element.findtext(n) or "")
                         for n in names)
        out.append((profile.findtext("servers").strip(), fields("KeyStore", ("Location", "Type", "Password", "KeyPassword")),
                    fields("TrustStore", ("Location", "Type", "Password"))))
    return out


def only_added_lines(before: str, after: str) -> bool:
    # Compared as line contents: appending to a file without a final newline gives its last line one, which
    # is not a rewrite of that line's content.
    changes = [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-?"]
    return all(line.startswith("+") for line in changes)


# --- the statement scanner ------------------------------------------------------------------------------

TRICKY = [
    'a = """\n[not.a.table]\nb = 1\n"""\n[t]\nx = 1\n',
    "a = '''\n[[nor.this]]\n'''\n",
    'arr = [\n  [1, 2], # [x]\n  "]",\n  { k = "}" },\n]\nz = 2\n',
    'd = 1979-05-27 07:32:00Z\n"quoted.key" = 1\nsite."google.com" = true\n',
    "[a]\r\nb = 'c' # d\r\n\r\n[[e.f]]\r\ng = 1\r\n",
    "x = 1\ny = { a = [1, 2], b = 'x' }",
    's = "a\\"#b" # c\n',
]


@pytest.mark.parametrize("text", TRICKY)
def test_scanner_finds_every_statement_and_value(text):
    statements = toml_splice.scan_toml(text)
    assert "".join(text[s.start:s.end] for s in statements) == text
    values = toml_loads(text)
    for statement in (s for s in statements if s.kind == "kv"):
        node = values
        for part in statement.path:
            node = node[part]
        assert toml_loads("v = " + text[statement.value_start:statement.value_end])["v"] == node


def test_array_entries_are_indexed():
    text = "[[keystore.ssl_profile.custom]]\nservers = 'a:1'\n[keystore.ssl_profile.custom.truststore]\nlocation = 'x'\n" \
           "[[keystore.ssl_profile.custom]]\nservers = 'b:2'\ntruststore.location = 'y'\n"
    paths = [s.path for s in toml_splice.scan_toml(text) if s.kind == "kv"]
    assert paths == [
        ("keystore", "ssl_profile", "custom", 0, "servers"),
        ("keystore", "ssl_profile", "custom", 0, "truststore", "location"),
        ("keystore", "ssl_profile", "custom", 1, "servers"),
        ("keystore", "ssl_profile", "custom", 1, "truststore", "location"),
    ]


# --- every real deployment.toml -------------------------------------------------------------------------


@needs_fixtures
@pytest.mark.parametrize("fixture", FIXTURE_TOMLS, ids=IDS)
def test_add_then_remove_a_custom_profile_is_byte_identical(tmp_path, fixture):
    path = tmp_path / "deployment.toml"
    shutil.copy(fixture, path)
    original = path.read_bytes()
    profile = custom("orders.internal:443,orders-dr.internal:8443",
                     {"location": "/etc/pki/orders-client.jks", "password": KEY_PASSWORD},
                     {"location": "/etc/pki/orders-trust.jks", "password": TRUST_PASSWORD})
    add = {"path": str(path), "custom_profiles": [profile], "validate_stores": False}
    remove = {"path": str(path), "custom_profiles": [custom(profile["servers"], state="absent")], "validate_stores": False}

    added = run(add)
    assert added.plan.changed and added.plan.actions["orders.internal:443,orders-dr.internal:8443"] == "added"
    after_add = path.read_bytes()
    assert only_added_lines(original.decode(), after_add.decode())
    entries = toml_loads(after_add.decode())["keystore"]["ssl_profile"]["custom"]
    assert entries == [{"servers": profile["servers"],
                        "keystore": {"location": "/etc/pki/orders-client.jks", "type": "JKS", "password": KEY_PASSWORD, "key_password": KEY_PASSWORD},
                        "truststore": {"location": "/etc/pki/orders-trust.jks", "type": "JKS", "password": TRUST_PASSWORD}}]
    before_again = identity(path)
    again = run(add)
    assert not again.plan.changed and again.plan.actions == {profile["servers"]: "unchanged"}
    assert identity(path) == before_again, "an unchanged run rewrote deployment.toml"

    removed = run(remove)
    assert removed.plan.changed and removed.plan.actions == {profile["servers"]: "removed"}
    assert path.read_bytes() == original
    before_again = identity(path)
    assert not run(remove).plan.changed
    assert identity(path) == before_again


@needs_fixtures
@pytest.mark.parametrize("fixture", FIXTURE_TOMLS, ids=IDS)
def test_interval_changes_only_its_line(tmp_path, fixture):
    path = tmp_path / "deployment.toml"
    shutil.copy(fixture, path)
    before = path.read_text()
    params = {"path": str(path), "interval": 120000}
    assert run(params).plan.changed
    after = path.read_text()
    changes = [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"]
    if "[transport.passthru_https.sender.ssl_profile]" in before:
        assert len(changes) == 2 and changes[0].startswith("- interval") and changes[1].startswith("+ interval = 120000")
    else:
        assert changes == ["+ ", "+ [transport.passthru_https.sender.ssl_profile]", "+ interval = 120000"]
        assert after.startswith(before.rstrip("\n"))
    old, new = toml_loads(before), toml_loads(after)
    assert new["transport"]["passthru_https"]["sender"]["ssl_profile"]["interval"] == 120000
    for values in (old, new):
        values.get("transport", {}).get("passthru_https", {}).get("sender", {}).get("ssl_profile", {}).pop("interval", None)
    assert sp.prune_empty(new) == sp.prune_empty(old)
    stamp = identity(path)
    outcome = run(params)
    assert not outcome.plan.changed and outcome.plan.interval == 120000
    assert identity(path) == stamp


@needs_fixtures
@pytest.mark.parametrize("fixture", FIXTURE_TOMLS, ids=IDS)
def test_a_dict_option_with_only_a_password_changes_only_that_key(tmp_path, fixture):
    path = tmp_path / "deployment.toml"
    shutil.copy(fixture, path)
    before = path.read_text()
    params = {"path": str(path), "keystore": {"password": "N3w-Keystore-pw"}, "truststore": {"password": "N3w-Trust-pw"}}
    assert run(params).plan.changed
    after = path.read_text()
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("- "):
            assert line[2:].split("=")[0].strip() == "password", line  # a password line rewritten, nothing else
        elif line.startswith("+ "):  # or a password line, in a table added at the end where it was absent
            assert line[2:].split("=")[0].strip() == "password" or line[2:] in ("", "[truststore]", "[keystore.tls]"), line
    values = toml_loads(after)
    assert values["keystore"]["tls"]["password"] == "N3w-Keystore-pw"
    assert values["truststore"]["password"] == "N3w-Trust-pw"
    old = toml_loads(before)
    for either in (old, values):
        either.get("keystore", {}).get("tls", {}).pop("password", None)
        either.get("truststore", {}).pop("password", None)
    assert sp.prune_empty(values) == sp.prune_empty(old)
    stamp = identity(path)
    assert not run(params).plan.changed
    assert identity(path) == stamp


def wso2_template_render(toml_text: str) -> bytes:
    """sslprofiles.xml as WSO2 renders it: the real sslprofiles.xml.j2, fed the nested deployment.toml values."""
    import jinja2  # pylint: disable=import-outside-toplevel

    values = toml_loads(toml_text)
    keystore = values.get("keystore", {})
    primary = {"file_name": "wso2carbon.jks", "type": "JKS", "password": "wso2carbon", "key_password": "wso2carbon"}
    primary.update(keystore.get("primary", {}))
    tls = dict(primary, **keystore.get("tls", {}))
    truststore = dict({"file_name": "client-truststore.jks", "type": "JKS", "password": "wso2carbon"}, **values.get("truststore", {}))
    ssl_profile = keystore.get("ssl_profile", {})
    context = {
        "keystore": {"tls": tls, "ssl_profile": {"default": {"servers": ssl_profile.get("default", {}).get("servers", "*")},
                                                 "custom": ssl_profile.get("custom", [])}},
        "truststore": truststore,
    }
    with open(TEMPLATE, encoding="utf-8") as handle:
        return jinja2.Template(handle.read()).render(**context).encode("iso-8859-1")


@needs_fixtures
@pytest.mark.parametrize("fixture", FIXTURE_TOMLS, ids=IDS)
def test_sslprofiles_xml_matches_wso2s_own_template(tmp_path, fixture):
    path = tmp_path / "deployment.toml"
    shutil.copy(fixture, path)
    # One existing profile in the sub-table form, as some of WSO2's docs write it.
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('\n[[keystore.ssl_profile.custom]]\nservers = "legacy.internal:443"\n'
                     '[keystore.ssl_profile.custom.keystore]\nlocation = "repository/resources/security/wso2carbon.jks"\n'
                     'type = "JKS"\npassword = "wso2carbon"\nkey_password = "wso2carbon"\n'
                     '[keystore.ssl_profile.custom.truststore]\nlocation = "/etc/pki/legacy.jks"\ntype = "JKS"\npassword = "legacy-pw"\n')
    xml = tmp_path / "sslprofiles.xml"
    params = {
        "path": str(path), "live": True, "sslprofiles_path": str(xml), "validate_stores": False,
        "truststore": {"password": "Tr-new"},
        "custom_profiles": [custom("orders.internal:443", {"location": "/etc/pki/o-client.p12", "type": "PKCS12", "password": KEY_PASSWORD},
                                   {"location": "/etc/pki/o-trust.jks", "password": "o-trust"})],
    }
    outcome = run(params)
    assert outcome.plan.xml_changed
    ours = parse_profiles(xml.read_bytes())
    assert ours == parse_profiles(wso2_template_render(path.read_text()))
    assert [p[0] for p in ours] == ["*", "legacy.internal:443", "orders.internal:443"]
    assert [p["servers"] for p in outcome.result()["profiles"]] == ["*", "legacy.internal:443", "orders.internal:443"]
    stamp = identity(xml)
    assert not run(params).plan.changed
    assert identity(xml) == stamp


@needs_fixtures
def test_the_stock_sslprofiles_xml_is_what_the_stock_toml_means(tmp_path):
    home = make_home(tmp_path, open(ALL_IN_ONE, encoding="utf-8").read())
    shutil.copy(STOCK_XML, xml_of(home))
    stamp = identity(xml_of(home))
    outcome = run({"apim_home": str(home), "interval": 600000})
    assert not outcome.plan.changed
    assert identity(xml_of(home)) == stamp


# --- live sslprofiles.xml -------------------------------------------------------------------------------


def test_live_truststore_location_of_a_4x_gateway_is_kept(tmp_path):
    home = make_home(tmp_path, live_truststore="client-truststore-temp.jks")
    xml = xml_of(home)
    os.utime(xml, (1_000_000_000, 1_000_000_000))
    stamp = identity(xml)
    params = {"apim_home": str(home), "custom_profiles": [backend_profile(tmp_path)]}
    outcome = run(params)
    assert outcome.plan.changed and outcome.plan.xml_changed
    assert outcome.plan.kept_live_location == "repository/resources/security/client-truststore-temp.jks"
    profiles = parse_profiles(xml.read_bytes())
    assert profiles[0][2][0] == "repository/resources/security/client-truststore-temp.jks"
    assert profiles[1][0] == "orders.internal:443" and profiles[1][2][2] == TRUST_PASSWORD
    assert os.stat(xml).st_mtime_ns > stamp[1], "the gateway reloads only when the mtime advances"
    assert outcome.result()["reload_within_ms"] == 600000 and outcome.result()["restart_required"] is False

    stamp = identity(xml)
    again = run(params)
    assert not again.plan.changed
    assert identity(xml) == stamp

    # A change sslprofiles.xml does not carry leaves it alone.
    toml_only = run({"apim_home": str(home), "interval": 300000})
    assert toml_only.plan.toml_changed and not toml_only.plan.xml_changed
    assert identity(xml) == stamp
    assert toml_only.result()["restart_required"] is True
    assert toml_only.result()["reload_within_ms"] == 600000  # the running gateway keeps its start-up interval


def test_an_unrelated_live_location_is_rendered_again(tmp_path):
    home = make_home(tmp_path)
    xml = xml_of(home)
    xml.write_text(profile_xml([("*", "repository/resources/security/wso2carbon.jks", "repository/resources/security/other-store.jks")]))
    outcome = run({"apim_home": str(home)})
    assert outcome.plan.xml_changed and outcome.plan.kept_live_location is None
    assert parse_profiles(xml.read_bytes())[0][2][0] == "repository/resources/security/client-truststore.jks"


def test_xml_special_characters_are_escaped(tmp_path):
    home = make_home(tmp_path)
    profile = backend_profile(tmp_path)
    assert "&" in TRUST_PASSWORD and "<" in TRUST_PASSWORD
    params = {"apim_home": str(home), "custom_profiles": [profile]}
    run(params)
    profiles = parse_profiles(xml_of(home).read_bytes())
    assert profiles[1][2][2] == TRUST_PASSWORD
    assert "&amp;" in xml_of(home).read_text()
    assert not run(params).plan.changed


def test_profiles_the_toml_does_not_define_are_dropped_with_a_warning(tmp_path):
    home = make_home(tmp_path)
    xml = xml_of(home)
    xml.write_text(xml.read_text().replace("</parameter>", "    <profile><servers>manual.internal:443</servers></profile>\n</parameter>"))
    outcome = run({"apim_home": str(home)})
    assert outcome.plan.xml_changed
    assert any("manual.internal:443" in w and "dropped" in w for w in outcome.warnings)
    assert [p[0] for p in parse_profiles(xml.read_bytes())] == ["*"]


# --- forms of custom profiles ---------------------------------------------------------------------------

SUBTABLE_FORM = SMALL_TOML + """
[[keystore.ssl_profile.custom]]
servers = "legacy.internal:443"
[keystore.ssl_profile.custom.keystore]
location = "/etc/pki/legacy-client.jks"
password = "legacy-key"
[keystore.ssl_profile.custom.truststore]
location = "/etc/pki/legacy-trust.jks"
password = "legacy-trust"

# dotted form
[[keystore.ssl_profile.custom]]
servers = "billing.internal:443"
keystore.location = "/etc/pki/billing-client.jks"
truststore.location = "/etc/pki/billing-trust.jks"

[apim]
gateway_type = "Regular"
"""


def test_an_existing_entry_keeps_its_form(tmp_path):
    path = tmp_path / "deployment.toml"
    path.write_text(SUBTABLE_FORM)
    outcome = run({"path": str(path), "validate_stores": False, "custom_profiles": [
        custom("legacy.internal:443", truststore={"type": "PKCS12"}),
        custom("billing.internal:443", truststore={"type": "PKCS12"}, keystore={"type": "JKS"}),
    ]})
    assert outcome.plan.actions == {"legacy.internal:443": "updated", "billing.internal:443": "updated"}
    added = [line[2:] for line in difflib.ndiff(SUBTABLE_FORM.splitlines(), path.read_text().splitlines()) if line[:1] in "+-"]
    assert added == ['type = "PKCS12"', 'keystore.type = "JKS"', 'truststore.type = "PKCS12"']
    text = path.read_text()
    assert text.index('type = "PKCS12"') < text.index("# dotted form")  # inside [keystore.ssl_profile.custom.truststore]


def test_removing_a_subtable_entry_removes_its_subtables(tmp_path):
    path = tmp_path / "deployment.toml"
    path.write_text(SUBTABLE_FORM)
    run({"path": str(path), "validate_stores": False, "custom_profiles": [custom("legacy.internal:443", state="absent")]})
    text = path.read_text()
    assert "legacy" not in text and "[keystore.ssl_profile.custom.truststore]" not in text
    assert text == SUBTABLE_FORM.replace(SUBTABLE_FORM[SUBTABLE_FORM.index("\n[[keystore"):SUBTABLE_FORM.index("\n# dotted form")], "")
    assert [e["servers"] for e in toml_loads(text)["keystore"]["ssl_profile"]["custom"]] == ["billing.internal:443"]


def test_new_entries_go_after_the_last_entry_in_dotted_form(tmp_path):
    path = tmp_path / "deployment.toml"
    path.write_text(SUBTABLE_FORM)
    run({"path": str(path), "validate_stores": False, "custom_profiles": [
        custom("new.internal:443", {"location": "k.jks", "password": "kp"}, {"location": "t.jks", "password": "tp"})]})
    text = path.read_text()
    assert only_added_lines(SUBTABLE_FORM, text)
    block = text[text.index('truststore.location = "/etc/pki/billing-trust.jks"\n'):text.index("[apim]")]
    assert block.splitlines()[1:] == [
        "", "[[keystore.ssl_profile.custom]]", 'servers = "new.internal:443"', 'keystore.location = "k.jks"',
        'keystore.type = "JKS"', 'keystore.password = "kp"', 'keystore.key_password = "kp"', 'truststore.location = "t.jks"',
        'truststore.type = "JKS"', 'truststore.password = "tp"', "",
    ]


def test_exclusive_removes_unlisted_profiles(tmp_path):
    path = tmp_path / "deployment.toml"
    path.write_text(SUBTABLE_FORM)
    outcome = run({"path": str(path), "validate_stores": False, "exclusive": True,
                   "custom_profiles": [custom("billing.internal:443")]})
    assert outcome.plan.actions == {"legacy.internal:443": "removed", "billing.internal:443": "unchanged"}
    assert [e["servers"] for e in toml_loads(path.read_text())["keystore"]["ssl_profile"]["custom"]] == ["billing.internal:443"]


def test_server_lists_match_in_any_order_and_case(tmp_path):
    path = tmp_path / "deployment.toml"
    path.write_text(SUBTABLE_FORM.replace('"billing.internal:443"', '"billing.internal:443,Billing-DR.internal:443"'))
    outcome = run({"path": str(path), "validate_stores": False,
                   "custom_profiles": [custom("billing-dr.internal:443, billing.internal:443", state="absent")]})
    assert outcome.plan.actions["billing.internal:443,Billing-DR.internal:443"] == "removed"


def test_values_are_compared_as_wso2_reads_them(tmp_path):
    path = tmp_path / "deployment.toml"
    path.write_text("[keystore.primary]\nfile_name = \"primary.jks\"\n\n[keystore.tls]\nfile_name = \"$ref{keystore.primary.file_name}\"\n")
    params = {"path": str(path), "keystore": {"file_name": "primary.jks", "type": "jks", "password": "wso2carbon"},
              "truststore": {"file_name": "client-truststore.jks"}, "interval": 600000}
    outcome = run(params)
    assert not outcome.plan.changed


def test_a_quoted_number_stays_quoted_and_literal_strings_stay_literal(tmp_path):
    path = tmp_path / "deployment.toml"
    path.write_text("[transport.passthru_https.sender.ssl_profile]\ninterval = \"600000\"\n\n[truststore]\npassword = 'old'\n")
    run({"path": str(path), "interval": 90000, "truststore": {"password": "new"}})
    assert path.read_text() == "[transport.passthru_https.sender.ssl_profile]\ninterval = \"90000\"\n\n[truststore]\npassword = 'new'\n"


def test_crlf_files_stay_crlf(tmp_path):
    path = tmp_path / "deployment.toml"
    path.write_bytes(b"[truststore]\r\nfile_name = \"client-truststore.jks\"\r\n")
    run({"path": str(path), "truststore": {"password": "x"}, "interval": 120000})
    data = path.read_bytes()
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert toml_loads(data.decode())["truststore"]["password"] == "x"


def test_no_final_newline_remove_last_and_extend_the_previous_entry(tmp_path):
    path = tmp_path / "deployment.toml"
    text = ('[server]\nhostname = "gw"\n\n[[keystore.ssl_profile.custom]]\nservers = "a.internal:443"\n'
            'truststore.location = "a.jks"\n\n[[keystore.ssl_profile.custom]]\nservers = "b.internal:443"\ntruststore.location = "b.jks"')
    path.write_text(text)
    run({"path": str(path), "validate_stores": False, "custom_profiles": [
        custom("a.internal:443", truststore={"type": "PKCS12"}), custom("b.internal:443", state="absent")]})
    assert path.read_text() == ('[server]\nhostname = "gw"\n\n[[keystore.ssl_profile.custom]]\nservers = "a.internal:443"\n'
                                'truststore.location = "a.jks"\ntruststore.type = "PKCS12"')


def test_a_comment_above_the_next_table_stays_when_an_entry_is_removed(tmp_path):
    path = tmp_path / "deployment.toml"
    text = ('[server]\nhostname = "gw"\n\n[[keystore.ssl_profile.custom]]\nservers = "a.internal:443"\n'
            '# truststore.type = "PKCS12"\ntruststore.location = "a.jks"\n\n# Key manager\n[apim.key_manager]\ntype = "WSO2-IS"\n')
    path.write_text(text)
    run({"path": str(path), "validate_stores": False, "custom_profiles": [custom("a.internal:443", state="absent")]})
    assert path.read_text() == '[server]\nhostname = "gw"\n\n# Key manager\n[apim.key_manager]\ntype = "WSO2-IS"\n'


def test_an_empty_file_gets_its_tables(tmp_path):
    path = tmp_path / "deployment.toml"
    path.write_text("")
    run({"path": str(path), "interval": 120000, "truststore": {"password": "x"}})
    assert path.read_text() == '[transport.passthru_https.sender.ssl_profile]\ninterval = 120000\n\n[truststore]\npassword = "x"\n'


@pytest.mark.parametrize("layout, message", [
    ("no-home", "is not a directory"),
    ("no-toml", "deployment.toml does not exist"),
    ("no-security", "to lock it"),
])
def test_missing_places_are_reported(tmp_path, layout, message):
    home = tmp_path / "wso2am"
    if layout != "no-home":
        (home / "repository" / "conf").mkdir(parents=True)
    if layout == "no-security":
        (home / "repository" / "conf" / "deployment.toml").write_text(SMALL_TOML)
    with pytest.raises(ApimCertificatesError, match=message):
        run({"apim_home": str(home), "interval": 120000})


def test_env_in_a_custom_profile_names_the_profile(tmp_path):
    home = make_home(tmp_path, SMALL_TOML + '\n[[keystore.ssl_profile.custom]]\nservers = "a.internal:443"\n'
                                            'truststore.location = "$env{TRUST_DIR}/a.jks"\n')
    with pytest.raises(sp.SslProfileError, match=r"^truststore.location of the custom SSL profile 'a.internal:443' uses \$env"):
        run({"apim_home": str(home), "interval": 120000})


# --- validate_stores ------------------------------------------------------------------------------------


def files_of(home) -> dict:
    return {p: sha(p) for p in (home / "repository" / "conf" / "deployment.toml", xml_of(home))}


def test_valid_stores_pass_and_the_profile_is_written(tmp_path):
    home = make_home(tmp_path)
    outcome = run({"apim_home": str(home), "custom_profiles": [backend_profile(tmp_path)]})
    assert outcome.plan.changed and not outcome.warnings


@pytest.mark.parametrize("damage, message", [
    ("missing", "does not exist"),
    ("password", "wrong password"),
])
def test_a_store_that_cannot_be_opened_fails_before_anything_is_written(tmp_path, damage, message):
    home = make_home(tmp_path)
    profile = backend_profile(tmp_path)
    if damage == "missing":
        os.unlink(profile["truststore"]["location"])
    else:
        profile["truststore"]["password"] = "Wr0ng-pw"
    before = files_of(home)
    with pytest.raises(sp.SslProfileError) as info:
        run({"apim_home": str(home), "custom_profiles": [profile]})
    text = str(info.value)
    assert "the truststore of the custom SSL profile 'orders.internal:443'" in text and message in text
    assert "orders-truststore.jks" in text and "nothing was written" in text
    assert TRUST_PASSWORD not in text and "Wr0ng-pw" not in text
    assert files_of(home) == before


def test_a_protected_password_is_skipped_with_a_warning(tmp_path):
    home = make_home(tmp_path)
    profile = backend_profile(tmp_path)
    profile["truststore"]["password"] = "$secret{orders_truststore}"
    outcome = run({"apim_home": str(home), "custom_profiles": [profile]})
    assert outcome.plan.changed
    assert any("not opened: its password is protected ($secret{...})" in w for w in outcome.warnings)
    assert parse_profiles(xml_of(home).read_bytes())[1][2][2] == "$secret{orders_truststore}"


def test_a_type_java_reads_anyway_is_a_warning(tmp_path):
    home = make_home(tmp_path)
    profile = backend_profile(tmp_path)
    profile["keystore"]["type"] = "JKS"  # the file is PKCS12
    outcome = run({"apim_home": str(home), "custom_profiles": [profile]})
    assert any("is a PKCS12 store but its type says JKS; Java reads it anyway" in w for w in outcome.warnings)


# --- refusals: a clear message, every file as it was ----------------------------------------------------

REFUSALS = [
    ({"interval": 59999}, "interval 59999 ms is below 60000 ms"),
    ({"custom_profiles": [custom("orders.internal")]}, "'orders.internal' is not host:port; every entry of servers needs a port"),
    ({"custom_profiles": [custom("orders.internal:0")]}, "has port 0; a port is 1 to 65535"),
    ({"custom_profiles": [custom("orders.internal:65536")]}, "has port 65536"),
    ({"custom_profiles": [custom("a.internal:443,")]}, "has an empty entry"),
    ({"custom_profiles": [custom("*")]}, "'*' is the default SSL profile; it cannot be removed"),
    ({"custom_profiles": [custom("*", state="absent")]}, "'*' is the default SSL profile"),
    ({"custom_profiles": [custom("a.internal:443,b.internal:443"), custom("b.internal:443", state="absent")]},
     "server 'b.internal:443' is also in custom_profiles[0]"),
    ({"custom_profiles": [custom("a.internal:443,A.internal:443")]}, "lists 'A.internal:443' twice"),
    ({"custom_profiles": [custom("legacy.internal:443,new.internal:443", {"location": "k", "password": "p"}, {"location": "t", "password": "p"})]},
     "server 'legacy.internal:443' would be in two custom SSL profiles"),
    ({"custom_profiles": [custom("new.internal:443", truststore={"location": "t", "password": "p"})]},
     "custom profile 'new.internal:443' is new and has no keystore.location or password"),
]


@pytest.mark.parametrize("params, message", REFUSALS, ids=[refusal[1][:40] for refusal in REFUSALS])
def test_refusals(tmp_path, params, message):
    home = make_home(tmp_path, SUBTABLE_FORM)
    before = files_of(home)
    with pytest.raises(ApimCertificatesError) as info:
        run(dict(params, apim_home=str(home)))
    assert message in str(info.value)
    assert files_of(home) == before


def test_malformed_toml_names_the_file_and_line(tmp_path):
    home = make_home(tmp_path, SMALL_TOML + "\n[broken\nx = 1\n")
    before = files_of(home)
    with pytest.raises(ApimCertificatesError) as info:
        run({"apim_home": str(home), "interval": 120000})
    assert str(info.value).startswith(str(home / "repository" / "conf" / "deployment.toml") + " is not valid TOML: line 22")
    assert files_of(home) == before


def test_malformed_sslprofiles_xml(tmp_path):
    home = make_home(tmp_path)
    xml_of(home).write_text("<parameter name='customSSLProfiles'><profile>\n</parameter>")
    before = files_of(home)
    with pytest.raises(ApimCertificatesError) as info:
        run({"apim_home": str(home), "interval": 120000})
    assert str(info.value).startswith(f"{xml_of(home)} is not well-formed XML (mismatched tag: line 2")
    assert files_of(home) == before


def test_an_inline_custom_array_is_refused(tmp_path):
    path = tmp_path / "deployment.toml"
    path.write_text('[keystore.ssl_profile]\ncustom = [{servers = "a.internal:443"}]\n')
    with pytest.raises(sp.SslProfileError, match="not written as .* tables"):
        run({"path": str(path), "validate_stores": False, "custom_profiles": [custom("a.internal:443", state="absent")]})


def test_an_inline_table_owning_a_key_is_refused(tmp_path):
    path = tmp_path / "deployment.toml"
    path.write_text('truststore = { file_name = "client-truststore.jks" }\n')
    before = sha(path)
    with pytest.raises(sp.SslProfileError, match=r"line 1: truststore is written as an inline value"):
        run({"path": str(path), "truststore": {"password": "x"}})
    assert sha(path) == before


def test_env_values_cannot_be_rendered_live(tmp_path):
    home = make_home(tmp_path, SMALL_TOML.replace('password = "wso2carbon"\n\n[apim', 'password = "$env{TRUST_PW}"\n\n[apim'))
    with pytest.raises(sp.SslProfileError, match=r"^truststore.password uses \$env\{TRUST_PW\}.*set live to false"):
        run({"apim_home": str(home), "interval": 120000})
    assert run({"apim_home": str(home), "interval": 120000, "live": False}).plan.changed


# --- check mode, backups, diff, failure midway ----------------------------------------------------------


def test_check_mode_predicts_and_writes_nothing(tmp_path):
    home = make_home(tmp_path)
    before = files_of(home)
    params = {"apim_home": str(home), "custom_profiles": [backend_profile(tmp_path)]}
    predicted = run(params, check_mode=True)
    assert predicted.plan.changed and predicted.plan.actions == {"orders.internal:443": "added"}
    assert files_of(home) == before
    real = run(params)
    assert real.plan.diff() == predicted.plan.diff()


def test_backups_are_returned(tmp_path):
    home = make_home(tmp_path)
    original_toml, original_xml = toml_of(home), xml_of(home).read_text()
    outcome = run({"apim_home": str(home), "custom_profiles": [backend_profile(tmp_path)]}, backup=True)
    result = outcome.result()
    assert open(result["backup_file"], encoding="utf-8").read() == original_toml
    assert open(result["sslprofiles_backup_file"], encoding="utf-8").read() == original_xml


def test_diff_masks_every_password(tmp_path):
    home = make_home(tmp_path, SMALL_TOML.replace("[apim.cors]", "[database.shared_db]\npassword = \"Db-s3cret\"\n\n[apim.cors]"))
    params = {"apim_home": str(home), "truststore": {"password": "Default-Trust-pw"}, "custom_profiles": [backend_profile(tmp_path)]}
    diff = run(dict(params, validate_stores=False), check_mode=True).plan.diff()
    text = repr(diff)
    for secret in ("Db-s3cret", "Default-Trust-pw", TRUST_PASSWORD, KEY_PASSWORD, "&amp;-&lt;"):
        assert secret not in text
    for part in diff:
        for side in ("before", "after"):
            assert not re.search(r"password\s*=\s*[\"'](?!\*{8})", part[side])  # every password key, owned or not
            assert not re.search(r"<(Key)?Password>(?!\*{8}<)", part[side])
    assert 'keystore.password = "********"' in diff[0]["after"] and "<Password>********</Password>" in diff[1]["after"]
    assert diff[0]["before_header"].endswith("deployment.toml") and diff[1]["before_header"].endswith("sslprofiles.xml")


def _immutable(directory) -> bool:
    if os.geteuid() != 0:
        os.chmod(directory, 0o555)
        return True
    if not shutil.which("chattr"):
        return False
    return subprocess.run(["chattr", "+i", str(directory)], capture_output=True, check=False, timeout=60).returncode == 0


def _mutable(directory) -> None:
    if os.geteuid() != 0:
        os.chmod(directory, 0o755)
    else:
        subprocess.run(["chattr", "-i", str(directory)], capture_output=True, check=False, timeout=60)


def test_a_failed_sslprofiles_write_restores_deployment_toml(tmp_path, monkeypatch):
    # The permission check before writing would refuse this run before any write (test_an_unwritable_folder_is_
    # refused_before_anything_is_written); switch it off to reach the restore that guards against unforeseen failures.
    monkeypatch.setattr(sp, "write_problem", lambda *args, **kwargs: None)
    home = make_home(tmp_path)
    before = files_of(home)
    security = home / SECURITY
    if not _immutable(security):
        pytest.skip("cannot make a directory unwritable here (root without chattr)")
    try:
        with pytest.raises(ApimCertificatesError) as info:
            run({"apim_home": str(home), "validate_stores": False, "backup": True,
                 "custom_profiles": [custom("orders.internal:443", {"location": "k", "password": "p"}, {"location": "t", "password": "p"})]},
                backup=True)
    finally:
        _mutable(security)
    assert "cannot" in str(info.value) and "was restored to its original content" in str(info.value)
    assert files_of(home) == before
    assert sorted(os.listdir(home / "repository" / "conf")) == ["deployment.toml"]  # no backup or temp file left


def test_an_unwritable_folder_is_refused_before_anything_is_written_in_check_mode_too(tmp_path):
    home = make_home(tmp_path)
    before = files_of(home)
    security = home / SECURITY
    if not _immutable(security):
        pytest.skip("cannot make a directory unwritable here (root without chattr)")
    try:
        for check_mode in (True, False):
            with pytest.raises(ApimCertificatesError, match=r"cannot write sslprofiles\.xml .*permission denied for the account"):
                run({"apim_home": str(home), "validate_stores": False,
                     "custom_profiles": [custom("orders.internal:443", {"location": "k", "password": "p"}, {"location": "t", "password": "p"})]},
                    check_mode=check_mode)
    finally:
        _mutable(security)
    assert files_of(home) == before
