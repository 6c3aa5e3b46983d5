# -*- coding: utf-8 -*-
# Copyright: apim.certificates contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one way this collection writes a file.

A temp file in the destination directory (so the final rename is atomic on the same filesystem),
fsync of the data, the original's mode and owner carried over, an optional backup, an atomic rename,
and fsync of the directory. Read-modify-write happens under an advisory lock on the directory, so two
concurrent runs on one gateway never lose each other's update and never see a half-written file.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import stat
import tempfile
import threading
import time

from ansible_collections.apim.certificates.plugins.module_utils._errors import FileWriteError

DEFAULT_NEW_FILE_MODE = 0o600

# flock() locks belong to an open file description: a second flock() on another descriptor of the same
# directory inside this process would wait for ever. Keep one lock per directory and count re-entries.
_held_locks: dict = {}
_held_guard = threading.Lock()


def locked(path: str, timeout: float = 300.0):
    """Hold an exclusive advisory lock covering path (its directory) for the duration of the block.

    Locking the directory rather than the file survives the atomic rename (which replaces the file's
    inode) and leaves no lock file behind in the gateway's security folder.
    """
    return lock_directory(os.path.dirname(os.path.abspath(path)) or ".", timeout)


@contextlib.contextmanager
def lock_directory(directory: str, timeout: float = 300.0):
    """An exclusive advisory lock on directory, re-entrant within this process."""
    try:
        key = os.path.realpath(directory)
    except OSError:
        key = directory
    with _held_guard:
        held = _held_locks.get(key)
        if held is not None:
            held[1] += 1
    if held is not None:
        try:
            yield
        finally:
            with _held_guard:
                held[1] -= 1
        return

    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError as exc:
        raise FileWriteError(f"cannot open directory {directory} to lock it: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise FileWriteError(f"cannot lock directory {directory}: {exc.strerror}") from None
                if time.monotonic() > deadline:
                    raise FileWriteError(
                        f"another process has held the lock on {directory} for more than {timeout:.0f} s"
                    ) from None
                time.sleep(0.02)
        with _held_guard:
            _held_locks[key] = [fd, 1]
        try:
            yield
        finally:
            with _held_guard:
                del _held_locks[key]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def read_bytes(path: str, what: str = "file") -> bytes:
    """Read a whole file, turning every OS error into a message naming the file."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise FileWriteError(f"{what} {path} is a dangling symbolic link") from None
        raise FileWriteError(f"{what} {path} does not exist") from None
    except OSError as exc:
        raise FileWriteError(f"cannot read {what} {path}: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise FileWriteError(f"{what} {path} is a directory, not a file")
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise FileWriteError(f"cannot read {what} {path}: {exc.strerror}") from None


def backup_name(path: str) -> str:
    """Ansible's backup naming: <path>.<pid>.<timestamp>~ (never anything secret in it)."""
    stamp = time.strftime("%Y-%m-%d@%H:%M:%S", time.localtime())
    return f"{path}.{os.getpid()}.{stamp}~"


def write_atomic(path: str, data: bytes, *, backup: bool = False, new_mode: int = DEFAULT_NEW_FILE_MODE) -> str | None:
    """Replace path with data atomically. Returns the backup file's path, if one was made.

    An existing file keeps its mode and (where permitted) owner and group; a new file gets new_mode.
    On any failure the original file is untouched and the temp file is removed.
    """
    path = os.path.abspath(path)
    target = os.path.realpath(path)  # write through a symlink, keep the link
    directory = os.path.dirname(target)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise FileWriteError(f"cannot stat {path}: {exc.strerror}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise FileWriteError(f"{path} is a directory, not a file")
    if not os.path.isdir(directory):
        raise FileWriteError(f"directory {directory} does not exist")

    backup_file = None
    tmp_path = None
    try:
        fd, tmp_path = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise FileWriteError(f"cannot create a temporary file in {directory}: {exc.strerror}") from None
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if st is not None:
                os.chmod(tmp_path, stat.S_IMODE(st.st_mode))
                if hasattr(os, "chown"):
                    with contextlib.suppress(PermissionError):
                        os.chown(tmp_path, st.st_uid, st.st_gid)
            else:
                os.chmod(tmp_path, new_mode)
            if backup and st is not None:
                backup_file = backup_name(path)
                shutil.copy2(target, backup_file)
            os.replace(tmp_path, target)
            tmp_path = None
        except OSError as exc:
            reason = exc.strerror or str(exc)
            if exc.errno == errno.ENOSPC:
                reason = "no space left on device"
            raise FileWriteError(f"cannot write {path}: {reason}; the file was left as it was") from None
        with contextlib.suppress(OSError):
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    finally:
        if tmp_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_path)
    return backup_file


def touch(path: str) -> float:
    """Advance path's modification time (what the gateway's SSL profile watcher polls). Returns the new mtime."""
    try:
        before = os.stat(path).st_mtime
        now = time.time()
        # The watcher compares timestamps; guarantee a strictly newer one even on coarse filesystems.
        new = max(now, before + 1.0)
        os.utime(path, (new, new))
        return new
    except OSError as exc:
        raise FileWriteError(f"cannot touch {path}: {exc.strerror}") from None
