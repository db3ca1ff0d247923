"""The test domU's xl configuration, written to every dom0 as ``/etc/xen/<name>.cfg``.

PV or PVH (the scenario's ``guest: type``), the box's guest kernel with the harness's initramfs,
one vCPU, its disk a logical volume of the shared VG (so the target must see the SAN to run it),
and the heartbeat's period and memory dirtying on the kernel command line.
"""

from __future__ import annotations

from dataclasses import dataclass

from ....scenario import Guest

GUEST_DIR = "/var/lib/migration-harness/guest"
NAME = "mh-guest"
CONFIG = f"/etc/xen/{NAME}.cfg"
KERNEL = f"{GUEST_DIR}/vmlinuz"
BOX_INITRD = f"{GUEST_DIR}/initrd.gz"
INITRD = f"{GUEST_DIR}/mh-initrd.gz"
LV_MIB = 16


@dataclass(frozen=True)
class Disk:
    vg: str
    lv: str = NAME

    @property
    def path(self) -> str:
        return f"/dev/{self.vg}/{self.lv}"


def render(guest: Guest, disk: Disk, name: str = NAME) -> str:
    extra = f"console=hvc0 mh.period={guest.period:g} mh.dirty={guest.dirty_mib}"
    return "\n".join(
        [
            f"# Written by migration-harness: the test guest ({guest.type.upper()}), heartbeat on its console.",
            f'name = "{name}"',
            f'type = "{guest.type}"',
            f'kernel = "{KERNEL}"',
            f'ramdisk = "{INITRD}"',
            f'extra = "{extra}"',
            f"memory = {guest.memory_mib}",
            f"maxmem = {guest.memory_mib}",
            "vcpus = 1",
            f'disk = [ "phy:{disk.path},xvda,w" ]',
            'on_poweroff = "destroy"',
            'on_reboot = "restart"',
            'on_crash = "destroy"',
            "",
        ]
    )
