"""A pytest session's migration tier: chosen once, activated on first use, torn down at the end.

The session keeps one backend (the local and nested tiers keep one live cluster for every test),
the release whose tools answer, the case results, and the directory that holds each case's
evidence. It lives in ``config.stash``. The terminal table and the HTML page are rendered from
``summaries``: the cases' summaries as test reports brought them (under pytest-xdist, from every
worker to the controller), not from this process's own results.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from . import engine, release, releaseroot, scratch, tiers
from .errors import BackendUnavailable, HarnessError
from .scenario import Case, Scenario
from .summary import CaseSummary
from .version import Version, pacemaker_version

ENV_TIER = "MIGRATION_HARNESS_TIER"
ENV_RELEASE = "MIGRATION_HARNESS_RELEASE"


def effective_tier(config: pytest.Config) -> str:
    """Command line > environment > ini > default, as pytest-timeout resolves its settings."""
    tier = (
        config.getoption("--tier") or os.environ.get(ENV_TIER) or config.getini("migration_tier") or tiers.DEFAULT_TIER
    )
    if tier not in tiers.TIERS:
        raise pytest.UsageError(f"unknown tier '{tier}': choose one of {', '.join(tiers.TIERS)}")
    return str(tier)


def effective_html(config: pytest.Config) -> Path | None:
    """``--migration-html`` (relative to the working directory) or ini ``migration_html`` (relative
    to the rootdir, like the ini file that names it)."""
    given = config.getoption("--migration-html")
    if given:
        return Path(given)
    ini = config.getini("migration_html")
    return config.rootpath / ini if ini else None


def is_worker(config: pytest.Config) -> bool:
    """A pytest-xdist worker: runs cases, reports them; the controller writes tables and pages."""
    return hasattr(config, "workerinput")


def effective_release(config: pytest.Config) -> str:
    return str(
        config.getoption("--release") or os.environ.get(ENV_RELEASE) or config.getini("migration_release") or "host"
    )


class SessionState:
    """The session's backend, created on first use and torn down at the end of the session."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.tier = effective_tier(config)
        given = config.getoption("--migration-run")
        self.run = Path(given).resolve() if given else None
        self._backend: tiers.Backend | None = None
        self._unavailable: str | None = None
        self._nodes: int | None = None
        self._base: Path | None = None
        self._own_base = False
        self.version: Version | None = None
        self.results: list[engine.CaseResult] = []  # this process's cases (evidence to keep)
        self.summaries: list[CaseSummary] = []  # every case's, from the test reports
        self.html = effective_html(config)
        self.html_error: str | None = None  # why the page could not be written
        self.keep: set[Path] = set()  # evidence of failed tests of users' own (migration_cluster)

    def base(self) -> Path:
        """Where each case's evidence goes: --migration-artifacts, or a directory of the session's
        own whose failing cases are kept (named in the failure) and the rest removed at the end."""
        if self._base is None:
            given = self.config.getoption("--migration-artifacts") or self.config.getini("migration_artifacts")
            if given:
                self._base = Path(given)
                self._base.mkdir(parents=True, exist_ok=True)
            else:
                self._base = scratch.make("pytest")
                self._own_base = True
        return self._base

    def backend(self, nodes: int, scenario: Scenario | None = None) -> tiers.Backend:
        """The session's backend up for ``nodes`` nodes, or for what ``scenario`` needs (the nested
        tier's dom0 releases too: a cluster that does not fit is replaced)."""
        if self._unavailable:
            pytest.skip(self._unavailable)
        if self._backend is None:
            cls = tiers.get(self.tier)
            try:
                releaseroot.activate(effective_release(self.config))
                cls.sanity_check(self.run)
            except BackendUnavailable as exc:
                self._unavailable = f"tier {self.tier} cannot run here: {exc}"
                pytest.skip(self._unavailable)
            self.version = pacemaker_version()
            workdir = self.base() / f"{self.tier}-backend"
            workdir.mkdir(parents=True, exist_ok=True)
            self._backend = cls(workdir, run_dir=self.run)
            if not self._backend.concurrent:
                self._backend.progress = progress_writer(self.config)
        if scenario is not None and self._backend.cannot_run(scenario):
            return self._backend  # the case skips itself with the reason: no cluster for it
        if self._nodes != nodes or scenario is not None:
            try:
                if scenario is not None:
                    self._backend.up_for(scenario)
                else:
                    self._backend.up(nodes)
            except BackendUnavailable as exc:
                self._unavailable = f"tier {self.tier} cannot run scenarios here: {exc}"
                pytest.skip(self._unavailable)
            self._nodes = nodes
        return self._backend

    def current_backend(self) -> tiers.Backend:
        """The backend as it is up now (any node count), or brought up for 2 nodes."""
        return self.backend(self._nodes or 2)

    def casedir(self, case: Case) -> Path:
        return self.base() / engine.case_dirname(case)

    def close(self) -> None:
        if self._backend is not None:
            backend, self._backend = self._backend, None
            backend.down()
        if self._own_base and self._base is not None:
            keep = {r.casedir for r in self.results if r.failed and r.casedir} | self.keep
            for child in self._base.iterdir() if self._base.exists() else ():
                if child not in keep:
                    shutil.rmtree(child, ignore_errors=True)
            if not any(self._base.iterdir()):
                self._base.rmdir()


def progress_writer(config: pytest.Config) -> Callable[[str], None] | None:
    """A live case takes minutes: its phase lines go to the session's terminal as they come, past
    pytest's output capture (as live logging does) and flushed (a CI log is a file). A pytest-xdist
    worker has no terminal of its own: its lines go to the standard error it shares with the
    controller, each headed by the worker's id (two clusters come up side by side)."""
    capture = config.pluginmanager.get_plugin("capturemanager")
    uncaptured = capture.global_and_fixture_disabled if capture is not None else contextlib.nullcontext
    if is_worker(config):
        worker = str(config.workerinput.get("workerid", "worker"))  # type: ignore[attr-defined]

        def say_from_worker(line: str) -> None:
            with uncaptured():
                sys.stderr.write(f"[{worker}] {line}\n")
                sys.stderr.flush()

        return say_from_worker
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return None

    def say(line: str) -> None:
        with uncaptured():
            reporter.write_line(line)
            reporter.flush()

    return say


STATE = pytest.StashKey[SessionState]()


def state(config: pytest.Config) -> SessionState:
    if STATE not in config.stash:
        config.stash[STATE] = SessionState(config)
    return config.stash[STATE]


def describe(config: pytest.Config) -> str:
    """The report header: which tier and release answer, or why the tier cannot run here."""
    tier = effective_tier(config)
    try:
        tiers.get(tier).sanity_check()
        name = effective_release(config)
        if name not in {"host", release.active().name}:
            return f"migration-harness: tier {tier}, release {name} (its tools are prepared on first use)"
        return f"migration-harness: tier {tier}, release {release.active().label}, Pacemaker {pacemaker_version()}"
    except HarnessError as exc:
        return f"migration-harness: tier {tier} cannot run here: {exc.message}"
