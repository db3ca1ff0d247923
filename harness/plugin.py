"""The pytest plugin: options, markers, scenario collection, fixtures - and nothing else.

- ``--tier`` (ini ``migration_tier``, environment ``MIGRATION_HARNESS_TIER``; default simulate).
- Scenario files (``*.yaml`` in a directory named ``scenarios``, or ``*.scenario.yaml`` anywhere)
  are collected as test items, one per style x trigger, with ids like ``seed-xen[order-only-standby]``
  and the ``migration`` marker. ``--shipped-scenarios`` (ini ``migration_shipped_scenarios``) adds
  the scenarios shipped with the package.
- Fixtures: ``migration_backend`` (the session's tier), ``migration_cluster`` (configure a crm text,
  trigger, read ``outcome["vm1"].migrated``).
- On failure the evidence (CIB before/after, graph, summary, picture) stays in a per-test
  directory named in the failure message.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Iterator

import pytest

from . import backends, engine, release
from . import scenario as scenario_mod
from .errors import BackendUnavailable, HarnessError
from .triggers import KINDS, Trigger

TIER_HELP = "tier that answers the scenarios: simulate (crm_simulate), local (namespaces), nested (Vagrant + Xen)"
SHIPPED_HELP = "also collect the scenarios shipped with migration-harness"
RELEASE_HELP = "Debian release whose Pacemaker answers: host (default), bookworm, trixie"
ARTIFACTS_HELP = "directory for the evidence of each migration test (default: pytest's temporary directory)"
ENV_TIER = "MIGRATION_HARNESS_TIER"
ENV_RELEASE = "MIGRATION_HARNESS_RELEASE"
RUN_HELP = "nested tier: run on the cluster `migration-harness up --tier nested` left in DIR (restored per test, left up)"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("migration-harness", "live migration verdicts")
    group.addoption("--tier", action="store", default=None, help=TIER_HELP + f" (env {ENV_TIER})")
    group.addoption("--shipped-scenarios", action="store_true", default=None, help=SHIPPED_HELP)
    group.addoption("--migration-artifacts", action="store", default=None, help=ARTIFACTS_HELP)
    group.addoption("--release", action="store", default=None, help=RELEASE_HELP + f" (env {ENV_RELEASE})")
    group.addoption("--migration-run", action="store", default=None, metavar="DIR", help=RUN_HELP)
    parser.addini("migration_release", RELEASE_HELP, default=None)
    parser.addini("migration_tier", TIER_HELP, default=None)
    parser.addini("migration_shipped_scenarios", SHIPPED_HELP, type="bool", default=False)
    parser.addini("migration_artifacts", ARTIFACTS_HELP, default=None)


def effective_tier(config: pytest.Config) -> str:
    """Command line > environment > ini > default, as pytest-timeout resolves its settings."""
    tier = (
        config.getoption("--tier")
        or os.environ.get(ENV_TIER)
        or config.getini("migration_tier")
        or backends.DEFAULT_TIER
    )
    if tier not in backends.TIERS:
        raise pytest.UsageError(f"unknown tier '{tier}': choose one of {', '.join(backends.TIERS)}")
    return str(tier)


def effective_release(config: pytest.Config) -> str:
    return str(config.getoption("--release") or os.environ.get(ENV_RELEASE) or config.getini("migration_release") or "host")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "migration: a live-migration verdict of a scenario (style x trigger)")
    config.addinivalue_line("markers", "tier(name): needs the given tier; skipped with the reason where it cannot run")
    config._migration_tier = effective_tier(config)  # type: ignore[attr-defined]
    if config.getoption("--migration-run"):
        os.environ["MIGRATION_HARNESS_RUN"] = str(Path(config.getoption("--migration-run")).resolve())
    shipped = config.getoption("--shipped-scenarios") or config.getini("migration_shipped_scenarios")
    if shipped:
        config.args.append(str(scenario_mod.shipped_dir()))


def pytest_report_header(config: pytest.Config) -> str:
    tier = config._migration_tier  # type: ignore[attr-defined]
    try:
        backends.get(tier).sanity_check()
        from .version import pacemaker_version

        name = effective_release(config)
        if name not in {"host", release.active().name}:
            return f"migration-harness: tier {tier}, release {name} (its tools are prepared on first use)"
        return f"migration-harness: tier {tier}, release {release.active().label}, Pacemaker {pacemaker_version()}"
    except HarnessError as exc:
        return f"migration-harness: tier {tier} cannot run here: {exc.message}"


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix in {".yaml", ".yml"} and (
        file_path.parent.name == "scenarios" or file_path.name.endswith((".scenario.yaml", ".scenario.yml"))
    ):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


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
        for case in loaded.cases(effective_tier(self.config)):
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
        session = _session_state(self.config)
        backend = session.backend(self.case.scenario.nodes)
        result = engine.run_case(backend, self.case, session.casedir(self.case), session.version)
        session.results.append(result)
        self.user_properties.append(("verdicts", [c.verdict.as_json() for c in result.checks]))
        guest = getattr(result.observation, "guest", None)
        if guest is not None:
            self.user_properties.append(("guest", guest.describe()))
        if result.skipped:
            pytest.skip(result.skipped)
        if not result.passed:
            _render(result)
            raise MigrationMismatch(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, (MigrationMismatch, HarnessError)):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.case.full_id}: {self.case.trigger.name} in style {self.case.style}"


def _render(result: engine.CaseResult) -> None:
    if result.observation is not None and result.tier == "simulate":
        from .backends.simulate import render_evidence

        render_evidence(result.observation)


class _SessionState:
    """The session's backend, created on first use and torn down at the end of the session."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.tier: str = config._migration_tier  # type: ignore[attr-defined]
        self._backend: backends.Backend | None = None
        self._unavailable: str | None = None
        self._nodes: int | None = None
        self._base: Path | None = None
        self.version: Any = None
        self.results: list[engine.CaseResult] = []

    def base(self) -> Path:
        if self._base is None:
            given = self.config.getoption("--migration-artifacts") or self.config.getini("migration_artifacts")
            if given:
                self._base = Path(given)
            else:
                factory = self.config._tmp_path_factory  # type: ignore[attr-defined]
                self._base = factory.getbasetemp() / "migration"
            self._base.mkdir(parents=True, exist_ok=True)
        return self._base

    def backend(self, nodes: int) -> backends.Backend:
        if self._unavailable:
            pytest.skip(self._unavailable)
        if self._backend is None:
            cls = backends.get(self.tier)
            try:
                release.activate(release.ensure(effective_release(self.config)))
                cls.sanity_check()
            except BackendUnavailable as exc:
                self._unavailable = f"tier {self.tier} cannot run here: {exc}"
                pytest.skip(self._unavailable)
            from .version import pacemaker_version

            self.version = pacemaker_version()
            self._backend = cls(self.base() / f"{self.tier}-backend")
            self._backend.workdir.mkdir(parents=True, exist_ok=True)
        if self._nodes != nodes:
            try:
                self._backend.up(nodes)
            except BackendUnavailable as exc:
                self._unavailable = f"tier {self.tier} cannot run scenarios here: {exc}"
                pytest.skip(self._unavailable)
            self._nodes = nodes
        return self._backend

    def casedir(self, case: scenario_mod.Case) -> Path:
        return self.base() / engine.case_dirname(case)

    def close(self) -> None:
        if self._backend is not None:
            self._backend.down()
            self._backend = None


