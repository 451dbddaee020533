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

Then two head-to-head checks on a 2048x2048 image, timed in alternation, the floor
that memory bandwidth puts under any 3x3 convolution, and why float32 is faster.

Two more questions from 6_layer.py: a whole convolution layer with several channels
and filters (im2col and one matrix multiply, against a loop of per-channel 2-D
correlations and tf.nn.conv2d), and separable kernels (a Gaussian as two 1-D passes,
against the 2-D direct method and the FFT, and where the FFT crossover moves).

--quick runs a small grid (under a minute); the full run takes a few minutes.
"""

import argparse
import functools
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


@functools.cache
def tensorflow():
    """The tensorflow module, imported on first use (it takes seconds to load) with its
    start-up notices filtered."""
    with lessonkit.tensorflow_start_up_quiet():
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")  # looks for a GPU now, while the notices are filtered
    return tf


def tf_conv2d(image, kernel):
    """tf.nn.conv2d as a convolution: TensorFlow cross-correlates, so the kernel is
    flipped first. The image becomes a batch of one single-channel picture (NHWC),
    the kernel one filter (HWIO), and SAME padding keeps the size; for an odd kernel
    this is convolve2d 'same'. The time includes the copies to and from TensorFlow.
    image: (H, W), kernel: (K, K), K odd -> (H, W), in the image's dtype.

    >>> float(tf_conv2d(np.ones((3, 3)), np.ones((3, 3)))[0, 0])
    4.0
    """
    tf = tensorflow()
    batch = tf.constant(image[np.newaxis, :, :, np.newaxis])
    flipped = tf.constant(kernel[::-1, ::-1, np.newaxis, np.newaxis])
    feature_map = tf.nn.conv2d(batch, flipped, strides=1, padding="SAME")
    return feature_map.numpy()[0, :, :, 0]


@functools.cache
def layer_lesson():
    """The module 6_layer.py, imported on first use (it loads TensorFlow)."""
    return importlib.import_module("6_layer")


def ours_separable(image, kernel):
    """The lesson's separable path (6_layer.py), 'same' size: the kernel's two 1-D factors
    from the SVD, then a pass of 1_2D.convolve2d with each. The kernel must be of rank 1.
    image: (H, W), kernel: (K, K) -> (H, W).

    >>> float(ours_separable(np.ones((3, 3)), np.ones((3, 3)))[1, 1])
    9.0
    """
    column, row = layer_lesson().separable_factors(kernel)
    return layer_lesson().separable_convolve2d(image, column, row, "same")


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


SEPARABLE_METHODS = [
    # not `direct`: its cost grows as 2K, so the K² estimate that skips slow points does not apply
    Method("6_layer separable, two 1-D passes", ours_separable, direct=False),
    Method("1_2D.convolve2d", ours_direct),
    Method("1_2D.fft_convolve2d", ours_fft, direct=False),
    Method("scipy.signal.fftconvolve", scipy_fft, direct=False),
]
SEPARABLE_REFERENCE = SEPARABLE_METHODS[-1]
REFERENCE = Method("scipy.signal.convolve2d", scipy_direct)


def im2col_layer(images, filters):
    """A 'valid' convolution layer as 6_layer.py computes it: im2col and one matrix
    multiply. images: (N, H, W, C), filters: (K, K, C, F) -> (N, H - K + 1, W - K + 1, F).

    >>> im2col_layer(np.ones((1, 3, 3, 2)), np.ones((3, 3, 2, 1))).ravel()
    array([18.])
    """
    return layer_lesson().conv2d_im2col(images, filters)


def loop_layer(images, filters):
    """The same layer as a loop of 2-D cross-correlations, one per image, input channel
    and filter (1_2D.correlate2d, 'valid'), summed over the input channels.
    images: (N, H, W, C), filters: (K, K, C, F) -> (N, H - K + 1, W - K + 1, F).

    >>> loop_layer(np.ones((1, 3, 3, 2)), np.ones((3, 3, 2, 1))).ravel()
    array([18.])
    """
    count, height, width, channels = images.shape
    k_h, k_w, _, filter_count = filters.shape
    out = np.zeros((count, height - k_h + 1, width - k_w + 1, filter_count), dtype=images.dtype)
    for n in range(count):
        for f in range(filter_count):
            for c in range(channels):
                out[n, :, :, f] += lesson_2d.correlate2d(images[n, :, :, c], filters[:, :, c, f], "valid")
    return out


def tf_layer(images, filters):
    """The same layer with tf.nn.conv2d, VALID, the time including the copies to and
    from TensorFlow. images: (N, H, W, C), filters: (K, K, C, F) -> (N, H - K + 1, W - K + 1, F).

    >>> tf_layer(np.ones((1, 3, 3, 2)), np.ones((3, 3, 2, 1))).ravel()
    array([18.])
    """
    return tensorflow().nn.conv2d(images, filters, strides=1, padding="VALID").numpy()


LAYER_METHODS = [
    Method("im2col + one matrix multiply (6_layer)", im2col_layer),
    Method("im2col + one matrix multiply (6_layer)", im2col_layer, np.float32),
    Method("loop of 1_2D.correlate2d per channel", loop_layer),
    Method("tf.nn.conv2d", tf_layer),
    Method("tf.nn.conv2d", tf_layer, np.float32),
]
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
    repeats of each target check, the size of the array copied to measure
    memory bandwidth, the convolution layer timed (image side, input channels,
    filters, kernel side) and the image side of the separable-kernel sweep."""

    image_sizes: tuple
    image_sweep_kernels: tuple
    kernel_sizes: tuple
    kernel_sweep_image: int
    target_image: int
    seconds_per_point: float
    call_budget: float
    target_repeats: int
    bandwidth_bytes: int
    layer: tuple = (64, 16, 32, 3)
    separable_image: int = 2048


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
    layer=(64, 16, 32, 3),
    separable_image=2048,
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
    layer=(64, 16, 32, 3),
    separable_image=512,
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
    layer=(16, 4, 8, 3),
    separable_image=32,
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


