"""The server's own secret (for thought signatures): created once under the data dir, or read
from a file every replica mounts."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

SECRET_BYTES = 32


def load_or_create_secret(path: Path) -> bytes:
    """Read the secret, or create it atomically (0600) so concurrent starts agree on one."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate = path.with_suffix(f".{os.getpid()}.tmp")
    candidate.write_bytes(secrets.token_bytes(SECRET_BYTES))
    os.chmod(candidate, 0o600)
    try:
        os.link(candidate, path)  # fails if another process won the race: use theirs
    except FileExistsError:
        pass
    finally:
        candidate.unlink()
    return path.read_bytes()


def read_secret(path: Path) -> bytes:
    """A secret from a file someone else wrote (a mounted Kubernetes Secret, say).

    A text file loses its trailing newline (what `echo` and editors add); binary content,
    such as a copied signing.key, is taken byte for byte.
    """
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    return data.rstrip(b"\r\n")
