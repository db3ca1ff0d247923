"""Pure readings of what the nodes print: cluster membership, fencing, LUNs, the shared VG, SBD.

Running the commands is the caller's business (``Node.run``); these functions take their output
and return a frozen verdict with the detail a failure message needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ... import crmmon
from ...errors import HarnessError

FENCING_RESOURCE = "fence-sbd"


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


def cluster_formed(crm_mon_xml: str, nodes: list[str]) -> Check:
    """``crm_mon -1 --output-as=xml``: every node online, the SBD fencing resource started."""
    try:
        seen = crmmon.parse(crm_mon_xml)
    except HarnessError as exc:
        return Check(False, exc.message)
    missing = sorted(set(nodes) - seen.online)
    if missing:
        return Check(False, f"nodes not online: {', '.join(missing)} (online: {', '.join(sorted(seen.online))})")
    if seen.roles.get(FENCING_RESOURCE) != "Started":
        return Check(False, f"{FENCING_RESOURCE} not started")
    if seen.dc is not None and not seen.quorum:
        return Check(False, "no quorum")
    return Check(True, f"{len(seen.online)} nodes online, {FENCING_RESOURCE} started")


def xl_info(text: str) -> Check:
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    if "xen_version" not in fields:
        return Check(False, "`xl info` shows no xen_version: not a Xen dom0")
    return Check(True, f"Xen {fields['xen_version']}, virt_caps: {fields.get('virt_caps', '?')}")


def luns(lsscsi_paths: str, target_iqn: str) -> Check:
    """``ls /dev/disk/by-path``: LUN 0 (data) and LUN 1 (SBD) of the run's target."""
    found = {line.rsplit("-lun-", 1)[-1] for line in lsscsi_paths.split() if target_iqn in line and "-part" not in line}
    if not {"0", "1"} <= found:
        return Check(False, f"LUNs of {target_iqn} seen: {sorted(found) or 'none'}")
    return Check(True, "LUN 0 (data) and LUN 1 (SBD) seen")


def shared_vg(vgs_text: str, vg: str) -> Check:
    """``vgs --noheadings -o vg_name,vg_lock_type,vg_lock_args``: the VG exists with dlm locking."""
    for line in vgs_text.splitlines():
        parts = line.split()
        if parts and parts[0] == vg:
            lock_type = parts[1] if len(parts) > 1 else ""
            return Check(lock_type == "dlm", f"{vg} lock type {lock_type or 'none'}")
    return Check(False, f"VG {vg} not found")


def sbd_armed(sbd_list: str, node: str) -> Check:
    """``sbd -d DEV list``: the node has a slot (it started with the device); no pending message."""
    for line in sbd_list.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == node:
            return Check(parts[2] == "clear", f"slot {parts[0]} {node} {parts[2]}")
    return Check(False, f"{node} has no SBD slot")
