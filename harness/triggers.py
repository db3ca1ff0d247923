"""Triggers: why the VM has to move. The one place that says what each trigger and fault means.

For every kind: what it does (``description``), the words a report uses for one resolved instance
(``describe``), the Pacemaker command that carries out the cluster-side ones on every tier
(``cluster_command``), and how the scheduler sees it (``scheduler_view``): as itself, or, for a
fault the scheduler cannot see (a link going down), as the trigger it looks like, said in every
verdict. Each tier keeps only a small table of *how* it carries a trigger out, next to the code
that does it; the words of that table are appended to ``describe`` so that the table, the mismatch
report and ``verdict.txt`` of one case say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

# Triggers that move the VM itself to a target node (crm_resource --move).
MOVES = frozenset({"move", "migrate-fail", "migrate-slow"})
# Triggers after which the VM's node leaves the cluster (its resources are gone with it).
NODE_LEAVES = frozenset({"stop", "crash", "corosync-kill", "partition"})


@dataclass(frozen=True)
class TriggerKind:
    name: str
    description: str
    # Faults only a live cluster can show exactly; the scheduler models them as this trigger (or,
    # for migrate-fail, as a move whose migrate_to fails). Scenarios name faults explicitly:
    # "triggers: all" means the plain triggers.
    fault: bool = False
    substitute: str | None = None  # the trigger the scheduler predicts instead, where it cannot model it


KINDS: dict[str, TriggerKind] = {
    k.name: k
    for k in (
        TriggerKind("move", "crm resource move VM to another node (a cli-prefer constraint)"),
        TriggerKind("ban", "crm resource ban VM from its node (a cli-ban constraint)"),
        TriggerKind("standby", "standby of the VM's node"),
        TriggerKind("stop", "cluster stop on the VM's node (clean shutdown)"),
        TriggerKind("crash", "crash of the VM's node"),
        TriggerKind("dependency-failure", "a clone instance the VM depends on fails on its node"),
        TriggerKind("none", "no change: replay the settled cluster"),
        TriggerKind(
            "migrate-fail", "move, and the VM's migrate_to fails (the scheduler: an injected failure)", fault=True
        ),
        TriggerKind(
            "migrate-slow", "move, and the VM's migrate_to is slow (live tiers)", fault=True, substitute="move"
        ),
        TriggerKind(
            "corosync-kill",
            "only corosync dies on the VM's node, no fencing (live tiers)",
            fault=True,
            substitute="crash",
        ),
        TriggerKind("partition", "the VM's node loses its cluster link (live tiers)", fault=True, substitute="crash"),
    )
}
PLAIN = [name for name, kind in KINDS.items() if not kind.fault]
ARGUMENTS = ("resource", "node")


@dataclass(frozen=True)
class Trigger:
    """A trigger as a scenario writes it; nodes left None mean 'the VM's node' / 'the next node'."""

    kind: str
    resource: str | None = None  # the VM (move/ban) or the failing primitive (dependency-failure)
    node: str | None = None  # node acted on (standby/stop/crash/ban) or move target

    @property
    def name(self) -> str:
        """The case id part: the kind, and the arguments when the scenario gives any, so that
        ``standby`` and ``standby: {node: node3}`` are two cases with two evidence directories."""
        bits = [self.kind]
        if self.resource:
            bits.append(self.resource)
        if self.node:
            bits.append(self.node)
        return "-".join(bits)

    def describe(self) -> str:
        bits = [self.kind]
        if self.resource:
            bits.append(f"resource={self.resource}")
        if self.node:
            bits.append(f"node={self.node}")
        return " ".join(bits)

    def arguments(self) -> dict[str, str]:
        return {k: v for k, v in (("resource", self.resource), ("node", self.node)) if v}


@dataclass(frozen=True)
class Resolved:
    """A trigger with every name filled in against a settled cluster."""

    kind: str
    vm: str
    vm_node: str
    resource: str | None
    node: str | None

    @property
    def substitute(self) -> str | None:
        return KINDS[self.kind].substitute

    def describe(self, how: str | None = None) -> str:
        """The trigger in a report's words; ``how``: the tier's own words for how it did it."""
        text = {
            "move": f"crm resource move {self.vm} {self.node}",
            "ban": f"crm resource ban {self.vm} {self.node}",
            "standby": f"crm node standby {self.node}",
            "stop": f"cluster stop on {self.node}",
            "crash": f"crash of {self.node}",
            "dependency-failure": f"monitor of {self.resource} fails on {self.node}",
            "none": "no change",
            "migrate-fail": f"crm resource move {self.vm} {self.node}, its migrate_to failing",
            "migrate-slow": f"crm resource move {self.vm} {self.node}, its migrate_to slow",
            "corosync-kill": f"SIGKILL of corosync only on {self.node}",
            "partition": f"link of {self.node} down (network partition)",
        }[self.kind]
        return f"{text} ({how})" if how else text

    def substitution(self) -> str | None:
        """What the scheduler answers instead of this trigger, in words (None: it models it)."""
        if self.substitute is None:
            return None
        return f"the scheduler cannot model '{self.kind}': its answer is for '{self.substitute}'"


def cluster_command(trigger: Resolved) -> list[str] | None:
    """The Pacemaker command that carries out a cluster-side trigger, the same on every tier
    (against a file CIB with ``CIB_file``, or on a live node); None for node-side triggers."""
    if trigger.kind in MOVES:
        return ["crm_resource", "--move", "-r", trigger.vm, "-N", str(trigger.node)]
    if trigger.kind == "ban":
        return ["crm_resource", "--ban", "-r", trigger.vm, "-N", str(trigger.node)]
    if trigger.kind == "standby":
        return ["crm_attribute", "-N", str(trigger.node), "-n", "standby", "-v", "on"]
    return None


def failure_report(trigger: Resolved) -> list[str]:
    """On a live cluster: report the dependency's failure at once instead of after its monitor interval."""
    assert trigger.resource is not None
    return ["crm_resource", "--fail", "-r", trigger.resource, "-N", str(trigger.node)]
