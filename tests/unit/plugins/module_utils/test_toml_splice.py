"""_toml_splice: the canary that says when tomlkit can replace it, and the splice it makes instead."""

from __future__ import annotations

import tomllib

import tomlkit

from ansible_collections.apim.certificates.plugins.module_utils._toml_splice import TomlEditor

CUSTOM = ("keystore", "ssl_profile", "custom")
GATEWAY = """\
[server]
hostname = "gateway.example.internal"

[keystore.tls]
file_name = "wso2carbon.jks"
password = "wso2carbon"

[truststore]
file_name = "client-truststore.jks"

[transport.passthru_https.sender.ssl_profile]
interval = 600000
"""
NEW_ENTRY = [(("servers",), "orders.internal:443"), (("truststore", "location"), "orders.jks")]


def test_tomlkit_still_misplaces_a_new_array_of_tables_entry():
    """The canary: _toml_splice exists because tomlkit puts the first [[keystore.ssl_profile.custom]] right after the
    first [keystore.*] table, in the middle of the file, glued to the next table. The day this test fails, tomlkit
    places it at the end by itself: replace TomlEditor.append_entry with tomlkit (and re-run the property tests)."""
    document = tomlkit.parse(GATEWAY)
    entry = tomlkit.table()
    entry["servers"] = "orders.internal:443"
    entry["truststore"] = tomlkit.table()
    entry["truststore"]["location"] = "orders.jks"
    profiles = tomlkit.aot()
    profiles.append(entry)
    document["keystore"]["ssl_profile"] = tomlkit.table()
    document["keystore"]["ssl_profile"]["custom"] = profiles
    text = document.as_string()
    assert tomllib.loads(text)["keystore"]["ssl_profile"]["custom"][0]["servers"] == "orders.internal:443"
    assert text.index("[[keystore.ssl_profile.custom]]") < text.index("[truststore]"), (
        "tomlkit now places a new [[keystore.ssl_profile.custom]] after the tables that follow [keystore.tls]: "
        "it may be able to replace _toml_splice's append_entry (see its docstring)\n" + text)


def test_the_splice_appends_the_entry_at_the_end_and_keeps_every_byte_before_it():
    editor = TomlEditor(GATEWAY, "deployment.toml")
    editor.append_entry(CUSTOM, NEW_ENTRY)
    text = editor.result()
    assert text.startswith(GATEWAY)
    assert text[len(GATEWAY):] == '\n[[keystore.ssl_profile.custom]]\nservers = "orders.internal:443"\ntruststore.location = "orders.jks"\n'
    assert tomllib.loads(text)["keystore"]["ssl_profile"]["custom"] == [{"servers": "orders.internal:443", "truststore": {"location": "orders.jks"}}]
