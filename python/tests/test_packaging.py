"""The sdist builds and installs into a fresh venv (opt-in with LOGFUNNEL_SDIST_CHECK=1, which
scripts/test.sh sets; with CARGO_TARGET_DIR shared, as python/run-tests.sh exports it, the build
reuses the compiled dependencies)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    os.environ.get("LOGFUNNEL_SDIST_CHECK") != "1", reason="set LOGFUNNEL_SDIST_CHECK=1 to run"
)
def test_sdist_installs_in_a_fresh_venv(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "maturin", "sdist", "-o", str(tmp_path / "dist")],
        cwd=HERE,
        check=True,
        timeout=300,
    )
    (sdist,) = (tmp_path / "dist").glob("logfunnel-*.tar.gz")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", str(sdist)], check=True, timeout=3000)
    out = subprocess.run(
        [str(py), "-c", "import logfunnel, logging; h = logfunnel.Handler(); h.close(0); print(logfunnel.__version__)"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=str(tmp_path),
    )
    assert out.stdout.strip()
    cli = subprocess.run(
        [str(venv / "bin" / "logfunnel-collector"), "--version"], capture_output=True, text=True, timeout=60
    )
    assert cli.returncode == 0 and "logfunnel-collector" in cli.stdout
