"""How fast is a convolution?

Times one 'same'-size 2-D convolution, float64 (float32 too where a method supports
it), with every method side by side in one process: a plain Python loop, the
lesson's own convolve2d and fft_convolve2d (1_2D.py), scipy.signal.convolve2d,
scipy.signal.fftconvolve, scipy.ndimage.convolve and tf.nn.conv2d.

A direct method does N²K² multiply-adds for an N×N image and a K×K kernel; the FFT
does about N² log N operations whatever the kernel. Two sweeps show it: the image
size (128 to 4096 a side) at a 3x3 and a 7x7 kernel, and the kernel size (3 to 31)
at a 512x512 image. Every time is the median of repeated calls after a warm-up and
is shown with its ratio to scipy.signal.convolve2d at the same point. The kernel at
which the FFT overtakes the direct method is found from the data and marked on the
plots (bench_image_size.png, bench_kernel_size.png).

Then two head-to-head checks on a 2048x2048 image, timed in alternation, and the
floor that memory bandwidth puts under any 3x3 convolution.

--quick runs a small grid (under a minute); the full run takes a few minutes.
"""

import argparse
import importlib
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from scipy import ndimage, signal

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import lessonkit  # noqa: E402

lesson_2d = importlib.import_module("1_2D")

SEED = 2024


def naive_convolve2d(image, kernel):
    """'same'-size 2-D convolution with plain Python loops, the reference the others
    are measured against: out[r, c] = sum over u, v of image[r + top - u, c + left - v]
    * kernel[u, v], with zeros outside the image, top = (Kr - 1) // 2, left = (Kc - 1) // 2.

    image: (H, W), kernel: (Kr, Kc) -> (H, W) float64.

    >>> naive_convolve2d(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.0, 1.0]]))
    array([[0., 1.],
           [0., 3.]])
    """
    rows, cols = image.shape
    kernel_rows, kernel_cols = kernel.shape
    top, left = (kernel_rows - 1) // 2, (kernel_cols - 1) // 2
    pixels = image.tolist()
    weights = kernel.tolist()
    out = [[0.0] * cols for _ in range(rows)]
    for r in range(rows):
        for c in range(cols):
            total = 0.0
            for u in range(kernel_rows):
                i = r + top - u
                if 0 <= i < rows:
                    for v in range(kernel_cols):
                        j = c + left - v
                        if 0 <= j < cols:
                            total += pixels[i][j] * weights[u][v]
            out[r][c] = total
    return np.array(out)


def ours_direct(image, kernel):
    """The lesson's vectorised convolve2d, 'same' size. image: (H, W), kernel: (K, K) -> (H, W).

    >>> float(ours_direct(np.ones((3, 3)), np.ones((3, 3)))[1, 1])
    9.0
    """
    return lesson_2d.convolve2d(image, kernel, mode="same")


def ours_fft(image, kernel):
    """The lesson's FFT convolution (convolution theorem), 'same' size.
    image: (H, W), kernel: (K, K) -> (H, W).

    >>> round(float(ours_fft(np.ones((3, 3)), np.ones((3, 3)))[1, 1]), 6)
    9.0
    """
    return lesson_2d.fft_convolve2d(image, kernel, mode="same")


def scipy_direct(image, kernel):
    """scipy.signal.convolve2d, 'same' size, zero fill. image: (H, W), kernel: (K, K) -> (H, W).

    >>> float(scipy_direct(np.ones((3, 3)), np.ones((3, 3)))[0, 0])
    4.0
    """
    return signal.convolve2d(image, kernel, mode="same")


def scipy_fft(image, kernel):
    """scipy.signal.fftconvolve, 'same' size. image: (H, W), kernel: (K, K) -> (H, W).

    >>> round(float(scipy_fft(np.ones((3, 3)), np.ones((3, 3)))[0, 0]), 6)
    4.0
    """
    return signal.fftconvolve(image, kernel, mode="same")


