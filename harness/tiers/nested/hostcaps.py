"""What this host can do for the nested tier: KVM with nested virtualization, or QEMU software
emulation (TCG); and whether the tools are there at all (``sanity_check``).

``/dev/kvm`` alone proves nothing: some machines expose a KVM device that cannot run ordinary
guest kernels (``kvm_pvm``, no VT-x/AMD-V in the CPU flags). KVM counts only with the CPU's
virtualization flag and the matching kvm_intel/kvm_amd module loaded.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from ...errors import BackendUnavailable, HarnessError
from ...runner import run, which

TOOLS = ("vagrant", "virsh", "libvirtd", "virtlogd", "qemu-system-x86_64", "qemu-img", "ip", "nsenter")
PYTHON_MODULES = {"vagrant": "python-vagrant", "paramiko": "paramiko"}


@dataclass(frozen=True)
class CpuMode:
    mode: str  # "kvm" or "tcg"
    nested: bool  # KVM only: can guests run hardware-virtualized guests of their own
    reason: str

    def describe(self) -> str:
        if self.mode == "kvm":
            return f"KVM ({'nested virtualization' if self.nested else 'no nested virtualization'})"
        return f"QEMU TCG software emulation, qemu64+svm+npt ({self.reason})"


def classify(cpu_flags: set[str], kvm_device: bool, modules: set[str], nested_param: str | None) -> CpuMode:
    """Pure decision from what the host shows (unit-testable)."""
    vendor_module = "kvm_intel" if "vmx" in cpu_flags else "kvm_amd" if "svm" in cpu_flags else None
    if vendor_module is None:
        return CpuMode("tcg", False, "the CPU shows no vmx/svm flag")
    if not kvm_device:
        return CpuMode("tcg", False, "no /dev/kvm")
    if vendor_module not in modules:
        return CpuMode("tcg", False, f"{vendor_module} is not loaded")
    nested = (nested_param or "").strip() in ("Y", "1")
    return CpuMode("kvm", nested, "")


def detect() -> CpuMode:
    flags: set[str] = set()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            break
    modules = {p.name for p in Path("/sys/module").iterdir()} if Path("/sys/module").is_dir() else set()
    nested = None
    for module in ("kvm_intel", "kvm_amd"):
        param = Path(f"/sys/module/{module}/parameters/nested")
        if param.exists():
            nested = param.read_text()
    return classify(flags, os.access("/dev/kvm", os.R_OK | os.W_OK), modules, nested)


@functools.lru_cache(maxsize=1)
def _has_vagrant_libvirt() -> bool:
    """`vagrant plugin list` takes seconds (Ruby start-up): asked once per process."""
    plugins = run(["vagrant", "plugin", "list"], env={"VAGRANT_CHECKPOINT_DISABLE": "1"}, check=False, timeout=120)
    return "vagrant-libvirt" in plugins.stdout


def sanity_check(isolated: bool = True, over_ssh: bool = False) -> None:
    """Raise BackendUnavailable saying why the nested tier cannot run here (``over_ssh``: libvirt
    reached over SSH, front.py, needs an SSH server for the run's libvirt host)."""
    for module, package in PYTHON_MODULES.items():
        try:
            __import__(module)
        except ImportError:
            raise BackendUnavailable(
                f"nested tier: Python module {module!r} is missing",
                hint=f"pip install '{package}' (or the 'nested' extra: pip install -e '.[nested]')",
            ) from None
    for tool in TOOLS:
        try:
            which(tool)
        except HarnessError as exc:
            raise BackendUnavailable(f"nested tier: {exc.message}", hint=exc.hint) from None
    for tool in ("dropbear", "dropbearkey", "ssh-keygen") if over_ssh else ():
        try:
            which(tool)
        except HarnessError as exc:
            raise BackendUnavailable(
                f"nested tier, libvirt over SSH: {exc.message}", hint="apt-get install dropbear-bin openssh-client"
            ) from None
    if not _has_vagrant_libvirt():
        raise BackendUnavailable(
            "nested tier: the vagrant-libvirt plugin is missing", hint="apt-get install vagrant-libvirt"
        )
    if isolated and os.geteuid() != 0:
        raise BackendUnavailable("nested tier: the isolated mode (own libvirtd in namespaces) needs root")