def gaussian_kernel(kernel_size):
    """A K×K Gaussian kernel, sigma = K / 6 (so that it fades to about 1% at its edge),
    summing to 1: the outer product of a 1-D Gaussian with itself, so of rank 1.

    kernel_size: K -> (K, K).

    >>> kernel = gaussian_kernel(5)
    >>> kernel.shape, round(float(kernel.sum()), 12), np.linalg.matrix_rank(kernel)
    ((5, 5), 1.0, np.int64(1))
    """
    offsets = np.arange(kernel_size) - (kernel_size - 1) / 2
    line = np.exp(-0.5 * (offsets / (kernel_size / 6)) ** 2)
    line /= line.sum()
    return np.outer(line, line)


def make_gaussian_inputs(size, kernel_size, dtype=np.float64):
    """The seeded random image of make_inputs with a Gaussian kernel instead.

    size: N, kernel_size: K -> image (N, N), kernel (K, K).

    >>> [array.shape for array in make_gaussian_inputs(8, 3)]
    [(8, 8), (3, 3)]
    """
    image, _ = make_inputs(size, kernel_size, dtype)
    return image, gaussian_kernel(kernel_size).astype(dtype)


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


def round_robin_times(calls, rounds):
    """Median seconds of each call in `calls`, a list of (function, args), timed in
    turn, one call each per round, for `rounds` rounds after a warm-up of each, so that a
    busy moment on the machine hits all of them alike.

    >>> len(round_robin_times([(sum, ([1],)), (min, ([1],))], rounds=3))
    2
    """
    for function, args in calls:
        function(*args)
    times = [[] for _ in calls]
    for _ in range(rounds):
        for (function, args), series in zip(calls, times):
            start = time.perf_counter()
            function(*args)
            series.append(time.perf_counter() - start)
    return [statistics.median(series) for series in times]


