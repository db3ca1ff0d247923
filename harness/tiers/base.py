"""The interface every tier implements: bring up, configure and settle, trigger, observe, tear down."""

from __future__ import annotations

import abc
import importlib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from ..rundir import RunDir

from ..errors import InputError
from ..outcome import Outcome
from ..scenario import Scenario
from ..triggers import Resolved


@dataclass(frozen=True)
class Settled:
    """A configured cluster at rest, just before the trigger: everything configure learnt that
    trigger needs travels here, not on the backend."""

    nodes: list[str]
    cib_path: Path  # the CIB (with status) as it is before the trigger
    active: dict[str, list[str]]  # resource id -> nodes where it is active
    cib: ET.Element
    unknown_agents: list[str] = field(default_factory=list)
    stand_ins: list[str] = field(default_factory=list)  # agents replaced by the harness's own
    notes: tuple[str, ...] = ()  # how the tier had to adapt the configuration, said in every verdict
    seconds: dict[str, float] = field(default_factory=dict)  # phases of configure (live tiers)


@dataclass
class Observation:
    """What a tier saw after the trigger: the verdicts and where the evidence is."""

    outcome: Outcome
    evidence: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    prediction: Outcome | None = None  # the simulate tier's verdicts for the same CIB and trigger
    planned: Outcome | None = None  # live tiers: the DC's plan for the trigger's first transition
    seconds: dict[str, float] = field(default_factory=dict)  # live tiers: phases of the case
    trigger: str = ""  # the trigger in this tier's words (Resolved.describe with the tier's how)
    substitution: str | None = None  # what the tier did instead of the trigger it cannot model


class Backend(abc.ABC):
    name: ClassVar[str]
    # Whether cases may run concurrently on one instance (the scheduler: yes; a live cluster: no).
    concurrent: ClassVar[bool] = False
    # Whether the tier can run on a cluster left up by `migration-harness up` (``run_dir``).
    can_attach: ClassVar[bool] = False

    def __init__(self, workdir: Path, *, run_dir: Path | None = None) -> None:
        """``run_dir``: a live cluster left up by ``migration-harness up`` to use instead of bringing
        one up (restored per case, never torn down); tiers that cannot attach refuse it."""
        self.workdir = workdir
        # Where a live tier says what it is doing while a case takes long (the CLI: stderr).
        self.progress: Callable[[str], None] | None = None
        if run_dir is not None and not self.can_attach:
            raise InputError(
                f"the {self.name} tier does not run on a cluster left up (--run {run_dir})",
                hint="--run is for the nested tier",
            )
        self.run_dir: Path | None = run_dir

    @classmethod
    @abc.abstractmethod
    def sanity_check(cls, run_dir: Path | None = None) -> None:
        """Raise BackendUnavailable saying why this tier cannot run here (on the cluster left up in
        ``run_dir``, where given)."""

    @abc.abstractmethod
    def describe(self) -> str:
        """One line for report headers: tier, versions, how it runs."""

    def facts(self, scenario: Scenario) -> dict[str, str]:
        """What expectations may depend on beyond tier and Pacemaker version (nested: xen, guest)."""
        return {}

    @abc.abstractmethod
    def up(self, nodes: int) -> None: ...

    def cannot_run(self, scenario: Scenario) -> str | None:
        """Why this tier cannot run any case of ``scenario`` (known without a cluster), or None.
        Asked before a cluster is brought up for it: a 3-node scenario the tier would only skip
        must not cost a 3-node bring-up."""
        return None

    def up_for(self, scenario: Scenario) -> None:
        """Bring up (or keep) a cluster the scenario fits: its node count here; a tier whose
        clusters differ in more (the nested tier's dom0 releases) says so."""
        self.up(scenario.nodes)

    @abc.abstractmethod
    def configure(self, scenario: Scenario, style: str, casedir: Path) -> Settled: ...

    @abc.abstractmethod
    def trigger(self, settled: Settled, trigger: Resolved, casedir: Path) -> Observation: ...

    def down(self) -> None:  # noqa: B027 - optional: a tier without processes of its own stops nothing
        """Stop everything this backend started."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.down()


class Lab(abc.ABC):
    """A live cluster a tier brings up and tears down (local and nested tiers).

    State lives in a RunDir, so another process (``migration-harness status``/``exec``/``down``,
    ``clean`` after a crash) can attach to it by its directory.
    """

    @classmethod
    @abc.abstractmethod
    def create(cls, nodes: int, rundir: RunDir, progress: Callable[[str], None] | None = None) -> Lab:
        """Bring up ``nodes`` nodes; on any failure, remove what was started, then raise."""

    @classmethod
    @abc.abstractmethod
    def attach(cls, rundir: RunDir) -> Lab: ...

    @abc.abstractmethod
    def status(self) -> str:
        """Human-readable state: nodes, pids, cluster status."""

    @abc.abstractmethod
    def exec(self, node: str, argv: list[str]) -> int:
        """Run a command on a node, output to our stdout/stderr; returns its exit code."""

    @abc.abstractmethod
    def down(self) -> None:
        """Stop everything the run started (by PID / by recorded name) and remove the run dir."""

    @classmethod
    @abc.abstractmethod
    def clean(cls, rundir: RunDir) -> list[str]:
        """Remove what a dead run left; returns what was removed (for the report)."""

    def testinfra_host(self, node: str) -> Any:
        """``node`` as a pytest-testinfra ``Host``, reached the tier's own way (the local tier: the
        node's namespaces; the nested tier: the lab's SSH session). An unknown node is an error
        naming the known ones. The tier's ``infra`` module makes it, imported only here, so that
        pytest-testinfra is needed only by tests that use it."""
        return _infra(self).host(self, node)

    def testinfra_nodes(self) -> list[str]:
        """The cluster nodes ``testinfra_host`` is for (helper machines such as the nested tier's
        SAN are accepted by name but not listed)."""
        return list(_infra(self).nodes(self))


def _infra(lab: Lab) -> ModuleType:
    """The ``infra`` module of the lab's tier package (``harness.tiers.local.infra`` for LocalLab)."""
    package = type(lab).__module__.rpartition(".")[0]
    try:
        return importlib.import_module(f"{package}.infra")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("testinfra"):
            raise InputError(
                "the migration_nodes fixture needs the Python package 'pytest-testinfra'",
                hint="pip install 'migration-harness[testinfra]'",
            ) from None
        raise
