"""The pytest plugin: options, markers, scenario collection, fixtures - and nothing else.

- ``--tier`` (ini ``migration_tier``, environment ``MIGRATION_HARNESS_TIER``; default simulate).
- Scenario files (``*.yaml`` in a directory named ``scenarios``, or ``*.scenario.yaml`` anywhere)
  are collected as test items, one per style x trigger, with ids like ``seed-xen[order-only-standby]``
  and the ``migration`` marker. ``--shipped-scenarios`` (ini ``migration_shipped_scenarios``) adds
  the scenarios shipped with the package.
- Fixtures: ``migration_backend`` (the session's tier), ``migration_cluster`` (configure a crm text,
  trigger, read ``outcome["vm1"].migrated``); a test that uses either is marked ``migration``.
- On failure the evidence (CIB before/after, graph, summary, picture) stays in a per-test
  directory named in the failure message.
The session's lifecycle is ``harness.session``, the closing table ``harness.terminal``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import engine, session, terminal
from . import scenario as scenario_mod
from .errors import HarnessError
from .outcome import Outcome
from .prediction import render_evidence
from .tiers import Backend
from .tiers.base import Settled
from .triggers import KINDS, Trigger

TIER_HELP = "tier that answers the scenarios: simulate (crm_simulate), local (namespaces), nested (Vagrant + Xen)"
SHIPPED_HELP = "also collect the scenarios shipped with migration-harness"
RELEASE_HELP = "Debian release whose Pacemaker answers: host (default), bullseye, bookworm, trixie, forky"
ARTIFACTS_HELP = "directory for the evidence of each migration test (default: a temporary directory, failures kept)"
RUN_HELP = "nested tier: run on the cluster `migration-harness up --tier nested` left in DIR (restored per test, left up)"
FIXTURES = ("migration_cluster", "migration_backend")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("migration-harness", "live migration verdicts")
    group.addoption("--tier", action="store", default=None, help=TIER_HELP + f" (env {session.ENV_TIER})")
    group.addoption("--shipped-scenarios", action="store_true", default=None, help=SHIPPED_HELP)
    group.addoption("--migration-artifacts", action="store", default=None, help=ARTIFACTS_HELP)
    group.addoption("--release", action="store", default=None, help=RELEASE_HELP + f" (env {session.ENV_RELEASE})")
    group.addoption("--migration-run", action="store", default=None, metavar="DIR", help=RUN_HELP)
    parser.addini("migration_release", RELEASE_HELP, default=None)
    parser.addini("migration_tier", TIER_HELP, default=None)
    parser.addini("migration_shipped_scenarios", SHIPPED_HELP, type="bool", default=False)
    parser.addini("migration_artifacts", ARTIFACTS_HELP, default=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "migration: a live-migration verdict of a scenario (style x trigger)")
    config.addinivalue_line("markers", "tier(name): needs the given tier; skipped with the reason where it cannot run")
    session.effective_tier(config)  # a bad --tier is a usage error before anything is collected
    shipped = config.getoption("--shipped-scenarios") or config.getini("migration_shipped_scenarios")
    if shipped:
        config.args.append(str(scenario_mod.shipped_dir()))


def pytest_report_header(config: pytest.Config) -> str:
    return session.describe(config)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix in {".yaml", ".yml"} and (
        file_path.parent.name == "scenarios" or file_path.name.endswith((".scenario.yaml", ".scenario.yml"))
    ):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in FIXTURES):
            item.add_marker(pytest.mark.migration)


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        try:
            loaded = scenario_mod.load(self.path)
        except HarnessError as exc:
            # One failing item, not a collection error: the other files' items still run.
            item = BadScenarioItem.from_parent(self, name=self.path.name, message=str(exc))
            item.add_marker(pytest.mark.migration)
            yield item
            return
        for case in loaded.cases(session.effective_tier(self.config)):
            item = ScenarioItem.from_parent(self, name=case.full_id, case=case)
            item.add_marker(pytest.mark.migration)
            yield item


class ScenarioError(Exception):
    """A scenario file that cannot be loaded: its item fails with the message only."""


class BadScenarioItem(pytest.Item):
    def __init__(self, *, message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message

    def runtest(self) -> None:
        raise ScenarioError(self.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return str(excinfo.value)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.path.name}: not a valid scenario"


class MigrationMismatch(Exception):
    def __init__(self, result: engine.CaseResult) -> None:
        super().__init__(result.explain())
        self.result = result


class ScenarioItem(pytest.Item):
    def __init__(self, *, case: scenario_mod.Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        state = session.state(self.config)
        backend = state.backend(self.case.scenario.nodes)
        assert state.version is not None  # set with the backend
        result = engine.run_case(backend, self.case, state.casedir(self.case), state.version)
        state.results.append(result)
        self.user_properties.append(("verdicts", [c.verdict.as_json() for c in result.checks]))
        guest = getattr(result.observation, "guest", None)
        if guest is not None:
            self.user_properties.append(("guest", guest.describe()))
        if result.skipped:
            pytest.skip(result.skipped)
        if not result.passed:
            if result.observation is not None and result.tier == "simulate":
                render_evidence(result.observation)
            raise MigrationMismatch(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, (MigrationMismatch, HarnessError)):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.case.full_id}: {self.case.trigger.name} in style {self.case.style}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    handle = item.stash.get(HANDLE, None)
    if handle is not None and report.failed:
        session.state(item.config).keep.add(handle.directory())
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    config = terminalreporter.config
    if session.STATE in config.stash:
        terminal.summary(terminalreporter, config.stash[session.STATE].results)


def pytest_sessionfinish(session: pytest.Session) -> None:
    from . import session as session_mod

    if session_mod.STATE in session.config.stash:
        session.config.stash[session_mod.STATE].close()


def pytest_runtest_setup(item: pytest.Item) -> None:
    from . import tiers

    for marker in item.iter_markers("tier"):
        name = marker.args[0]
        try:
            tiers.get(name).sanity_check()
        except HarnessError as exc:
            pytest.skip(f"tier {name} cannot run here: {exc}")


@pytest.fixture(scope="session")
def migration_backend(request: pytest.FixtureRequest) -> Backend:
    """The session's tier backend, brought up for 2 nodes (``migration_cluster`` picks the count)."""
    return session.state(request.config).backend(2)


