"""Where the external programs are, and which Debian package brings each (for the error that says
what to install). No program is run here: that is ``runner``'s.
"""

from __future__ import annotations

import shutil

from .errors import ToolMissing

# Which Debian package brings each tool, so that a missing one says what to install.
PACKAGES = {
    "crm_simulate": "pacemaker-cli-utils",
    "crm_resource": "pacemaker-cli-utils",
    "crm_attribute": "pacemaker-cli-utils",
    "cibadmin": "pacemaker-cli-utils",
    "crm_mon": "pacemaker-cli-utils",
    "crmadmin": "pacemaker-cli-utils",
    "crm": "crmsh",
    "pcs": "pcs",
    "crm_report": "pacemaker-cli-utils",
    "dot": "graphviz",
    "corosync": "corosync",
    "corosync-keygen": "corosync",
    "corosync-cfgtool": "corosync",
    "pacemakerd": "pacemaker",
    "ip": "iproute2",
    "unshare": "util-linux",
    "nsenter": "util-linux",
    "vagrant": "vagrant vagrant-libvirt",
    "virsh": "libvirt-clients",
    "libvirtd": "libvirt-daemon-system",
    "qemu-system-x86_64": "qemu-system-x86",
    "mmdebstrap": "mmdebstrap",
    "qemu-img": "qemu-utils",
    "bwrap": "bubblewrap",
    "sfdisk": "fdisk",
    "losetup": "mount",
    "mkfs.ext4": "e2fsprogs",
    "grub-install": "grub-pc-bin grub2-common",
    "cpio": "cpio",
    "virtlogd": "libvirt-daemon",
    "ssh-keygen": "openssh-client",
}


def which(tool: str) -> str:
    """Absolute path of ``tool`` (also searching the sbin directories), or ToolMissing."""
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin:/usr/local/sbin")
    if path is None:
        raise ToolMissing(tool, PACKAGES.get(tool))
    return path
