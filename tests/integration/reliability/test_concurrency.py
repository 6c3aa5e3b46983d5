"""Concurrent runs lose no update: eight ansible-playbook processes at once against one gateway node.

- endpoint_certificate (gateway mode): eight processes, each adding its own certificate, end with all eight in both
  the live and the persistent truststore, both valid stores, and sslprofiles.xml touched;
- ssl_profile: eight processes, each adding its own custom SSL profile to one deployment.toml, end with all eight
  in deployment.toml (valid TOML, every other byte kept) and sslprofiles.xml holding exactly what the TOML says.

The default tests run ONE ansible-playbook with a host per writer and eight forks: eight worker processes start the
eight module processes at the same moment. The long variants (APIM_LONG_TESTS=1) start eight separate
ansible-playbook processes instead, and repeat the rounds on every store type in path mode and on ssl_profile.
A sampler reads /proc meanwhile and every round requires that at least two module processes were alive at the same
moment (so the locks were really contended, not bypassed because the runs happened one after the other).
"""

from __future__ import annotations

import os
import subprocess
import json
import sys
import xml.etree.ElementTree as ET

import yaml

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.integration.reliability import _inputs as inp
from ansible_collections.apim.certificates.tests.integration.reliability._support import (
    BIN,
    ProcessSampler,
    TaskResult,
    WorkDir,
    by_task,
    long_variant,
    run_plays,
    toml_loads,
)
from ansible_collections.apim.certificates.tests.support.ansible import _env
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem, sha256

WRITERS = 8
CERTS = [make_cert(f"writer{i}.backend.test", key_kind="ec")[0] for i in range(WRITERS * 2)]


