"""The test domU's ``/init`` as an initramfs overlay, appended to the box's initramfs.

The box ships the guest kernel and a busybox initramfs whose ``/init`` is the heartbeat
(provisioning/box/guest/init, by provisioning/box/hooks/customize30-guest.sh). The harness appends
its own copy of that file to it on every dom0: the kernel unpacks concatenated compressed cpio
archives in order, later files replacing earlier ones, so the guest runs this harness's heartbeat
even on a box built by an older version (or another box that has the kernel and busybox).
"""

from __future__ import annotations

import gzip

from .. import files

INIT = files.PROVISIONING / "box" / "guest" / "init"
_MAGIC = b"070701"


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _entry(name: str, data: bytes, mode: int, ino: int) -> bytes:
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0]
    header = _MAGIC + b"".join(f"{value:08X}".encode() for value in fields)
    return _pad(header + name.encode() + b"\0") + _pad(data)


def newc(files: dict[str, tuple[bytes, int]]) -> bytes:
    """A cpio archive in the kernel's 'newc' format: name -> (content, mode incl. file type)."""
    out = b"".join(_entry(name, data, mode, ino) for ino, (name, (data, mode)) in enumerate(files.items(), 1))
    return out + _entry("TRAILER!!!", b"", 0, 0)


def overlay(init: bytes | None = None) -> bytes:
    """gzip'd newc archive holding ``/init`` (regular file, mode 0755)."""
    data = INIT.read_bytes() if init is None else init
    return gzip.compress(newc({"init": (data, 0o100755)}), mtime=0)
