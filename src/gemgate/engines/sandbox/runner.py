"""SandboxRunner: one isolated process per execution, supervised from the event loop.

Output is read incrementally and never beyond its cap (a program printing 1 GB is stopped at
the cap, not buffered); the wall-time limit kills the whole sandbox. Each concurrent execution
gets its own uid from a pool, so RLIMIT_NPROC bounds each one separately and a fork bomb in one
cannot starve another.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from gemgate.core.ports import CodeRun, SandboxFile
from gemgate.engines.sandbox.isolation import (
    Limits,
    bwrap_command,
    bwrap_works,
    interpreter_paths,
    process_command,
    process_env,
    seccomp_fd,
)
from gemgate.engines.sandbox.seccomp import compile_filter

OK, FAILED, DEADLINE = "OUTCOME_OK", "OUTCOME_FAILED", "OUTCOME_DEADLINE_EXCEEDED"
DEADLINE_EXIT = 124  # the bootstrap's status when the CPU-time limit fired
_IMAGES_CAP = 32 * 1024 * 1024
_READ = 64 * 1024
log = logging.getLogger("gemgate.sandbox")


@dataclass
class _Capture:
    data: bytearray
    overflow: bool = False


async def _read_capped(stream: asyncio.StreamReader, cap: int, into: _Capture) -> None:
    """Keep at most `cap` bytes and flag more (the caller then kills). The rest is read and
    dropped until the pipe closes: a pipe left full would keep the process from being reaped."""
    while chunk := await stream.read(_READ):
        room = max(cap - len(into.data), 0)
        into.data += chunk[:room]
        if len(chunk) > room:
            into.overflow = True


def _decode(data: bytes | bytearray) -> str:
    return bytes(data).decode("utf-8", errors="replace")


def _images(raw: bytes | bytearray) -> tuple[tuple[str, bytes], ...]:
    try:
        items = json.loads(bytes(raw) or b"[]")
        return tuple(
            (str(item["mime"]), base64.b64decode(item["data"], validate=True)) for item in items
        )
    except (ValueError, KeyError, TypeError, binascii.Error):
        return ()  # the code wrote something else on the channel: no figures, not a crash


class SandboxRunner:
    def __init__(
        self,
        limits: Limits,
        *,
        isolation: str,
        python: str,
        paths: list[Path],
        uids: Sequence[int],
        bwrap: str | None = None,
        seccomp: bytes | None = None,
    ) -> None:
        self._seccomp = seccomp
        self._limits = limits
        self._isolation = isolation
        self._python = python
        self._paths = paths
        self._bwrap = bwrap or shutil.which("bwrap") or "bwrap"
        self._uids: asyncio.Queue[int] | None = None
        self._uid_list = list(uids)

    @property
    def isolation(self) -> str:
        return self._isolation

    @property
    def limits(self) -> Limits:
        return self._limits

    async def run(self, code: str, files: Sequence[SandboxFile] = ()) -> CodeRun:
        size = sum(len(f.data) for f in files)
        if size > self._limits.workdir_bytes // 2:
            return CodeRun(
                FAILED,
                f"The input files ({size} bytes) do not fit the sandbox's working directory "
                f"(limit {self._limits.workdir_bytes} bytes).",
            )
        if self._uids is None:  # built lazily: a Queue belongs to the running loop
            self._uids = asyncio.Queue()
            for uid in self._uid_list:
                self._uids.put_nowait(uid)
        uid = await self._uids.get()
        try:
            return await self._run_as(uid, code, files)
        finally:
            self._uids.put_nowait(uid)

    async def _run_as(self, uid: int, code: str, files: Sequence[SandboxFile]) -> CodeRun:
        request = {
            "code": code,
            "files": [
                {"name": f.name, "data": base64.b64encode(f.data).decode("ascii")} for f in files
            ],
        }
        payload = json.dumps(request).encode()
        read_fd, write_fd = os.pipe()
        filter_fd = self._filter_fd()
        workdir: str | None = None
        try:
            if self._isolation == "bwrap":
                command = bwrap_command(
                    self._bwrap, self._python, self._paths, uid, self._limits, write_fd, filter_fd
                )
                cwd, env = "/", {}
            else:
                workdir = tempfile.mkdtemp(prefix="gemgate-sandbox-")
                drop = uid if os.geteuid() == 0 else None
                if drop is not None:
                    os.chown(workdir, uid, uid)
                command = process_command(self._python, drop, self._limits, write_fd)
                cwd, env = workdir, process_env(Path(workdir))
            process = await asyncio.create_subprocess_exec(
                *command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                pass_fds=(write_fd,) if filter_fd is None else (write_fd, filter_fd),
                cwd=cwd,
                env=env,
                start_new_session=True,  # one process group to kill
            )
            os.close(write_fd)
            write_fd = -1
            images, read_fd = os.fdopen(read_fd, "rb", 0), -1  # the file owns it now
            return await self._supervise(process, payload, images)
        finally:
            for fd in (read_fd, write_fd, -1 if filter_fd is None else filter_fd):
                if fd >= 0:
                    os.close(fd)
            if workdir is not None:
                shutil.rmtree(workdir, ignore_errors=True)

    def _filter_fd(self) -> int | None:
        if self._seccomp is None or self._isolation != "bwrap":
            return None
        return seccomp_fd(self._seccomp)

    async def _supervise(
        self, process: asyncio.subprocess.Process, payload: bytes, images_pipe: BinaryIO
    ) -> CodeRun:
        assert process.stdin and process.stdout and process.stderr
        loop = asyncio.get_running_loop()
        images_reader = asyncio.StreamReader()
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(images_reader), images_pipe
        )
        out, err, images = _Capture(bytearray()), _Capture(bytearray()), _Capture(bytearray())
        cap = self._limits.output_bytes
        readers = [
            asyncio.create_task(_read_capped(process.stdout, cap, out)),
            asyncio.create_task(_read_capped(process.stderr, cap, err)),
            asyncio.create_task(_read_capped(images_reader, _IMAGES_CAP, images)),
        ]
        feeder = asyncio.create_task(_feed(process, payload))
        try:
            stopped = await self._wait(process, out, err)
        finally:
            _kill(process)
            await process.wait()
            # Every writer is dead once the sandbox is; the timeout covers the fallback, where
            # an escaped grandchild could hold a pipe open.
            await asyncio.wait(readers, timeout=2.0)
            for task in [*readers, feeder]:
                task.cancel()
            await asyncio.gather(*readers, feeder, return_exceptions=True)
            transport.close()
        if stopped is None and (out.overflow or err.overflow):
            stopped = "output"
        return _result(stopped, process.returncode, out, err, _images(images.data))

    async def _wait(
        self, process: asyncio.subprocess.Process, out: _Capture, err: _Capture
    ) -> str | None:
        """None when the program ended by itself; otherwise why it was stopped."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._limits.wall_seconds
        exited = asyncio.create_task(process.wait())
        try:
            while not exited.done():
                if out.overflow or err.overflow:
                    return "output"
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return "deadline"
                await asyncio.wait({exited}, timeout=min(remaining, 0.05))
            return "output" if out.overflow or err.overflow else None
        finally:
            exited.cancel()


