"""A run's plan and secrets: names and addresses derived from the run id, and what provisioning
gets (``settings.json`` for the Vagrantfile, ``settings.env`` and the secret files for the VMs).

Names and networks come from the run id, so parallel runs (pytest-xdist workers, other users on
one libvirt host) never collide: VMs ``mh-<id>-node1``, networks ``mh-<id>-mgmt``/``mh-<id>-cl``,
a management /24 in 10.64.0.0/10 and a cluster /24 in 10.128.0.0/10, both picked by a hash.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ...errors import InputError
from ...runner import run

NODE_COUNTS = (2, 3)
SAN = "san"
IQN_BASE = "iqn.2026-11.org.migration-harness"
VG = "mh_shared"


@dataclass(frozen=True)
class Plan:
    run_id: str
    nodes: tuple[str, ...]
    addresses: dict[str, str]  # machine name -> cluster network address
    management_cidr: str
    cluster_prefix: str  # the cluster /24 as "10.a.b."

    @property
    def machines(self) -> tuple[str, ...]:
        return (SAN, *self.nodes)

    @property
    def prefix(self) -> str:
        return f"mh-{self.run_id}-"

    @property
    def target_iqn(self) -> str:
        return f"{IQN_BASE}:{self.run_id}.san"


def run_subnet(run_id: str) -> tuple[int, int]:
    """Two numbers from the run id that place its networks (10.64+a.b.0/24 management, 10.128+a.b.0/24
    cluster, 10.192+a.b.0/30 the SSH front's link): parallel runs do not collide."""
    h = int(hashlib.sha256(run_id.encode()).hexdigest()[:8], 16)
    return h % 64, (h >> 8) % 256


def make_plan(run_id: str, nodes: int) -> Plan:
    if nodes not in NODE_COUNTS:
        raise InputError(f"the nested tier runs 2 or 3 nodes, not {nodes}")
    if not run_id.isalnum() or len(run_id) > 12:
        raise InputError(f"run id {run_id!r}: letters and digits only, at most 12")
    a, b = run_subnet(run_id)
    names = node_names(nodes)
    cluster_prefix = f"10.{128 + a}.{b}."
    addresses = {SAN: cluster_prefix + "10"}
    addresses.update({name: cluster_prefix + str(11 + i) for i, name in enumerate(names)})
    return Plan(run_id, names, addresses, f"10.{64 + a}.{b}.0/24", cluster_prefix)


def machine_releases(plan: Plan, default: str, dom0s: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Debian release of every machine: the dom0s named in ``dom0s`` run theirs (a mixed
    cluster, as in a rolling upgrade), every other machine, the SAN included, runs ``default``."""
    check_dom0s(plan.nodes, dom0s)
    return {m: (dom0s or {}).get(m, default) for m in plan.machines}


def check_dom0s(nodes: tuple[str, ...], dom0s: Mapping[str, str] | None) -> None:
    """InputError naming the dom0s in ``dom0s`` that are not among ``nodes``."""
    unknown = sorted(set(dom0s or {}) - set(nodes))
    if unknown:
        raise InputError(
            f"dom0s names {', '.join(unknown)}, not a dom0 of this {len(nodes)}-node cluster",
            hint="dom0s: " + ", ".join(nodes),
        )


Identity = tuple[tuple[str, str], ...]  # ((node, release), ...): what a scenario needs of a cluster


def node_names(nodes: int) -> tuple[str, ...]:
    return tuple(f"node{i}" for i in range(1, nodes + 1))


def wanted_identity(nodes: int, default: str, dom0s: Mapping[str, str] | None = None) -> Identity:
    """The dom0s a scenario needs and the release of each (``default`` where it names none)."""
    return tuple((n, (dom0s or {}).get(n, default)) for n in node_names(nodes))


def show_identity(identity: Identity) -> str:
    return ", ".join(f"{node} {release}" for node, release in identity)


def vagrant_settings(
    plan: Plan,
    *,
    box: str,
    boxes: Mapping[str, str] | None = None,
    cpu_mode: str,
    serial_dir: Path,
    memory: int = 1280,
    san_memory: int = 1024,
    libvirt_uri: str | None = None,
    proxy_command: str | None = None,
) -> dict:
    """The JSON the Vagrantfile reads from $MH_SETTINGS; ``boxes``: a machine's own box where it
    differs from ``box`` (a mixed-release cluster); ``libvirt_uri`` and ``proxy_command``: a libvirt
    host reached over SSH (front.py), and how Vagrant's SSH reaches the VMs through it."""
    boxes = boxes or {}
    return {
        "run_id": plan.run_id,
        "box": box,
        "prefix": plan.prefix,
        "cpu_mode": cpu_mode,
        "memory": memory,
        "san_memory": san_memory,
        "management": {"name": f"{plan.prefix}mgmt", "address": plan.management_cidr},
        "cluster": {"name": f"{plan.prefix}cl", "netmask": "255.255.255.0"},
        "machines": [
            {"name": m, "role": "san" if m == SAN else "node", "ip": plan.addresses[m], "box": boxes.get(m, box)}
            for m in plan.machines
        ],
        "serial_dir": str(serial_dir),
        "libvirt_uri": libvirt_uri,
        "proxy_command": proxy_command,
        "boot_timeout": 900,
    }


def provisioning_env(plan: Plan, chap_user: str, chap_password: str) -> dict[str, str]:
    return {
        "MH_RUN_ID": plan.run_id,
        "MH_CLUSTER_NAME": f"mh-{plan.run_id}",
        "MH_MACHINES": " ".join(f"{m}:{plan.addresses[m]}" for m in plan.machines),
        "MH_NODES": " ".join(f"{n}:{plan.addresses[n]}" for n in plan.nodes),
        "MH_SAN_IP": plan.addresses[SAN],
        "MH_TARGET_IQN": plan.target_iqn,
        "MH_IQN_PREFIX": f"{IQN_BASE}:{plan.run_id}",
        "MH_CHAP_USER": chap_user,
        "MH_CHAP_PASSWORD": chap_password,
        "MH_DATA_SIZE": "4G",
        "MH_SBD_SIZE": "16M",
        "MH_VG": VG,
        # Slow software emulation: generous SBD timeouts (msgwait = 2 x watchdog; stonith > msgwait).
        "MH_SBD_WATCHDOG_TIMEOUT": "30",
        "MH_SBD_MSGWAIT": "60",
        "MH_STONITH_TIMEOUT": "90s",
    }


def write_secrets(directory: Path, plan: Plan) -> dict[str, Path]:
    """Per-run secrets (CHAP, corosync key, root SSH key pair) and settings.env; returns the files
    to upload to every VM's staging directory."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = directory / "root_ed25519"
    if not key.exists():
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"mh-{plan.run_id}", "-f", key])
    authkey = directory / "corosync-authkey"
    if not authkey.exists():
        authkey.write_bytes(secrets.token_bytes(256))
        authkey.chmod(0o600)
    chap = directory / "chap.json"
    if not chap.exists():
        chap.write_text(json.dumps({"user": f"mh{plan.run_id}", "password": secrets.token_hex(8)}))
        chap.chmod(0o600)
    creds = json.loads(chap.read_text())
    env = provisioning_env(plan, creds["user"], creds["password"])
    settings_env = directory / "settings.env"
    settings_env.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in env.items()))
    settings_env.chmod(0o600)
    return {p.name: p for p in (settings_env, key, key.with_suffix(".pub"), authkey)}
