"""Local servers for the remote-storage tests: free ports on 127.0.0.1 and
waiting for an emulator process to listen."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen, name: str, seconds: float = 30) -> None:
    """Return once ``process`` listens on ``port``; fail the test if it exits
    or does not listen within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited with code {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"{name} did not start listening in time")


@contextlib.contextmanager
def running(command: list[str], port: int, name: str, env: dict[str, str]) -> Iterator[None]:
    """Run an emulator until the block ends, with ``env`` set for the clients
    while it listens on ``port``."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    patch = pytest.MonkeyPatch()
    try:
        wait_for(port, process, name)
        for variable, value in env.items():
            patch.setenv(variable, value)
        yield
    finally:
        patch.undo()
        process.kill()  # npm launchers do not pass SIGTERM on to the server
        process.wait(timeout=10)
