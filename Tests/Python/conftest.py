"""Starts real `aigc serve` processes for the service tests (official OpenAI SDK, crash, browser, fuzz).

The binary is $AIGC_BIN (default .build/debug/aigc) and the model $AIGC_TEST_MODEL (default: the
default model, which `make test` pulls into $AIGC_HOME first). Every server gets its own SQLite file.
"""
import json
import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
AIGC = os.environ.get("AIGC_BIN", str(ROOT / ".build" / "debug" / "aigc"))
MODEL = os.environ.get("AIGC_TEST_MODEL", "smollm2-135m-instruct")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def aigc(*args, check=True):
    """Runs the CLI and returns its stdout (stderr is shown when it fails)."""
    done = subprocess.run([AIGC, *args], capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        raise AssertionError(f"aigc {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done


class Server:
    def __init__(self, database, *extra, port=None):
        self.database = str(database)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra = list(extra)
        self.log_path = pathlib.Path(self.database).with_suffix(f".{self.port}.log")
        self.process = None

    def start(self, timeout=120):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [AIGC, "serve", "--port", str(self.port), "-m", MODEL, "--database", self.database, *self.extra],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"aigc serve exited with {self.process.returncode}:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"aigc serve did not answer /health in {timeout} s:\n{self.log_path.read_text()}")

    def kill(self):
        """SIGKILL: the crash test's way to stop it."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(30)

    def stop(self):
        """SIGTERM (graceful shutdown), then SIGKILL if it does not end in 30 s."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)
                raise AssertionError("aigc serve ignored SIGTERM for 30 s")
        self.log.close()

    def get_json(self, path, key=None):
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {key}"} if key else {})
        with urllib.request.urlopen(request, timeout=30) as r:
            return json.loads(r.read())


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("open") / "aigc.sqlite", "--auth", "off").start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def model():
    return MODEL
