"""Start and stop a local Chroma server (`chroma run`) bound to 127.0.0.1, for tests,
benchmarks and `make chroma-server`: the project starts what it needs and stops it again.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ChromaServer:
    """`with ChromaServer(data_dir) as url:` a server on a free port until the block ends."""

    def __init__(self, path: Path, port: int | None = None, startup_s: float = 60.0, log: Path | None = None):
        self.path, self.port, self.startup_s, self.log = Path(path), port or free_port(), startup_s, log
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> str:
        chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
        if chroma is None:
            raise RuntimeError("the `chroma` command is missing: run `make setup` (it comes with chromadb)")
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [chroma, "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
            start_new_session=True)
        deadline = time.monotonic() + self.startup_s
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self.url
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"chroma run exited at start (code {self.proc.returncode})") from None
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"chroma run did not listen on port {self.port} within {self.startup_s:.0f} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    """`python -m vectorstore.server DATA_DIR [PORT]`: serve until Ctrl+C."""
    if len(sys.argv) < 2:
        raise SystemExit("usage: python -m vectorstore.server DATA_DIR [PORT]")
    server = ChromaServer(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else None)
    with server as url:
        print(f"Chroma server on {url} (data in {server.path}); Ctrl+C stops it", flush=True)
        try:
            server.proc.wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
