"""Configurations pasted as posted: crm sessions and one-shot commands, pcs with options anywhere,
through the real CLI (real crmsh and pcs on a file CIB)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import cib, configformat, crmpaste, crmsh, hostnames
from harness.errors import InputError

REPO = Path(__file__).parent.parent


def run(tmp_path: Path, body: str, *extra: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "pasted.yaml"
    path.write_text(body)
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "TMPDIR": str(scratch),
        "MIGRATION_HARNESS_CACHE": str(scratch / "cache"),
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", *extra, str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )


def scenario(configuration: str, nodes: str = "[alice, bob]", resource: str = "vm") -> str:
    indented = "".join(f"  {line}\n" for line in configuration.splitlines())
    return (
        f"name: pasted\nnodes: {nodes}\nresources: [{resource}]\nconfiguration: |\n{indented}"
        "triggers: [move]\nexpect:\n  - verdict: migrate\n"
    )


SESSION = """\
crm(live)# configure
crm(live)configure# node alice
crm(live)configure# node bob \\
        attributes standby="off"
crm(live/alice)configure# primitive vm ocf:pacemaker:Dummy params \\
   fake="/etc/xen/vm.cfg" \\
   meta allow-migrate="true"
crm(live)configure# verify
crm(test-cib)configure# property stonith-enabled=false
crm(live)configure# commit
crm(live)configure# end
crm(live)# quit
"""


def test_a_crm_session_is_applied_without_its_prompts_and_control_commands(tmp_path: Path) -> None:
    proc = run(tmp_path, scenario(SESSION), "--json")
    assert proc.returncode == 0, proc.stderr
    case = json.loads(proc.stdout)["cases"][0]
    assert case["status"] == "PASS"
    # YAML lines: the configuration starts on line 5.
    assert case["notes"] == [
        "not applied (session or live-cluster commands, not configuration): line 5: crm(live)# configure; "
        "line 12: crm(live)configure# verify; line 14: crm(live)configure# commit; "
        "line 15: crm(live)configure# end; line 16: crm(live)# quit"
    ]


def test_one_shot_crm_commands_behind_shell_prompts(tmp_path: Path) -> None:
    text = (
        "[root@alice ~]# crm configure property no-quorum-policy=ignore\n"
        "root@alice:~# sudo crm configure rsc_defaults resource-stickiness=100\n"
        '# crm configure primitive vm ocf:pacemaker:Dummy params fake="/etc/xen/vm.cfg" \\\n'
        ">   meta allow-migrate=true\n"
        "$ crm configure show\n"
        "# a comment stays a comment\n"
    )
    cleaned, dropped = crmpaste.clean(text)
    assert cleaned.splitlines() == [
        "property no-quorum-policy=ignore",
        "rsc_defaults resource-stickiness=100",
        'primitive vm ocf:pacemaker:Dummy params fake="/etc/xen/vm.cfg" \\',
        "  meta allow-migrate=true",
        "",
        "# a comment stays a comment",
    ]
    assert dropped == [(5, "$ crm configure show")]
    target = tmp_path / "cib.xml"
    cib.empty_cib(target, ["alice", "bob"])
    crmsh.apply(target, cleaned, crmsh.Source("x.yaml", original=cleaned))
    root = cib.read(target)
    quorum = root.find(".//nvpair[@name='no-quorum-policy']")
    fake = root.find(".//primitive[@id='vm']//nvpair[@name='fake']")
    assert quorum is not None and quorum.get("value") == "ignore"
    assert fake is not None and fake.get("value") == "/etc/xen/vm.cfg"


def test_an_error_in_a_crm_session_names_the_posters_line(tmp_path: Path) -> None:
    text = (
        "crm(live)configure# primitive a ocf:pacemaker:Dummy\n"
        "crm(live)configure# verify\n"
        "crm(live)configure# primitive vm ocf:pacemaker:Dummy paramz fake=1\n"
        "crm(live)configure# commit\n"
    )
    proc = run(tmp_path, scenario(text))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "pasted.yaml:7: crmsh rejects the configuration" in proc.stderr, proc.stderr


def test_crm_commands_outside_configure_are_dropped_and_named() -> None:
    detected = configformat.detect(
        "crm(live)resource# move vm bob\ncrm node standby alice\nprimitive vm ocf:pacemaker:Dummy\n", first_line=10
    )
    assert detected.format == "crm"
    assert detected.text.splitlines() == ["", "", "primitive vm ocf:pacemaker:Dummy"]
    assert detected.dropped == ("line 10: crm(live)resource# move vm bob", "line 11: crm node standby alice")


PCS = """\
[root@alice ~]# pcs cluster cib vm_cfg
[root@alice ~]# pcs -f vm_cfg resource create vm ocf:pacemaker:Dummy meta allow-migrate=true
[root@alice ~]# pcs -f vm_cfg constraint location vm prefers {host}=50
[root@alice ~]# pcs cluster cib-push vm_cfg --config
"""


@pytest.mark.parametrize(
    "line",
    [
        "pcs -f vm_cfg constraint location vm prefers carol=50",
        "pcs constraint -f vm_cfg location vm prefers carol=50",
        "pcs --force constraint location vm prefers carol=50",
        "pcs constraint location --wait=30 vm prefers carol=50",
        "pcs -fvm_cfg constraint location vm avoids carol",
        "pcs --request-timeout 30 constraint location add l vm carol 50",
    ],
)
def test_every_pcs_form_names_its_hosts(line: str) -> None:
    assert [n.host for n in hostnames.named(line, "pcs")] == ["carol"]


def test_pcs_f_location_on_an_unknown_host_is_an_error_and_skipped_commands_are_noted(tmp_path: Path) -> None:
    proc = run(tmp_path, scenario(PCS.format(host="carol")))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "pasted.yaml:7: the configuration's location constraint names host 'carol'" in proc.stderr, proc.stderr
    proc = run(tmp_path, scenario(PCS.format(host="alice")))
    assert proc.returncode == 0, proc.stderr
    assert (
        "pasted.yaml: not applied (session or live-cluster commands, not configuration): "
        "line 5: pcs cluster cib vm_cfg; line 8: pcs cluster cib-push vm_cfg --config"
    ) in proc.stdout


def test_reference_to_a_missing_resource_is_refused_in_a_session(tmp_path: Path) -> None:
    target = tmp_path / "cib.xml"
    cib.empty_cib(target, ["alice", "bob"])
    text, _ = crmpaste.clean("crm configure primitive a ocf:pacemaker:Dummy\ncrm configure order o inf: a ghost\n")
    with pytest.raises(InputError, match="ghost"):
        crmsh.apply(target, text, crmsh.Source("x.yaml", original=text))


DANGLING = """\
<configuration>
  <crm_config/>
  <resources>
    <primitive id="vm" class="ocf" provider="pacemaker" type="Dummy"/>
    <clone id="libvirtd-clone"><primitive id="libvirtd" class="ocf" provider="pacemaker" type="Dummy"/></clone>
  </resources>
  <constraints>
    <rsc_order id="o1" first="libvirtd-clon" then="vm" kind="Mandatory"/>
  </constraints>
</configuration>
"""


def test_a_dangling_id_in_xml_names_the_elements_line_once_with_the_closest_id(tmp_path: Path) -> None:
    proc = run(tmp_path, scenario(DANGLING))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if "error:" in line)
    assert lines[start:] == [
        f"migration-harness: error: {tmp_path / 'pasted.yaml'}:12: the scenario's CIB XML is not a valid configuration:",
        '  element rsc_order: validity error : IDREF attribute first references an unknown ID "libvirtd-clon"',
        "  hint: did you mean libvirtd-clone? 'libvirtd-clon' is no id of the XML",
    ], proc.stderr


def test_one_host_is_refused_in_the_singular_with_how_to_fix(tmp_path: Path) -> None:
    proc = run(tmp_path, scenario("primitive vm ocf:pacemaker:Dummy", nodes="[alice]"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "pasted.yaml:2: nodes lists 1 host; a scenario has 2 to 16" in proc.stderr, proc.stderr
    assert "hint: add the other hosts of the cluster: nodes: [alice, <another host>]" in proc.stderr
