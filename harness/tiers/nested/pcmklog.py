"""What Pacemaker ran on a real node, read from its log: the controller's "Result of" lines.

Each node's pacemaker-controld logs one line per operation the executor finished there, e.g.
``... notice: Result of migrate_to operation for vm-guest on node1: ok | ... key=vm-guest_migrate_to_0 rc=0``,
after a ``Requesting local execution of migrate_to operation for vm-guest on node1`` line (its start).
These become the same ``Executed`` operations as the local tier's journal, so one classifier
turns both into verdicts. Only the log written after the trigger is read (by byte offset).
"""

from __future__ import annotations

import re
import time

from ...ocf import OCF_ERR_GENERIC, RESULT_WORDS
from ..live import Executed

LOG = "/var/log/pacemaker/pacemaker.log"
_RESULT = re.compile(
    r"^(?P<stamp>\w{3} +\d+ \d\d:\d\d:\d\d(?:\.\d+)?) .*?Result of (?P<action>\S+) operation for "
    r"(?P<resource>\S+) on (?P<node>\S+): (?P<status>[^|]*?)\s*(?:\||$)(?P<rest>.*)$"
)
_REQUEST = re.compile(
    r"^(?P<stamp>\w{3} +\d+ \d\d:\d\d:\d\d(?:\.\d+)?) .*?Requesting local execution of (?P<action>\S+) "
    r"operation for (?P<resource>\S+) on (?P<node>\S+)"
)
_RC = re.compile(r"\brc=(-?\d+)")
_STAMP = re.compile(r"^(?P<stamp>\w{3} +\d+ \d\d:\d\d:\d\d(?:\.\d+)?) ", re.MULTILINE)


def _seconds(stamp: str) -> float:
    """Seconds since the start of the year (the log gives no year): enough to order one window."""
    day, clock = stamp.rsplit(" ", 1)
    parsed = time.strptime(f"2000 {' '.join(day.split())} {clock.split('.')[0]}", "%Y %b %d %H:%M:%S")
    fraction = float("0." + clock.split(".")[1]) if "." in clock else 0.0
    return (parsed.tm_yday - 1) * 86400 + parsed.tm_hour * 3600 + parsed.tm_min * 60 + parsed.tm_sec + fraction


def log_seconds(epoch: float) -> float:
    """``epoch`` (the host's clock) on the scale ``parse`` gives: the dom0s log in UTC, and their
    clocks are set from the host's at every restore."""
    stamp = time.strftime("%b %d %H:%M:%S", time.gmtime(epoch))
    return _seconds(f"{stamp}.{int((epoch % 1) * 1e6):06d}")


def since(text: str, zero: float) -> str:
    """``text`` (a pacemaker log) from its first line stamped at or after ``zero`` (``log_seconds``
    scale); empty if none is."""
    for match in _STAMP.finditer(text):
        try:
            stamped = _seconds(match["stamp"])
        except ValueError:  # "Foo 1 00:00:00 ": not a stamp
            continue
        if stamped >= zero:
            return text[match.start() :]
    return ""


def parse(text: str, agent: str = "real") -> list[Executed]:
    """The operation results in ``text`` (one node's pacemaker.log), in log order."""
    entries = []
    requested: dict[tuple[str, str, str], float] = {}
    for line in text.splitlines():
        request = _REQUEST.match(line)
        if request:
            requested[(request["node"], request["resource"], request["action"])] = _seconds(request["stamp"])
            continue
        match = _RESULT.match(line)
        if not match:
            continue
        rc_match = _RC.search(match["rest"])
        status = match["status"].strip()
        if rc_match:
            rc = int(rc_match[1])
        else:
            rc = RESULT_WORDS.get(status.lower().split(" (")[0], OCF_ERR_GENERIC)
        when = _seconds(match["stamp"])
        began = requested.pop((match["node"], match["resource"], match["action"]), when)
        entries.append(Executed(match["node"], match["resource"], match["action"], began, when, rc, agent))
    return entries
