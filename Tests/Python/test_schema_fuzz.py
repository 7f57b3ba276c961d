"""Schema fuzz: schemathesis generates requests from /openapi.json (valid and invalid bodies, odd
parameters) and checks that no response is a server error (5xx). Answers are capped at 8 tokens so
the fuzz stays quick; the seed makes a failure reproducible."""
import os
import pathlib
import subprocess
import sys

from conftest import Server

SCHEMATHESIS = pathlib.Path(sys.executable).with_name("schemathesis")


def test_schema_fuzz_finds_no_server_errors(tmp_path):
    server = Server(tmp_path / "fuzz.sqlite", "--auth", "off", "--max-tokens", "8").start()
    try:
        done = subprocess.run(
            [str(SCHEMATHESIS), "run", server.url + "/openapi.json",
             "--checks", "not_a_server_error", "--max-examples", os.environ.get("AIGC_FUZZ_EXAMPLES", "30"),
             "--seed", "1", "--workers", "1", "--report-dir", str(tmp_path / "report")],
            cwd=tmp_path, capture_output=True, text=True, timeout=900)
        output = done.stdout + done.stderr
        print(output[-3000:])
        assert done.returncode == 0, f"schemathesis found server errors:\n{output[-8000:]}"
        assert " generated, " in output and " passed" in output, output[-3000:]
    finally:
        server.stop()
