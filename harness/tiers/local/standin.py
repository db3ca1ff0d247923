"""The harness's stand-in agent: which agents it replaces, installing it, and steering it.

The scenario's agents (Xen, LVM, clvmd, Filesystem, o2cb, ...) cannot run on a test host. Each is
replaced by ``harness/agents/standin``, installed under the original's name in the run's OCF tree
(which every node mounts over /usr/lib/ocf/resource.d), so the CIB is the scenario's own. Whether
the stand-in offers ``migrate_to``/``migrate_from`` follows the original: its metadata where the
agent is installed here, else ``ABSENT_AGENTS``, else the configuration (allow-migrate=true on a
primitive of an agent nobody here knows: assumed, and said in every verdict).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ...errors import InputError
from ...runner import run

HOST_OCF = Path("/usr/lib/ocf")
# Inside each node (a private /run): one file per resource the stand-ins run there.
NODE_STATE = "/run/harness-standin-state"
# Agents a scenario may name that Debian 12 does not ship, with whether the original supports live
# migration. None of these storage agents does: only VM agents (Xen, VirtualDomain) migrate.
ABSENT_AGENTS: dict[str, bool] = {
    "lvm2:clvmd": False,  # lvm2 <= 2.02 shipped it; replaced by lvmlockd
    "lvm2:cmirrord": False,
    "ocfs2:o2cb": False,  # ocfs2-tools' agent; Debian ships ocf:pacemaker:o2cb instead
    "heartbeat:Xen": True,
    "heartbeat:VirtualDomain": True,
}
_AGENT = re.compile(r"^ocf:([\w.-]+):([\w.-]+)$")
# Agent classes the nodes cannot run at all (no systemd or init scripts inside a node): their
# primitives are rewritten to this OCF provider, the stand-in under the same type name.
NON_OCF = re.compile(r"^(systemd|lsb|service|upstart):([\w@.-]+)$")
NON_OCF_PROVIDER = "harness"


@dataclass(frozen=True)
class Agent:
    provider: str
    type: str
    migrate: bool
    installed: bool  # the real agent exists on this host (its metadata was read)
    original: str = ""  # the agent as the configuration names it, when it is not OCF
    assumed: bool = False  # absent here and unknown: migrates because the configuration allows it

    @property
    def name(self) -> str:
        return self.original or f"ocf:{self.provider}:{self.type}"


def describe(spec: str, migratable: frozenset[str] = frozenset()) -> tuple[Agent, str | None]:
    """The agent's migration support, and its metadata XML when it is installed here.

    An agent absent here and not in ``ABSENT_AGENTS`` migrates when the configuration says it can
    (``spec`` in ``migratable``: a primitive of it has allow-migrate=true); ``Agent.assumed`` says so.
    """
    other = NON_OCF.match(spec)
    if other:
        return Agent(NON_OCF_PROVIDER, other.group(2), False, False, original=spec), None
    match = _AGENT.match(spec)
    assert match is not None
    provider, type_ = match.groups()
    path = HOST_OCF / "resource.d" / provider / type_
    if path.is_file():
        result = run([str(path), "meta-data"], env={"OCF_ROOT": str(HOST_OCF)}, check=False, timeout=30)
        if result.ok and "<resource-agent" in result.stdout:
            actions = set(re.findall(r'<action\s+name="([\w-]+)"', result.stdout))
            migrate = {"migrate_to", "migrate_from"} <= actions
            return Agent(provider, type_, migrate, True), result.stdout
    known = ABSENT_AGENTS.get(f"{provider}:{type_}")
    if known is not None:
        return Agent(provider, type_, known, False), None
    return Agent(provider, type_, spec in migratable, False, assumed=spec in migratable), None


def install(
    specs: list[str], ocf_dir: Path, standin_dir: Path, migratable: frozenset[str] = frozenset()
) -> list[Agent]:
    """Put the stand-in under each agent's name; write the migration table and metadata."""
    script = Path(str(resources.files("harness") / "agents" / "standin"))
    agents = []
    meta_dir = standin_dir / "meta"
    meta_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for spec in specs:
        agent, metadata = describe(spec, migratable)
        target = ocf_dir / agent.provider / agent.type
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(script, target)
        target.chmod(0o755)
        if metadata:
            (meta_dir / f"{agent.provider}:{agent.type}.xml").write_text(metadata)
        lines.append(f"{agent.provider}:{agent.type} {'migrate' if agent.migrate else 'nomigrate'}\n")
        agents.append(agent)
    table = standin_dir / "agents"
    previous = set(table.read_text().splitlines(keepends=True)) if table.exists() else set()
    table.write_text("".join(sorted(previous | set(lines))))
    return agents


def set_given_scores(standin_dir: Path, names: list[str]) -> None:
    """The promotion scores the scenario sets itself: the stand-ins leave those alone."""
    (standin_dir / "given-scores").write_text("".join(f"{name}\n" for name in names))


def wipe_state(init_pid: int) -> None:
    """Forget what the stand-ins of one node run: its private /run, reached from the host through
    the node's init (no process in the node needed)."""
    state = Path(f"/proc/{init_pid}/root{NODE_STATE}")
    for entry in state.iterdir() if state.is_dir() else ():
        entry.unlink(missing_ok=True)


def set_control(standin_dir: Path, rules: list[Rule]) -> None:
    """Replace the control file: how stand-ins misbehave from now on (empty: all behave)."""
    tmp = standin_dir / "control.tmp"
    tmp.write_text("".join(rule.line() for rule in rules))
    tmp.replace(standin_dir / "control")


@dataclass(frozen=True)
class Rule:
    verb: str  # "fail" or "slow"
    resource: str  # resource id as the executor passes it, or "*"
    action: str  # start, stop, monitor, migrate_to, migrate_from
    node: str = "*"
    arg: str = ""  # fail: the exit code (an OCF rc); slow: seconds

    def line(self) -> str:
        for word in (self.verb, self.resource, self.action, self.node, self.arg):
            if not word or any(c.isspace() for c in word):
                raise InputError(f"stand-in control rule with an empty or spaced word: {self}")
        return f"{self.verb} {self.resource} {self.action} {self.node} {self.arg}\n"
