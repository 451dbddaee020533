"""How long do the lessons take?

Runs each lesson script (every N_name.py at the top of the repository, in order) the
way a learner would: a fresh Python process, no display, figures written into a
temporary folder. Because the lessons that use TensorFlow spend much of their time
loading it, and machines differ in how fast they do, every time is also given as a
multiple of a bare `import tensorflow, keras` in a fresh process, measured in the same
run (after one untimed import, so that every round finds TensorFlow's files in the
disk cache). All commands run in turn, one round after another (three rounds by default);
the table gives the median wall time, its range, the largest peak memory and the
median of the per-round multiples of the import.

Then 3_image.py runs on a 12-megapixel photo (data/bird.jpg enlarged to 4000x3000,
with seeded fine grain added so that it has detail at every scale); its time is given
as a multiple of scipy.signal.convolve2d with a 3x3 kernel on a 2048x2048 float64
image, timed in this process after each run of the photo.

Targets: 5_cnn.py at most 2.0x the import; all lessons in order at most 8x the import;
3_image.py on the photo at most 35x that convolve2d, with a peak of at most 0.5 GB.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import signal

ROOT = Path(__file__).resolve().parent.parent
IMPORT_COMMAND = "import tensorflow, keras"
CNN_TARGET = ("5_cnn.py", 2.0)  # at most this many times the import
ALL_TARGET = 8.0  # all lessons in order, at most this many times the import
PHOTO_SIZE = (4000, 3000)
PHOTO_TIME_TARGET = 35.0  # at most this many times scipy.signal.convolve2d, 3x3, 2048x2048 float64
PHOTO_MEMORY_TARGET = 0.5e9
REFERENCE_SIDE = 2048
SEED = 2024


def lessons(root=ROOT):
    """The lesson scripts at `root`, in order: every file named like 0_1D.py.

    >>> lessons()[:2]
    ['0_1D.py', '1_2D.py']
    """
    return sorted(path.name for path in root.glob("[0-9]_*.py"))


def cpu_model():
    """The processor's model name, or the platform's word for it.

    >>> isinstance(cpu_model(), str)
    True
    """
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


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


def run_once(command, extra_args=()):
    """Run `command` once in a fresh process from a fresh temporary folder: a lesson
    script (a path, given a fresh --out folder there) or a line of Python (a string).

    Returns (seconds, peak bytes), or raises RuntimeError with the last line of stderr
    if it fails.
    """
    with tempfile.TemporaryDirectory() as folder:
        if isinstance(command, Path):
            argv = [sys.executable, str(command), "--out", str(Path(folder) / "figures"), *extra_args]
        else:
            argv = [sys.executable, "-c", command]
        run = measure(argv, cwd=folder)
    if run["returncode"] != 0:
        last_line = (run["stderr"].strip().splitlines() or ["(no message)"])[-1]
        raise RuntimeError(f"exit status {run['returncode']}: {last_line}")
    return run["seconds"], run["peak_bytes"]


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


def convolve2d_seconds(side=REFERENCE_SIDE, calls=5):
    """Median seconds of scipy.signal.convolve2d, 'same', of a seeded side x side float64
    image with a 3x3 kernel, over `calls` calls after a warm-up (timeit).

    >>> 0 < convolve2d_seconds(side=16, calls=3) < 1
    True
    """
    rng = np.random.default_rng(SEED)
    image, kernel = rng.random((side, side)), rng.random((3, 3))
    timer = timeit.Timer(lambda: signal.convolve2d(image, kernel, mode="same"))
    timer.timeit(1)
    return statistics.median(timer.repeat(repeat=calls, number=1))


def run_rounds(commands, rounds, reference=convolve2d_seconds):
    """Run every command of `commands`, {name: (command, extra args)}, in turn, `rounds`
    rounds (run_once), and time `reference` in this process at the end of each round.
    A command that fails is not run again.

    Returns ({name: [(seconds, peak bytes), one per round]}, [reference seconds, one
    per round], {name: error message}).
    """
    runs = {name: [] for name in commands}
    references, failed = [], {}
    for _ in range(rounds):
        for name, (command, extra_args) in commands.items():
            if name in failed:
                continue
            try:
                runs[name].append(run_once(command, extra_args))
            except RuntimeError as error:
                failed[name] = str(error)
        references.append(reference())
    return runs, references, failed


def ratio_range(values, bases):
    """The median of the per-round ratios values[r] / bases[r], their lowest and highest.

    >>> ratio_range([2.0, 3.0, 4.0], [1.0, 1.0, 2.0])
    (2.0, 2.0, 3.0)
    """
    ratios = [value / base for value, base in zip(values, bases)]
    return statistics.median(ratios), min(ratios), max(ratios)


def target_words(median, low, high, target):
    """The verdict on a target of at most `target`: met or missed (by how much), and
    whether the range of the rounds crosses it.

    >>> target_words(1.5, 1.4, 1.6, 2.0), target_words(3.0, 1.9, 3.1, 2.0)
    ('met', 'missed by 1.50x (the rounds range across the target)')
    """
    words = "met" if median <= target else f"missed by {median / target:.2f}x"
    if low <= target < high:
        words += " (the rounds range across the target)"
    return words


def print_table(scripts, runs, failed):
    """One row per command: median time, range, largest peak, multiple of the import;
    then the sum of all the lessons in order. Returns {name: (median, low, high) multiple}."""
    base = [seconds for seconds, _ in runs[IMPORT_COMMAND]]
    multiples = {}
    print(f"{'command':<28}{'median':>9}{'range':>17}{'peak memory':>13}   x import (range)")
    for name in [IMPORT_COMMAND, *scripts]:
        if name in failed:
            print(f"{name:<28}failed, {failed[name]}")
            continue
        seconds = [s for s, _ in runs[name]]
        peak = max(p for _, p in runs[name])
        median, low, high = ratio_range(seconds, base)
        multiples[name] = (median, low, high)
        span = f"{min(seconds):.2f}-{max(seconds):.2f} s"
        print(f"{name:<28}{statistics.median(seconds):>7.2f} s{span:>17}{peak / 1e6:>10.0f} MB   "
              f"{median:.2f}x ({low:.2f}-{high:.2f})")
    if all(name in multiples for name in scripts):
        totals = [sum(runs[name][r][0] for name in scripts) for r in range(len(base))]
        median, low, high = ratio_range(totals, base)
        multiples["all"] = (median, low, high)
        span = f"{min(totals):.2f}-{max(totals):.2f} s"
        print(f"{f'all {len(scripts)} lessons, in order':<28}{statistics.median(totals):>7.2f} s{span:>17}{'':>13}   "
              f"{median:.2f}x ({low:.2f}-{high:.2f})")
    return multiples


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, metavar="N", help="rounds of every command (default: 3)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    scripts = lessons()
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}")
    rounds = "1 round" if args.repeats == 1 else f"{args.repeats} rounds"
    print(f"Every command runs in a fresh process, all in turn, {rounds}; median wall time,")
    print("its range, largest peak memory, and the median (range) of the per-round multiples of")
    print(f"`{IMPORT_COMMAND}` alone, after one untimed import that brings TensorFlow into the disk cache.")
    print()
    width, height = PHOTO_SIZE
    photo_run = f"3_image.py, {width}x{height} photo"
    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "photo.jpg"
        make_photo(photo)
        commands = {IMPORT_COMMAND: (IMPORT_COMMAND, ())}
        commands.update({name: (ROOT / name, ()) for name in scripts})
        commands[photo_run] = (ROOT / "3_image.py", ("--image", str(photo)))
        run_once(IMPORT_COMMAND)  # untimed: reads TensorFlow from disk into the cache for every round alike
        runs, references, failed = run_rounds(commands, args.repeats)
    if IMPORT_COMMAND in failed:
        print(f"{IMPORT_COMMAND} failed, {failed[IMPORT_COMMAND]}")
        return 1
    multiples = print_table(scripts, runs, failed)

    print()
    verdicts = []
    if photo_run in failed:
        print(f"{photo_run}: failed, {failed[photo_run]}")
    else:
        seconds = [s for s, _ in runs[photo_run]]
        peak = max(p for _, p in runs[photo_run])
        photo_multiple = ratio_range(seconds, references)
        print(f"3_image.py on a {width}x{height} photo ({width * height / 1e6:.0f} megapixels):")
        print(f"  median time {statistics.median(seconds):.2f} s ({min(seconds):.2f}-{max(seconds):.2f} s), "
              f"peak memory {peak / 1e9:.2f} GB")
        print(f"  scipy.signal.convolve2d, 3x3, {REFERENCE_SIDE}x{REFERENCE_SIDE} float64, timed after each photo run: "
              f"{statistics.median(references) * 1e3:.0f} ms")
        print(f"  photo / convolve2d: {photo_multiple[0]:.0f}x ({photo_multiple[1]:.0f}-{photo_multiple[2]:.0f})")
        verdicts.append((f"3_image.py on the photo ≤ {PHOTO_TIME_TARGET:g}x convolve2d", f"{photo_multiple[0]:.0f}x",
                         target_words(*photo_multiple, PHOTO_TIME_TARGET)))
        verdicts.append((f"3_image.py on the photo, peak ≤ {PHOTO_MEMORY_TARGET / 1e9:g} GB", f"{peak / 1e9:.2f} GB",
                         target_words(peak, peak, peak, PHOTO_MEMORY_TARGET)))
    cnn, target = CNN_TARGET
    if cnn in multiples:
        verdicts.insert(0, (f"{cnn} ≤ {target:.1f}x the import", f"{multiples[cnn][0]:.2f}x",
                            target_words(*multiples[cnn], target)))
    if "all" in multiples:
        verdicts.insert(1, (f"all {len(scripts)} lessons ≤ {ALL_TARGET:g}x the import", f"{multiples['all'][0]:.2f}x",
                            target_words(*multiples["all"], ALL_TARGET)))
    print()
    print("Targets:")
    for name, value, words in verdicts:
        print(f"  {name:<42}{value:>9}  {words}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
