"""`pcs config` output read into pcs commands and applied with the real pcs 0.11.5: round trips on
CIBs built with pcs commands, the real 0.9/0.10-format samples under data/pcsconfig, refusals."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness import cli, pcsconfig, pcsload
from harness.errors import InputError

SAMPLES = Path(__file__).parent / "data" / "pcsconfig"

VM = [
    "property set stonith-enabled=false no-quorum-policy=ignore",
    "resource create dlm ocf:pacemaker:controld op monitor interval=30s on-fail=fence --group lockg",
    "resource create vm1 ocf:heartbeat:VirtualDomain config=/etc/libvirt/qemu/vm1.xml hypervisor=qemu:///system "
    "meta allow-migrate=true op monitor interval=10s timeout=30s op migrate_to timeout=120s",
    "resource create fs ocf:heartbeat:Filesystem device=/dev/drbd0 directory=/srv fstype=ext4",
    "resource clone lockg interleave=true",
    "constraint order start lockg-clone then start vm1",
    "constraint order start fs then start vm1 kind=Optional symmetrical=false",
    "constraint colocation add vm1 with lockg-clone INFINITY",
    "constraint location vm1 prefers node1=100",
    "constraint location vm1 avoids node3",
    "resource defaults update resource-stickiness=100",
    "resource op defaults update timeout=60s",
]
PROMOTABLE = [
    "resource create d1 ocf:pacemaker:Stateful promotable notify=true",
    "resource create ip ocf:heartbeat:IPaddr2 ip=10.0.0.9 meta target-role=Started",
    "constraint colocation add master d1-clone with ip",
    "constraint colocation add ip with Unpromoted d1-clone -- -500",
    "constraint order promote d1-clone then start ip id=o-promote",
]
GROUP = [
    "resource create a ocf:pacemaker:Dummy --group g",
    "resource create b ocf:pacemaker:Dummy op monitor interval=20s timeout=40s --group g",
    "resource meta g resource-stickiness=50",
    "resource create c ocf:pacemaker:Dummy meta allow-migrate=true",
    "resource clone c c-set clone-max=2",
    "constraint location add l-g g node2 -- -INFINITY resource-discovery=never",
    "constraint colocation add g with c-set 200",
]


def _pcs(cib: Path, *args: str) -> str:
    return subprocess.run(["pcs", "-f", str(cib), *args], capture_output=True, text=True, check=True).stdout


def _built(tmp_path: Path, commands: list[str]) -> Path:
    cib = tmp_path / "original.xml"
    cib.write_text(subprocess.run(["cibadmin", "--empty"], capture_output=True, text=True, check=True).stdout)
    for command in commands:
        _pcs(cib, *command.split())
    return cib


def _normalized(cib: Path) -> str:
    """The configuration without ids and node entries; resources (`pcs config` lists primitives before
    clones and groups: the CIB order is not in it), constraints and nvpairs in a fixed order."""
    config = ET.parse(cib).getroot().find("configuration")
    assert config is not None
    for el in config.iter():
        el.attrib.pop("id", None)
    for parent in config.iter():
        if parent.tag in ("resources", "constraints", "cluster_property_set", "meta_attributes", "nodes"):
            children = sorted(parent, key=lambda e: ET.tostring(e))
            for child in list(parent):
                parent.remove(child)
            parent.extend(children if parent.tag != "nodes" else [])
    return ET.canonicalize(ET.tostring(config), strip_text=True)


def _applied(tmp_path: Path, listing: str) -> Path:
    read = pcsconfig.read(listing, path="listing.yaml")
    cib = tmp_path / "read.xml"
    cib.write_text(subprocess.run(["cibadmin", "--empty"], capture_output=True, text=True, check=True).stdout)
    pcsload.apply(cib, read.text(len(listing.splitlines())), "listing.yaml")
    return cib


@pytest.mark.parametrize("commands", [VM, PROMOTABLE, GROUP], ids=["vm", "promotable", "group"])
def test_pcs_config_round_trip(tmp_path: Path, commands: list[str]) -> None:
    original = _built(tmp_path, commands)
    listing = _pcs(original, "config")
    again = _applied(tmp_path, listing)
    assert _normalized(again) == _normalized(original)
    assert _pcs(again, "config") == listing  # ids included: pcs generates the same ones


def test_resource_config_and_constraint_full_listings_on_their_own(tmp_path: Path) -> None:
    original = _built(tmp_path, VM)
    listing = _pcs(original, "resource", "config") + _pcs(original, "constraint", "--full")
    again = _applied(tmp_path, listing)
    assert _pcs(again, "resource", "config") == _pcs(original, "resource", "config")
    assert _pcs(again, "constraint", "--full") == _pcs(original, "constraint", "--full")


def _commands(name: str) -> list[str]:
    return [" ".join(w[1:]) for _, w in pcsconfig.read((SAMPLES / name).read_text()).commands]


def test_clusters_from_scratch_sample_reads_resources_and_constraints() -> None:
    commands = _commands("cfs-2.1-pcs-config.txt")
    assert commands[1].startswith("resource create WebSite ocf:heartbeat:apache configfile=/etc/httpd/conf/httpd.conf")
    assert any(
        c.endswith(
            "--no-default-ops promotable WebData-clone clone-max=2 clone-node-max=1 notify=true "
            "promoted-max=2 promoted-node-max=1"
        )
        for c in commands
    )
    assert (
        "resource create dlm ocf:pacemaker:controld op monitor interval=60s op start interval=0s timeout=90s "
        "op stop interval=0s timeout=100s --no-default-ops clone dlm-clone interleave=true ordered=true" in commands
    )
    assert "constraint location add location-WebSite-pcmk-2-50 WebSite pcmk-2 50" in commands
    assert (
        "constraint colocation add Started WebFS-clone with Promoted WebData-clone INFINITY "
        "id=colocation-WebFS-WebData-clone-INFINITY" in commands
    )
    assert (
        "constraint order promote WebData-clone then start WebFS-clone id=order-WebData-clone-WebFS-mandatory"
        in commands
    )
    assert commands[-2:] == ["property set no-quorum-policy=freeze", "property set stonith-enabled=true"]


def test_pcs_09_samples() -> None:
    assert _commands("ondrejhome-0.9-master.txt") == [
        "resource create ResourceAClone ocf:pacemaker:Dummy fake=some_value op monitor interval=60s "
        "op start interval=0s timeout=20 op stop interval=0s timeout=20 --no-default-ops promotable "
        "ResourceAClone-master clone-max=2 clone-node-max=1 master-max=1 master-node-max=1 notify=true"
    ]
    linbit = _commands("linbit-0.9-resources.txt")
    assert "cmdline_options='-f -Lo'" in " ".join(linbit[1:]) or any("cmdline_options=-f -Lo" in c for c in linbit)
    assert linbit[0].endswith("on-fail=ignore --no-default-ops clone health-aws-clone")
    assert _commands("cfs-1.1-pcs-constraint.txt") == [
        "constraint order ClusterIP-clone then WebSite-clone",
        "constraint order WebDataClone then WebSite-clone",
        "constraint order WebFS-clone then WebSite-clone",
        "constraint colocation add WebSite-clone with ClusterIP-clone INFINITY",
        "constraint colocation add WebFS-clone with Master WebDataClone INFINITY",
        "constraint colocation add WebSite-clone with WebFS-clone INFINITY",
    ]


def test_a_location_rule_is_refused_at_its_line() -> None:
    with pytest.raises(InputError) as caught:
        pcsconfig.read((SAMPLES / "linbit-0.9-location-rule.txt").read_text(), path="s.yaml", first_line=10)
    assert caught.value.line == 12 and "rules are not supported" in str(caught.value)
    assert "pcs cluster cib" in str(caught.value)


def _scenario(tmp_path: Path, listing: str, extra: str = "") -> Path:
    path = tmp_path / "pcsconfig.yaml"
    indented = "".join(f"  {line}\n" if line.strip() else "\n" for line in listing.splitlines())
    path.write_text(f"name: cfs\nnodes: [pcmk-1, pcmk-2]\nresources: [WebSite]\n{extra}configuration: |\n{indented}")
    return path


def test_run_on_the_clusters_from_scratch_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _scenario(tmp_path, (SAMPLES / "cfs-2.1-pcs-config.txt").read_text(), "triggers: [move]\nexpect: move\n")
    rc = cli.main(["run", "--json", str(path)])
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    (case,) = json.loads(out)["cases"]
    assert [(v["verdict"], v["from"], v["to"]) for v in case["verdicts"]] == [("move", "pcmk-2", "pcmk-1")]
    assert sorted(case["unknown_agents"]) == ["ocf:linbit:drbd", "stonith:some_fence_agent"]
    assert any("read from `pcs config` output" in note for note in case["notes"])


@pytest.mark.parametrize(
    "listing,message,line",
    [
        ("Resources:\n Bundle: b1\n", "bundle resources are not supported", 7),
        (
            "Resources:\n Resource: x (class=ocf provider=pacemaker type=Dummy)\n  Frobnicate: 1\n",
            "not supported in a resource listing",
            8,
        ),
        ("Ordering Constraints:\n  Resource Sets:\n    set a b\n", "resource sets", 7),
        ("Cluster Properties:\n Ticket Constraints:\nWhatever: x\n", "not a cluster property line", 7),
    ],
)
def test_what_cannot_be_read_is_an_error_at_its_line(
    tmp_path: Path, listing: str, message: str, line: int, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _scenario(tmp_path, listing, "expect: move\n")
    rc = cli.main(["run", str(path)])
    _, err = capsys.readouterr()
    assert rc == 2 and "Traceback" not in err
    assert message in err and f"{path}:{line}:" in err, err


# pcs 0.12 (Debian 13): CIBs built with tests/data/pcsconfig/pcs-0.12-make.sh in a trixie root, stored
# with their listings; read here and applied with the host's pcs 0.11.5.
@pytest.mark.parametrize("name", ["vm", "promotable", "group"])
def test_pcs_012_config_round_trip(tmp_path: Path, name: str) -> None:
    listing = (SAMPLES / f"pcs-0.12-{name}-config.txt").read_text()
    again = _applied(tmp_path, listing)
    assert _normalized(again) == _normalized(SAMPLES / f"pcs-0.12-{name}.xml")


def _without(cib: Path, tmp_path: Path, *tags: str) -> Path:
    """A copy of ``cib`` without what the configuration sections ``tags`` hold (what a listing does
    not show): crm_config stays as an empty CIB has it, the others go."""
    tree = ET.parse(cib)
    config = tree.getroot().find("configuration")
    assert config is not None
    for tag in tags:
        for section in config.findall(tag):
            if tag == "crm_config":
                for child in list(section):
                    section.remove(child)
            else:
                config.remove(section)
    out = tmp_path / f"without-{cib.name}"
    tree.write(out)
    return out


def test_pcs_012_resource_config_and_constraint_full_listings_on_their_own(tmp_path: Path) -> None:
    listing = (SAMPLES / "pcs-0.12-vm-resource-config.txt").read_text()
    listing += (SAMPLES / "pcs-0.12-vm-constraint-full.txt").read_text()
    again = _applied(tmp_path, listing)
    expected = _without(SAMPLES / "pcs-0.12-vm.xml", tmp_path, "crm_config", "rsc_defaults", "op_defaults")
    assert _normalized(again) == _normalized(expected)


def test_pcs_012_constraint_listing_without_ids(tmp_path: Path) -> None:
    config = (SAMPLES / "pcs-0.12-promotable-config.txt").read_text()
    listing = config[: config.index("Location Constraints:")]
    listing += (SAMPLES / "pcs-0.12-promotable-constraint.txt").read_text()
    read = pcsconfig.read(listing)
    assert not any(w for _, c in read.commands for w in c if w.startswith("id="))
    again = _applied(tmp_path, listing)
    assert _normalized(again) == _normalized(SAMPLES / "pcs-0.12-promotable.xml")


def test_pcs_012_constraint_commands() -> None:
    assert _commands("pcs-0.12-group-config.txt")[-5:] == [
        "constraint location add l-g g node2 -INFINITY resource-discovery=never",
        "constraint colocation add g with c-set 200 id=colocation-g-c-set-200",
        "constraint order stop g then stop c-set kind=Serialize id=order-g-c-set-Serialize",
        "constraint order demote c-set then promote g symmetrical=false id=order-c-set-g-mandatory",
        "property set symmetric-cluster=false",
    ]
    assert "constraint colocation add Started ip with Unpromoted d1-clone -500 id=colocation-ip-d1-clone--500" in (
        _commands("pcs-0.12-promotable-config.txt")
    )


@pytest.mark.parametrize("version", ["host", "0.12"])
def test_a_quoted_value_is_read_without_its_quotes(tmp_path: Path, version: str) -> None:
    if version == "host":
        cib = tmp_path / "original.xml"
        cib.write_text(subprocess.run(["cibadmin", "--empty"], capture_output=True, text=True, check=True).stdout)
        _pcs(cib, "resource", "create", "vm2", "ocf:heartbeat:VirtualDomain", "config=/etc/vm2.xml")
        _pcs(cib, "resource", "update", "vm2", "migrate_options=--live --unsafe", "meta", "description=a b")
        listing = _pcs(cib, "resource", "config")
    else:
        refused = (SAMPLES / "pcs-0.12-refused-config.txt").read_text()
        listing = refused[refused.index("Resources:") : refused.index("  Resource: x ")]
    assert 'migrate_options="--live --unsafe"' in listing
    (_, words), *_ = pcsconfig.read(listing).commands
    assert "migrate_options=--live --unsafe" in words and "description=a b" in words


def _section(name: str, header: str) -> tuple[str, int]:
    """The section ``header`` of sample ``name`` on its own and the line it starts at."""
    lines = (SAMPLES / name).read_text().splitlines()
    start = lines.index(header)
    end = next((i for i in range(start + 1, len(lines)) if lines[i] and not lines[i][0].isspace()), len(lines))
    return "\n".join(lines[start:end]) + "\n", start + 1


@pytest.mark.parametrize(
    "header,message",
    [
        ("Location Constraints:", "location constraints with rules or patterns are not supported"),
        ("Colocation Set Constraints:", "resource sets are not supported"),
        ("Order Set Constraints:", "resource sets are not supported"),
        ("Ticket Constraints:", "ticket constraints are not supported"),
    ],
)
def test_pcs_012_what_cannot_be_read_is_refused_at_its_line(
    tmp_path: Path, header: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each section of the real sample on its own: refused at its first entry."""
    listing, _ = _section("pcs-0.12-refused-config.txt", header)
    path = _scenario(tmp_path, listing, "expect: move\n")
    rc = cli.main(["run", str(path)])
    _, err = capsys.readouterr()
    assert rc == 2 and "Traceback" not in err
    assert message in err and f"{path}:7:" in err, err  # the header is at line 6


