"""The HTML report: a real `run --html` on a shipped scenario, opened in a real headless Chromium.

What a person sees is checked in the browser itself: the DOM Chromium built (table rows, case
sections, inline pictures with a rendered size) and a screenshot (not blank; the graph's own
colours, the PASS and FAIL colours on the page).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest
from pngpixels import near, pixels  # tests/pngpixels.py (rootdir-relative import mode)

from harness import htmlreport, scenario, svginline
from harness.cli import main
from harness.runner import run
from harness.summary import CaseSummary, VerdictSummary, summarize

CHROMIUM = shutil.which("chromium")
# Root in a container: no sandbox; nothing that talks to the network or to Google.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")

# Graphviz's colours in Pacemaker's transition graphs (green: an action to run; orange text: a
# pseudo action), and the page's PASS and FAIL colours (htmlreport.css).
GRAPH_GREEN, GRAPH_ORANGE = (0, 128, 0), (255, 165, 0)
PASS_GREEN, FAIL_RED = (26, 127, 55), (207, 34, 46)
# A wrong expectation put first, so that the group style's move fails (it moves, never migrates).
WRONG = """expect:
  - style: group
    trigger: move
    verdict: migrate
    why: wrong on purpose, so that the page shows a failing case
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`migration-harness run --html` on the seed scenario: order-only move (passes), group move
    (fails), without --keep: the page must stand on its own."""
    tmp = tmp_path_factory.mktemp("html")
    seed = next(p for p in scenario.shipped() if scenario.load(p).name == "seed-xen")
    (tmp / "scenarios").mkdir()
    mine = tmp / "scenarios" / seed.name
    mine.write_text(seed.read_text().replace("expect:\n", WRONG, 1))
    out = tmp / "report" / "seed.html"
    # Without --keep a failing case's evidence stays in a scratch directory the message points to
    # (for the user; `clean` removes it once this process is gone): here, under the test's own.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tempfile, "tempdir", str(tmp))
        code = main(
            ["run", str(mine), "--style", "order-only", "--style", "group", "--trigger", "move", "--html", str(out)]
        )
    assert code == 1  # the failing case
    assert [p.name.split("-")[3] for p in tmp.glob("mh-run-*")] == ["run"]  # kept where the test looks
    return out


def chromium(tmp: Path, *args: str) -> str:
    profile = tmp / "profile"
    profile.mkdir(exist_ok=True)
    assert CHROMIUM is not None
    return run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], timeout=180, what="headless chromium").stdout


def test_page_is_self_contained_and_escaped(page: Path) -> None:
    text = page.read_text()
    assert "<script" not in text.lower() and "<?xml" not in text and "<!DOCTYPE svg" not in text
    assert not re.search(r"""(src|href)=["'](https?:|file:|//)""", text), "the page loads nothing from elsewhere"
    assert text.count("<svg") == 2 and "evidence" in text and "removed after the run" in text


@needs_chromium
def test_browser_shows_table_sections_and_pictures(page: Path, tmp_path: Path) -> None:
    # A copy that measures its own pictures: the page itself needs no script, the test asks the
    # browser's layout how large each inline SVG came out.
    probe = tmp_path / "probe.html"
    probe.write_text(
        page.read_text().replace(
            "</body>",
            (
                "<script>for (const s of document.querySelectorAll('figure svg')) {"
                " const r = s.getBoundingClientRect();"
                " s.setAttribute('data-box', `${Math.round(r.width)}x${Math.round(r.height)}`); }"
                "</script></body>"
            ),
        )
    )
    dom = chromium(tmp_path, "--dump-dom", probe.as_uri())
    rows = re.findall(r"<tr><td>(.*?)</tr>", dom)
    assert len(rows) == 2
    assert "order-only" in rows[0] and "migrate node1 -&gt; node2" in rows[0] and "PASS" in rows[0]
    assert "group" in rows[1] and "move node1 -&gt; node2" in rows[1] and "FAIL" in rows[1]
    sections = re.findall(r'<section class="case (\w+)" id="(case-\d)"', dom)
    assert sections == [("PASS", "case-1"), ("FAIL", "case-2")]
    assert "Pacemaker's reason" in dom and "unrunnable fs-xen stop" in dom and "Why it failed" in dom
    boxes = [tuple(map(int, b.split("x"))) for b in re.findall(r'data-box="(\d+x\d+)"', dom)]
    assert len(boxes) == 2 and all(w > 200 and h > 200 for w, h in boxes), boxes

    shot = tmp_path / "page.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri())
    width, height, colours = pixels(shot)
    assert (width, height) == (1280, 2000)
    assert len(colours) > 200, "a blank or nearly blank screenshot"
    assert colours[(255, 255, 255)] < 0.97 * width * height
    assert near(colours, GRAPH_GREEN, 10) > 1000, "the transition graph's green actions are not on screen"
    assert near(colours, GRAPH_ORANGE, 30) > 100, "the graph's orange pseudo actions are not on screen"
    assert near(colours, PASS_GREEN, 10) > 500 and near(colours, FAIL_RED, 10) > 50


def summary(**changes: object) -> CaseSummary:
    base: dict[str, object] = dict(
        scenario="mine",
        file="/x/scenarios/mine.yaml",
        case="group-move",
        full_id="mine[group-move]",
        style="group",
        trigger="move",
        tier="simulate",
        release="bookworm",
        pacemaker="2.1.5",
        status="PASS",
        verdict="move node1 -> node2",
        expected="move",
        verdicts=(VerdictSummary("vm1", "move", "vm1: move node1 -> node2", None, "move", None, True),),
    )
    base.update(changes)
    return CaseSummary(**base)  # type: ignore[arg-type]


