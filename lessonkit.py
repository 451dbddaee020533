"""Plumbing shared by the lesson scripts: the command line, figures and data paths.

Nothing here is about convolution; each lesson keeps its own content. A lesson
uses it like this::

    @lessonkit.lesson_main
    def main(argv=None):
        args = lessonkit.parse_args(__doc__, argv)
        figures = lessonkit.Figures(args)
        lessonkit.heading("A section")
        ...
        figures.add("a_section", fig)
        return figures.write()
"""

import argparse
import functools
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / "data"
FIGURES_DIR = ROOT / "figures"

NON_INTERACTIVE_BACKENDS = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}


class LessonError(Exception):
    """A problem with the learner's input, reported as one line ``error: ...``."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes become a `LessonError` (one line, no usage dump)."""

    def error(self, message):
        raise LessonError(f"{message} (see --help)")


def parse_args(description, argv=None, image=None):
    """Read the lesson's command line: ``[--out DIR] [--show]`` and, if `image` is given,
    ``[--image PATH]`` with `image` as its default.

    Without --show, matplotlib is switched to its file-only backend so that the lesson
    works with no display.

    >>> parse_args("demo", ["--out", "/tmp/x"]).out
    PosixPath('/tmp/x')
    """
    parser = _Parser(
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if image is not None:
        parser.add_argument(
            "--image",
            type=Path,
            default=Path(image),
            metavar="PATH",
            help=f"picture to use (default: {os.path.relpath(image, ROOT)})",
        )
    parser.add_argument(
        "--out",
        type=Path,
        default=FIGURES_DIR,
        metavar="DIR",
        help="folder for the figures, created if needed (default: figures/ beside the scripts)",
    )
    parser.add_argument(
        "--show",
        action="store_true",
        help="also open each figure in a window (needs a display)",
    )
    args = parser.parse_args(argv)
    if not args.show:
        import matplotlib

        matplotlib.use("Agg")
    return args


def lesson_main(main):
    """Decorate a lesson's ``main(argv)`` so that a `LessonError` ends it cleanly:
    one line ``error: ...`` on stderr and exit status 2, never a traceback."""

    @functools.wraps(main)
    def run(argv=None):
        try:
            return main(argv)
        except LessonError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2

    return run


def heading(title):
    """Print a section heading, underlined, as the README names the section.

    >>> heading("Valid mode")
    <BLANKLINE>
    Valid mode
    ----------
    """
    print()
    print(title)
    print("-" * len(title))


def data_path(name):
    """The path of a file shipped in data/, whatever the current folder.

    >>> data_path("bird.jpg").name
    'bird.jpg'
    """
    return DATA_DIR / name


class Figures:
    """The figures a lesson draws, written together at the end of the lesson.

    Nothing reaches the disk until `write`, so a lesson that stops on an error leaves
    no half-written output; each file is written under a temporary name and then
    renamed, so a reader never sees a partial file.
    """

    def __init__(self, args):
        self.out = Path(args.out)
        self.show = args.show
        self._pending = []

    def add(self, name, figure, dpi=100):
        """Queue a matplotlib figure, to be saved as ``DIR/name.png``."""

        def save(path):
            figure.savefig(path, format="png", dpi=dpi, metadata={"Software": None})

        self._pending.append((f"{name}.png", save, figure))

    def add_animation(self, name, frames, frame_ms=700):
        """Queue an animated GIF, ``DIR/name.gif``, from a list of PIL images (looping)."""

        def save(path):
            first, *rest = frames
            first.save(
                path,
                format="GIF",
                save_all=True,
                append_images=rest,
                duration=frame_ms,
                loop=0,
                optimize=False,
            )

        self._pending.append((f"{name}.gif", save, None))

    def write(self):
        """Create the output folder, write every queued figure, print where they went,
        and open the windows if --show was asked for. Returns 0, the exit status."""
        import matplotlib.pyplot as plt

        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LessonError(f"cannot create the output folder {self.out}: {error.strerror}") from None
        if not os.access(self.out, os.W_OK):
            raise LessonError(f"cannot write into the output folder {self.out}")
        for filename, save, _ in self._pending:
            final = self.out / filename
            partial = self.out / f".{filename}.{os.getpid()}.tmp"
            try:
                save(partial)
                os.replace(partial, final)
            except OSError as error:
                partial.unlink(missing_ok=True)
                raise LessonError(f"cannot write {final}: {error.strerror}") from None
        heading("Figures")
        print(f"{len(self._pending)} written to {self.out}:")
        for filename, _, _ in self._pending:
            print(f"  {filename}")
        if self.show:
            if plt.get_backend().lower() in NON_INTERACTIVE_BACKENDS:
                print("note: no display found, so --show opens no windows", file=sys.stderr)
            else:
                plt.show()
        for _, _, figure in self._pending:
            if figure is not None:
                plt.close(figure)
        self._pending.clear()
        return 0
