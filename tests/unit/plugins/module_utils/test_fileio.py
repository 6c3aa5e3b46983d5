from __future__ import annotations

import multiprocessing
import os
import stat

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _fileio as fileio
from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.plugins.module_utils._errors import FileWriteError
from tests.support.pki import make_cert, pem

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def test_new_file_is_private_and_existing_mode_is_kept(tmp_path):
    path = tmp_path / "f.bin"
    fileio.write_atomic(str(path), b"one")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    os.chmod(path, 0o644)
    fileio.write_atomic(str(path), b"two")
    assert path.read_bytes() == b"two"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]  # no temp file left


def test_write_through_symlink_keeps_the_link(tmp_path):
    real = tmp_path / "real.jks"
    real.write_bytes(b"old")
    link = tmp_path / "link.jks"
    link.symlink_to(real)
    fileio.write_atomic(str(link), b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_backup_copy(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")
    backup = fileio.write_atomic(str(path), b"new", backup=True)
    assert open(backup, "rb").read() == b"old"
    assert backup.startswith(str(path) + ".") and backup.endswith("~")


def test_failure_leaves_the_original(tmp_path, monkeypatch):
    path = tmp_path / "f.bin"
    path.write_bytes(b"original")

    def no_space(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(FileWriteError, match="no space left on device; the file was left as it was"):
        fileio.write_atomic(str(path), b"new")
    assert path.read_bytes() == b"original"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]


@pytest.mark.skipif(IS_ROOT, reason="root ignores directory permissions, so a read-only directory cannot be simulated")
def test_read_only_directory(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"original")
    os.chmod(tmp_path, 0o555)
    try:
        with pytest.raises(FileWriteError, match="cannot create a temporary file"):
            fileio.write_atomic(str(path), b"new")
    finally:
        os.chmod(tmp_path, 0o755)


def test_missing_directory(tmp_path):
    with pytest.raises(FileWriteError, match="does not exist"):
        fileio.write_atomic(str(tmp_path / "no" / "f.bin"), b"x")


def test_lock_is_reentrant_in_one_process(tmp_path):
    with fileio.locked(str(tmp_path / "a")):
        with fileio.locked(str(tmp_path / "b")):
            pass


def test_touch_always_advances(tmp_path):
    path = tmp_path / "sslprofiles.xml"
    path.write_text("<x/>")
    future = path.stat().st_mtime + 100
    os.utime(path, (future, future))
    assert fileio.touch(str(path)) > future


def _add_one(args):
    path, index, cert_pem = args
    from ansible_collections.apim.certificates.plugins.module_utils._certificates import parse_certificates

    cert = parse_certificates(cert_pem)[0]
    ts.converge_truststore(path, "changeit", [ts.DesiredCertificate(f"writer{index}", "present", cert)])


def test_concurrent_writers_lose_nothing(tmp_path):
    path = str(tmp_path / "shared.jks")
    seed = make_cert("seed.test")[0]
    ts.converge_truststore(path, "changeit", [ts.DesiredCertificate("seed", "present", seed)], create=True)
    jobs = [(path, i, pem(make_cert(f"writer{i}.test")[0])) for i in range(8)]
    with multiprocessing.get_context("fork").Pool(8) as pool:
        pool.map(_add_one, jobs)
    store = ts.load_truststore(path, "changeit")
    assert set(store.entries) == {"seed"} | {f"writer{i}" for i in range(8)}
