"""How long do the lessons take?

Runs each lesson script, 0_1D.py to 6_layer.py, the way a learner would: a fresh
Python process, no display, figures written into a temporary folder. Each runs a
few times; the table gives the median wall time and the peak memory of each, with
its ratio to the target: 0_1D.py and 1_2D.py under 2 s each, the first five lessons
(0_1D.py to 4_digit.py, the "all five" line) within 15 s together, and 5_cnn.py,
which trains two networks, within 15 s on its own.

Then 3_image.py runs on a 12-megapixel photo (data/bird.jpg enlarged to 4000x3000,
with seeded fine grain added so that it has detail at every scale), against 5 s
and 1.5 GB.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ["0_1D.py", "1_2D.py", "2_TensorFlow.py", "3_image.py", "4_digit.py", "5_cnn.py", "6_layer.py"]
TIME_TARGETS = {"0_1D.py": 2.0, "1_2D.py": 2.0, "5_cnn.py": 15.0}
TOTALLED = LESSONS[:5]  # the "all five" line adds up these, against TOTAL_TARGET
TOTAL_TARGET = 15.0
PHOTO_SIZE = (4000, 3000)
PHOTO_TIME_TARGET = 5.0
PHOTO_MEMORY_TARGET = 1.5e9
SEED = 2024

# Run in a fresh Python process: it starts the command given in its arguments and
# prints, as JSON, the command's wall time, exit status, the end of its stderr and
# its peak resident memory. RUSAGE_CHILDREN covers only this wrapper's children, so
# the peak belongs to this one run.
MEASURE_ONE_RUN = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
finished = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "peak": peak, "returncode": finished.returncode,
                  "stderr": finished.stderr[-2000:]}))
"""


def measure(command, cwd):
    """Run `command` (a list of strings) once from the folder `cwd`, with no display.

    Returns a dict: seconds (wall time), peak_bytes (peak resident memory),
    returncode and stderr (its last 2000 characters).

    >>> run = measure([sys.executable, "-c", "print('hi')"], cwd=".")
    >>> run["returncode"], run["peak_bytes"] > 1e6
    (0, True)
    """
    env = {key: value for key, value in os.environ.items() if key not in ("MPLBACKEND", "DISPLAY", "WAYLAND_DISPLAY")}
    wrapper = subprocess.run(
        [sys.executable, "-c", MEASURE_ONE_RUN, *command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    run = json.loads(wrapper.stdout)
    bytes_per_unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    run["peak_bytes"] = run.pop("peak") * bytes_per_unit
    return run


def measure_lesson(script, repeats, extra_args=()):
    """Run the lesson at path `script` `repeats` times, each into a fresh temporary --out folder.

    Returns (median seconds, largest peak bytes), or raises RuntimeError with the
    end of stderr if a run fails.
    """
    seconds, peaks = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "figures"
            run = measure([sys.executable, str(script), "--out", str(out), *extra_args], cwd=folder)
        if run["returncode"] != 0:
            last_line = (run["stderr"].strip().splitlines() or ["(no message)"])[-1]
            raise RuntimeError(f"exit status {run['returncode']}: {last_line}")
        seconds.append(run["seconds"])
        peaks.append(run["peak_bytes"])
    return statistics.median(seconds), max(peaks)


def make_photo(path, size=PHOTO_SIZE):
    """Write a seeded 12-megapixel JPEG to `path`: data/bird.jpg enlarged to `size`
    (width, height) plus fine grey grain, so that it is not smooth at full size.

    >>> import tempfile; folder = tempfile.mkdtemp()
    >>> make_photo(Path(folder) / "small.jpg", size=(40, 30))
    >>> Image.open(Path(folder) / "small.jpg").size
    (40, 30)
    """
    with Image.open(ROOT / "data" / "bird.jpg") as bird:
        enlarged = bird.convert("RGB").resize(size, Image.Resampling.BICUBIC)
    rng = np.random.default_rng(SEED)
    grain = rng.normal(0.0, 12.0, (size[1], size[0], 1))
    pixels = np.clip(np.asarray(enlarged, dtype=np.float64) + grain, 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path, format="JPEG", quality=90)


def format_ratio(value, target):
    """value / target, as in 0.62x.

    >>> format_ratio(1.24, 2.0)
    '0.62x'
    """
    return f"{value / target:.2f}x"


def lesson_table(lessons, repeats):
    """Measure each lesson `repeats` times and print one row per lesson, in order; right
    after the last of TOTALLED, a line adds up those (the "all five" line), whatever
    other lessons `lessons` holds. A lesson that fails gets a row saying why.

    Returns the number of lessons that failed.
    """
    total, measured, failures = 0.0, 0, 0
    for script in lessons:
        try:
            seconds, peak = measure_lesson(ROOT / script, repeats)
        except RuntimeError as error:
            print(f"{script:<17}failed, {error}")
            failures += 1
        else:
            if script in TOTALLED:
                total += seconds
                measured += 1
            target = TIME_TARGETS.get(script)
            target_cells = f"{target:>7.0f} s{format_ratio(seconds, target):>15}" if target else f"{'-':>9}{'-':>15}"
            print(f"{script:<17}{seconds:>7.2f} s{peak / 1e6:>10.0f} MB{target_cells}")
        if script == TOTALLED[-1]:
            if measured == len(TOTALLED):
                print(f"{'all five':<17}{total:>7.2f} s{'':>13}{TOTAL_TARGET:>7.0f} s{format_ratio(total, TOTAL_TARGET):>15}")
            else:
                print(f"{f'{measured} of five':<17}{total:>7.2f} s  (the {TOTAL_TARGET:.0f} s target is for all five)")
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, metavar="N", help="runs of each lesson (default: 3)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    runs = "1 time" if args.repeats == 1 else f"{args.repeats} times"
    print(f"Each lesson runs {runs} in a fresh process; median wall time, largest peak memory.")
    print(f"This machine has {os.cpu_count()} CPU cores.")
    print()
    print(f"{'lesson':<17}{'median':>9}{'peak memory':>13}{'target':>9}{'time / target':>15}")
    failures = lesson_table(LESSONS, args.repeats)

    print()
    width, height = PHOTO_SIZE
    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "photo.jpg"
        make_photo(photo)
        try:
            seconds, peak = measure_lesson(ROOT / "3_image.py", args.repeats, ["--image", str(photo)])
        except RuntimeError as error:
            print(f"3_image.py on a 12-megapixel photo: failed, {error}")
            return 1
    print(f"3_image.py on a {width}x{height} photo ({width * height / 1e6:.0f} megapixels), run {runs}:")
    print(f"  median time   {seconds:6.2f} s   target ≤ {PHOTO_TIME_TARGET:.0f} s: {format_ratio(seconds, PHOTO_TIME_TARGET)}")
    print(
        f"  peak memory   {peak / 1e9:6.2f} GB  target ≤ {PHOTO_MEMORY_TARGET / 1e9:.1f} GB: "
        f"{format_ratio(peak, PHOTO_MEMORY_TARGET)}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