def _start(workdir, index, module, args):
    """Start one ansible-playbook running one task; returns (process, results file)."""
    book = os.path.join(workdir, f"writer{index}.yml")
    with open(book, "w", encoding="utf-8") as handle:
        handle.write(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False,
                                      "tasks": [{"name": f"writer{index}", module: args}]}], sort_keys=False))
    results = os.path.join(workdir, f"writer{index}.jsonl")
    env = _env(WorkDir(workdir))
    env["APIM_TEST_RESULTS"] = results
    proc = subprocess.Popen([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", book],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    return proc, results


def run_parallel(workdir, module, args_list, *, controllers: bool = False) -> tuple:
    """Run module once per args, all at the same time. Returns (results in args order, most module processes alive at once).

    Default: one ansible-playbook with a host per writer and as many forks, so every writer's module process starts
    at the same moment. controllers=True: one ansible-playbook process per writer (eight controllers).
    """
    os.makedirs(workdir, exist_ok=True)
    marker = f"AnsiballZ_{module.rsplit('.', 1)[-1]}"
    with ProcessSampler() as sampler:
        sampler.count(marker)
        if controllers:
            started = [_start(workdir, i, module, args) for i, args in enumerate(args_list)]
            outputs = [proc.communicate(timeout=600)[0] for proc, _results in started]
        else:
            hosts = {f"writer{i}": {"writer_args": args, "ansible_connection": "local", "ansible_python_interpreter": sys.executable}
                     for i, args in enumerate(args_list)}
            keys = sorted({key for args in args_list for key in args})
            records, output, returncode = run_plays(
                workdir, [{"hosts": "writers", "gather_facts": False, "strategy": "free", "tasks": [
                    {"name": "write", module: {key: f"{{{{ writer_args[{key!r}] | default(omit) }}}}" for key in keys}}]}],
                inventory={"all": {"children": {"writers": {"hosts": hosts}}}}, forks=len(args_list))
            assert returncode == 0, output
            return [TaskResult(by_task(records, f"writer{i}")["write"]) for i in range(len(args_list))], \
                sampler.max_concurrent[marker]
    results = []
    for (proc, results_file), output in zip(started, outputs):
        assert proc.returncode == 0, output
        with open(results_file, encoding="utf-8") as handle:
            results.append(TaskResult([json.loads(line) for line in handle][-1]))
    return results, sampler.max_concurrent[marker]


def assert_overlapped(concurrent: int) -> None:
    assert concurrent >= 2, f"the module runs did not overlap (at most {concurrent} alive at once): the test proved nothing"


# --- endpoint_certificate -------------------------------------------------------------------------------------


def _certificate_round(tmp_path, node, certs, *, gateway: bool, store=None, store_type=None):
    args_list = []
    for index, cert in enumerate(certs):
        args = {"alias": f"writer{index}", "certificate": pem(cert)}
        if gateway:
            args["apim_home"] = node["home"]
        else:
            args.update(path=store, password="Conc-Store-pw", store_type=store_type)
        args_list.append(args)
    results, concurrent = run_parallel(str(tmp_path / "runs"), "apim.certificates.endpoint_certificate", args_list)
    for index, result in enumerate(results):
        assert not result.failed and result.changed, result
        assert [r["action"] for r in result["results"]] == ["added"], result
        assert result["results"][0]["fingerprint"] == sha256(certs[index])
    return concurrent


def test_eight_processes_add_eight_certificates_to_one_gateway(tmp_path):
    node = inp.gateway_home(str(tmp_path / "wso2am"))
    before = {role: ts.load_truststore(node[role], "wso2carbon").fingerprints() for role in ("live", "persistent")}
    xml_mtime = os.stat(node["sslprofiles"]).st_mtime
    modes = {role: os.stat(node[role]).st_mode for role in ("live", "persistent", "sslprofiles")}

    concurrent = _certificate_round(tmp_path, node, CERTS[:WRITERS], gateway=True)

    expected = {f"writer{i}": sha256(cert) for i, cert in enumerate(CERTS[:WRITERS])}
    for role in ("live", "persistent"):
        store = ts.load_truststore(node[role], "wso2carbon", "JKS")  # parses, with its integrity hash checked
        assert store.fingerprints() == {**before[role], **expected}, f"the {role} truststore lost an update"
    assert os.stat(node["sslprofiles"]).st_mtime > xml_mtime, "sslprofiles.xml was not touched"
    assert {role: os.stat(node[role]).st_mode for role in modes} == modes
    assert not [n for n in os.listdir(node["security"]) if n.endswith(".tmp")], "a temp file was left behind"
    assert_overlapped(concurrent)


@long_variant
def test_eight_processes_per_store_type_many_rounds(tmp_path):
    for store_type in ("JKS", "JCEKS", "PKCS12"):
        store = inp.seed_store(str(tmp_path / f"shared.{store_type.lower()}"), "Conc-Store-pw", store_type)
        expected = ts.load_truststore(store, "Conc-Store-pw").fingerprints()
        for round_number in range(3):
            certs = [make_cert(f"r{round_number}-w{i}.test", key_kind="ec")[0] for i in range(WRITERS)]
            args = [{"path": store, "password": "Conc-Store-pw", "store_type": store_type, "alias": f"r{round_number}-w{i}",
                     "certificate": pem(cert)} for i, cert in enumerate(certs)]
            results, concurrent = run_parallel(str(tmp_path / f"runs-{store_type}-{round_number}"),
                                               "apim.certificates.endpoint_certificate", args, controllers=True)
            assert all(r.changed and not r.failed for r in results), results
            assert_overlapped(concurrent)
            expected.update({f"r{round_number}-w{i}": sha256(cert) for i, cert in enumerate(certs)})
            assert ts.load_truststore(store, "Conc-Store-pw", store_type).fingerprints() == expected


# --- ssl_profile ----------------------------------------------------------------------------------------------


def _profiles(tmp_path, count, offset=0):
    stores = tmp_path / "backend-stores"
    stores.mkdir(exist_ok=True)
    truststore = inp.seed_store(str(stores / "backends-truststore.jks"), "Conc-Trust-pw")
    keystore = inp.pkcs12_keystore(str(stores / "backends-client.p12"), "client", "Conc-Key-pw")
    return [{"servers": f"backend{offset + i}.internal:{8443 + i}",
             "keystore": {"location": keystore, "type": "PKCS12", "password": "Conc-Key-pw"},
             "truststore": {"location": truststore, "password": "Conc-Trust-pw"}} for i in range(count)]


def _check_gateway_files(node, original_toml: str, wanted: list) -> None:
    text = open(node["deployment_toml"], encoding="utf-8").read()
    document = toml_loads(text)  # valid TOML
    customs = document["keystore"]["ssl_profile"]["custom"]
    assert sorted(c["servers"] for c in customs) == sorted(p["servers"] for p in wanted), "a profile was lost"
    for entry in customs:
        assert entry["truststore"]["password"] == "Conc-Trust-pw" and entry["keystore"]["key_password"] == "Conc-Key-pw"
    assert text.startswith(original_toml), "a byte before the appended profiles changed"
    root = ET.parse(node["sslprofiles"]).getroot()  # well-formed XML
    xml_profiles = [(p.findtext("servers"), p.find("TrustStore").findtext("Location")) for p in root.findall("profile")]
    assert xml_profiles[0] == ("*", node["live"]), "the 4.x live truststore of the default profile was not kept"
    assert xml_profiles[1:] == [(c["servers"], c["truststore"]["location"]) for c in customs], \
        "sslprofiles.xml does not say what deployment.toml says"


def test_eight_processes_add_eight_ssl_profiles_to_one_deployment_toml(tmp_path):
    node = inp.gateway_home(str(tmp_path / "wso2am"))
    original = open(node["deployment_toml"], encoding="utf-8").read()
    profiles = _profiles(tmp_path, WRITERS)
    results, concurrent = run_parallel(str(tmp_path / "runs"), "apim.certificates.ssl_profile",
                                       [{"apim_home": node["home"], "custom_profiles": [p]} for p in profiles])
    for profile, result in zip(profiles, results):
        assert not result.failed and result.changed, result
        assert result["actions"][profile["servers"]] == "added"
    _check_gateway_files(node, original, profiles)
    assert not [n for folder in (node["conf"], node["security"]) for n in os.listdir(folder) if n.endswith(".tmp")]
    assert_overlapped(concurrent)


@long_variant
def test_ssl_profile_many_rounds(tmp_path):
    node = inp.gateway_home(str(tmp_path / "wso2am"))
    original = open(node["deployment_toml"], encoding="utf-8").read()
    wanted = []
    for round_number in range(4):
        profiles = _profiles(tmp_path, WRITERS, offset=round_number * WRITERS)
        results, concurrent = run_parallel(str(tmp_path / f"runs-{round_number}"), "apim.certificates.ssl_profile",
                                           [{"apim_home": node["home"], "custom_profiles": [p]} for p in profiles],
                                           controllers=True)
        assert all(r.changed and not r.failed for r in results), results
        assert_overlapped(concurrent)
        wanted += profiles
        _check_gateway_files(node, original, wanted)
