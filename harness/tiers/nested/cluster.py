"""The nested tier's live cluster: N Xen dom0 nodes and an iSCSI SAN VM, behind the ``Lab`` interface.

Bring-up: box (cached or built) -> settings and secrets -> the run's own libvirtd in namespaces
(isolated mode, the default) -> ``vagrant up`` -> provisioning -> cluster formed -> snapshot
``formed``. ``restore()`` returns every VM to that snapshot in seconds and resets the guest clocks.
State lives in the RunDir, so ``status``/``exec``/``down``/``clean`` work from another process.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from ... import release
from ...errors import HarnessError, InputError
from ...rundir import RunDir
from ...runner import run
from ..base import Lab
from . import box, checks, hostcaps, provision, settings, vagrantctl
from . import front as front_mod
from .front import Front
from .isolation import Isolation
from .ssh import Endpoint, Node, parse_ssh_config

SNAPSHOT = "formed"


def dom0_release() -> str:
    """The Debian release of the dom0s: the active release (``--release``), the host's by default."""
    return release.active().name


def _print(line: str) -> None:
    print(line, flush=True)


class NestedLab(Lab):
    def __init__(self, rundir: RunDir) -> None:
        self.rundir = rundir
        data = rundir.data
        self.plan = settings.make_plan(rundir.id, int(data["nodes"]))
        self.isolation = Isolation.from_state(data["isolation"]) if data.get("isolation") else None
        # libvirt over SSH: Vagrant, virsh and the harness's SSH on the client side (front.py).
        self.front = Front.from_state(data["front"]) if data.get("front") else None
        self._nodes: dict[str, Node] = {}
        if self.front is not None:
            prefix = self.front.prefix(vagrantctl.REPO)
        elif self.isolation and self.isolation.holder:
            prefix = self.isolation.prefix(vagrantctl.REPO)
        else:
            prefix = []
        self.vagrant = vagrantctl.Vagrant(
            prefix,
            vagrantctl.environment(rundir.path, rundir.path / "settings.json"),
            rundir.path / "vagrant.log",
        )

    # --- bring-up -------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        nodes: int,
        rundir: RunDir,
        progress: Callable[[str], None] | None = None,
        dom0s: Mapping[str, str] | None = None,
    ) -> NestedLab:
        """``dom0s``: the release of each named dom0 (a mixed cluster, as in a rolling upgrade);
        every other machine, the SAN included, runs the active release (``dom0_release``)."""
        progress = progress or _print
        started = time.monotonic()
        plan = settings.make_plan(rundir.id, nodes)  # bad input fails before anything starts
        releases = settings.machine_releases(plan, dom0_release(), dom0s)
        over_ssh = front_mod.mode() == "ssh"
        hostcaps.sanity_check(isolated=True, over_ssh=over_ssh)
        cpu = hostcaps.detect()
        front = Front.for_run(rundir.id, rundir.path) if over_ssh else None
        reached = f"; libvirt over SSH: {front.uri()}" if front else ""
        progress(f"nested tier: {cpu.describe()}; run {rundir.id} in {rundir.path}{reached}")
        # One box per release the machines run, each built once (or found in the cache).
        packages = {r: box.build(r, xen=box.choose_xen(r), progress=progress) for r in dict.fromkeys(releases.values())}
        boxes = {m: packages[r].parent.name for m, r in releases.items()}
        box_name = boxes[settings.SAN]
        serial = rundir.path / "serial"
        serial.mkdir(exist_ok=True)
        (rundir.path / "settings.json").write_text(
            json.dumps(
                settings.vagrant_settings(
                    plan,
                    box=box_name,
                    boxes=boxes,
                    cpu_mode=cpu.mode,
                    serial_dir=serial,
                    libvirt_uri=front.uri() if front else None,
                    proxy_command=front.proxy_command() if front else None,
                ),
                indent=2,
            )
        )
        settings.write_secrets(rundir.path / "secrets", plan)
        isolation = Isolation.for_run(rundir.id, rundir.path)
        rundir.update(
            nodes=nodes,
            box=box_name,
            boxes=boxes,
            releases=releases,
            cpu=cpu.describe(),
            cpu_mode=cpu.mode,
            isolation=isolation.to_state(),
            snapshot=None,
            phase="starting",
        )
        try:
            isolation.start(lambda iso: rundir.update(isolation=iso.to_state(), pids=_pids(iso)))
            if front is not None:
                progress(f"[{time.monotonic() - started:6.1f}s] libvirt host: SSH on {front.address}")
                front.start(isolation, lambda f: rundir.update(front=f.to_state(), pids=_pids(isolation, f)))
            lab = cls(rundir)
            lab._bring_up({p.parent.name: p for p in packages.values()}, progress, started)
        except BaseException:
            if "lab" in locals():
                lab.collect_logs(rundir.path / "logs")
            progress(f"[{time.monotonic() - started:6.1f}s] bring-up failed: removing what run {rundir.id} started")
            cls._teardown(rundir, keep_dir=bool(os.environ.get("MIGRATION_HARNESS_KEEP")))
            raise
        return lab

    def _bring_up(self, packages: dict[str, Path], progress: Callable[[str], None], started: float) -> None:
        def phase(text: str) -> None:
            self.rundir.update(phase=text)
            progress(f"[{time.monotonic() - started:6.1f}s] {text}")

        phase(f"importing the box{'es' if len(packages) > 1 else ''} into Vagrant (once per box)")
        for name, package in packages.items():
            if vagrantctl.ensure_box(self.vagrant, name, package):
                progress(f"[{time.monotonic() - started:6.1f}s] box {name} imported")
        phase(f"vagrant up: {', '.join(self.plan.machines)} in parallel")
        vagrantctl.up(self.vagrant, progress, started)
        phase("SSH and Xen on every machine")
        for node in self.machines():
            node.client(wait=300)
            info = checks.xl_info(node.run(["xl", "info"], what=f"{node.name}: xl info").stdout)
            if not info.ok:
                raise HarnessError(f"{node.name}: {info.detail}")
            progress(f"[{time.monotonic() - started:6.1f}s] {node.name}: {info.detail}")
        files = settings.write_secrets(self.rundir.path / "secrets", self.plan)
        provision.provision(self.node(settings.SAN), self.nodes(), files, progress, started)
        phase("waiting for the cluster to form")
        self.wait_formed(timeout=600)
        phase(f"snapshot '{SNAPSHOT}' of every VM")
        self.snapshot_save(SNAPSHOT)
        self.rundir.update(snapshot=SNAPSHOT, phase="formed")
        progress(f"[{time.monotonic() - started:6.1f}s] cluster formed: {', '.join(self.plan.nodes)} + san")

    # --- attach and use -------------------------------------------------------------------

    @classmethod
    def attach(cls, rundir: RunDir) -> NestedLab:
        if rundir.data.get("tier") != "nested" or "nodes" not in rundir.data:
            raise InputError(f"{rundir.path}: not a nested-tier run")
        return cls(rundir)

    def releases(self) -> dict[str, str]:
        """The Debian release of every machine (runs from before per-node releases: the one box's)."""
        recorded = self.rundir.data.get("releases")
        if recorded:
            return dict(recorded)
        return dict.fromkeys(self.plan.machines, box_release(str(self.rundir.data.get("box", ""))))

    def identity(self) -> settings.Identity:
        """What a scenario needs of this cluster: its dom0s and the release of each."""
        releases = self.releases()
        return tuple((n, releases.get(n, "")) for n in self.plan.nodes)

    def machines(self) -> list[Node]:
        return [self.node(m) for m in self.plan.machines]

    def nodes(self) -> list[Node]:
        return [self.node(n) for n in self.plan.nodes]

    def node(self, name: str) -> Node:
        if name not in self.plan.machines:
            raise InputError(
                f"no machine {name!r} in run {self.rundir.id}", hint="machines: " + ", ".join(self.plan.machines)
            )
        if name not in self._nodes:
            # vagrant ssh-config costs seconds of Ruby start-up: ask once, keep it in the state.
            known = self.rundir.data.get("endpoints", {})
            if name in known:
                endpoint = Endpoint(
                    name, known[name]["host"], known[name]["port"], known[name]["user"], Path(known[name]["key"])
                )
            else:
                endpoint = parse_ssh_config(name, self.vagrant.conf(vm_name=name))
                known[name] = {
                    "host": endpoint.host,
                    "port": endpoint.port,
                    "user": endpoint.user,
                    "key": str(endpoint.key),
                }
                self.rundir.update(endpoints=known)
            connect = (
                self.front.connect if self.front else self.isolation.connect if self.isolation else _direct_connect
            )
            self._nodes[name] = Node(endpoint, connect)
        return self._nodes[name]

    def fresh_node(self, name: str) -> Node:
        """A second SSH session to a machine (for a thread of its own, e.g. polling)."""
        known = self.node(name)
        return Node(known.endpoint, known._connect)

    def wait_formed(self, timeout: float = 300) -> checks.Check:
        deadline = time.monotonic() + timeout
        first = self.nodes()[0]
        while True:
            out = first.run(["crm_mon", "-1", "--output-as=xml"], check=False).stdout
            check = checks.cluster_formed(out, list(self.plan.nodes))
            if check.ok:
                return check
            if time.monotonic() > deadline:
                raise HarnessError(f"cluster did not form in {timeout:.0f}s: {check.detail}")
            time.sleep(3)

    def _virsh(self, *args: str, what: str | None = None):
        """virsh on the run's libvirtd: over SSH from the client side when it is reached that way."""
        assert self.isolation is not None
        argv = self.front.virsh(*args) if self.front else self.isolation.virsh(*args)
        return run(argv, what=what, timeout=600)

    def _domains(self) -> list[str]:
        return self._virsh("list", "--all", "--name", what="list the run's VMs").stdout.split()

    def snapshots(self) -> list[str]:
        """The snapshots every VM of the run has: ``formed``, then one per prepared scenario. Asked
        of the run's libvirtd where there is one (another process attached to the run, e.g.
        `run --run DIR`, may have taken some); else as the run state records them."""
        recorded = list(self.rundir.data.get("snapshots", [SNAPSHOT] if self.rundir.data.get("snapshot") else []))
        if self.isolation is None or self.isolation.libvirtd is None:
            return recorded
        domains = self._domains()
        if not domains:
            return recorded
        names = self._virsh("snapshot-list", "--domain", domains[0], "--name", what="list snapshots").stdout.split()
        return [SNAPSHOT, *sorted(n for n in names if n != SNAPSHOT)] if SNAPSHOT in names else names

    def snapshot_save(self, name: str = SNAPSHOT) -> None:
        """Snapshot every VM at one instant: all paused, each saved, all resumed."""
        self._snapshot_save(name)
        known = self.snapshots()
        self.rundir.update(snapshots=[*known, name] if name not in known else known)

    def _snapshot_save(self, name: str) -> None:
        if self.isolation is None:
            self.vagrant.snapshot_save(name)  # another libvirtd: only Vagrant knows which VMs are ours
            return
        domains = self._domains()
        for domain in domains:
            self._virsh("suspend", domain, what=f"pause {domain}")
        try:
            for domain in domains:
                self._virsh("snapshot-create-as", "--domain", domain, "--name", name, what=f"snapshot {domain}")
        finally:
            for domain in domains:
                self._virsh("resume", domain, what=f"resume {domain}")

    def restore(self, name: str = SNAPSHOT) -> float:
        """Every VM back to the snapshot; clocks reset to the host's. Returns the seconds taken.

        Each VM is reverted paused and all resume together: reverted one after another while the
        others ran, the cluster would lose its token for the whole restore (a split and fencing
        once that exceeds token + consensus time, 22 s here).
        """
        started = time.monotonic()
        self.close()
        if self.isolation is None:
            self.vagrant.snapshot_restore(name)
        else:
            domains = self._domains()
            for domain in domains:
                self._virsh(
                    "snapshot-revert",
                    "--domain",
                    domain,
                    "--snapshotname",
                    name,
                    "--paused",
                    what=f"revert {domain} to snapshot {name}",
                )
            for domain in domains:
                self._virsh("resume", domain, what=f"resume {domain}")
        for node in self.machines():
            node.client(wait=60)
            # Guest clocks stop while saved: set them from the host (UTC seconds, no shell).
            node.run(["date", "-u", "-s", f"@{time.time():.3f}"])
        return time.monotonic() - started

    def status(self) -> str:
        data = self.rundir.data
        boxes, releases = data.get("boxes") or {}, self.releases()
        lines = [
            f"nested run {self.rundir.id} ({self.rundir.path}): {data.get('cpu', '')}",
            f"box {data.get('box')}, phase {data.get('phase')}, snapshots {', '.join(self.snapshots()) or 'none'}",
        ]
        if self.front is not None:
            lines.append(f"libvirt over SSH: {self.front.uri()} (from namespace {self.front.client_netns})")
        for st in self.vagrant.status():
            own = boxes.get(st.name, data.get("box"))
            lines.append(f"  {st.name:6} {st.state:12} {releases.get(st.name, '?'):9} box {own}")
        result = self.nodes()[0].run(["crm_mon", "-1"], check=False)
        lines.append(result.stdout.rstrip() or result.stderr.rstrip())
        return "\n".join(lines)

    def exec(self, node: str, argv: list[str]) -> int:
        return self.node(node).interactive(argv)

    def collect_logs(self, directory: Path) -> list[Path]:
        """Best effort: each reachable machine's journal of this boot into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        saved = []
        for name in self.rundir.data.get("endpoints", {}):
            try:
                out = (
                    self.node(name)
                    .run(["journalctl", "-b", "--no-pager", "-o", "short-monotonic"], check=False, timeout=120)
                    .stdout
                )
            except Exception:  # a dead VM must not hide the error that brought us here
                continue
            path = directory / f"{name}.journal"
            path.write_text(out)
            saved.append(path)
        return saved

    def close(self) -> None:
        for node in self._nodes.values():
            node.close()
        if self.front is not None:
            self.front.close()

    # --- teardown -------------------------------------------------------------------------

    def down(self) -> None:
        self.close()
        self._teardown(self.rundir)

    @classmethod
    def _teardown(cls, rundir: RunDir, keep_dir: bool = False) -> list[str]:
        removed: list[str] = []
        data = rundir.data
        if data.get("front"):
            front = Front.from_state(data["front"])
            removed += front.stop()
            rundir.update(front=front.to_state())
        if data.get("isolation"):
            isolation = Isolation.from_state(data["isolation"])
            # The whole libvirt state (domains, volumes, networks) is private to the run and
            # lives under its directory: killing the namespace's processes removes the VMs.
            removed += isolation.stop()
            rundir.update(isolation=isolation.to_state(), pids=[])
        if keep_dir:
            removed.append(f"kept {rundir.path} for inspection (MIGRATION_HARNESS_KEEP)")
        else:
            rundir.remove()
        return removed

    @classmethod
    def clean(cls, rundir: RunDir) -> list[str]:
        return cls._teardown(rundir, keep_dir=True)


def box_release(name: str) -> str:
    """The release in a box's name (``mh-<release>-xen<version>-<hash>``), "" if it has none."""
    parts = name.split("-")
    return parts[1] if len(parts) > 2 and parts[0] == "mh" else ""


def _pids(isolation: Isolation, front: Front | None = None) -> list[int]:
    started = [isolation.holder, isolation.libvirtd, isolation.virtlogd, front.dropbear if front else None]
    return [p for p in started if p]


def _direct_connect(host: str, port: int):
    import socket

    return socket.create_connection((host, port), timeout=10)
