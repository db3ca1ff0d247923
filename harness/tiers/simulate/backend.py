"""The simulate tier: Pacemaker's own scheduler (crm_simulate) on a file CIB. No cluster at all.

configure: the scenario's configured CIB (``prediction.configured_cib``) -> crm_simulate until
nothing is left to do (everything started). trigger: ``prediction.transition``: the trigger written
into a copy of that CIB or passed to crm_simulate -> one transition -> verdicts. A settled CIB is
computed once per scenario file and style and shared by its triggers; styles settle in parallel.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from ... import cib as cibmod
from ... import promotion, release, simulator
from ...errors import BackendUnavailable, HarnessError, InputError, ToolMissing
from ...outcome import active_resources
from ...prediction import configured_cib, transition
from ...runner import which
from ...scenario import Scenario
from ...scenariotypes import NodeAttribute
from ...triggers import Resolved
from ...version import pacemaker_version
from ..base import Backend, Observation, Settled

# A configuration that still has actions after this many transitions loops (a resource that
# keeps failing, a flapping constraint); real ones settle in one to three.
MAX_SETTLE_ROUNDS = 10


class SimulateBackend(Backend):
    name = "simulate"
    concurrent = True

    def __init__(self, workdir: Path, *, run_dir: Path | None = None) -> None:
        super().__init__(workdir, run_dir=run_dir)
        self.nodes: list[str] = []
        self._settled: dict[tuple[str, str, int], Settled | HarnessError] = {}
        self._locks: dict[tuple[str, str, int], threading.Lock] = {}
        self._guard = threading.Lock()

    @classmethod
    def sanity_check(cls, run_dir: Path | None = None) -> None:
        try:
            for tool in ("crm_simulate", "crm_resource", "crm_attribute", "cibadmin"):
                if release.tool_path(tool) is None:
                    which(tool)
        except ToolMissing as exc:
            raise BackendUnavailable(str(exc.message), hint=exc.hint) from None

    def describe(self) -> str:
        return f"simulate (crm_simulate, Pacemaker {pacemaker_version()}, release {release.active().label})"

    def up(self, nodes: int) -> None:
        self.nodes = cibmod.node_names(nodes)

    # -- configure -------------------------------------------------------------------------
    def configure(self, scenario: Scenario, style: str, casedir: Path) -> Settled:
        key = (str(scenario.path), style, scenario.nodes)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._settled:
                styledir = self.workdir / "settled" / f"{scenario.key}-{style}"
                styledir.mkdir(parents=True, exist_ok=True)
                try:
                    self._settled[key] = self._settle(scenario, style, styledir)
                except HarnessError as exc:
                    self._settled[key] = exc
            found = self._settled[key]
            if isinstance(found, HarnessError):
                raise found
            return found

    def _settle(self, scenario: Scenario, style: str, styledir: Path) -> Settled:
        nodes = scenario.node_names
        configured, unknown, warned = configured_cib(scenario, style, styledir)
        current = configured
        realized: list[NodeAttribute] = []
        for round_ in range(MAX_SETTLE_ROUNDS):
            sim = simulator.simulate(current, styledir / f"settle-{round_}", node_up=nodes if round_ == 0 else ())
            assert sim.cib_out is not None
            current = sim.cib_out
            # What the agents would have done meanwhile: a promotable instance that runs sets its
            # promotion score (crm_simulate runs no agent); the scheduler then promotes.
            scores = promotion.missing(
                cibmod.read(current), active_resources(sim.result, "revised_cluster_status"), scenario.attributes
            )
            if scores:
                cibmod.set_attributes(current, scores)
                realized.extend(scores)
            elif not sim.has_actions():
                break
        else:
            raise HarnessError(
                f"{scenario.path}: style {style}: the cluster never settles: after "
                f"{MAX_SETTLE_ROUNDS} transitions the scheduler still has actions",
                hint=f"see {styledir}",
            )
        active = active_resources(sim.result, "revised_cluster_status")
        settled_path = styledir / "cib-settled.xml"
        shutil.copyfile(current, settled_path)
        root = cibmod.read(settled_path)
        for resource in scenario.resources:
            if resource.split(":")[0] not in cibmod.resource_ids(root):
                raise InputError(
                    f"resource under test '{resource}' is not in the configuration",
                    path=scenario.path,
                    hint="'resources' lists ids defined by the configuration",
                )
        notes = (*warned, *promotion.notes(realized, scenario.attributes, root))
        return Settled(nodes, settled_path, active, root, unknown_agents=unknown, notes=notes)

    # -- trigger ---------------------------------------------------------------------------
    def trigger(self, settled: Settled, trigger: Resolved, casedir: Path) -> Observation:
        observation = transition(settled, trigger, casedir)
        observation.notes[:0] = settled.notes
        observation.trigger = trigger.describe()
        return observation
