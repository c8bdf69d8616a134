"""How an execution is isolated: the bubblewrap command line, or the weaker plain process.

bubblewrap runs as root without a user namespace (so the code's uid is a real unprivileged
uid, which RLIMIT_NPROC counts; inside a user namespace mapped to root it would not be), and
`setpriv` then drops to that uid with no capabilities, no bounding set and no_new_privs.
The mount namespace holds only what the interpreter needs, read-only; /tmp and the working
directory are size-capped tmpfs; there is no network, no view of other processes, and the
sandbox dies with the runner.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

WORKDIR = "/sandbox"
BOOTSTRAP_AT = "/opt/gemgate/bootstrap.py"
BOOTSTRAP_SOURCE = Path(__file__).with_name("bootstrap.py")
_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONIOENCODING": "utf-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "MPLBACKEND": "Agg",
    "MPLCONFIGDIR": "/tmp/matplotlib",
    "XDG_CACHE_HOME": "/tmp/.cache",
    # One thread per numerical library: threads count against the process limit.
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@dataclass(frozen=True)
class Limits:
    wall_seconds: float
    cpu_seconds: int
    memory_bytes: int
    processes: int
    output_bytes: int
    workdir_bytes: int

    def bootstrap_args(self, images_fd: int) -> list[str]:
        values = (self.cpu_seconds, self.memory_bytes, self.processes, self.workdir_bytes)
        return [*map(str, values), str(images_fd)]


def interpreter_paths(executable: str = sys.executable) -> list[Path]:
    """What the interpreter needs besides /usr: its installation and, for a venv, the venv's
    bin/, lib/ and pyvenv.cfg (not the project around it)."""
    paths = [Path(sys.base_prefix)]
    prefix = Path(sys.prefix)
    if prefix != Path(sys.base_prefix):
        paths += [prefix / "pyvenv.cfg", prefix / "bin", prefix / "lib"]
    return [p for p in paths if p.exists() and not _under(p, Path("/usr"))]


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _parents(paths: list[Path]) -> list[str]:
    """Directories above each bind, made world-traversable (bwrap would make them 0700)."""
    seen: dict[str, None] = {}
    for path in paths:
        for parent in reversed(path.parents):
            if str(parent) != "/":
                seen[str(parent)] = None
    return list(seen)


def _merged_usr() -> list[str]:
    args: list[str] = []
    for name in ("bin", "sbin", "lib", "lib64", "lib32"):
        top = Path("/") / name
        if top.is_symlink():
            args += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            args += ["--ro-bind", str(top), str(top)]
    return args


def bwrap_command(
    bwrap: str,
    python: str,
    paths: list[Path],
    uid: int,
    limits: Limits,
    images_fd: int,
    seccomp_fd: int | None = None,
) -> list[str]:
    args = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    args += ["--unshare-cgroup-try", "--hostname", "sandbox", "--die-with-parent"]
    args += ["--new-session", "--clearenv", "--ro-bind", "/usr", "/usr", *_merged_usr()]
    args += ["--ro-bind-try", "/etc/fonts", "/etc/fonts"]
    for parent in _parents([*paths, Path(BOOTSTRAP_AT)]):
        args += ["--perms", "0755", "--dir", parent]
    for path in paths:
        args += ["--ro-bind", str(path), str(path)]
    args += ["--ro-bind", str(BOOTSTRAP_SOURCE), BOOTSTRAP_AT]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", str(limits.workdir_bytes), "--perms", "1777", "--tmpfs", "/tmp"]
    args += ["--size", str(limits.workdir_bytes), "--perms", "0777", "--tmpfs", WORKDIR]
    args += ["--chdir", WORKDIR]
    for name, value in _ENV.items():
        args += ["--setenv", name, value]
    args += [*_drop_to(uid), python, "-I", BOOTSTRAP_AT, *limits.bootstrap_args(images_fd)]
    return args


def _drop_to(uid: int) -> list[str]:
    setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
    return [
        setpriv,
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]


def process_command(python: str, uid: int | None, limits: Limits, images_fd: int) -> list[str]:
    """The fallback: a plain child process with rlimits, a private directory and a clean
    environment; as root it still drops to `uid`. No namespaces: see docs/security.md."""
    drop = _drop_to(uid) if uid is not None and shutil.which("setpriv") else []
    return [*drop, python, "-I", str(BOOTSTRAP_SOURCE), *limits.bootstrap_args(images_fd)]


def process_env(workdir: Path) -> dict[str, str]:
    return {**_ENV, "HOME": str(workdir), "MPLCONFIGDIR": str(workdir / ".matplotlib")}


def seccomp_fd(program: bytes) -> int:
    """A compiled seccomp filter in a fresh memfd, for bwrap to read once."""
    fd = os.memfd_create("gemgate-seccomp", 0)
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def bwrap_works(
    bwrap: str | None, python: str, paths: list[Path], seccomp: bytes | None = None
) -> str | None:
    """None if a bubblewrap sandbox (with the filter, if given) starts here; else why not."""
    if bwrap is None:
        return "bwrap is not installed (Debian package: bubblewrap)"
    if os.geteuid() != 0:
        return "the server does not run as root, which the uid drop inside the sandbox needs"
    probe = Limits(5.0, 5, 256 * 1024**2, 16, 4096, 1024**2)
    fd = seccomp_fd(seccomp) if seccomp is not None else None
    command = bwrap_command(bwrap, python, paths, 65534, probe, images_fd=-1, seccomp_fd=fd)
    code = '{"code": "print(1)", "files": []}'
    try:
        done = subprocess.run(
            command,
            input=code,
            capture_output=True,
            text=True,
            timeout=15,
            pass_fds=() if fd is None else (fd,),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not start: {exc}"
    finally:
        if fd is not None:
            os.close(fd)
    if done.returncode != 0 or done.stdout.strip() != "1":
        return f"bwrap failed (status {done.returncode}): {done.stderr.strip()[:300]}"
    return None
