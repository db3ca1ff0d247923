"""One cluster node: its state directory, its configuration files, its init, commands inside it.

A node is ``unshare --net --mount --uts --ipc --pid --fork --mount-proc sh init.sh ...``: the init
(PID 1 of the node) gives the node its own /run, /dev/shm and, by bind mounts, its own
/etc/corosync, /etc/pacemaker, /var/lib/pacemaker, /var/log/... from the node's directory under the
run directory, and the run's OCF tree of stand-in agents over /usr/lib/ocf/resource.d. It then waits
for its network (the ``go`` file), starts corosync and pacemakerd, and reaps orphans until TERM.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ...errors import HarnessError
from ...procs import Proc, children
from ...runner import Result, run, spawn
from .netns import Plan

# Cluster options that make formation fast (dc-deadtime), a cluster without fencing usable, and
# keep the controller from throttling its actions when the shared host is busy (load-threshold):
# none of them plays a part in the scheduler's choice between migration and stop/start.
BASE_OPTIONS = {
    "stonith-enabled": "false",
    "dc-deadtime": "300ms",
    "cluster-recheck-interval": "1min",
    "load-threshold": "10000%",
}

INIT = r"""#!/bin/sh
# PID 1 of a migration-harness local-tier node. Arguments: hostname nodedir ocfdir standindir.
set -eu
name=$1 dir=$2 ocf=$3 standin=$4
hostname "$name"
mount --make-rprivate /
bind() { mount --bind "$1" "$2"; }
bind "$dir/etc-corosync" /etc/corosync
bind "$dir/etc-pacemaker" /etc/pacemaker
bind "$dir/var-lib-pacemaker" /var/lib/pacemaker
bind "$dir/var-lib-corosync" /var/lib/corosync
bind "$dir/log-pacemaker" /var/log/pacemaker
bind "$dir/log-corosync" /var/log/corosync
bind "$dir/log-crmsh" /var/log/crmsh
bind "$dir/hosts" /etc/hosts
bind "$dir/hostname" /etc/hostname
bind "$ocf" /usr/lib/ocf/resource.d
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/lock /run/crm /run/resource-agents /run/harness-standin /run/harness-standin-state
bind "$standin" /run/harness-standin
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
echo "$$" > "$dir/init.pid"
# Until the harness has recorded this node and linked it; a run directory removed meanwhile (its
# owner killed, then `clean`) means nobody will: leave, and the PID namespace goes with us.
while [ ! -e "$dir/go" ]; do [ -d "$dir" ] || exit 1; sleep 0.02; done
children=""
stop() {
    # Clean shutdown: pacemakerd stops its resources and daemons, then corosync goes.
    [ -n "${pcmk:-}" ] && kill -TERM "$pcmk" 2>/dev/null && wait "$pcmk" 2>/dev/null || true
    [ -n "${coro:-}" ] && kill -TERM "$coro" 2>/dev/null && wait "$coro" 2>/dev/null || true
    exit 0
}
trap stop TERM INT
corosync -f > "$dir/corosync.out" 2>&1 &
coro=$!
i=0
until corosync-cfgtool -s > /dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -gt 500 ] && { echo "corosync did not start" >&2; exit 1; }
    sleep 0.02
done
PCMK_logfile=/var/log/pacemaker/pacemaker.log pacemakerd > "$dir/pacemakerd.out" 2>&1 &
pcmk=$!
echo "$coro $pcmk" > "$dir/daemons.pid"
# Reap orphans; a removed run directory means the run is over: stop hard (the kernel kills every
# process of the PID namespace when its init exits).
while [ -d "$dir" ]; do sleep 1 & wait $! || true; done
exit 1
"""


@dataclass(frozen=True)
class NodeDirs:
    root: Path  # <run>/<node>

    SUBDIRS = (
        "etc-corosync",
        "etc-pacemaker",
        "var-lib-pacemaker",
        "var-lib-corosync",
        "log-pacemaker",
        "log-corosync",
        "log-crmsh",
        "home",
    )

    @property
    def cib_dir(self) -> Path:
        return self.root / "var-lib-pacemaker" / "cib"

    @property
    def pengine(self) -> Path:
        return self.root / "var-lib-pacemaker" / "pengine"

    @property
    def pacemaker_log(self) -> Path:
        return self.root / "log-pacemaker" / "pacemaker.log"

    @property
    def corosync_log(self) -> Path:
        return self.root / "log-corosync" / "corosync.log"


def prepare(dirs: NodeDirs, plan: Plan, node: str, authkey: Path, seed_cib: Path) -> None:
    """Write the node's state directory: corosync.conf, key, a seeded CIB, hosts, ownerships."""
    hacluster, haclient = pwd.getpwnam("hacluster").pw_uid, grp.getgrnam("haclient").gr_gid
    for sub in NodeDirs.SUBDIRS:
        (dirs.root / sub).mkdir(parents=True, exist_ok=True)
    for sub in ("cib", "pengine", "blackbox", "cores"):
        path = dirs.root / "var-lib-pacemaker" / sub
        path.mkdir(exist_ok=True)
        _own(path, hacluster, haclient, 0o750)
    _own(dirs.root / "var-lib-pacemaker", hacluster, haclient, 0o750)
    _own(dirs.root / "log-pacemaker", hacluster, haclient, 0o770)
    _own(dirs.root / "log-crmsh", hacluster, haclient, 0o775)
    (dirs.root / "etc-corosync" / "corosync.conf").write_text(corosync_conf(plan))
    key = dirs.root / "etc-corosync" / "authkey"
    shutil.copyfile(authkey, key)
    os.chmod(key, 0o400)
    (dirs.root / "hosts").write_text(
        "127.0.0.1 localhost\n" + "".join(f"{plan.address(n)} {n}\n" for n in plan.node_names)
    )
    (dirs.root / "hostname").write_text(node + "\n")
    (dirs.root / "init.sh").write_text(INIT)
    reset_cib(dirs, seed_cib)


