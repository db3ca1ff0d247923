"""Where the guest's domain runs while a trigger plays out: xenstore of every dom0, every half second.

``XlPoller`` keeps a thread and an SSH connection per dom0 and records ``xl.DomainHistory``
samples (``xl-history.txt``); a dom0 that stops answering is taken for gone, and asked again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ...errors import HarnessError
from .guest import xl

if TYPE_CHECKING:
    from .cluster import NestedLab

# Sampling every half second sees a migration (tens of seconds under emulation) many times over
# without loading the dom0s' emulated CPUs.
POLL = 0.5
# While a case waits, a line on where the guest is this often (seconds).
REPORT_EVERY = 30.0
# A dom0 taken for gone is asked again this often (seconds): a fenced dom0 reboots and rejoins.
RETRY_GONE = 5.0


class XlPoller:
    """The domains of every dom0 (from xenstore: never blocked by a migration) every POLL seconds,
    a thread and an SSH connection per dom0, so a dom0 slowed down by the migration it sends
    delays only its own readings. A dom0 is taken for gone (crashed, fenced, cut off) after
    GONE_AFTER failed readings in a row, not at the first slow one."""

    GONE_AFTER = 3

    def __init__(self, lab: NestedLab, guest: str, report: Callable[[str], None] | None = None) -> None:
        self.nodes = {name: lab.fresh_node(name) for name in lab.plan.nodes}
        self.history = xl.DomainHistory(guest)
        self.report = report
        self._reported = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._latest: dict[str, tuple[float, float, str]] = {}  # node -> (asked, answered, output)
        # Samples are recorded once every dom0 answered (or the first round ran out): a round with
        # some dom0s not yet heard of would show the guest on no dom0 before the trigger.
        self._first_round_done = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, args=(name,), name=f"xl-poller-{name}", daemon=True)
            for name in self.nodes
        ]

    def start(self, first_round: float = 60.0) -> None:
        """Start polling; return once every dom0 answered a first time (SSH connections made under
        emulation take seconds: without this wait the first seconds after a trigger go unseen)."""
        for thread in self._threads:
            thread.start()
        deadline = time.monotonic() + first_round
        while len(self._latest) < len(self.nodes) and time.monotonic() < deadline:
            time.sleep(0.1)
        with self._lock:
            self._first_round_done.set()
            self._record(time.time())

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        for node in self.nodes.values():
            node.close()

    def _loop(self, name: str) -> None:
        """Poll one dom0 until stopped. A dom0 gone (GONE_AFTER failed readings) is asked again every
        RETRY_GONE seconds on a fresh connection: a fenced dom0 reboots, rejoins, and the cluster
        can start the guest there again."""
        node, failures = self.nodes[name], 0
        while not self._stop.is_set():
            asked = time.time()
            try:
                result = node.run(["sh", "-c", xl.XENSTORE_LIST], check=False, timeout=30)
            except HarnessError:
                result = None
            if self._stop.is_set():  # an answer after stop() (a slow connect) would change a history being read
                break
            if result is None or not result.ok:
                failures += 1
                node.close()  # the next try connects afresh: this connection may lead to a dom0 since reset
                if failures == self.GONE_AFTER:  # its domains are gone with it
                    with self._lock:
                        self._latest.pop(name, None)
                        self._record(time.time())
                        if self.report is not None:
                            self.report(f"{name} does not answer: taken for gone, asked again every {RETRY_GONE:g} s")
                self._stop.wait(POLL if failures < self.GONE_AFTER else RETRY_GONE)
                continue
            if failures >= self.GONE_AFTER and self.report is not None:
                self.report(f"{name} answers again")
            failures = 0
            with self._lock:
                self._latest[name] = (asked, time.time(), result.stdout)
                self._record(time.time())
                if self.report is not None and time.monotonic() - self._reported >= REPORT_EVERY:
                    self._reported = time.monotonic()
                    self.report(self.where())
            self._stop.wait(POLL)

    def _record(self, now: float) -> None:
        """A sample of every dom0's latest reading, with the interval each was read in."""
        if not self._first_round_done.is_set():
            return
        latest = dict(self._latest)
        self.history.add_xenstore(
            now, {n: out for n, (_, _, out) in latest.items()}, {n: (a, b) for n, (a, b, _) in latest.items()}
        )

    def where(self) -> str:
        """Where the guest's domain is, as the last round saw it; a migration in flight (an
        ``--incoming`` copy on the target) with how long it has run."""
        if not self.history.samples:
            return f"guest {self.history.guest}: no dom0 answered yet"
        last = self.history.samples[-1]
        incoming = [n for n, ds in last.by_node.items() if any(d.name == self.history.guest + "--incoming" for d in ds)]
        if incoming:
            since = self.history.samples[0].time
            for sample in reversed(self.history.samples):
                if not any(d.name.endswith("--incoming") for ds in sample.by_node.values() for d in ds):
                    since = sample.time
                    break
            source = ", ".join(last.running_on(self.history.guest)) or "?"
            return f"guest migrating {source} -> {', '.join(incoming)} for {last.time - since:.0f} s (xl migrate)"
        where = last.running_on(self.history.guest)
        return f"guest {self.history.guest} " + (f"running on {', '.join(where)}" if where else "on no dom0")
