from __future__ import annotations

import multiprocessing
import os
import pathlib
import shutil
import stat
import tempfile

import pytest

from ansible_collections.apim.certificates.plugins.module_utils import _fileio as fileio
from ansible_collections.apim.certificates.plugins.module_utils import _truststore as ts
from ansible_collections.apim.certificates.plugins.module_utils._errors import FileWriteError
from ansible_collections.apim.certificates.tests.support.pki import make_cert, pem

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


# --- the privilege model: a gateway's files belong to the account its JVM runs as ---------------------------

SERVICE_UID, SERVICE_GID = 54321, 54321  # an account that need not exist: ownership is numbers on disk


@pytest.fixture
def open_dir():
    """A folder other accounts can reach (pytest's tmp_path sits under a 0700 folder of root's)."""
    folder = tempfile.mkdtemp(prefix="apim-fileio-")
    os.chmod(folder, 0o755)
    yield pathlib.Path(folder)
    shutil.rmtree(folder, ignore_errors=True)


def _as_account(uid: int, gid: int, function, *args):
    """Run function(*args) in a child process that runs as uid/gid (as become_user would); return what it
    returned or the text of the FileWriteError it raised."""
    def child(queue):
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
        try:
            queue.put(("ok", function(*args)))
        except FileWriteError as exc:
            queue.put(("error", str(exc)))
    queue = multiprocessing.get_context("fork").Queue()
    process = multiprocessing.get_context("fork").Process(target=child, args=(queue,))
    process.start()
    outcome = queue.get(timeout=30)
    process.join(30)
    return outcome


@pytest.mark.skipif(not IS_ROOT, reason="giving files to another account needs root")
def test_a_new_store_gets_the_owner_of_the_folders_stores_not_roots(tmp_path):
    security = tmp_path / "security"
    security.mkdir()
    stock = security / "client-truststore.jks"
    stock.write_bytes(b"stock")
    os.chown(stock, SERVICE_UID, SERVICE_GID)
    fileio.write_atomic(str(security / "client-truststore-temp.jks"), b"new")
    st = (security / "client-truststore-temp.jks").stat()
    assert (st.st_uid, st.st_gid) == (SERVICE_UID, SERVICE_GID)
    assert stat.S_IMODE(st.st_mode) == 0o600


@pytest.mark.skipif(not IS_ROOT, reason="giving files to another account needs root")
def test_an_existing_file_keeps_owner_group_and_mode_when_root_writes_it(tmp_path):
    path = tmp_path / "client-truststore.jks"
    path.write_bytes(b"old")
    os.chown(path, SERVICE_UID, SERVICE_GID)
    os.chmod(path, 0o640)
    backup = fileio.write_atomic(str(path), b"new", backup=True)
    for name in (path, backup):
        st = os.stat(name)
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (SERVICE_UID, SERVICE_GID, 0o640)


@pytest.mark.skipif(not IS_ROOT, reason="switching accounts needs root")
def test_an_account_that_cannot_write_is_told_which_file_which_account_and_what_to_do(open_dir):
    os.chmod(open_dir, 0o755)
    path = open_dir / "client-truststore.jks"
    path.write_bytes(b"old")
    os.chmod(path, 0o644)  # readable by everyone, writable by root only
    for function in (fileio.write_problem, fileio.write_atomic):
        args = (str(path),) if function is fileio.write_problem else (str(path), b"new")
        kind, text = _as_account(SERVICE_UID, SERVICE_GID, function, *args)
        message = text if kind == "error" else text
        assert str(path) in message and "permission denied for the account uid 54321" in message
        assert "become: true" in message
    assert path.read_bytes() == b"old"


@pytest.mark.skipif(not IS_ROOT, reason="switching accounts needs root")
def test_the_owner_can_write_and_touch_its_files(open_dir):
    os.chown(open_dir, SERVICE_UID, SERVICE_GID)
    path = open_dir / "client-truststore.jks"
    path.write_bytes(b"old")
    os.chown(path, SERVICE_UID, SERVICE_GID)
    assert _as_account(SERVICE_UID, SERVICE_GID, fileio.write_problem, str(path)) == ("ok", None)
    assert _as_account(SERVICE_UID, SERVICE_GID, fileio.write_atomic, str(path), b"new")[0] == "ok"
    assert path.read_bytes() == b"new" and path.stat().st_uid == SERVICE_UID
    before = path.stat().st_mtime
    assert _as_account(SERVICE_UID, SERVICE_GID, fileio.touch, str(path))[0] == "ok"
    assert path.stat().st_mtime > before


@pytest.mark.skipif(not IS_ROOT, reason="switching accounts needs root")
def test_a_group_writer_may_not_replace_another_accounts_file(open_dir):
    """Replacing through a rename would make the file the writer's: refused, naming the owner to become."""
    os.chown(open_dir, 0, SERVICE_GID)
    os.chmod(open_dir, 0o775)
    path = open_dir / "client-truststore.jks"
    path.write_bytes(b"old")
    os.chown(path, 0, SERVICE_GID)
    os.chmod(path, 0o664)
    kind, text = _as_account(SERVICE_UID + 1, SERVICE_GID, fileio.write_atomic, str(path), b"new")
    assert kind == "error" and "become_user" not in text and "keep its owner" in text
    assert path.read_bytes() == b"old" and path.stat().st_uid == 0