def reset_cib(dirs: NodeDirs, seed_cib: Path) -> None:
    """Install the seed CIB, dropping any CIB history a previous life of this node left."""
    hacluster, haclient = pwd.getpwnam("hacluster").pw_uid, grp.getgrnam("haclient").gr_gid
    for old in dirs.cib_dir.iterdir():
        old.unlink()
    target = dirs.cib_dir / "cib.xml"
    shutil.copyfile(seed_cib, target)
    _own(target, hacluster, haclient, 0o600)
    for stale in ("go", "init.pid", "daemons.pid"):
        (dirs.root / stale).unlink(missing_ok=True)


def corosync_conf(plan: Plan) -> str:
    nodes = "".join(
        f"    node {{\n        ring0_addr: {plan.address(n)}\n        name: {n}\n        nodeid: {plan.index(n)}\n    }}\n"
        for n in plan.node_names
    )
    two_node = "    two_node: 1\n" if plan.nodes == 2 else ""
    return (
        "totem {\n    version: 2\n"
        f"    cluster_name: {plan.cluster_name}\n"
        "    transport: knet\n    crypto_cipher: aes256\n    crypto_hash: sha256\n"
        "    token: 1000\n}\n"
        f"nodelist {{\n{nodes}}}\n"
        f"quorum {{\n    provider: corosync_votequorum\n{two_node}}}\n"
        "logging {\n    to_logfile: yes\n    logfile: /var/log/corosync/corosync.log\n"
        "    to_syslog: no\n    to_stderr: no\n    timestamp: on\n}\n"
    )


def seed_cib(path: Path, options: dict[str, str]) -> None:
    """An empty CIB with the cluster options preset, so the first DC election is fast."""
    path.write_text(run(["cibadmin", "--empty"], what="create the seed CIB").stdout)
    for name, value in options.items():
        run(["crm_attribute", "-t", "crm_config", "-n", name, "-v", value], env={"CIB_file": str(path)})


def generate_key(path: Path) -> None:
    run(["corosync-keygen", "-l", "-k", str(path)], what="generate the cluster key")
    os.chmod(path, 0o400)


def start(dirs: NodeDirs, node: str, ocf: Path, standin: Path) -> tuple[Proc, Proc]:
    """Spawn the node; returns (the unshare process holding its namespaces, the node's init)."""
    proc = spawn(
        [
            "unshare",
            "--net",
            "--mount",
            "--uts",
            "--ipc",
            "--pid",
            "--fork",
            "--mount-proc",
            "--kill-child",
            "--",
            "sh",
            str(dirs.root / "init.sh"),
            node,
            str(dirs.root),
            str(ocf),
            str(standin),
        ],
        log_path=dirs.root / "init.out",
    )
    try:
        return _wait_init(proc, dirs, node)
    except BaseException:
        proc.kill()  # --kill-child takes the node's init, and with it the whole node, along
        proc.wait()
        raise


def _wait_init(proc: subprocess.Popen[bytes], dirs: NodeDirs, node: str) -> tuple[Proc, Proc]:
    holder = Proc.of(proc.pid)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise HarnessError(
                f"{node}: the node's init exited {proc.returncode} during start",
                hint=f"see {dirs.root / 'init.out'}",
            )
        kids = children(proc.pid)
        if kids and (dirs.root / "init.pid").exists():
            return holder, Proc.of(kids[0])
        time.sleep(0.01)
    raise HarnessError(f"{node}: the node's init did not come up in 10 s", hint=f"see {dirs.root / 'init.out'}")


def enter_argv(init: Proc, argv: list[str]) -> list[str]:
    """``argv`` as run inside the node: all of its namespaces, and a HOME of the node's own."""
    return ["nsenter", "-t", str(init.pid), "-n", "-m", "-u", "-i", "-p", "--", *argv]


def run_in(
    init: Proc,
    dirs: NodeDirs,
    argv: list[str],
    *,
    check: bool = True,
    timeout: float | None = 300,
    what: str | None = None,
    env: dict[str, str] | None = None,
) -> Result:
    """``argv`` inside the node, with a HOME of the node's own (crmsh writes its history there)."""
    full_env = {"HOME": str(dirs.root / "home"), "SETUPTOOLS_USE_DISTUTILS": "stdlib", **(env or {})}
    return run(enter_argv(init, argv), env=full_env, check=check, timeout=timeout, what=what)


def daemons(init: Proc) -> dict[str, int]:
    """Host PIDs of the node's corosync and pacemakerd, found under its init."""
    found: dict[str, int] = {}
    for pid in children(init.pid):
        name = _comm(pid)
        if name in {"corosync", "pacemakerd"}:
            found[name] = pid
    return found


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _own(path: Path, uid: int, gid: int, mode: int) -> None:
    os.chown(path, uid, gid)
    os.chmod(path, mode)
