"""Conformance, running part: replay a release's whole scheduler corpus with that release's scheduler.

One ``crm_simulate`` call per input (``simulator.schedule``), inputs in parallel threads (each waits
on its own subprocess), every output parsed once; the comparing is ``conformance.judge``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import conformance, corpus, outcome, pcmksummary, release, releaseroot, simulator
from .conformance import CaseResult
from .errors import HarnessError
from .version import pacemaker_version


@dataclass
class Report:
    release: str
    pacemaker: str  # the upstream version of the scheduler that ran it (and of its own corpus)
    results: list[CaseResult]
    seconds: float
    corpus: str = ""  # another release's corpus ("bookworm (2.1.5)"), or "": the release's own

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def reproduced(self) -> int:
        return sum(r.status in {"agree", "disagree", "exception"} for r in self.results)

    @property
    def passed(self) -> bool:
        return self.count("disagree") == 0 and self.count("error") == 0

    def last_line(self) -> str:
        return (
            f"conformance {self.release} (Pacemaker {self.pacemaker})"
            + (f" on the corpus of {self.corpus}" if self.corpus else "")
            + f": {self.count('agree')}/{self.reproduced - self.count('exception')} inputs agree"
        )

    def text(self) -> str:
        lines = []
        for status, title in (
            ("disagree", "DISAGREE"),
            ("exception", "EXCEPTION"),
            ("not-reproduced", "NOT REPRODUCED by crm_simulate itself"),
            ("error", "ERROR"),
        ):
            for result in (r for r in self.results if r.status == status):
                lines.append(f"{title} {result.name}:")
                lines.extend(f"    {problem}" for problem in result.problems)
        lines.append(
            f"{len(self.results)} inputs in {self.seconds:.1f} s: {self.reproduced} reproduced by crm_simulate "
            f"{self.pacemaker} itself, {self.count('not-reproduced')} not, {self.count('exception')} documented "
            f"exceptions, {self.count('disagree')} disagreements, {self.count('error')} errors"
        )
        lines.append(self.last_line())
        return "\n".join(lines)

    def as_json(self) -> dict[str, object]:
        return {
            "release": self.release,
            "pacemaker": self.pacemaker,
            "corpus": self.corpus or None,
            "seconds": round(self.seconds, 3),
            "inputs": len(self.results),
            "reproduced": self.reproduced,
            "agree": self.count("agree"),
            "exceptions": self.count("exception"),
            "not_reproduced": self.count("not-reproduced"),
            "errors": self.count("error"),
            "cases": [r.as_json() for r in self.results if r.status != "agree"],
        }


def check_case(case: corpus.Case, workdir: Path, series: str) -> CaseResult:
    """Schedule one corpus input and judge it against its expected summary."""
    try:
        expected = pcmksummary.parse(case.expected.read_text(errors="replace"))
        planned = simulator.schedule(case.input, workdir)
    except HarnessError as exc:
        # The corpus holds inputs the scheduler refuses on purpose; bare crm_simulate -R does not
        # reproduce a summary for those.
        return CaseResult(case.name, "not-reproduced", [exc.message.splitlines()[0]])
    except OSError as exc:
        return CaseResult(case.name, "error", [str(exc)])
    actions = outcome.summary_actions(planned.result)
    fencing = outcome.summary_fencing(planned.result)
    verdicts = outcome.classify(planned.graph, actions, outcome.active_resources(planned.result))
    return conformance.judge(case.name, series, expected, actions, fencing, verdicts)


@contextmanager
def activated(name: str, progress: Callable[[str], None]) -> Iterator[release.Release]:
    """Run the release's own tools (building its root on first use) for the time of the block."""
    previous = release.active()
    releaseroot.activate(name, progress=progress)
    try:
        yield release.active()
    finally:
        release.activate(previous)


def run_release(
    name: str, *, jobs: int | None = None, progress: Callable[[str], None] = print, corpus_of: str | None = None
) -> Report:
    """The conformance of release ``name``'s scheduler to its own corpus, or to release
    ``corpus_of``'s (for a release whose source the archive does not serve: Debian 11's). With
    another release's corpus an input counts only where this scheduler prints the expected
    summary itself (reproduced); what it changed since is NOT REPRODUCED, not a disagreement."""
    with corpus.open_corpus(corpus_of or name) as found, activated(name, progress) as active:
        cases = found.cases()
        series = ".".join(found.source.upstream.split(".")[:2])
        scheduler = str(pacemaker_version()) if corpus_of else found.source.upstream
        foreign = f"{found.release} ({found.source.upstream})" if corpus_of and found.release != active.name else ""
        workdir = Path(tempfile.mkdtemp(prefix="mh-conformance-"))
        started = time.monotonic()
        try:
            with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
                results = list(pool.map(lambda case: check_case(case, workdir, series), cases))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return Report(active.name, scheduler, results, time.monotonic() - started, foreign)