def ndimage_convolve(image, kernel):
    """scipy.ndimage.convolve with zeros outside the image (mode='constant'). ndimage
    only computes the 'same' size; for an odd kernel it matches convolve2d 'same'.
    image: (H, W), kernel: (K, K), K odd -> (H, W).

    >>> float(ndimage_convolve(np.ones((3, 3)), np.ones((3, 3)))[0, 0])
    4.0
    """
    return ndimage.convolve(image, kernel, mode="constant", cval=0.0)


def tf_conv2d(image, kernel):
    """tf.nn.conv2d as a convolution: TensorFlow cross-correlates, so the kernel is
    flipped first. The image becomes a batch of one single-channel picture (NHWC),
    the kernel one filter (HWIO), and SAME padding keeps the size; for an odd kernel
    this is convolve2d 'same'. The time includes the copies to and from TensorFlow.
    image: (H, W), kernel: (K, K), K odd -> (H, W), in the image's dtype.

    >>> float(tf_conv2d(np.ones((3, 3)), np.ones((3, 3)))[0, 0])
    4.0
    """
    with lessonkit.tensorflow_start_up_quiet():
        import tensorflow as tf  # imported on first use: it takes seconds to load

        tf.config.list_physical_devices("GPU")  # looks for a GPU now, while the notices are filtered

    batch = tf.constant(image[np.newaxis, :, :, np.newaxis])
    flipped = tf.constant(kernel[::-1, ::-1, np.newaxis, np.newaxis])
    feature_map = tf.nn.conv2d(batch, flipped, strides=1, padding="SAME")
    return feature_map.numpy()[0, :, :, 0]


@dataclass(frozen=True)
class Method:
    """One series in the tables and plots: a way to convolve, in one dtype."""

    name: str
    convolve: Callable
    dtype: type = np.float64
    direct: bool = True

    @property
    def label(self):
        return f"{self.name} f32" if self.dtype == np.float32 else self.name


REFERENCE = Method("scipy.signal.convolve2d", scipy_direct)
METHODS = [
    Method("plain Python loop", naive_convolve2d),
    Method("1_2D.convolve2d", ours_direct),
    Method("1_2D.convolve2d", ours_direct, np.float32),
    Method("1_2D.fft_convolve2d", ours_fft, direct=False),
    REFERENCE,
    Method("scipy.signal.convolve2d", scipy_direct, np.float32),
    Method("scipy.signal.fftconvolve", scipy_fft, direct=False),
    Method("scipy.signal.fftconvolve", scipy_fft, np.float32, direct=False),
    Method("scipy.ndimage.convolve", ndimage_convolve),
    Method("scipy.ndimage.convolve", ndimage_convolve, np.float32),
    Method("tf.nn.conv2d", tf_conv2d),
    Method("tf.nn.conv2d", tf_conv2d, np.float32),
]


@dataclass(frozen=True)
class Grid:
    """What to measure and how long to spend on it: the sizes of the two sweeps, the
    image side for the two targets, the seconds to spend timing each point, the most
    one call of a direct method may be expected to take before it is skipped, the
    repeats of each target check and the size of the array copied to measure
    memory bandwidth."""

    image_sizes: tuple
    image_sweep_kernels: tuple
    kernel_sizes: tuple
    kernel_sweep_image: int
    target_image: int
    seconds_per_point: float
    call_budget: float
    target_repeats: int
    bandwidth_bytes: int


FULL = Grid(
    image_sizes=(128, 256, 512, 1024, 2048, 4096),
    image_sweep_kernels=(3, 7),
    kernel_sizes=(3, 5, 7, 11, 15, 21, 31),
    kernel_sweep_image=512,
    target_image=2048,
    seconds_per_point=0.5,
    call_budget=1.0,
    target_repeats=11,
    bandwidth_bytes=2**27,
)
QUICK = Grid(
    image_sizes=(128, 256, 512, 1024),
    image_sweep_kernels=(3, 7),
    kernel_sizes=(3, 7, 15, 31),
    kernel_sweep_image=256,
    target_image=2048,
    seconds_per_point=0.2,
    call_budget=0.25,
    target_repeats=5,
    bandwidth_bytes=2**26,
)
SMOKE = Grid(
    image_sizes=(16, 32),
    image_sweep_kernels=(3,),
    kernel_sizes=(3, 5, 7),
    kernel_sweep_image=32,
    target_image=64,
    seconds_per_point=0.005,
    call_budget=0.05,
    target_repeats=3,
    bandwidth_bytes=2**20,
)

