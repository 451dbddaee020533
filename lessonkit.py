"""Plumbing shared by the lesson scripts: the command line, clean errors, figures,
data paths, and a quiet start for TensorFlow.

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
import contextlib
import functools
import io
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / "data"
FIGURES_DIR = ROOT / "figures"

# The series' colours: each keeps one meaning in every figure.
COLOURS = {
    "input": "#cfe2f3",  # blue: the signal or image that goes in
    "kernel": "#fce5cd",  # peach: the kernel's weights
    "output": "#d9ead3",  # green: what comes out
    "padding": "#eeeeee",  # grey: zeros or other values added at the border
    "window": "#cc0000",  # red: the window the kernel covers now
}
SIGNED_COLOURMAP = "RdBu_r"  # signed values: red above 0, blue below, with a symmetric colour bar

# Figures are designed for the README's column, about 880 pixels wide on GitHub; text in
# them must be at least 11 pixels high as shown there.
README_WIDTH = 880
MIN_TEXT_PX = 11
HOLD_LAST_FRAME_MS = 2500  # an animation shows its finished result this long before looping

NON_INTERACTIVE_BACKENDS = {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}

# TensorFlow's C++ core writes its start-up notices straight to file descriptor 2.
# TF_CPP_MIN_LOG_LEVEL=2 hides INFO and WARNING lines, but not those logged before
# absl's logging starts, nor the notices that no GPU was found.
NATIVE_LOG_LINE = re.compile(r"^([IWEF])\d{4} [\d:.]+ +\d+ \S+:\d+\] (.*)")
NO_GPU_NOTICES = (
    "failed call to cuInit",
    "Could not find cuda drivers",
    "Unable to register cuDNN factory",
    "Unable to register cuFFT factory",
    "Unable to register cuBLAS factory",
    "TF-TRT Warning: Could not find TensorRT",
)
NOTICE_SECOND_LINES = ("To enable the following instructions:",)
ABSL_BANNER = "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"


class LessonError(Exception):
    """A problem with the learner's input, reported as one line ``error: ...``."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose mistakes become a `LessonError` (one line, no usage dump)."""

    def error(self, message):
        raise LessonError(f"{message} (see --help)")


