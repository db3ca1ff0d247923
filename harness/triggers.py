"""Triggers: why the VM has to move. Data only; each tier carries them out in its own way."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TriggerKind:
    name: str
    description: str
    needs: str  # "resource", "node" or "" - what the trigger acts on
    # Faults only a live cluster can show; the scheduler can only predict them as this trigger.
    # Scenarios name faults explicitly: "triggers: all" means the plain triggers.
    predicted_as: str | None = None

    @property
    def fault(self) -> bool:
        return self.predicted_as is not None


KINDS: dict[str, TriggerKind] = {
    k.name: k
    for k in (
        TriggerKind("move", "crm resource move VM to another node (a cli-prefer constraint)", "resource"),
        TriggerKind("ban", "crm resource ban VM from its node (a cli-ban constraint)", "resource"),
        TriggerKind("standby", "standby of the VM's node", "node"),
        TriggerKind("stop", "cluster stop on the VM's node (clean shutdown)", "node"),
        TriggerKind("crash", "crash of the VM's node", "node"),
        TriggerKind("dependency-failure", "a clone instance the VM depends on fails on its node", "resource"),
        TriggerKind("none", "no change: replay the settled cluster", ""),
        TriggerKind("migrate-fail", "move, and the agent's migrate_to fails (live tiers)", "resource", "move"),
        TriggerKind("migrate-slow", "move, and the agent's migrate_to is slow (live tiers)", "resource", "move"),
        TriggerKind("corosync-kill", "only corosync dies on the VM's node, no fencing (live tiers)", "node", "crash"),
        TriggerKind("partition", "the VM's node loses its cluster link (live tiers)", "node", "crash"),
    )
}
PLAIN = [name for name, kind in KINDS.items() if not kind.fault]


@dataclass(frozen=True)
class Trigger:
    """A trigger as a scenario writes it; nodes left None mean 'the VM's node' / 'the next node'."""

    kind: str
    resource: str | None = None  # the VM (move/ban) or the failing primitive (dependency-failure)
    node: str | None = None  # node acted on (standby/stop/crash/ban) or move target

    @property
    def name(self) -> str:
        return self.kind

    def describe(self) -> str:
        bits = [self.kind]
        if self.resource:
            bits.append(self.resource)
        if self.node:
            bits.append(f"node={self.node}")
        return " ".join(bits)


@dataclass(frozen=True)
class Resolved:
    """A trigger with every name filled in against a settled cluster."""

    kind: str
    vm: str
    vm_node: str
    resource: str | None
    node: str | None

    def describe(self) -> str:
        return {
            "move": f"crm resource move {self.vm} {self.node}",
            "ban": f"crm resource ban {self.vm} {self.node}",
            "standby": f"crm node standby {self.node}",
            "stop": f"crm cluster stop on {self.node}",
            "crash": f"crash of {self.node}",
            "dependency-failure": f"monitor of {self.resource} fails on {self.node}",
            "none": "no change",
            "migrate-fail": f"crm resource move {self.vm} {self.node}, its migrate_to failing",
            "migrate-slow": f"crm resource move {self.vm} {self.node}, its migrate_to slow",
            "corosync-kill": f"SIGKILL of corosync only on {self.node}",
            "partition": f"link of {self.node} down (network partition)",
        }[self.kind]
