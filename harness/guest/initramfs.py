"""The test domU's ``/init`` as an initramfs overlay, appended to the box's initramfs.

The box ships the guest kernel and a busybox initramfs (provisioning/box/hooks/customize30-guest.sh).
The heartbeat program itself (provisioning/guest/init) travels with the harness: the kernel
unpacks concatenated compressed cpio archives in order, later files replacing earlier ones, so a
one-file archive appended to the box's initramfs makes the guest run this harness's ``/init``
without rebuilding the box.
"""

from __future__ import annotations

import gzip
from pathlib import Path

INIT = Path(__file__).resolve().parents[2] / "provisioning" / "guest" / "init"
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
