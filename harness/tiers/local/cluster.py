"""``LocalLab``: a cluster of real corosync + pacemaker nodes on this host, kept in a RunDir.

Everything the cluster writes lives under the run directory; every process is recorded in
``state.json`` (PID and start time) as soon as it exists, so that ``down``, a failed bring-up, a
Ctrl-C, or ``clean`` after the owner was killed stop exactly those processes and nothing else.
Killing a node's init (PID 1 of its PID namespace) kills everything in the node; the namespaces
and links go with their last process.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ... import crmmon
from ... import procs as procs_mod
from ...errors import HarnessError, InputError
from ...hostnames import HOST
from ...procs import Proc, terminate, wait_gone
from ...rundir import RunDir
from ...runner import Result
from ..base import Lab
from . import netns
from . import node as nodemod
from .netns import Plan

FORM_TIMEOUT = 60.0
MIN_NODES, MAX_NODES = 2, 16
# Entries of the run directory beside the nodes' own directories.
RESERVED_NAMES = {"ocf", "standin", "authkey", "hub", "transitions"}
Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


class LocalLab(Lab):
    def __init__(self, rundir: RunDir) -> None:
        self.rundir = rundir
        self.plan = Plan(rundir.id, int(rundir.data["nodes"]), tuple(rundir.data.get("names") or ()))

    # -- layout ------------------------------------------------------------------------------
    @property
    def ocf_dir(self) -> Path:
        return self.rundir.path / "ocf"

    @property
    def standin_dir(self) -> Path:
        return self.rundir.path / "standin"

    def dirs(self, node: str) -> nodemod.NodeDirs:
        return nodemod.NodeDirs(self.rundir.path / node)

    def init(self, node: str) -> Proc:
        entry = self.rundir.data.get("node_procs", {}).get(node)
        if not entry or "init" not in entry:
            raise HarnessError(f"unknown node '{node}'", hint="nodes: " + ", ".join(self.plan.node_names))
        return Proc.from_json(entry["init"])

    def hub(self) -> Proc:
        return Proc.from_json(self.rundir.data["hub"])

    def node_alive(self, node: str) -> bool:
        try:
            return self.init(node).alive()
        except HarnessError:
            return False

    # -- bring-up ------------------------------------------------------------------------------
    @classmethod
    def create(
        cls, nodes: int, rundir: RunDir, progress: Progress | None = None, names: Sequence[str] = ()
    ) -> LocalLab:
        """A cluster of ``nodes`` nodes, named ``names`` (the scenario's hosts) or node1..N."""
        if not MIN_NODES <= nodes <= MAX_NODES:
            raise InputError(f"the local tier runs {MIN_NODES} to {MAX_NODES} nodes, not {nodes}")
        bad = [n for n in names if not HOST.match(n)]
        if bad or (names and len(names) != nodes) or len(set(names)) != len(names):
            raise InputError(
                f"node names {', '.join(names)}: "
                + (f"'{bad[0]}' is not a host name" if bad else "one each, no repeats"),
                hint="letters, digits, '-' and '.', one name per node",
            )
        clash = sorted(set(names) & RESERVED_NAMES)
        if clash:
            raise InputError(
                f"the local tier cannot name a node '{clash[0]}': the run directory uses that name",
                hint="reserved: " + ", ".join(sorted(RESERVED_NAMES)),
            )
        if str(rundir.path.resolve()).startswith("/run/"):
            raise HarnessError(
                f"run directory {rundir.path} is under /run, which each node replaces by its own tmpfs",
                hint="set MIGRATION_HARNESS_RUNS to a directory outside /run (default /tmp/migration-harness/runs)",
            )
        rundir.update(tier="local", nodes=nodes, names=list(names), node_procs={})
        lab = cls(rundir)
        try:
            lab._bring_up(progress or _quiet)
        except KeyboardInterrupt:
            lab.down()  # interrupted: nothing of the run stays
            raise
        except BaseException as exc:
            lab.stop_all()  # failed: no process stays; the logs stay for the error's reader
            if isinstance(exc, HarnessError) and not exc.hint:
                exc.hint = f"logs under {rundir.path}; `migration-harness clean` removes them"
            raise
        return lab

    def _bring_up(self, progress: Progress) -> None:
        started = time.monotonic()
        self.ocf_dir.mkdir(exist_ok=True)
        self.standin_dir.mkdir(exist_ok=True)
        key = self.rundir.path / "authkey"
        nodemod.generate_key(key)
        seed = self.rundir.path / "seed-cib.xml"
        nodemod.seed_cib(seed, nodemod.BASE_OPTIONS)
        hub = netns.start_hub(self.rundir.path / "hub.out", self.rundir.path)
        self.rundir.update(hub=hub.as_json(), pids=[hub.pid])
        for name in self.plan.node_names:
            nodemod.prepare(self.dirs(name), self.plan, name, key, seed)
        for name in self.plan.node_names:
            self._start_node(name)
        progress(f"{self.plan.nodes} nodes started, forming the cluster")
        self.wait_formed()
        self.rundir.update(formed_seconds=round(time.monotonic() - started, 2))
        progress(f"cluster {self.plan.cluster_name} formed in {time.monotonic() - started:.1f} s")

    def _start_node(self, name: str) -> None:
        dirs = self.dirs(name)
        holder, init = nodemod.start(dirs, name, self.ocf_dir, self.standin_dir)
        procs = dict(self.rundir.data.get("node_procs", {}))
        procs[name] = {"holder": holder.as_json(), "init": init.as_json()}
        # "pids": the flat list `migration-harness clean` checks to tell a live run from a dead one.
        pids = [self.hub().pid] + [p[role][0] for p in procs.values() for role in ("holder", "init")]
        self.rundir.update(node_procs=procs, pids=pids)
        netns.connect(self.hub(), holder.pid, self.plan, name)
        (dirs.root / "go").touch()

    def restart_node(self, name: str) -> None:
        """Bring back a node that was crashed or stopped, with a fresh CIB (the DC's wins on join)."""
        self.kill_node(name)
        nodemod.reset_cib(self.dirs(name), self.rundir.path / "seed-cib.xml")
        self._start_node(name)

    def wait_formed(self, timeout: float = FORM_TIMEOUT) -> None:
        """Until every node is online in the membership, seen from each node, and there is a DC."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            last = self._formation_state()
            if not last:
                return
            time.sleep(0.1)
        raise HarnessError(
            f"cluster {self.plan.cluster_name} did not form in {timeout:.0f} s: {last}",
            hint=f"see the logs under {self.rundir.path}/node*/log-*",
        )

    def _formation_state(self) -> str:
        """'' when formed, else what is missing."""
        for name in self.plan.node_names:
            if not self.node_alive(name):
                return f"{name} is not running"
            result = self.run_in(name, ["crm_mon", "-1", "--output-as=xml"], check=False, timeout=10)
            if not result.ok:
                return f"crm_mon on {name}: rc {result.rc}"
            try:
                seen = crmmon.parse(result.stdout)
            except HarnessError as exc:
                return f"crm_mon on {name}: {exc.message}"
            if seen.dc is None:
                return f"{name} sees no DC"
            if seen.online != set(self.plan.node_names):
                return f"{name} sees online {sorted(o for o in seen.online if o)}"
        return ""

    # -- use -----------------------------------------------------------------------------------
    def run_in(
        self, node: str, argv: list[str], *, check: bool = True, timeout: float | None = 300, what: str | None = None
    ) -> Result:
        return nodemod.run_in(self.init(node), self.dirs(node), argv, check=check, timeout=timeout, what=what)

    def alive_nodes(self) -> list[str]:
        return [n for n in self.plan.node_names if self.node_alive(n)]

    @classmethod
    def attach(cls, rundir: RunDir) -> LocalLab:
        _check_local(rundir)
        return cls(rundir)

    def status(self) -> str:
        lines = [f"run {self.rundir.id} ({self.rundir.path}), cluster {self.plan.cluster_name}"]
        hub = self.hub() if "hub" in self.rundir.data else None
        lines.append(f"  hub: pid {hub.pid if hub else '-'} {'up' if hub and hub.alive() else 'down'}")
        for name in self.plan.node_names:
            if not self.node_alive(name):
                lines.append(f"  {name}: {self.plan.address(name)} down")
                continue
            running = nodemod.daemons(self.init(name))
            daemons = ", ".join(
                f"{d} {'pid ' + str(running[d]) if d in running else 'NOT RUNNING'}" for d in ("corosync", "pacemakerd")
            )
            lines.append(f"  {name}: {self.plan.address(name)} init pid {self.init(name).pid}; {daemons}")
        alive = self.alive_nodes()
        if alive:
            result = self.run_in(alive[0], ["crm_mon", "-1"], check=False, timeout=20)
            lines.append(result.stdout.rstrip() or result.stderr.rstrip())
        return "\n".join(lines)

    def exec(self, node: str, argv: list[str]) -> int:
        if not argv:
            raise HarnessError("exec needs a command, e.g. exec node1 -- crm_mon -1")
        if not self.node_alive(node):
            raise HarnessError(f"{node} is not running in run {self.rundir.id}")
        result = self.run_in(node, argv, check=False, timeout=None)
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        return result.rc

    # -- teardown ------------------------------------------------------------------------------
    def kill_node(self, name: str) -> None:
        """SIGKILL of the node's init: the kernel kills every process of its PID namespace."""
        entry = self.rundir.data.get("node_procs", {}).get(name)
        if not entry:
            return
        init, holder = Proc.from_json(entry["init"]), Proc.from_json(entry["holder"])
        init.signal(signal.SIGKILL)
        wait_gone([init], 10)
        terminate([holder], grace=2)

    def stop_all(self) -> None:
        """Stop every recorded process (nodes first, then the hub); the run directory stays."""
        stop_recorded(self.rundir)

    def down(self) -> None:
        self.stop_all()
        self.rundir.remove()

    @classmethod
    def clean(cls, rundir: RunDir) -> list[str]:
        # A run killed between its creation and its first update records its tier but no node count
        # yet; what it started (if anything) names its directory all the same.
        _check_local(rundir, formed=False)
        removed = stop_recorded(rundir)
        rundir.remove()
        return removed


def stop_recorded(rundir: RunDir) -> list[str]:
    """Kill what state.json records, by identity, then anything else that names the run directory
    (started but not yet recorded when its owner died); returns a line per process still alive."""
    removed: list[str] = []
    unrecorded = procs_mod.mentioning(str(rundir.path))
    for name, entry in sorted(rundir.data.get("node_procs", {}).items()):
        for role in ("init", "holder"):
            if role not in entry:
                continue
            proc = Proc.from_json(entry[role])
            if proc.alive():
                proc.signal(signal.SIGKILL)
                removed.append(f"{name} {role} pid {proc.pid}")
        wait_gone([Proc.from_json(entry[r]) for r in ("init", "holder") if r in entry], 10)
    if "hub" in rundir.data:
        hub = Proc.from_json(rundir.data["hub"])
        if hub.alive():
            hub.signal(signal.SIGKILL)
            wait_gone([hub], 5)
            removed.append(f"hub pid {hub.pid} (its network namespace, bridge and links)")
    recorded = {p[0] for entry in rundir.data.get("node_procs", {}).values() for p in entry.values()}
    recorded |= {rundir.data["hub"][0]} if "hub" in rundir.data else set()
    unrecorded = [proc for proc in unrecorded if proc.pid not in recorded]
    for proc in unrecorded:
        if proc.signal(signal.SIGKILL):
            removed.append(f"unrecorded process pid {proc.pid} of the run")
    wait_gone(unrecorded, 10)
    return removed


def _check_local(rundir: RunDir, formed: bool = True) -> None:
    """Another tier's run (nested VMs) shares the runs root: never touch it. ``formed``: the run
    must also record its node count (to attach to it; not to clean it up)."""
    if rundir.data.get("tier") != "local" or (formed and not isinstance(rundir.data.get("nodes"), int)):
        raise HarnessError(f"{rundir.path}: not a local-tier run (tier {rundir.data.get('tier')!r})")