def _path(text):
    """An argparse type: a non-empty path."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path")
    return Path(text)


def check_out_folder(out):
    """Refuse, before the lesson starts, an output folder that could not be created:
    one that is a file, or whose nearest existing parent is a file or is read-only.
    Creates nothing.

    >>> check_out_folder(Path("/dev/null/figures"))
    Traceback (most recent call last):
    ...
    lessonkit.LessonError: cannot create the output folder /dev/null/figures: /dev/null is not a folder
    """
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "it is a file" if existing == out else f"{existing} is not a folder"
        raise LessonError(f"cannot create the output folder {out}: {where}")
    if not os.access(existing, os.W_OK):
        raise LessonError(f"cannot write into {existing}, so not into the output folder {out}")


def parse_args(description, argv=None, image=None, flags=None, options=None):
    """Read the lesson's command line: ``[--out DIR] [--show]`` and, if `image` is given,
    ``[--image PATH]`` with `image` as its default; `flags` maps any further on/off
    options to their help (argparse.SUPPRESS hides one); `options` maps options that take
    a value to (METAVAR, help): each gives a string, or None when it is not on the command
    line, and the lesson reads that string itself. A mistake, an empty path or an
    output folder that cannot be created is a `LessonError`, before anything is printed.

    Without --show, matplotlib is switched to its file-only backend so that the lesson
    works with no display.

    >>> parse_args("demo", ["--out", "some/folder"]).out
    PosixPath('some/folder')
    >>> parse_args("demo", ["--quick"], flags={"--quick": "a smaller run"}).quick
    True
    >>> parse_args("demo", ["--kernel", "1 2; 3 4"], options={"--kernel": ("ROWS", "a kernel")}).kernel
    '1 2; 3 4'
    """
    parser = _Parser(
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if image is not None:
        parser.add_argument(
            "--image",
            type=_path,
            default=Path(image),
            metavar="PATH",
            help=f"picture to use (default: {os.path.relpath(image, ROOT)})",
        )
    parser.add_argument(
        "--out",
        type=_path,
        default=FIGURES_DIR,
        metavar="DIR",
        help="folder for the figures, created if needed (default: figures/ beside the scripts)",
    )
    parser.add_argument(
        "--show",
        action="store_true",
        help="also open each figure in a window (needs a display)",
    )
    for flag, help_text in (flags or {}).items():
        parser.add_argument(flag, action="store_true", help=help_text)
    for option, (metavar, help_text) in (options or {}).items():
        parser.add_argument(option, metavar=metavar, help=help_text)
    args = parser.parse_args(argv)
    check_out_folder(args.out)
    if not args.show:
        import matplotlib

        matplotlib.use("Agg")
    return args


class _ClosedPipeTolerant:
    """Standard output that goes quiet, instead of failing, once its reader has gone
    (``python 0_1D.py | head``), so that the lesson still writes its figures."""

    def __init__(self, stream):
        self._stream = stream
        self._closed = False

    def write(self, text):
        if not self._closed:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._closed = True
        return len(text)

    def flush(self):
        if not self._closed:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._closed = True

    def __getattr__(self, name):
        return getattr(self._stream, name)


def lesson_main(main):
    """Decorate a lesson's ``main(argv)`` so that a `LessonError` ends it cleanly:
    one line ``error: ...`` on stderr and exit status 2, never a traceback; and so
    that a reader closing the output pipe early does not stop the lesson."""

    @functools.wraps(main)
    def run(argv=None):
        stdout = sys.stdout
        sys.stdout = _ClosedPipeTolerant(stdout)
        try:
            return main(argv)
        except LessonError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        finally:
            sys.stdout = stdout
            try:
                sys.stdout.flush()
            except BrokenPipeError:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

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
        """Queue a matplotlib figure, to be saved as ``DIR/name.png``. It is drawn into PNG
        bytes at once, so that the file is the same whatever draws the figure later (a
        notebook showing it inline, say: a figure drawn twice can come out a pixel different)."""
        png = io.BytesIO()
        figure.savefig(png, format="png", dpi=dpi, metadata={"Software": None})

        def save(path):
            path.write_bytes(png.getvalue())

        self._pending.append((f"{name}.png", save, figure))

    def add_animation(self, name, frames, frame_ms=700, hold_ms=HOLD_LAST_FRAME_MS):
        """Queue an animated GIF, ``DIR/name.gif``, from a list of PIL images (looping).
        `frame_ms` is one duration for every frame or a list of one per frame; the last
        frame is held `hold_ms` (at least its own duration) so the result can be read."""
        durations = frame_durations(len(frames), frame_ms, hold_ms)

        def save(path):
            first, *rest = frames
            first.save(
                path,
                format="GIF",
                save_all=True,
                append_images=rest,
                duration=durations,
                loop=0,
                optimize=True,
            )

        self._pending.append((f"{name}.gif", save, None))

    def write(self):
        """Create the output folder, write every queued figure, print where they went,
        and open the windows if --show was asked for. Returns 0, the exit status.

        Every file is first written under a temporary name; only when all of them are
        written are they renamed, so a failure leaves no partial set of figures."""
        import matplotlib.pyplot as plt

        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LessonError(f"cannot create the output folder {self.out}: {error.strerror}") from None
        for filename, _, _ in self._pending:
            final = self.out / filename
            if final.exists() and not final.is_file():
                raise LessonError(f"cannot write the figure {final}: something other than a file is there")
        written = []
        try:
            for filename, save, _ in self._pending:
                partial = self.out / f".{filename}.{os.getpid()}.tmp"
                written.append((partial, self.out / filename))
                save(partial)
            for partial, final in written:
                os.replace(partial, final)
        except OSError as error:
            for partial, _ in written:
                partial.unlink(missing_ok=True)
            raise LessonError(f"cannot write the figures into {self.out}: {error.strerror}") from None
        heading("Figures")
        print(f"{len(self._pending)} written to {self.out}:")
        for filename, _, _ in self._pending:
            print(f"  {filename}")
        if self.show:
            if plt.get_backend().lower() in NON_INTERACTIVE_BACKENDS:
                print("note: no display found, so --show opens no windows")
            else:
                plt.show()
        for _, _, figure in self._pending:
            if figure is not None:
                plt.close(figure)
        self._pending.clear()
        return 0


def frame_durations(count, frame_ms=700, hold_ms=HOLD_LAST_FRAME_MS):
    """The duration in ms of each of `count` frames: `frame_ms` (one number, or a list
    of one per frame), with the last frame held at least `hold_ms`.

    >>> frame_durations(3, 500)
    [500, 500, 2500]
    >>> frame_durations(3, [900, 600, 600], hold_ms=400)
    [900, 600, 600]
    """
    durations = [int(frame_ms)] * count if isinstance(frame_ms, (int, float)) else [int(ms) for ms in frame_ms]
    if len(durations) != count:
        raise ValueError(f"frame_ms: {len(durations)} durations for {count} frames")
    durations[-1] = max(durations[-1], int(hold_ms))
    return durations


def shown_scale(width_px, column_px=README_WIDTH):
    """How much a picture `width_px` wide is shrunk when shown in a column `column_px` wide.

    >>> shown_scale(1760)
    0.5
    >>> shown_scale(600)
    1.0
    """
    return min(1.0, column_px / width_px)


def smallest_text_px(figure, dpi=100, column_px=README_WIDTH):
    """The height in pixels, as shown in a column `column_px` wide, of the smallest text
    that a matplotlib `figure` draws (titles, labels, tick labels, texts, legends) when
    saved at `dpi`. Returns None for a figure without text.

    >>> import matplotlib.figure
    >>> figure = matplotlib.figure.Figure(figsize=(8.8, 2))
    >>> _ = figure.text(0.5, 0.5, "y[0] = 6", fontsize=9)
    >>> round(smallest_text_px(figure), 1)
    12.5
    """
    from matplotlib.text import Text

    sizes = [
        text.get_fontsize()
        for text in figure.findobj(Text)
        if text.get_visible() and text.get_text().strip()
    ]
    if not sizes:
        return None
    width_px = figure.get_figwidth() * dpi
    return float(min(sizes) * dpi / 72 * shown_scale(width_px, column_px))


def is_start_up_noise(severity, message, min_log_level):
    """Whether a native log line with this severity letter ('I', 'W', 'E' or 'F') is
    start-up noise: below `min_log_level` (TF_CPP_MIN_LOG_LEVEL: 1 hides I, 2 hides I
    and W), or a notice that no GPU is present.

    >>> is_start_up_noise("I", "oneDNN custom operations are on.", 2)
    True
    >>> is_start_up_noise("E", "Out of memory", 2)
    False
    """
    return "IWEF".index(severity) < min_log_level or message.startswith(NO_GPU_NOTICES)


@contextlib.contextmanager
def tensorflow_start_up_quiet():
    """Import TensorFlow inside this block, and look for a GPU there too
    (tf.config.list_physical_devices), to keep its start-up notices from the learner.

    Sets TF_CPP_MIN_LOG_LEVEL to 2 unless it is set already, catches what is written
    to stderr (file descriptor 2) inside the block, then passes on every line except
    start-up noise (see `is_start_up_noise`), absl's banner about logging before
    InitializeLog, and the second line of a dropped notice. Anything else, a real
    error included, still reaches stderr.
    """
    level = os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    min_log_level = int(level) if level.isdigit() else 0
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
            caught.seek(0)
            dropped_last_notice = False
            for line in caught.read().decode(errors="replace").splitlines():
                log_line = NATIVE_LOG_LINE.match(line)
                if log_line:
                    dropped_last_notice = is_start_up_noise(*log_line.groups(), min_log_level)
                    keep = not dropped_last_notice
                elif line.startswith(NOTICE_SECOND_LINES):
                    keep = not dropped_last_notice
                else:
                    keep = line != ABSL_BANNER
                if keep:
                    print(line, file=sys.stderr)
