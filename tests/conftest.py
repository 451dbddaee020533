"""Shared test helpers: run a lesson script the way a learner would."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_script(script, *args, cwd):
    """Run ``python ROOT/script args`` from the folder `cwd`, headless, and return
    the finished process (text stdout and stderr)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run(
        [sys.executable, str(ROOT / script), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def run_lesson(tmp_path):
    """Run a lesson from an unrelated folder, writing figures into a fresh folder.

    Returns ``(process, out_dir)``.
    """
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "figures out"

    def run(script, *args):
        process = run_script(script, "--out", out, *args, cwd=elsewhere)
        return process, out

    return run
