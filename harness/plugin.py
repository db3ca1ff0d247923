"""The pytest plugin: options, markers, scenario collection, fixtures - and nothing else.

- ``--tier`` (ini ``migration_tier``, environment ``MIGRATION_HARNESS_TIER``; default simulate).
- Scenario files (``*.yaml`` in a directory named ``scenarios``, or ``*.scenario.yaml`` anywhere)
  are collected as test items, one per style x trigger, with ids like ``seed-xen[order-only-standby]``
  and the ``migration`` marker. ``--shipped-scenarios`` (ini ``migration_shipped_scenarios``) adds
  the scenarios shipped with the package.
- Fixtures: ``migration_backend`` (the session's tier), ``migration_cluster`` (configure a crm text,
  trigger, read ``outcome["vm1"].migrated``), ``migration_nodes`` (live tiers: each node as a
  pytest-testinfra host); a test that uses any of them is marked ``migration``.
- On failure the evidence (CIB before/after, graph, summary, picture) stays in a per-test
  directory named in the failure message.
- Each case carries its verdict, expectation, tier, release, Pacemaker version, guest downtime and
  evidence path as ``user_properties`` (written into ``--junitxml``), and its summary on its test
  report, so that under pytest-xdist the controller has every worker's cases for the closing
  table and ``--migration-html`` (ini ``migration_html``), one self-contained page.
The session's lifecycle is ``harness.session``, the closing table ``harness.terminal``, the page
``harness.htmlreport``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import engine, htmlreport, session, terminal
from . import scenario as scenario_mod
from .errors import HarnessError
from .hosts import NodeHosts
from .outcome import Outcome
from .prediction import render_evidence
from .summary import CaseSummary, summarize
from .tiers import Backend
from .tiers.base import Settled
from .triggers import KINDS, Trigger

TIER_HELP = "tier that answers the scenarios: simulate (crm_simulate), local (namespaces), nested (Vagrant + Xen)"
SHIPPED_HELP = "also collect the scenarios shipped with migration-harness"
RELEASE_HELP = "Debian release whose Pacemaker answers: host (default), bullseye, bookworm, trixie, forky"
ARTIFACTS_HELP = "directory for the evidence of each migration test (default: a temporary directory, failures kept)"
RUN_HELP = (
    "nested tier: run on the cluster `migration-harness up --tier nested` left in DIR (restored per test, left up)"
)
HTML_HELP = "write one self-contained HTML page of every scenario case (verdicts, reasons, pictures) to FILE"
FIXTURES = ("migration_cluster", "migration_backend", "migration_nodes")
# The attribute of a scenario case's test report that carries its summary (JSON-able: pytest-xdist
# serialises a report's attributes from the worker to the controller).
REPORT_ATTR = "migration_case"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("migration-harness", "live migration verdicts")
    group.addoption("--tier", action="store", default=None, help=TIER_HELP + f" (env {session.ENV_TIER})")
    group.addoption("--shipped-scenarios", action="store_true", default=None, help=SHIPPED_HELP)
    group.addoption("--migration-artifacts", action="store", default=None, help=ARTIFACTS_HELP)
    group.addoption("--release", action="store", default=None, help=RELEASE_HELP + f" (env {session.ENV_RELEASE})")
    group.addoption("--migration-run", action="store", default=None, metavar="DIR", help=RUN_HELP)
    group.addoption("--migration-html", action="store", default=None, metavar="FILE", help=HTML_HELP)
    parser.addini("migration_release", RELEASE_HELP, default=None)
    parser.addini("migration_tier", TIER_HELP, default=None)
    parser.addini("migration_shipped_scenarios", SHIPPED_HELP, type="bool", default=False)
    parser.addini("migration_artifacts", ARTIFACTS_HELP, default=None)
    parser.addini("migration_html", HTML_HELP + " (relative to the rootdir)", default=None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "migration: a live-migration verdict of a scenario (style x trigger)")
    config.addinivalue_line("markers", "tier(name): needs the given tier; skipped with the reason where it cannot run")
    session.effective_tier(config)  # a bad --tier is a usage error before anything is collected
    shipped = config.getoption("--shipped-scenarios") or config.getini("migration_shipped_scenarios")
    if shipped:
        config.args.append(str(scenario_mod.shipped_dir()))
    html = session.effective_html(config)
    if html is not None:
        try:
            htmlreport.check_target(html)
        except HarnessError as exc:
            raise pytest.UsageError(f"--migration-html: {exc}") from None
    config.pluginmanager.register(SummaryCollector(config), "migration-harness-summaries")


class SummaryCollector:
    """Gathers every scenario case's summary from the test reports: in one process, and under
    pytest-xdist on the controller, from every worker's reports."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, REPORT_ATTR, None)
        if data is not None:
            session.state(self.config).summaries.append(CaseSummary.from_json(data))


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
            bad = BadScenarioItem.from_parent(self, name=self.path.name, message=str(exc))
            bad.add_marker(pytest.mark.migration)
            yield bad
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
        backend = state.backend(self.case.scenario.nodes, self.case.scenario)
        assert state.version is not None  # set with the backend
        result = engine.run_case(backend, self.case, state.casedir(self.case), state.version)
        state.results.append(result)
        if result.observation is not None and result.tier == "simulate" and (result.failed or state.html):
            render_evidence(result.observation)  # the pictures a failure message or the page shows
        summary = summarize(result)
        self.stash[SUMMARY] = summary
        self.user_properties.extend(junit_properties(summary, result))
        if result.skipped:
            pytest.skip(result.skipped)
        if not result.passed:
            raise MigrationMismatch(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, (MigrationMismatch, HarnessError)):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"{self.case.full_id}: {self.case.trigger.name} in style {self.case.style}"