def sweep(points, grid, rates, methods=None, reference=REFERENCE, inputs=make_inputs, rounds=None):
    """Time every method of `methods` (default METHODS) at every (image size N, kernel
    size K) in `points`, on inputs(N, K, dtype): each method on its own for about
    grid.seconds_per_point, or, if `rounds` is given, all of them in turn for that many
    rounds (round_robin_times), which is fairer on a busy machine.

    A direct method whose estimated time for one call, N²K² / (its rate of
    multiply-adds per second at the last point it ran), is over grid.call_budget is
    skipped there; the `reference` never is. `rates` carries those rates from one
    sweep to the next.

    points: list of (N, K) -> {label: list of median seconds, None where skipped}.
    """
    methods = METHODS if methods is None else methods
    times = {method.label: [] for method in methods}
    for size, kernel_size in points:
        work = size**2 * kernel_size**2
        timed = []
        for method in methods:
            rate = rates.get(method.label)
            if method.direct and method is not reference and rate and work / rate > grid.call_budget:
                continue
            timed.append((method, (method.convolve, inputs(size, kernel_size, method.dtype))))
        if rounds:
            medians = round_robin_times([call for _, call in timed], rounds)
        else:
            medians = [median_time(function, args, grid.seconds_per_point) for _, (function, args) in timed]
        measured = {method.label: seconds for (method, _), seconds in zip(timed, medians)}
        for method in methods:
            times[method.label].append(measured.get(method.label))
            if method.direct and method.label in measured:
                rates[method.label] = work / measured[method.label]
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


def print_table(columns, times, call_budget, reference=REFERENCE.label):
    """Print two tables, methods down and sweep points across: the median time of one
    call, then its ratio to the `reference` method (label) at the same point."""
    width = max(len(label) for label in times) + 2
    header = "".join(f"{column:>11}" for column in columns)
    width = max(width, len(f"time / {reference}") + 2)
    for title, as_ratio in (("median time of one call", False), (f"time / {reference}", True)):
        reference_times = times[reference]
        print(f"{title:<{width}}{header}")
        for label, row in times.items():
            cells = [format_cell(seconds, ref, as_ratio) for seconds, ref in zip(row, reference_times)]
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


def draw_lines(axis, sizes, times, methods=None):
    """Draw one log-log line per method of `methods` (default METHODS) on `axis`;
    skipped points are left out."""
    methods = METHODS if methods is None else methods
    names = list(dict.fromkeys(method.name for method in methods))
    for method in methods:
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