def _session_state(config: pytest.Config) -> _SessionState:
    state = getattr(config, "_migration_state", None)
    if state is None:
        state = _SessionState(config)
        config._migration_state = state  # type: ignore[attr-defined]
    return state


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """On the live tiers, the verdicts as a table (the nested tier adds the guest's evidence)."""
    state = getattr(terminalreporter.config, "_migration_state", None)
    results = [r for r in getattr(state, "results", []) if r.tier != "simulate" and not r.skipped]
    if not results:
        return
    from .report import run_table

    terminalreporter.section(f"migration verdicts ({results[0].tier} tier)")
    terminalreporter.write_line(run_table(results))
    for result in results:
        seconds = result.observation.seconds if result.observation else {}
        if "migration" in seconds or "guest-downtime" in seconds:
            terminalreporter.write_line(
                f"{result.case.full_id}: migrate_to {seconds.get('migration', float('nan')):.1f} s, guest downtime "
                f"{seconds.get('guest-downtime', float('nan')) * 1000:.0f} ms, case {result.seconds:.0f} s; evidence {result.casedir}")


def pytest_sessionfinish(session: pytest.Session) -> None:
    state = getattr(session.config, "_migration_state", None)
    if state is not None:
        state.close()


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in item.iter_markers("tier"):
        name = marker.args[0]
        try:
            backends.get(name).sanity_check()
        except HarnessError as exc:
            pytest.skip(f"tier {name} cannot run here: {exc}")


@pytest.fixture(scope="session")
def migration_backend(request: pytest.FixtureRequest) -> backends.Backend:
    """The session's tier backend, brought up for 2 nodes (``migration_cluster`` picks the count)."""
    return _session_state(request.config).backend(2)


class ClusterHandle:
    """What a user's own test drives: configure a crm text, trigger, read the verdicts."""

    def __init__(self, state: _SessionState, request: pytest.FixtureRequest) -> None:
        self._state = state
        self._request = request
        self._scenario: scenario_mod.Scenario | None = None
        self._settled: Any = None
        self._count = 0

    def configure(self, configuration: str, *, resources: list[str], nodes: int = 2, options: dict[str, str] | None = None) -> None:
        name = re.sub(r"[^\w.-]+", "-", self._request.node.name)
        self._scenario = scenario_mod.Scenario(
            name=name, path=Path(str(self._request.node.path)), nodes=nodes, resources=resources,
            configuration=configuration, cib=None, config_line=1, topology=None,
            styles=["as-written"], triggers=[], rules=[], options=options or {},
        )
        backend = self._state.backend(nodes)
        self._settled = backend.configure(self._scenario, "as-written", self._dir())

    def trigger(self, kind: str, *, resource: str | None = None, node: str | None = None):  # -> Outcome
        if self._scenario is None:
            raise HarnessError("configure the cluster before triggering")
        if kind not in KINDS:
            raise HarnessError(f"unknown trigger '{kind}'", hint="triggers: " + ", ".join(KINDS))
        resolved = engine.resolve(Trigger(kind, resource, node), self._scenario, self._settled)
        self._count += 1
        backend = self._state.backend(self._scenario.nodes)
        observation = backend.trigger(self._settled, resolved, self._dir() / f"trigger-{self._count}-{kind}")
        observation.outcome.notes.append(f"evidence: {self._dir()}")
        return observation.outcome

    def _dir(self) -> Path:
        assert self._scenario is not None
        path = self._state.base() / self._scenario.name
        path.mkdir(parents=True, exist_ok=True)
        return path


@pytest.fixture
def migration_cluster(request: pytest.FixtureRequest) -> ClusterHandle:
    """Configure a candidate configuration on the session's tier, trigger a move, assert the path."""
    return ClusterHandle(_session_state(request.config), request)
