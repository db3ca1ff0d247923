"""Your own checks next to the scenarios (written by `migration-harness init`).

``migration_cluster`` runs a configuration on the session's tier (every tier, the simulate tier
included); ``migration_nodes`` gives each node of a live cluster (``--tier local`` or ``nested``)
as a pytest-testinfra host, and is skipped on the simulate tier.
"""

import pytest


def test_vm_in_a_group_is_never_migrated(migration_cluster):
    migration_cluster.configure(
        """
        primitive vm1 ocf:pacemaker:Dummy meta allow-migrate=true
        primitive lv ocf:pacemaker:Dummy
        group g lv vm1
    """,
        resources=["vm1"],
    )
    outcome = migration_cluster.trigger("standby")
    assert outcome["vm1"].verdict == "move"


def test_every_node_runs_the_cluster(migration_nodes):
    for name, host in migration_nodes.items():
        assert host.process.filter(comm="pacemakerd"), f"{name}: pacemakerd is not running"
        assert host.run("crm_mon -1").rc == 0


def test_dom0s_run_xen(migration_nodes):
    host = migration_nodes["node1"]
    if not host.exists("xl"):
        pytest.skip("not a Xen dom0 (the local tier's nodes run no hypervisor)")
    assert "Domain-0" in host.check_output("xl list")
    assert host.service("pacemaker").is_running
