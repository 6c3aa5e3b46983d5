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
# The files a gateway's security folder holds that a new store takes its owner from.
_STORE_SUFFIXES = (".jks", ".jceks", ".p12", ".pfx", ".ks", ".keystore", ".truststore", ".xml")


def _account(uid: int) -> str:
    try:
        import pwd  # pylint: disable=import-outside-toplevel

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return f"uid {uid}"


def _group(gid: int) -> str:
    try:
        import grp  # pylint: disable=import-outside-toplevel

        return grp.getgrgid(gid).gr_name
    except (ImportError, KeyError):
        return f"gid {gid}"


def running_account() -> str:
    """The account this process runs as (what become / become_user gave the module)."""
    return _account(os.geteuid())


def _owner_of(path: str) -> str | None:
    try:
        return _account(os.stat(path).st_uid)
    except OSError:
        return None


def denied(verb: str, what: str, path: str, owner_of: str | None = None) -> str:
    """The message for a permission failure: the file, the account, and what to do."""
    owner = None
    candidate = os.path.abspath(owner_of or path)
    while owner is None and candidate not in ("", os.sep):
        owner = _owner_of(candidate)  # the file, else the nearest folder on its way this account can see
        candidate = os.path.dirname(candidate)
    account = running_account()
    advice = "run the task with become: true (root)"
    if owner and owner != account and owner != "root":
        advice += f", or with become: true and become_user: {owner} (the account that owns it)"
    owned = f" (owned by {owner})" if owner else ""
    return f"cannot {verb} {what} {path}{owned}: permission denied for the account {account}; {advice}"


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
    except PermissionError:
        raise FileWriteError(denied("open (to lock it)", "directory", directory)) from None
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
        if exc.errno == errno.EACCES:
            raise FileWriteError(denied("read", what, path)) from None
        raise FileWriteError(f"cannot read {what} {path}: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise FileWriteError(f"{what} {path} is a directory, not a file")
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        if exc.errno == errno.EACCES:
            raise FileWriteError(denied("read", what, path)) from None
        raise FileWriteError(f"cannot read {what} {path}: {exc.strerror}") from None


def backup_name(path: str) -> str:
    """Ansible's backup naming: <path>.<pid>.<timestamp>~ (never anything secret in it)."""
    stamp = time.strftime("%Y-%m-%d@%H:%M:%S", time.localtime())
    return f"{path}.{os.getpid()}.{stamp}~"


def new_file_owner(directory: str) -> tuple | None:
    """(uid, gid) a new file in directory gets: those of the folder's existing stores, else of the folder itself.

    A gateway's files belong to the account the JVM runs as; a store created by a task run as root must not be
    root's, or the gateway could not read it. None when this process cannot give files away (not root).
    """
    if not hasattr(os, "chown") or os.geteuid() != 0:
        return None
    counts: dict = {}
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name.lower().endswith(_STORE_SUFFIXES) and entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    counts[(st.st_uid, st.st_gid)] = counts.get((st.st_uid, st.st_gid), 0) + 1
        if counts:
            return max(counts, key=lambda owner: counts[owner])
        st = os.stat(directory)
        return st.st_uid, st.st_gid
    except OSError:
        return None


def write_problem(path: str, what: str = "file") -> str | None:
    """Why write_atomic(path) would fail for lack of permission, else None. Writes nothing: check mode uses it
    to report the failure the real run would hit."""
    path = os.path.abspath(path)
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        return f"directory {directory} does not exist"
    effective = os.access in os.supports_effective_ids
    if not os.access(directory, os.W_OK | os.X_OK | os.R_OK, effective_ids=effective):
        return denied("write", what, path, owner_of=target if os.path.exists(target) else directory)
    try:
        st = os.stat(target)
    except OSError:
        return None
    if os.geteuid() == 0 and not os.access(target, os.W_OK, effective_ids=effective):
        # root may write anything but an immutable file or one on a read-only filesystem
        return f"cannot write {path}: Operation not permitted; the file was left as it was"
    if os.geteuid() != 0 and st.st_uid != os.geteuid():
        return denied("write", what, path) + " (only root or its owner can keep its owner when replacing it)"
    if os.geteuid() != 0 and st.st_gid != os.getegid() and st.st_gid not in os.getgroups():
        return denied("write", what, path) + f" (it belongs to group {_group(st.st_gid)}, which the account is not in)"
    return None


def write_atomic(path: str, data: bytes, *, backup: bool = False, new_mode: int = DEFAULT_NEW_FILE_MODE) -> str | None:
    """Replace path with data atomically. Returns the backup file's path, if one was made.

    An existing file keeps its mode, owner and group (the write is refused when they cannot be kept); a new file
    gets new_mode and the owner and group of the folder's existing stores (see new_file_owner).
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
        if exc.errno == errno.EACCES:
            raise FileWriteError(denied("write", "file", path, owner_of=directory)) from None
        raise FileWriteError(f"cannot stat {path}: {exc.strerror}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise FileWriteError(f"{path} is a directory, not a file")
    if not os.path.isdir(directory):
        raise FileWriteError(f"directory {directory} does not exist")
    problem = write_problem(path)
    if problem:
        raise FileWriteError(problem)

    backup_file = None
    tmp_path = None
    try:
        fd, tmp_path = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        if exc.errno == errno.EACCES:
            raise FileWriteError(denied("write", "file", path, owner_of=directory)) from None
        raise FileWriteError(f"cannot create a temporary file in {directory}: {exc.strerror}") from None
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if st is not None:
                os.chmod(tmp_path, stat.S_IMODE(st.st_mode))
                owner = (st.st_uid, st.st_gid)
            else:
                os.chmod(tmp_path, new_mode)
                owner = new_file_owner(directory)
            if owner is not None and hasattr(os, "chown"):
                tmp_st = os.stat(tmp_path)
                if (tmp_st.st_uid, tmp_st.st_gid) != owner:
                    os.chown(tmp_path, *owner)
            if backup and st is not None:
                backup_file = backup_name(path)
                shutil.copy2(target, backup_file)
                if hasattr(os, "chown") and os.geteuid() == 0:
                    os.chown(backup_file, st.st_uid, st.st_gid)
            os.replace(tmp_path, target)
            tmp_path = None
        except OSError as exc:
            if exc.errno == errno.EACCES:
                raise FileWriteError(denied("write", "file", path) + "; the file was left as it was") from None
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


def touch_problem(path: str) -> str | None:
    """Why touch(path) would fail for lack of permission, else None (check mode)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if os.geteuid() in (0, st.st_uid):
        return None
    effective = os.access in os.supports_effective_ids
    if os.access(path, os.W_OK, effective_ids=effective):
        return None  # the time can be set to now, which is what the gateway needs
    return denied("touch", "file", path)


def touch(path: str) -> float:
    """Advance path's modification time (what the gateway's SSL profile watcher polls). Returns the new mtime."""
    try:
        before = os.stat(path).st_mtime
        now = time.time()
        # The watcher compares timestamps; guarantee a strictly newer one even on coarse filesystems.
        new = max(now, before + 1.0)
        try:
            os.utime(path, (new, new))
        except PermissionError:
            # Only the owner (or root) may set a given time; an account that may write the file may set "now".
            if now <= before:
                raise
            os.utime(path, None)
            new = os.stat(path).st_mtime
        return new
    except PermissionError:
        raise FileWriteError(denied("touch", "file", path)) from None
    except OSError as exc:
        raise FileWriteError(f"cannot touch {path}: {exc.strerror}") from None
