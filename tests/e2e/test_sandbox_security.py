"""Hostile programs against the sandbox the server uses, while a real server is up.

Each test runs the attack through the same runner the server builds (bubblewrap, uid drop,
rlimits), asserts that it failed, and that the server is still healthy and no sandboxed
process is left behind.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from gemgate.core.ports import CodeRun, SandboxFile
from gemgate.engines.sandbox.isolation import Limits
from gemgate.engines.sandbox.runner import SandboxRunner, build_runner
from tests.e2e.conftest import SECRET_CANARY
from tests.serving import RunningServer

pytestmark = pytest.mark.e2e

WALL = 2.0
OUTPUT = 64 * 1024
LIMITS = Limits(
    wall_seconds=WALL,
    cpu_seconds=2,
    memory_bytes=256 * 1024**2,
    processes=16,
    output_bytes=OUTPUT,
    workdir_bytes=16 * 1024**2,
)
UIDS = range(210000, 210002)  # apart from the server's own pool


@pytest.fixture(scope="module")
def runner() -> SandboxRunner:
    return build_runner(LIMITS, "bwrap", UIDS)


@pytest.fixture(autouse=True)
def server_survives(code_server: RunningServer) -> Iterator[None]:
    yield
    assert httpx.get(f"{code_server.url}/healthz", timeout=5).status_code == 200
    assert _sandbox_processes() == [], "a sandboxed process outlived its execution"


def _sandbox_processes() -> list[int]:
    left = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid in UIDS:
                    left.append(int(entry))
            except FileNotFoundError:
                continue
    return left


async def attack(runner: SandboxRunner, code: str) -> tuple[CodeRun, float]:
    started = time.monotonic()
    result = await runner.run(code)
    return result, time.monotonic() - started


async def test_isolation_is_bubblewrap(runner: SandboxRunner) -> None:
    assert runner.isolation == "bwrap"


async def test_no_connection_to_the_server_on_loopback(
    runner: SandboxRunner, code_server: RunningServer
) -> None:
    port = code_server.url.rsplit(":", 1)[1]
    result, _ = await attack(
        runner, f"import socket; socket.create_connection(('127.0.0.1', {port}))"
    )
    assert result.outcome == "OUTCOME_FAILED"
    assert "ConnectionRefusedError" in result.output


async def test_no_route_to_an_outside_address(runner: SandboxRunner) -> None:
    # 192.0.2.1 is TEST-NET-1 (never routed); inside there is no interface to send it on.
    code = "import socket; socket.create_connection(('192.0.2.1', 80), timeout=1)"
    result, _ = await attack(runner, code)
    assert result.outcome == "OUTCOME_FAILED"
    assert "Network is unreachable" in result.output


async def test_server_data_dir_is_invisible(
    runner: SandboxRunner, code_server: RunningServer
) -> None:
    data = code_server.data_dir
    assert (data / "signing.key").exists()
    result, _ = await attack(runner, f"print(open({str(data / 'signing.key')!r}, 'rb').read())")
    assert result.outcome == "OUTCOME_FAILED"
    assert "FileNotFoundError" in result.output
    seen, _ = await attack(runner, f"import os; print(os.path.exists({str(data)!r}))")
    assert seen.output == "False\n"


async def test_shadow_is_unreadable(runner: SandboxRunner) -> None:
    result, _ = await attack(runner, "print(open('/etc/shadow').read())")
    assert result.outcome == "OUTCOME_FAILED"
    assert "Error" in result.output and "root:" not in result.output


async def test_environment_secrets_are_invisible(
    runner: SandboxRunner, code_server: RunningServer
) -> None:
    code = (
        "import os\n"
        "print(dict(os.environ))\n"
        f"print(open('/proc/{code_server.pid}/environ').read())\n"
    )
    result, _ = await attack(runner, code)
    assert SECRET_CANARY not in result.output
    assert "GEMGATE" not in result.output
    assert "FileNotFoundError" in result.output  # the server's pid is not in this namespace


async def test_writes_outside_the_working_dir_fail(runner: SandboxRunner) -> None:
    code = (
        "import os, sys\n"
        "for path in ['/usr/evil', sys.prefix + '/evil', '/opt/gemgate/bootstrap.py', '/evil']:\n"
        "    try:\n"
        "        open(path, 'w').write('x')\n"
        "        print('WROTE', path)\n"
        "    except OSError as e:\n"
        "        print('refused', path, type(e).__name__)\n"
        "open('mine.txt', 'w').write('ok')\n"
        "print(open('mine.txt').read())\n"
    )
    result, _ = await attack(runner, code)
    assert result.outcome == "OUTCOME_OK", result.output
    assert "WROTE" not in result.output
    assert result.output.count("refused") == 4 and result.output.endswith("ok\n")


async def test_fork_bomb_is_contained(runner: SandboxRunner) -> None:
    code = (
        "import os\n"
        "forks = 0\n"
        "try:\n"
        "    while True:\n"
        "        if os.fork() == 0:\n"
        "            while True: os.fork() if False else __import__('time').sleep(1)\n"
        "        forks += 1\n"
        "except OSError as e:\n"
        "    print('forks', forks, e.errno)\n"
    )
    result, took = await attack(runner, code)
    forks, errno = result.output.split()[1:3]
    assert int(forks) < LIMITS.processes  # refused by RLIMIT_NPROC, errno EAGAIN
    assert errno == "11"
    assert took < WALL + 2.0


async def test_allocating_10_gb_fails(runner: SandboxRunner) -> None:
    result, _ = await attack(runner, "x = bytearray(10 * 1024**3)")
    assert result.outcome == "OUTCOME_FAILED"
    assert "MemoryError" in result.output


async def test_printing_1_gb_is_cut_at_the_cap(runner: SandboxRunner) -> None:
    result, took = await attack(
        runner, "import sys\nfor _ in range(1024):\n    sys.stdout.write('x' * 1024 * 1024)\n"
    )
    assert result.outcome == "OUTCOME_FAILED"
    assert len(result.output) <= OUTPUT + 200
    assert "exceeded its size limit" in result.output
    assert took < WALL + 2.0


async def test_sleeping_forever_meets_the_deadline(runner: SandboxRunner) -> None:
    result, took = await attack(
        runner, "import time\nprint('started', flush=True)\ntime.sleep(10**6)"
    )
    assert result.outcome == "OUTCOME_DEADLINE_EXCEEDED"
    assert result.output.startswith("started\n")
    assert WALL <= took < WALL + 2.0


async def test_busy_loop_meets_the_deadline(runner: SandboxRunner) -> None:
    result, took = await attack(runner, "while True: pass")
    assert result.outcome == "OUTCOME_DEADLINE_EXCEEDED"
    assert took < WALL + 2.0


async def test_killing_the_parent_and_everything_hits_nothing_outside(
    runner: SandboxRunner,
) -> None:
    code = (
        "import os, signal\n"
        "print('parent', os.getppid(), flush=True)\n"
        "for target in (os.getppid(), 1, -1):\n"
        "    try:\n"
        "        os.kill(target, signal.SIGKILL)\n"
        "    except OSError as e:\n"
        "        print('refused', target, e.errno, flush=True)\n"
    )
    result, _ = await attack(runner, code)
    # Whatever it managed inside its own namespace, only the sandbox itself went down.
    assert "parent" in result.output


async def test_kernel_interfaces_for_escalation_are_filtered(runner: SandboxRunner) -> None:
    """seccomp: no user namespace of its own (unshare, clone), no ptrace, no bpf."""
    code = (
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "print('unshare', libc.unshare(0x10000000), ctypes.get_errno())\n"
        "print('ptrace', libc.ptrace(16, 1, 0, 0), ctypes.get_errno())\n"
        "print('bpf', libc.syscall(321, 0, 0, 0), ctypes.get_errno())\n"
        "print('fork', 'works' if os.fork() else os._exit(0))\n"
    )
    result, _ = await attack(runner, code)
    assert result.outcome == "OUTCOME_OK", result.output
    assert result.output == "unshare -1 1\nptrace -1 1\nbpf -1 1\nfork works\n"


async def test_files_and_figures_round_trip(runner: SandboxRunner) -> None:
    code = (
        "import os, pandas as pd, matplotlib.pyplot as plt\n"
        "print(sorted(os.listdir('.')))\n"
        "frame = pd.read_csv('input_file_0.csv')\n"
        "print(int(frame['score'].sum()))\n"
        "plt.plot(frame['score'])\n"
    )
    files = [SandboxFile("input_file_0.csv", b"name,score\nann,3\nbob,5\n")]
    result = await runner.run(code, files)
    assert result.outcome == "OUTCOME_OK", result.output
    assert result.output == "['input_file_0.csv']\n8\n"
    assert [mime for mime, _ in result.images] == ["image/png"]
    assert result.images[0][1].startswith(b"\x89PNG")


async def test_fallback_without_namespaces_still_enforces_limits() -> None:
    """The weaker `process` isolation keeps rlimits, the deadline and the output cap."""
    weak = SandboxRunner(LIMITS, isolation="process", python=sys.executable, paths=[], uids=UIDS)
    ok = await weak.run("import os; print(sorted(os.listdir('.')))", [SandboxFile("a.txt", b"x")])
    assert (ok.outcome, ok.output) == ("OUTCOME_OK", "['a.txt']\n")
    memory = await weak.run("x = bytearray(10 * 1024**3)")
    assert memory.outcome == "OUTCOME_FAILED" and "MemoryError" in memory.output
    endless, took = await attack(weak, "while True: pass")
    assert endless.outcome == "OUTCOME_DEADLINE_EXCEEDED" and took < WALL + 2.0