def test_pcs_012_refused_sample_stops_at_the_bundle() -> None:
    text = (SAMPLES / "pcs-0.12-refused-config.txt").read_text()
    with pytest.raises(InputError) as caught:
        pcsconfig.read(text, path="s.yaml")
    assert caught.value.line == text.splitlines().index("  Bundle: bu") + 1
    assert "bundle resources are not supported" in str(caught.value)


@pytest.mark.parametrize(
    "line,message",
    [
        ("  resource 'y' with resource 'z' (id: c1)\n    score=100 node-attribute=rack\n", "colocation option"),
        ("  resource 'y' with resource pattern 'z.*' (id: c1)\n", "not a colocation constraint pcs prints"),
    ],
)
def test_an_unreadable_012_colocation_line_does_not_suggest_resource_sets(line: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        pcsconfig.read("Colocation Constraints:\n" + line, path="s.yaml")
    assert message in str(caught.value) and "resource sets" not in str(caught.value)
    assert caught.value.line == 2


@pytest.mark.parametrize(
    "entry,message",
    [
        ("Promoted resource 'd1-clone' prefers node 'n1' with score 5 (id: l1)", "with a role are not supported"),
        ("resource pattern 'vm.*' prefers node 'node1' with score INFINITY (id: l2)", "rules or patterns"),
    ],
)
def test_a_012_location_with_a_role_or_a_pattern_is_refused(entry: str, message: str) -> None:
    text = f"Location Constraints:\n  {entry}\n"
    with pytest.raises(InputError, match=message) as caught:
        pcsconfig.read(text, path="s.yaml")
    assert caught.value.line == 2