TARGETS = [
    ("1_2D.convolve2d", ours_direct, "scipy.signal.convolve2d", scipy_direct, 3, 0.8),
    ("1_2D.fft_convolve2d", ours_fft, "scipy.signal.fftconvolve", scipy_fft, 15, 1.3),
]


def make_inputs(size, kernel_size, dtype=np.float64):
    """A seeded random image and kernel, the same for every method at one point.

    size: N, kernel_size: K -> image (N, N), kernel (K, K), values in [0, 1).

    >>> image, kernel = make_inputs(4, 3)
    >>> image.shape, kernel.shape, image.dtype
    ((4, 4), (3, 3), dtype('float64'))
    """
    rng = np.random.default_rng([SEED, size, kernel_size])
    return rng.random((size, size)).astype(dtype), rng.random((kernel_size, kernel_size)).astype(dtype)


def median_time(function, args, seconds, min_repeats=3, max_repeats=100):
    """Median seconds of one call of function(*args): one warm-up call, then as many
    repeats as fit in about `seconds` (at least min_repeats).

    >>> median_time(sum, ([1, 2],), seconds=0.001) < 1
    True
    """
    start = time.perf_counter()
    function(*args)
    warm_up = time.perf_counter() - start
    repeats = int(min(max(seconds / max(warm_up, 1e-9), min_repeats), max_repeats))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_times(first, second, args, repeats):
    """Median seconds of one call of each of two functions on the same arguments,
    timed in alternation (first then second, then second then first, ...) after a
    warm-up of each, so that a busy moment on the machine hits both alike.

    >>> len(interleaved_times(sum, min, ([1, 2],), repeats=3))
    2
    """
    first(*args)
    second(*args)
    times = {first: [], second: []}
    for repeat in range(repeats):
        order = (first, second) if repeat % 2 == 0 else (second, first)
        for function in order:
            start = time.perf_counter()
            function(*args)
            times[function].append(time.perf_counter() - start)
    return statistics.median(times[first]), statistics.median(times[second])


def sweep(points, grid, rates):
    """Time every method at every (image size N, kernel size K) in `points`.

    A direct method whose estimated time for one call, N²K² / (its rate of
    multiply-adds per second at the last point it ran), is over grid.call_budget is
    skipped there; the reference never is. `rates` carries those rates from one
    sweep to the next.

    points: list of (N, K) -> {label: list of median seconds, None where skipped}.
    """
    times = {method.label: [] for method in METHODS}
    for size, kernel_size in points:
        work = size**2 * kernel_size**2
        for method in METHODS:
            rate = rates.get(method.label)
            if method.direct and method is not REFERENCE and rate and work / rate > grid.call_budget:
                times[method.label].append(None)
                continue
            image, kernel = make_inputs(size, kernel_size, method.dtype)
            seconds = median_time(method.convolve, (image, kernel), grid.seconds_per_point)
            times[method.label].append(seconds)
            if method.direct:
                rates[method.label] = work / seconds
    return times


def calibrate(rates):
    """Seed `rates` (multiply-adds per second) for the direct methods from one small
    call each, so that the first point of a sweep can already be skipped."""
    size, kernel_size = 32, 3
    for method in METHODS:
        if method.direct:
            image, kernel = make_inputs(size, kernel_size, method.dtype)
            seconds = median_time(method.convolve, (image, kernel), 0.01)
            rates[method.label] = size**2 * kernel_size**2 / seconds