SUMMARY = pytest.StashKey[CaseSummary]()


def junit_properties(summary: CaseSummary, result: engine.CaseResult) -> list[tuple[str, object]]:
    """What a CI system shows of a case from the JUnit XML alone."""
    properties: list[tuple[str, object]] = [
        ("verdict", summary.verdict),
        ("expected", summary.expected),
        ("result", summary.status),
        ("tier", summary.tier),
        ("release", summary.release),
        ("pacemaker", summary.pacemaker),
    ]
    if summary.guest_detail is not None:
        properties.append(("guest", summary.guest_detail))
    if summary.guest_downtime_ms is not None:
        properties.append(("guest_downtime_ms", f"{summary.guest_downtime_ms:.0f}"))
    properties.append(("evidence", summary.evidence or ""))
    properties.append(("verdicts", json.dumps([c.verdict.as_json() for c in result.checks])))
    return properties


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    handle = item.stash.get(HANDLE, None)
    if handle is not None and report.failed:
        session.state(item.config).keep.add(handle.directory())
    summary = item.stash.get(SUMMARY, None)
    if summary is not None and report.when == "call":
        setattr(report, REPORT_ATTR, summary.as_json())
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    config = terminalreporter.config
    if session.STATE in config.stash and not session.is_worker(config):
        state = config.stash[session.STATE]
        terminal.summary(terminalreporter, state.summaries, state.html, state.html_error)


def pytest_sessionfinish(session: pytest.Session) -> None:
    from . import session as session_mod

    config = session.config
    if session_mod.STATE in config.stash:
        config.stash[session_mod.STATE].close()
    html = session_mod.effective_html(config)
    if html is not None and not session_mod.is_worker(config):
        # After close: the page says which evidence directories were removed.
        state = session_mod.state(config)
        try:
            htmlreport.write(html, state.summaries)
        except HarnessError as exc:
            state.html_error = str(exc)


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

    def configure(
        self, configuration: str, *, resources: list[str], nodes: int = 2, options: dict[str, str] | None = None
    ) -> None:
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
def migration_nodes(request: pytest.FixtureRequest) -> NodeHosts:
    """The session's live cluster, each node a pytest-testinfra host reached the tier's own way
    (local: the node's namespaces; nested: the lab's SSH session, as root):
    ``migration_nodes["node1"].service("pacemaker").is_running``. Skipped on the simulate tier."""
    state = session.state(request.config)
    if state.tier == "simulate":
        pytest.skip("migration_nodes needs a live tier (--tier local or nested): the simulate tier has no nodes")
    lab = getattr(state.current_backend(), "lab", None)
    if lab is None:
        pytest.skip(f"the {state.tier} tier has no cluster up")
    try:
        return NodeHosts(lab)
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def migration_cluster(request: pytest.FixtureRequest) -> ClusterHandle:
    """Configure a candidate configuration on the session's tier, trigger a move, assert the path."""
    handle = ClusterHandle(session.state(request.config), request)
    request.node.stash[HANDLE] = handle
    return handle
