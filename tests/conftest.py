"""Shared test helpers: run a lesson script the way a learner would, and make bad pictures."""

import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def headless_env():
    """This process's environment without a display or a chosen matplotlib backend."""
    return {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "DISPLAY", "WAYLAND_DISPLAY")}


def run_script(script, *args, cwd):
    """Run ``python ROOT/script args`` from the folder `cwd`, headless, and return
    the finished process (text stdout and stderr)."""
    return subprocess.run(
        [sys.executable, str(ROOT / script), *map(str, args)],
        cwd=cwd,
        env=headless_env(),
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


# Bad pictures, shared by the tests of the two image lessons ---------------------------------


def png_header_only(path, width, height):
    """Write a PNG whose header announces width x height pixels, with no pixel data to speak of."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )
    return path


def truncated_jpeg(path):
    """Write a 64x64 JPEG of noise cut off halfway through its data."""
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(path, quality=90)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def make_bad_input(case, folder):
    """Create one kind of bad picture in `folder`; return its path and the words the
    error message must hold."""
    if case == "missing":
        return folder / "nowhere.jpg", "no such file"
    if case == "folder":
        return folder, "is a folder"
    if case == "empty":
        (folder / "empty.jpg").touch()
        return folder / "empty.jpg", "is empty"
    if case == "text":
        (folder / "notes.jpg").write_text("not a picture\n")
        return folder / "notes.jpg", "convert it to JPEG or PNG"
    if case == "truncated":
        return truncated_jpeg(folder / "cut.jpg"), "damaged or truncated"
    if case == "bomb":  # over Pillow's limit: Pillow only warns, we refuse
        return png_header_only(folder / "bomb.png", 10_000, 10_000), "shrink it first"
    if case == "big bomb":  # over twice the limit: Pillow refuses too
        return png_header_only(folder / "huge.png", 20_000, 20_000), "shrink it first"
    raise ValueError(case)


BAD_INPUTS = ["missing", "folder", "empty", "text", "truncated", "bomb", "big bomb"]


# Figures: readable where the README shows them ----------------------------------------------


def shown_widths():
    """{figure file name: width in pixels of the README column it is shown in}. A picture
    alone on its line gets the whole column; pictures side by side in a table row share it."""
    import re

    import lessonkit

    widths = {}
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        links = re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", line)
        share = len(links) if line.lstrip().startswith("|") else 1
        for link in links:
            widths[link.rsplit("/", 1)[-1]] = lessonkit.README_WIDTH // share
    return widths


def assert_readable(figure, name, dpi=100):
    """Assert that every text of the matplotlib `figure`, saved as `name` (for example
    "1d_sliding.png") at `dpi`, is at least lessonkit.MIN_TEXT_PX high where the README
    shows it; a figure the README does not show is judged at the full column."""
    import lessonkit

    column = shown_widths().get(name, lessonkit.README_WIDTH)
    smallest = lessonkit.smallest_text_px(figure, dpi, column)
    assert smallest is None or smallest >= lessonkit.MIN_TEXT_PX - 0.05, (
        f"{name}: its smallest text is {smallest:.1f} px high as shown in a {column} px column"
    )


# What a figure draws ---------------------------------------------------------------------------


class Collect:
    """A stand-in for lessonkit.Figures that keeps what a section adds: {name: figure}."""

    def __init__(self):
        self.added = {}

    def add(self, name, figure):
        self.added[name] = figure


def texts(figure):
    """Every visible, non-empty text a matplotlib figure draws, titles and colour-bar labels included."""
    from matplotlib.text import Text

    return [text.get_text() for text in figure.findobj(Text) if text.get_visible() and text.get_text().strip()]