def crossover(sizes, direct_times, fft_times):
    """The smallest size from which the FFT method is faster than the direct one at
    that size and at every larger measured size; None if it never is. A direct
    time of None (skipped as too slow) counts as slower than the FFT.

    sizes: (P,) increasing, direct_times: (P,), fft_times: (P,) -> a size or None.

    >>> crossover([3, 5, 7, 11], [1.0, 2.0, 4.0, None], [3.0, 2.5, 3.0, 3.0])
    7
    """
    found = None
    for size, direct_seconds, fft_seconds in zip(sizes, direct_times, fft_times):
        if direct_seconds is None or fft_seconds < direct_seconds:
            found = size if found is None else found
        else:
            found = None
    return found


def copy_bandwidth(n_bytes, repeats=9):
    """Bytes per second that np.copyto moves (each byte read once and written once)
    on a float64 array of n_bytes, median of `repeats` copies after a warm-up.

    >>> copy_bandwidth(2**20) > 0
    True
    """
    source = np.ones(n_bytes // 8)
    target = np.empty_like(source)
    seconds = median_time(np.copyto, (target, source), 0.0, min_repeats=repeats)
    return 2 * source.nbytes / seconds


def format_seconds(seconds):
    """A time in readable units.

    >>> format_seconds(0.01234), format_seconds(0.0000456), format_seconds(2.5)
    ('12.3 ms', '45.6 µs', '2.50 s')
    """
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.2f} s"


def format_ratio(ratio):
    """A ratio of two times, as in 0.71x.

    >>> format_ratio(0.714), format_ratio(45.2)
    ('0.71x', '45x')
    """
    return f"{ratio:.2f}x" if ratio < 10 else f"{ratio:.0f}x"


def format_cell(seconds, reference_seconds, as_ratio):
    """One table cell: a median time, or its ratio to the reference; "slow" if skipped.

    >>> format_cell(0.05, 0.1, as_ratio=True), format_cell(None, 0.1, as_ratio=False)
    ('0.50x', 'slow')
    """
    if seconds is None:
        return "slow"
    return format_ratio(seconds / reference_seconds) if as_ratio else format_seconds(seconds)


def print_table(columns, times, call_budget):
    """Print two tables, methods down and sweep points across: the median time of one
    call, then its ratio to scipy.signal.convolve2d float64 at the same point."""
    width = max(len(label) for label in times) + 2
    reference = times[REFERENCE.label]
    header = "".join(f"{column:>11}" for column in columns)
    for title, as_ratio in (("median time of one call", False), ("time / scipy.signal.convolve2d", True)):
        print(f"{title:<{width}}{header}")
        for label, row in times.items():
            cells = [format_cell(seconds, ref, as_ratio) for seconds, ref in zip(row, reference)]
            print(f"{label:<{width}}" + "".join(f"{cell:>11}" for cell in cells))
        print()
    if any(seconds is None for row in times.values() for seconds in row):
        print("slow: skipped (slow), a direct method whose N²K² cost was estimated at over")
        print(f"{format_seconds(call_budget)} for one call, from its speed at the points it ran.")