def test_every_text_is_escaped() -> None:
    hostile = "<img src=x onerror=alert(1)>"
    text = htmlreport.render(
        [summary(scenario=hostile, notes=(hostile,), trigger_text=hostile, evidence=hostile)],
        errors=[(hostile, hostile)],
        title=hostile,
    )
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text


def test_pictures_lose_prolog_scripts_handlers_and_outside_links() -> None:
    document = """<?xml version="1.0"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<!-- Generated by graphviz -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10pt" height="10pt"
     onload="alert(1)"><script>alert(2)</script><a xlink:href="javascript:alert(3)"><text x="1">vm1</text></a>
<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>
<image href="http://example.com/x.png"/><use xlink:href="#n1"/></svg>"""
    svg = svginline.inline(document)
    assert svg is not None and svg.startswith("<svg ")
    for gone in ("<?xml", "DOCTYPE", "graphviz", "onload", "script", "javascript", "foreignObject", "example.com"):
        assert gone not in svg, gone
    assert ">vm1</text>" in svg and 'xlink:href="#n1"' in svg
    assert svginline.inline("not a picture") is None
    assert svginline.inline("<html/>") is None


def test_summary_survives_json() -> None:
    before = summary(
        notes=("a",),
        pictures={"transition graph": "<svg/>"},
        phases={"migration": 1.5},
        guest="kept running, down 9 ms",
        guest_downtime_ms=9.0,
    )
    assert CaseSummary.from_json(before.as_json()) == before


def test_two_releases_side_by_side_with_changed_paths() -> None:
    old = summary()
    migrated = VerdictSummary("vm1", "migrate", "vm1: migrate node1 -> node2", None, "move", None, False)
    new = summary(
        release="trixie", pacemaker="3.0.0", verdict="migrate node1 -> node2", status="FAIL", verdicts=(migrated,)
    )
    same_path = summary(
        release="trixie",
        pacemaker="3.0.0",
        verdicts=(VerdictSummary("vm1", "move", "vm1: move node1 -> node2 (due to x)", "x", "move", None, True),),
    )
    text = htmlreport.render([old, new])
    assert "<th>simulate, bookworm (Pacemaker 2.1.5)</th><th>simulate, trixie (Pacemaker 3.0.0)</th>" in text
    assert "CHANGED" in text
    assert "CHANGED" not in htmlreport.render([old, same_path]), "a changed reason alone is not a changed path"


def test_a_nested_case_shows_prediction_plan_reality_and_the_guest(tmp_path: Path) -> None:
    """From the nested tier's stored real output (the seed's move, the guest migrated node2 -> node1):
    the guest's heartbeat picture and downtime, and the prediction next to what the cluster did."""
    from harness.engine import CaseResult, Check
    from harness.outcome import Operation, Outcome, Verdict
    from harness.plugin import junit_properties
    from harness.tiers.nested.backend import NestedObservation
    from harness.tiers.nested.guest import heartbeat, picture
    from harness.version import Version

    data = Path(__file__).parent / "data" / "nested"
    beats = [
        b
        for node in ("node2", "node1")
        for b in heartbeat.parse((data / f"nested-seed-move.{node}.console.log").read_text(), node)
    ]
    guest = heartbeat.analyse(beats, 0.1)
    assert guest.unbroken and guest.downtime is not None
    svg = picture.heartbeat_svg(beats, 0.1, tmp_path / "heartbeat.svg", "mh-guest")
    (tmp_path / "verdict.txt").write_text("vm-webdev: migrate node2 -> node1\n")
    seed = next(p for p in scenario.shipped() if scenario.load(p).name == "seed-xen")
    case = next(c for c in scenario.load(seed).cases() if c.id == "colocation-order-move")
    migrated = Verdict(
        "vm-webdev",
        "migrate",
        "node2",
        "node1",
        operations=(Operation("vm-webdev", "migrate_to", "node2"), Operation("vm-webdev", "migrate_from", "node1")),
    )
    observation = NestedObservation(
        Outcome({"vm-webdev": migrated}),
        evidence={"heartbeat-picture": svg, "verdict": tmp_path / "verdict.txt"},
        notes=["realized: c-xen-vg-fs holds LVM-activate of the shared VG"],
        prediction=Outcome({"vm-webdev": migrated}),
        planned=Outcome({"vm-webdev": migrated}),
        trigger="crm_resource --move --resource vm-webdev --node node1",
        guest=guest,
    )
    expected = case.expected("vm-webdev", "nested", Version.parse("2.1.5"), {"xen": "4.17.5", "guest": "pv"})
    result = CaseResult(
        case,
        "nested",
        Version.parse("2.1.5"),
        None,
        observation,
        [Check("vm-webdev", migrated, expected)],
        casedir=tmp_path,
        release="bookworm",
    )

    s = summarize(result)
    text = htmlreport.render([s])
    downtime = f"{guest.downtime * 1000:.0f} ms"
    assert f"<td>kept running, down {downtime}</td>" in text  # the table's guest column
    assert f"downtime {downtime}" in text and "guest heartbeat</figcaption><svg" in text
    assert text.count(f"downtime {downtime}") == 1 and "1 case on nested" in text  # said once, in the case
    assert "<th>scheduler predicted</th><th>DC planned</th><th>cluster did</th>" in text
    assert text.count("vm-webdev: migrate node2 -&gt; node1") >= 4  # verdict, predicted, planned, did
    assert "realized: c-xen-vg-fs" in text and "verdict.txt" in text
    properties = dict(junit_properties(s, result))
    assert properties["guest_downtime_ms"] == f"{guest.downtime * 1000:.0f}" and properties["tier"] == "nested"
