"""The modules against a store that a running gateway rewrites in place (issue 22, item 6).

A 4.x gateway stores its live truststore itself when a Publisher event or an API revision reaches it:
``new FileOutputStream(store)`` (the file is truncated) and then ``KeyStore.store``, in place and without our lock
(``../shared/docs/mutual-tls.md``, last section). Here a separate process does the same to one store in a loop
(load what is there, truncate, write it back in small chunks) while one ansible-playbook runs truststore_info and
endpoint_certificate against it. Every read must succeed (a read that meets the store half-written reads again),
every add must end in the store, and no task may fail or show a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.tests.integration.reliability import _inputs as inp
from ansible_collections.apim.certificates.tests.integration.reliability._support import by_task, play, run_plays, task, unhandled
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem, sha256

PW = "writer-Store-pw1"
NEW = [make_cert(f"during-gateway-writes{i}.test", key_kind="ec")[0] for i in range(4)]

# The gateway: every 50 ms, load the store as it is now and write it back in place, 256 bytes at a time (a few ms
# per write, so the modules' reads often meet it half-written). Counts its writes in a file.
WRITER = r"""
import os, sys, time
path, counter, stop = sys.argv[1:4]
writes = 0
while not os.path.exists(stop):
    with open(path, "rb") as handle:
        data = handle.read()
    if data and len(data) > 24:
        with open(path, "r+b") as handle:
            handle.truncate(0)
            for start in range(0, len(data), 256):
                handle.write(data[start:start + 256])
                handle.flush()
                time.sleep(0.001)
        writes += 1
        with open(counter, "w") as handle:
            handle.write(str(writes))
    time.sleep(0.05)
"""


def test_modules_read_and_write_a_store_the_gateway_rewrites_in_place(tmp_path):
    path = inp.seed_store(str(tmp_path / "store" / "client-truststore.jks"), PW, "JKS",
                          [(f"stock{i}", make_cert(f"stock{i}.test")[0]) for i in range(12)])
    before = ts.load_truststore(path, PW).fingerprints()
    counter, stop = str(tmp_path / "writes"), str(tmp_path / "stop")
    writer = subprocess.Popen([sys.executable, "-c", WRITER, path, counter, stop])
    try:
        tasks = []
        for index, cert in enumerate(NEW):
            tasks.append(task(f"info{index}", "apim.certificates.truststore_info", {"path": path, "password": PW}))
            tasks.append(task(f"add{index}", "apim.certificates.endpoint_certificate",
                              {"path": path, "password": PW, "alias": f"added{index}", "certificate": pem(cert)}))
        records, output, _rc = run_plays(tmp_path / "play", [play(tasks)])
    finally:
        open(stop, "w").close()
        writer.wait(30)
    writes = int(open(counter).read()) if os.path.exists(counter) else 0
    assert writes >= 10, f"the gateway stand-in wrote the store only {writes} times: it did not overlap the modules"
    results = by_task(records)
    for name, result in results.items():
        assert not unhandled(result), f"{name}: unhandled exception:\n{output}"
        assert not result.get("failed"), f"{name} failed while the gateway wrote the store: {result.get('msg')}"
    for index in range(len(NEW)):
        assert results[f"add{index}"]["changed"], f"add{index} reported no change: {results[f'add{index}']}"
        listed = {entry["alias"] for entry in results[f"info{index}"]["entries"]}
        assert set(before) | {f"added{i}" for i in range(index)} == listed
    time.sleep(0.1)
    assert ts.load_truststore(path, PW).fingerprints() == {**before, **{f"added{i}": sha256(c) for i, c in enumerate(NEW)}}