def plot_image_sweeps(grid, image_times):
    """Log-log plot of time against image size, one panel per kernel size, one line
    per method (float32 dashed). Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(image_times), figsize=(6.5 * len(image_times) + 3, 5.5), sharey=True)
    axes = np.atleast_1d(axes)
    for axis, (kernel_size, times) in zip(axes, image_times.items()):
        draw_lines(axis, grid.image_sizes, times)
        axis.set_xlabel("image side N (pixels; the image is N×N)")
        axis.set_title(f"{kernel_size}x{kernel_size} kernel")
        axis.set_xticks(grid.image_sizes, [str(size) for size in grid.image_sizes])
    axes[0].set_ylabel("median time of one 'same' convolution (s)")
    axes[-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9)
    figure.suptitle("Time grows with the number of pixels, N²: slope 2 on this log-log plot")
    figure.tight_layout()
    return figure


def plot_kernel_sweep(grid, times, crossovers):
    """Log-log plot of time against kernel size at one image size, one line per
    method (float32 dashed), with a dotted line where each FFT method overtakes its
    direct counterpart. Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(10, 6))
    draw_lines(axis, grid.kernel_sizes, times)
    for (name, kernel_size), colour in zip(crossovers.items(), ("black", "dimgrey")):
        if kernel_size is not None:
            axis.axvline(kernel_size, color=colour, linestyle=":", linewidth=1.5)
            axis.annotate(
                f"{name}: FFT faster from {kernel_size}x{kernel_size}",
                xy=(kernel_size, 0.97),
                xycoords=("data", "axes fraction"),
                xytext=(4 if kernel_size == grid.kernel_sizes[0] else -4, 0),
                textcoords="offset points",
                rotation=90,
                ha="left" if kernel_size == grid.kernel_sizes[0] else "right",
                va="top",
                fontsize=9,
            )
    axis.set_xticks(grid.kernel_sizes, [str(size) for size in grid.kernel_sizes])
    axis.set_xlabel("kernel side K (the kernel is K×K)")
    axis.set_ylabel("median time of one 'same' convolution (s)")
    side = grid.kernel_sweep_image
    axis.set_title(
        f"{side}x{side} image: direct methods grow as K², FFT methods hardly change with K"
    )
    axis.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=9)
    figure.tight_layout()
    return figure


def draw_lines(axis, sizes, times):
    """Draw one log-log line per method on `axis`; skipped points are left out."""
    names = list(dict.fromkeys(method.name for method in METHODS))
    for method in METHODS:
        points = [(size, seconds) for size, seconds in zip(sizes, times[method.label]) if seconds is not None]
        if points:
            xs, ys = zip(*points)
            axis.plot(
                xs,
                ys,
                color=f"C{names.index(method.name)}",
                linestyle="--" if method.dtype == np.float32 else "-",
                marker="o",
                markersize=4,
                label=method.label,
            )
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.minorticks_off()
    axis.grid(True, which="major", alpha=0.3)


def check_targets(grid):
    """Time each pair in TARGETS on a grid.target_image square float64 image, the two
    methods in alternation, and print their medians, ratio and verdict.

    Returns {kernel size: (our median seconds, SciPy's median seconds)}.
    """
    side = grid.target_image
    lessonkit.heading(f"Targets on a {side}x{side} float64 image, 'same'")
    print("The two methods alternate in each repeat, so both see the same load on the machine.")
    results = {}
    for ours_name, ours, theirs_name, theirs, kernel_size, target in TARGETS:
        image, kernel = make_inputs(side, kernel_size)
        ours_seconds, theirs_seconds = interleaved_times(ours, theirs, (image, kernel), grid.target_repeats)
        ratio = ours_seconds / theirs_seconds
        if side == FULL.target_image:
            verdict = "met" if ratio <= target else "NOT met"
        else:
            verdict = f"not judged, it is for {FULL.target_image}x{FULL.target_image}"
        print(f"{kernel_size}x{kernel_size} kernel, median of {grid.target_repeats} runs each:")
        print(f"  {ours_name:<24} {format_seconds(ours_seconds):>9}")
        print(f"  {theirs_name:<24} {format_seconds(theirs_seconds):>9}")
        print(f"  ours / SciPy: {format_ratio(ratio)} (target ≤ {target}x: {verdict})")
        results[kernel_size] = (ours_seconds, theirs_seconds)
    return results