async def _feed(process: asyncio.subprocess.Process, payload: bytes) -> None:
    assert process.stdin is not None
    with contextlib.suppress(ConnectionError, BrokenPipeError):
        process.stdin.write(payload)
        await process.stdin.drain()
        process.stdin.close()


def _kill(process: asyncio.subprocess.Process) -> None:
    """The whole group; with bwrap, the sandbox's pid namespace dies with its first process."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def _result(
    stopped: str | None,
    status: int | None,
    out: _Capture,
    err: _Capture,
    images: tuple[tuple[str, bytes], ...],
) -> CodeRun:
    stdout, stderr = _decode(out.data), _decode(err.data)
    if stopped == "deadline" or status == DEADLINE_EXIT:
        return CodeRun(DEADLINE, stdout + "\nThe code ran out of time and was stopped.\n")
    if stopped == "output":
        return CodeRun(
            FAILED, stdout + "\nThe output exceeded its size limit; the code was stopped.\n"
        )
    if status == 0:
        return CodeRun(OK, stdout, images)
    return CodeRun(FAILED, stdout + stderr, images)


def build_runner(
    limits: Limits,
    isolation: str,
    uids: Sequence[int],
    python: str = sys.executable,
) -> SandboxRunner:
    """The runner for this machine. 'auto' uses bubblewrap when a probe sandbox starts here
    and otherwise the weaker fallback, logged loudly; 'bwrap' refuses to fall back."""
    paths = interpreter_paths()
    bwrap = shutil.which("bwrap")
    seccomp = compile_filter()
    if isolation != "process":
        why = bwrap_works(bwrap, python, paths, seccomp)
        filter_suspect = why is not None and seccomp is not None
        if filter_suspect and bwrap_works(bwrap, python, paths) is None:
            log.warning("code execution runs without its seccomp filter: %s", why)
            why, seccomp = None, None
        if why is not None and isolation == "bwrap":
            raise RuntimeError(f"code execution was set to need bubblewrap, but {why}")
        isolation = "process" if why is not None else "bwrap"
        if why is not None:
            log.warning("code execution falls back to plain processes: %s", why)
    if isolation == "process":
        log.warning(
            "CODE EXECUTION IS NOT ISOLATED: sandboxed code runs as a plain process with "
            "rlimits only; it can see this machine's files and network. Install bubblewrap "
            "or turn code execution off (docs/security.md)."
        )
    return SandboxRunner(
        limits,
        isolation=isolation,
        python=python,
        paths=paths,
        uids=uids,
        bwrap=bwrap,
        seccomp=seccomp,
    )
