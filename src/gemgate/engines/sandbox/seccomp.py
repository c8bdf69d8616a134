"""A deny-list seccomp filter for sandboxed code, compiled by libseccomp (via pyseccomp).

Namespaces already take away the network, the file system and other processes; the filter
takes away the kernel interfaces an unprivileged uid could still use to attack the kernel or
to regain privileges inside namespaces of its own: new user namespaces (unshare, setns, clone
with CLONE_NEWUSER; clone3 answers ENOSYS so libc falls back to clone, whose flags can be
checked), mounts, ptrace and cross-process memory access, keyrings, bpf, perf, userfaultfd,
io_uring, module and kexec loading. Everything else is allowed: a deny list keeps numpy,
pandas and matplotlib working without tracking every syscall they make.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import tempfile

log = logging.getLogger("gemgate.sandbox")

CLONE_NEWUSER = 0x10000000
DENIED = (
    "unshare",
    "setns",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "name_to_handle_at",
    "open_by_handle_at",
)


def compile_filter() -> bytes | None:
    """The filter as BPF for `bwrap --seccomp`, or None where libseccomp is unavailable."""
    try:
        import pyseccomp as sc
    except (ImportError, OSError) as exc:
        log.warning("no seccomp filter for code execution: %s", exc)
        return None
    rules = sc.SyscallFilter(sc.ALLOW)
    for name in DENIED:
        # A name this kernel's architecture lacks has nothing to deny.
        with contextlib.suppress(OSError, ValueError):
            rules.add_rule(sc.ERRNO(errno.EPERM), name)
    rules.add_rule(
        sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER)
    )
    rules.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    with tempfile.TemporaryFile() as out:
        rules.export_bpf(out)
        out.seek(0)
        return out.read()