class ClusterHandle:
    """What a user's own test drives: configure a crm text, trigger, read the verdicts."""

    def __init__(self, state: session.SessionState, request: pytest.FixtureRequest) -> None:
        self._state = state
        self._name = re.sub(r"[^\w.-]+", "-", request.node.name)
        self._path = Path(str(request.node.path))
        self._scenario: scenario_mod.Scenario | None = None
        self._settled: Settled | None = None
        self._count = 0

    def configure(self, configuration: str, *, resources: list[str], nodes: int = 2,
                  options: dict[str, str] | None = None) -> None:
        self._scenario = scenario_mod.adhoc(self._name, self._path, configuration, resources, nodes, options)
        backend = self._state.backend(nodes)
        self._settled = backend.configure(self._scenario, "as-written", self.directory())

    def trigger(self, kind: str, *, resource: str | None = None, node: str | None = None) -> Outcome:
        if self._scenario is None or self._settled is None:
            raise HarnessError("configure the cluster before triggering")
        if kind not in KINDS:
            raise HarnessError(f"unknown trigger '{kind}'", hint="triggers: " + ", ".join(KINDS))
        resolved = engine.resolve(Trigger(kind, resource, node), self._scenario, self._settled)
        self._count += 1
        backend = self._state.backend(self._scenario.nodes)
        observation = backend.trigger(self._settled, resolved, self.directory() / f"trigger-{self._count}-{kind}")
        observation.outcome.notes.append(f"evidence: {self.directory()}")
        return observation.outcome

    def directory(self) -> Path:
        path = self._state.base() / self._name
        path.mkdir(parents=True, exist_ok=True)
        return path


HANDLE = pytest.StashKey[ClusterHandle]()


@pytest.fixture
def migration_cluster(request: pytest.FixtureRequest) -> ClusterHandle:
    """Configure a candidate configuration on the session's tier, trigger a move, assert the path."""
    handle = ClusterHandle(session.state(request.config), request)
    request.node.stash[HANDLE] = handle
    return handle