def plot_separable_sweep(grid, times, crossovers):
    """Log-log plot of time against the size of a Gaussian kernel, the separable path
    beside the 2-D direct and FFT methods, with a dotted line where the FFT overtakes
    each direct method. Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(10, 6))
    draw_lines(axis, grid.kernel_sizes, times, SEPARABLE_METHODS)
    for (name, kernel_size), colour in zip(crossovers.items(), ("black", "dimgrey")):
        if kernel_size is not None:
            axis.axvline(kernel_size, color=colour, linestyle=":", linewidth=1.5)
            axis.annotate(f"FFT faster than {name} from {kernel_size}x{kernel_size}", xy=(kernel_size, 0.03),
                          xycoords=("data", "axes fraction"), xytext=(-4, 0), textcoords="offset points",
                          rotation=90, ha="right", va="bottom", fontsize=9)
    axis.set_xticks(grid.kernel_sizes, [str(size) for size in grid.kernel_sizes])
    axis.set_xlabel("Gaussian kernel side K (the kernel is K×K)")
    axis.set_ylabel("median time of one 'same' convolution (s)")
    side = grid.separable_image
    axis.set_title(f"{side}x{side} image, Gaussian kernel: two 1-D passes grow as 2K, the 2-D direct method as K²")
    axis.legend(loc="upper left", fontsize=9)
    figure.tight_layout()
    return figure


def fastest_direct(times, labels):
    """At each sweep point, the median time of the fastest of the direct methods named
    in `labels`, and its label. times: {label: (P,) seconds or None} -> ((P,), (P,)).

    >>> fastest_direct({"a": [1.0, None], "b": [2.0, 3.0]}, ["a", "b"])
    ([1.0, 3.0], ['a', 'b'])
    """
    best, names = [], []
    for point in zip(*(times[label] for label in labels)):
        seconds, label = min((s, label) for s, label in zip(point, labels) if s is not None)
        best.append(seconds)
        names.append(label)
    return best, names


def runs_of_names(sizes, names):
    """Group consecutive sweep points with the same name: [(first size, last size, name)].

    >>> runs_of_names([3, 5, 7], ["a", "a", "b"])
    [(3, 5, 'a'), (7, 7, 'b')]
    """
    runs = []
    for size, name in zip(sizes, names):
        if runs and runs[-1][2] == name:
            runs[-1] = (runs[-1][0], size, name)
        else:
            runs.append((size, size, name))
    return runs


def target_verdict(side, met):
    """'met' or 'NOT met' for a target measured on a side x side image; a target is set
    for the full grid's image size only, so at any other size it is not judged.

    >>> target_verdict(FULL.target_image, True), target_verdict(FULL.target_image, False)
    ('met', 'NOT met')
    """
    if side != FULL.target_image:
        return f"not judged, it is for {FULL.target_image}x{FULL.target_image}"
    return "met" if met else "NOT met"


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
        verdict = target_verdict(side, ratio <= target)
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


def vector_width():
    """The widest SIMD vector instructions NumPy uses on this CPU, in bits, and their name
    (None, None if it cannot tell).

    >>> vector_width()[0] in (None, 128, 256, 512)
    True
    """
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:
        return None, None
    for bits, name, flag in ((512, "AVX-512", "AVX512F"), (256, "AVX2", "AVX2"), (128, "NEON", "ASIMD"),
                             (128, "SSE2", "SSE2")):
        if features.get(flag):
            return bits, name
    return None, None


def multiply_add_in_cache(values, dtype, seconds):
    """Median seconds per value of out += 0.5 * image, the step of 1_2D.convolve2d,
    done in place (a multiply into a scratch array, then an add) on arrays of `values`
    numbers of `dtype`, small enough to stay in the processor's cache.

    >>> multiply_add_in_cache(1024, np.float32, 0.001) > 0
    True
    """
    image = np.random.default_rng(SEED).random(values).astype(dtype)
    out = np.zeros(values, dtype=dtype)
    scratch = np.empty(values, dtype=dtype)

    def step(out, image):
        np.multiply(image, 0.5, out=scratch)
        np.add(out, scratch, out=out)

    return median_time(step, (out, image), seconds, min_repeats=50, max_repeats=20000) / values


def print_why_float32_is_faster(grid):
    """Print the time of one multiply-add per value, float64 and float32, with the data
    in cache, where memory bandwidth is no limit: float32 gains from wider SIMD lanes."""
    lessonkit.heading("Why float32 is faster")
    values = 16384
    per_value = {dtype: multiply_add_in_cache(values, dtype, 2 * grid.seconds_per_point)
                 for dtype in (np.float64, np.float32)}
    print(f"out += 0.5 * image, in place, on {values:,} values: 128 KiB in float64, small enough")
    print("to stay in the processor's cache, so memory bandwidth is no limit here.")
    for dtype, seconds in per_value.items():
        print(f"  {np.dtype(dtype).name:<8} {seconds * 1e9:.3f} ns per value")
    ratio = per_value[np.float32] / per_value[np.float64]
    print(f"  float32 / float64: {format_ratio(ratio)}")
    bits, name = vector_width()
    if bits:
        print(f"NumPy uses {name} here: one vector instruction works on {bits // 64} float64 or {bits // 32} float32 values.")
    if ratio < 0.8:
        print("float32 is faster even with no memory traffic to save: the likely cause is that one")
        print("vector (SIMD) instruction holds twice as many float32 values as float64 ones.")
    else:
        print("Here float32 gains little in cache: the time goes into something other than the arithmetic.")


def layer_inputs(side, channels, count, kernel_size, dtype=np.float64):
    """A seeded batch of one random image and random filters for the layer timing.

    -> images (1, side, side, channels), filters (kernel_size, kernel_size, channels, count).

    >>> [array.shape for array in layer_inputs(8, 2, 3, 3)]
    [(1, 8, 8, 2), (3, 3, 2, 3)]
    """
    rng = np.random.default_rng([SEED, side, channels, count, kernel_size])
    images = rng.standard_normal((1, side, side, channels)).astype(dtype)
    filters = rng.standard_normal((kernel_size, kernel_size, channels, count)).astype(dtype)
    return images, filters


def time_layer(grid):
    """Time one convolution layer, grid.layer = (side, input channels, filters, kernel
    side), 'valid', with every method of LAYER_METHODS, and print the medians and their
    ratios to im2col float64, all timed in turn (round_robin_times); check first that
    all of them agree."""
    side, channels, count, kernel_size = grid.layer
    lessonkit.heading(f"A convolution layer: {side}x{side}, {channels} channels in, {count} filters, "
                      f"{kernel_size}x{kernel_size}")
    out = side - kernel_size + 1
    print(f"One image, VALID: {out}² x {kernel_size}² x {channels} x {count} = "
          f"{out * out * kernel_size**2 * channels * count:,} multiply-adds.")
    calls, reference = [], None
    for method in LAYER_METHODS:
        images, filters = layer_inputs(side, channels, count, kernel_size, method.dtype)
        result = method.convolve(images, filters).astype(np.float64)
        if reference is None:
            reference = result
        tolerance = 1e-9 if method.dtype == np.float64 else 1e-3
        if not np.allclose(result, reference, rtol=tolerance, atol=tolerance):
            raise AssertionError(f"{method.label} computes a different layer")
        calls.append((method.convolve, (images, filters)))
    print(f"All {len(calls)} compute the same layer: True")
    rounds = 2 * grid.target_repeats + 1
    times = round_robin_times(calls, rounds)
    width = max(len(method.label) for method in LAYER_METHODS) + 2
    print(f"Median of {rounds} rounds; in each round every method runs once, in turn.")
    print(f"{'':<{width}}{'median':>10}  time / im2col")
    for method, seconds in zip(LAYER_METHODS, times):
        print(f"{method.label:<{width}}{format_seconds(seconds):>10}  {format_ratio(seconds / times[0]):>8}")
    return dict(zip((method.label for method in LAYER_METHODS), times))


def separable_sweep(grid, rates):
    """Time a Gaussian kernel of every grid.kernel_sizes on a grid.separable_image square
    image with SEPARABLE_METHODS, print the tables and where the FFT overtakes the 2-D
    direct method and the separable path. Returns (times, crossovers)."""
    side = grid.separable_image
    lessonkit.heading(f"Separable kernels: a Gaussian on a {side}x{side} image")
    print("A K×K Gaussian is the outer product of two 1-D Gaussians of K taps: two 1-D passes")
    print("cost 2K multiply-adds per pixel instead of K².")
    points = [(side, kernel_size) for kernel_size in grid.kernel_sizes]
    rounds = grid.target_repeats
    print(f"Median of {rounds} rounds at each size; in each round every method runs once, in turn.")
    times = sweep(points, grid, rates, SEPARABLE_METHODS, SEPARABLE_REFERENCE, make_gaussian_inputs, rounds)
    print_table([f"{size}x{size}" for size in grid.kernel_sizes], times, grid.call_budget, SEPARABLE_REFERENCE.label)
    fft = times[SEPARABLE_REFERENCE.label]
    crossovers = {}
    for name in ("1_2D.convolve2d", SEPARABLE_METHODS[0].label):
        kernel_size = crossover(grid.kernel_sizes, times[name], fft)
        crossovers[name] = kernel_size
        where = f"from a {kernel_size}x{kernel_size} kernel up" if kernel_size else "at no measured kernel size"
        print(f"{side}x{side} image: scipy.signal.fftconvolve beats {name} {where}")
    return times, crossovers


def check_separable_target(grid, kernel_size=15):
    """Time the separable path against the lesson's 2-D direct convolve2d and against
    scipy.signal.fftconvolve, each pair in alternation, for a Gaussian kernel on a
    grid.target_image square float64 image, and print the ratios and the verdict
    (target: separable at least 3x faster than convolve2d at 2048x2048, 15x15)."""
    side = grid.target_image
    lessonkit.heading(f"Separable target: {kernel_size}x{kernel_size} Gaussian on a {side}x{side} float64 image")
    image, kernel = make_gaussian_inputs(side, kernel_size)
    separable, direct = interleaved_times(ours_separable, ours_direct, (image, kernel), grid.target_repeats)
    separable_again, fft = interleaved_times(ours_separable, scipy_fft, (image, kernel), grid.target_repeats)
    speed_up = direct / separable
    verdict = target_verdict(side, speed_up >= 3)
    print(f"median of {grid.target_repeats} runs each, each pair timed in alternation:")
    print(f"  {'6_layer separable':<26} {format_seconds(separable):>9}  (again, beside the FFT: {format_seconds(separable_again)})")
    print(f"  {'1_2D.convolve2d':<26} {format_seconds(direct):>9}")
    print(f"  {'scipy.signal.fftconvolve':<26} {format_seconds(fft):>9}")
    print(f"  separable is {speed_up:.1f}x faster than 1_2D.convolve2d (target ≥ 3x: {verdict})")
    print(f"  separable / scipy.signal.fftconvolve: {format_ratio(separable_again / fft)}")


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
    direct_labels = [m.label for m in METHODS if m.direct and m.dtype == np.float64 and m.name != "plain Python loop"]
    best, best_names = fastest_direct(kernel_times, direct_labels)
    kernel_size = crossover(grid.kernel_sizes, best, kernel_times["scipy.signal.fftconvolve"])
    if kernel_size:
        print(f"{side}x{side} image: scipy.signal.fftconvolve beats the fastest float64 direct method at each size")
        print(f"  from a {kernel_size}x{kernel_size} kernel up (there: "
              f"{best_names[grid.kernel_sizes.index(kernel_size)]})")
    else:
        print(f"{side}x{side} image: scipy.signal.fftconvolve beats the fastest float64 direct method at no measured size")
    print("  the fastest float64 direct method measured, by kernel size:")
    for first, last, name in runs_of_names(grid.kernel_sizes, best_names):
        sizes = f"{first}x{first}" if first == last else f"{first}x{first} to {last}x{last}"
        print(f"    {sizes}: {name}")
    for kernel_size, times in image_times.items():
        direct, fft = times["scipy.signal.convolve2d"], times["scipy.signal.fftconvolve"]
        faster = [f"{n}x{n}" for n, d, f in zip(grid.image_sizes, direct, fft) if d is None or f < d]
        where = "at " + ", ".join(faster) if faster else "at no measured image size"
        print(f"{kernel_size}x{kernel_size} kernel: scipy.signal.fftconvolve is faster than scipy.signal.convolve2d {where}")

    target_times = check_targets(grid)
    print_memory_floor(grid, *target_times[3])
    print_why_float32_is_faster(grid)

    time_layer(grid)
    separable_times, separable_crossovers = separable_sweep(grid, rates)
    check_separable_target(grid)

    figures.add("bench_image_size", plot_image_sweeps(grid, image_times))
    figures.add("bench_kernel_size", plot_kernel_sweep(grid, kernel_times, crossovers))
    figures.add("bench_separable", plot_separable_sweep(grid, separable_times, separable_crossovers))
    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
