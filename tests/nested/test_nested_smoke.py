"""Nested tier smoke test: 2 Xen dom0 nodes + an iSCSI SAN from the cached (or built) box.

Checks, on the formed cluster: membership and SBD fencing started, ``xl info`` on both nodes,
both LUNs seen, the shared VG with dlm locking, SBD slots clear; then a snapshot restore works.
The cluster is the session's (``--tier nested``): the migration scenarios of the same pytest run
use it after these checks, and the session tears it down at its end (``--migration-run DIR``: a
cluster left up by ``migration-harness up``, left up).
Skipped with the reason where the tier cannot run (no vagrant-libvirt, not root, ...).
Several minutes under software emulation: opt in with ``--tier nested`` or ``-m 'tier'``.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.tier("nested")


@pytest.fixture(scope="module")
def lab(request: pytest.FixtureRequest) -> object:
    """The session's nested cluster: the one the migration scenarios of the same session run on."""
    from harness import session

    # Minutes of VMs: only when the session asks for this tier, never in a plain `pytest tests/`.
    if session.effective_tier(request.config) != "nested":
        pytest.skip("nested smoke test: runs only with --tier nested (or MIGRATION_HARNESS_TIER=nested)")
    backend = session.state(request.config).backend(2)  # skips with the reason where the tier cannot run
    return getattr(backend, "lab", None)


def test_cluster_formed(lab) -> None:
    assert lab.wait_formed(timeout=60).ok


@pytest.mark.parametrize("node", ["node1", "node2"])
def test_node_is_xen_dom0_with_storage(lab, node: str) -> None:
    from harness.tiers.nested import checks, settings

    machine = lab.node(node)
    xl = checks.xl_info(machine.run(["xl", "info"]).stdout)
    assert xl.ok, xl.detail
    paths = machine.run(["ls", "/dev/disk/by-path"]).stdout
    seen = checks.luns(paths, lab.plan.target_iqn)
    assert seen.ok, seen.detail
    vgs = machine.run(["vgs", "--noheadings", "-o", "vg_name,vg_lock_type"]).stdout
    vg = checks.shared_vg(vgs, settings.VG)
    assert vg.ok, vg.detail
    sbd_dev = f"/dev/disk/by-path/ip-{lab.plan.addresses['san']}:3260-iscsi-{lab.plan.target_iqn}-lun-1"
    armed = checks.sbd_armed(machine.run(["sbd", "-d", sbd_dev, "list"]).stdout, node)
    assert armed.ok, armed.detail
    assert machine.run(["systemctl", "is-active", "sbd"], check=False).stdout.strip() == "active"


def test_restore_from_snapshot(lab) -> None:
    lab.restore()
    assert lab.wait_formed(timeout=120).ok
    assert lab.node("node1").run(["crm_resource", "--list-raw"]).stdout.split() == ["fence-sbd"]


def test_dom0s_as_testinfra_hosts(lab, migration_nodes) -> None:
    """What a user's own test does on a dom0: the ``migration_nodes`` fixture's testinfra hosts, over
    the lab's SSH, as root."""
    assert sorted(migration_nodes) == ["node1", "node2"]
    for name in ("node1", "node2"):
        host = migration_nodes[name]
        assert host.service("pacemaker").is_running
        assert host.service("corosync").is_running
        assert host.file("/proc/xen/capabilities").contains("control_d")  # a Xen dom0
        assert "xen_version" in host.check_output("xl info")
        assert host.run("crm_node -n").stdout.strip() == name
