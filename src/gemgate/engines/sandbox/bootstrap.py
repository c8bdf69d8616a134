"""Runs inside the sandbox, before and around the untrusted code. Standalone: stdlib only.

argv: CPU_SECONDS MEMORY_BYTES PROCESSES FILE_BYTES IMAGES_FD. stdin: JSON {"code", "files":[{name,
data(base64)}]}. The limits are set first (hard limits: the code cannot raise them again),
then the files are written to the working directory and the code runs as __main__. Images it
saved (or, failing that, the matplotlib figures left open) go out on IMAGES_FD as JSON.
"""

import base64
import io
import json
import os
import resource
import signal
import sys
import traceback
from typing import Any

DEADLINE_EXIT = 124  # the runner reads this status as "CPU time ran out"
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}
MAX_IMAGE_BYTES = 8 * 1024 * 1024


def _limit(kind: int, value: int) -> None:
    resource.setrlimit(kind, (value, value))


def _set_limits(cpu: int, memory: int, processes: int, file_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    _limit(resource.RLIMIT_AS, memory)
    _limit(resource.RLIMIT_NPROC, processes)
    _limit(resource.RLIMIT_FSIZE, file_bytes)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_NOFILE, 256)


def _on_cpu_limit(signum: int, frame: Any) -> None:
    sys.stdout.flush()
    os._exit(DEADLINE_EXIT)


def _write_inputs(files: list[dict[str, str]]) -> None:
    for item in files:
        with open(item["name"], "wb") as handle:
            handle.write(base64.b64decode(item["data"]))


def _saved_images(before: set[tuple[str, int]]) -> list[tuple[str, bytes]]:
    found = []
    for name in sorted(os.listdir(".")):
        mime = IMAGE_TYPES.get(os.path.splitext(name)[1].lower())
        fresh = mime and (name, os.stat(name).st_mtime_ns) not in before
        if fresh and os.path.isfile(name) and os.path.getsize(name) <= MAX_IMAGE_BYTES:
            with open(name, "rb") as handle:
                found.append((str(mime), handle.read()))
    return found


def _open_figures() -> list[tuple[str, bytes]]:
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return []
    found = []
    for number in pyplot.get_fignums():
        buffer = io.BytesIO()
        pyplot.figure(number).savefig(buffer, format="png")
        found.append(("image/png", buffer.getvalue()))
    return found


def _report_images(before: set[tuple[str, int]], fd: int) -> None:
    try:
        images = _saved_images(before) or _open_figures()
        payload = [{"mime": m, "data": base64.b64encode(d).decode("ascii")} for m, d in images]
        with os.fdopen(fd, "w") as channel:
            json.dump(payload, channel)
    except Exception:  # a figure that cannot be rendered must not hide the code's own result
        pass


def main() -> None:
    cpu, memory, processes, file_bytes, images_fd = (int(v) for v in sys.argv[1:6])
    _set_limits(cpu, memory, processes, file_bytes)
    signal.signal(signal.SIGXCPU, _on_cpu_limit)
    request = json.load(sys.stdin)
    sys.stdin.close()
    _write_inputs(request["files"])
    before = {(n, os.stat(n).st_mtime_ns) for n in os.listdir(".")}
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    status = 0
    try:
        exec(compile(request["code"], "<string>", "exec"), {"__name__": "__main__"})
    except SystemExit as stop:
        code = stop.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
    except BaseException as error:
        # The traceback starts at the code: the bootstrap's own frame is not the user's.
        where = error.__traceback__
        traceback.print_exception(type(error), error, where.tb_next if where else None)
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    if images_fd >= 0:
        _report_images(before, images_fd)
    os._exit(status)


if __name__ == "__main__":
    main()