def print_memory_floor(grid, ours_seconds, theirs_seconds):
    """Print the least time memory bandwidth allows for a 3x3 float64 convolution of
    a grid.target_image square image, next to the two direct methods' medians."""
    side = grid.target_image
    lessonkit.heading("The memory-bandwidth floor")
    moved = 2 * side * side * 8
    bandwidth = copy_bandwidth(grid.bandwidth_bytes)
    floor = moved / bandwidth
    print(f"A 3x3 convolution of a {side}x{side} float64 image must at least read the image")
    print(f"and write the result: 2 x {side}² x 8 bytes = {moved / 1e6:.1f} MB ({moved / 2**20:g} MiB).")
    print(f"np.copyto moves {bandwidth / 1e9:.1f} GB/s here (read + write, median), so no 3x3")
    print(f"convolution can take less than {format_seconds(floor)}.")
    for name, seconds in (("1_2D.convolve2d", ours_seconds), ("scipy.signal.convolve2d", theirs_seconds)):
        print(f"  {name:<24} {format_seconds(seconds):>9}  ({format_ratio(seconds / floor)} the floor)")
    if min(ours_seconds, theirs_seconds) < 2 * floor:
        print("Within 2x of the floor: a 3x3 convolution is limited by memory, not arithmetic.")
    else:
        print("Both are far above the floor: their time goes into more than one read and one write")
        print("of each pixel (repeated passes over memory, arithmetic, loop overhead), so a")
        print("tighter implementation could still get closer to it.")


@lessonkit.lesson_main
def main(argv=None):
    args = lessonkit.parse_args(
        __doc__,
        argv,
        flags={"--quick": "a small grid that runs in under a minute", "--smoke": argparse.SUPPRESS},
    )
    grid = SMOKE if args.smoke else QUICK if args.quick else FULL
    figures = lessonkit.Figures(args)

    lessonkit.heading("How fast is a convolution?")
    print("One 'same'-size 2-D convolution of a random image, float64 unless marked f32.")
    print("Each time is the median of repeated calls after a warm-up; ratios are")
    print("time / scipy.signal.convolve2d float64 at the same point, so below 1x is faster.")
    print(f"This machine has {os.cpu_count()} CPU cores: NumPy's FFT and SciPy use one,")
    print("tf.nn.conv2d may use all of them.")

    rates = {}
    calibrate(rates)
    image_times = {}
    for kernel_size in grid.image_sweep_kernels:
        lessonkit.heading(f"Image size sweep, {kernel_size}x{kernel_size} kernel")
        times = sweep([(size, kernel_size) for size in grid.image_sizes], grid, rates)
        print_table([f"{size}x{size}" for size in grid.image_sizes], times, grid.call_budget)
        image_times[kernel_size] = times

    side = grid.kernel_sweep_image
    lessonkit.heading(f"Kernel size sweep, {side}x{side} image")
    kernel_times = sweep([(side, kernel_size) for kernel_size in grid.kernel_sizes], grid, rates)
    print_table([f"{size}x{size}" for size in grid.kernel_sizes], kernel_times, grid.call_budget)

    lessonkit.heading("Where the FFT overtakes the direct method")
    print("Direct work grows as K², the FFT's hardly at all, so past some kernel size the FFT wins.")
    pairs = {
        "scipy": ("scipy.signal.convolve2d", "scipy.signal.fftconvolve"),
        "1_2D": ("1_2D.convolve2d", "1_2D.fft_convolve2d"),
    }
    crossovers = {}
    for name, (direct, fft) in pairs.items():
        kernel_size = crossover(grid.kernel_sizes, kernel_times[direct], kernel_times[fft])
        crossovers[name] = kernel_size
        where = f"from a {kernel_size}x{kernel_size} kernel up" if kernel_size else "at no measured kernel size"
        print(f"{side}x{side} image: {fft} beats {direct} {where}")
    for kernel_size, times in image_times.items():
        direct, fft = times["scipy.signal.convolve2d"], times["scipy.signal.fftconvolve"]
        faster = [f"{n}x{n}" for n, d, f in zip(grid.image_sizes, direct, fft) if d is None or f < d]
        where = "at " + ", ".join(faster) if faster else "at no measured image size"
        print(f"{kernel_size}x{kernel_size} kernel: scipy.signal.fftconvolve is faster than scipy.signal.convolve2d {where}")

    target_times = check_targets(grid)
    print_memory_floor(grid, *target_times[3])

    figures.add("bench_image_size", plot_image_sweeps(grid, image_times))
    figures.add("bench_kernel_size", plot_kernel_sweep(grid, kernel_times, crossovers))
    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
