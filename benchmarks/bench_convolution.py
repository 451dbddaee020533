"""How fast is a convolution?

Times one 'same'-size 2-D convolution, float64 (float32 too where a method supports
it), with every method side by side in one process: a plain Python loop, the
lesson's own convolve2d and fft_convolve2d (1_2D.py), scipy.signal.convolve2d,
scipy.signal.fftconvolve, scipy.signal.oaconvolve (overlap-add), scipy.ndimage.convolve
and tf.nn.conv2d; the kernel sweep adds scipy.signal.convolve's own direct method, and
checks the choice scipy.signal.choose_conv_method makes at each size.

A direct method does N²K² multiply-adds for an N×N image and a K×K kernel; the FFT
does about N² log N operations whatever the kernel. Two sweeps show it: the image
size at a 3x3 and a 7x7 kernel, and the kernel size at a 512x512 image.

How it times: at every point of a sweep all methods run in turn, one sample each per
round, the order rotated by one from round to round, after a warm-up call of each;
every sweep is made three times (three passes). A sample is timeit's loop over as many
calls as last about 5 ms. Each cell is the median of its samples, with the spread
(interquartile range, IQR) next to it. Two methods are compared through the ratios of
their samples taken in the same round; one is called faster only where the median
ratio is further from 1x than the IQR of those ratios, both on a log scale (so that 2x
faster and 2x slower weigh the same), and the margin is printed.

Run as a script it pins every method to one thread (OMP_NUM_THREADS,
OPENBLAS_NUM_THREADS and MKL_NUM_THREADS set to 1 unless they are set already, and
TensorFlow's thread pools to 1), so that the methods compare the work of one core, and
it prints the CPU time each method used per second of wall time to show it.

Then: targets on a 2048x2048 image, the floor memory bandwidth puts under a 3x3
convolution, float32 against float64, a whole convolution layer (6_layer.py), and
separable kernels (a Gaussian as two 1-D passes, against scipy.ndimage.convolve1d,
the 2-D direct method and the FFT).

--quick runs a small grid (a minute or two); the full run takes a few minutes.
"""

import os

ONE_THREAD = __name__ == "__main__"
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
if ONE_THREAD:  # before NumPy loads its BLAS, which reads these once
    for variable in THREAD_VARIABLES:
        os.environ.setdefault(variable, "1")

import argparse  # noqa: E402
import functools  # noqa: E402
import importlib  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
from scipy import ndimage, signal  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import lessonkit  # noqa: E402
from benchmarks.bench_lessons import cpu_model  # noqa: E402

lesson_2d = importlib.import_module("1_2D")

SEED = 2024
MIN_SAMPLE_SECONDS = 0.005


# The methods ------------------------------------------------------------------------------


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


def scipy_convolve_direct(image, kernel):
    """scipy.signal.convolve(method='direct'), 'same' size: the direct method that
    choose_conv_method weighs against the FFT (a general N-D loop, not convolve2d's).
    image: (H, W), kernel: (K, K) -> (H, W).

    >>> float(scipy_convolve_direct(np.ones((3, 3)), np.ones((3, 3)))[0, 0])
    4.0
    """
    return signal.convolve(image, kernel, mode="same", method="direct")


def scipy_fft(image, kernel):
    """scipy.signal.fftconvolve, 'same' size. image: (H, W), kernel: (K, K) -> (H, W).

    >>> round(float(scipy_fft(np.ones((3, 3)), np.ones((3, 3)))[0, 0]), 6)
    4.0
    """
    return signal.fftconvolve(image, kernel, mode="same")


def scipy_overlap_add(image, kernel):
    """scipy.signal.oaconvolve, 'same' size: the image cut into blocks, each convolved
    through the FFT, the overlapping results added. image: (H, W), kernel: (K, K) -> (H, W).

    >>> round(float(scipy_overlap_add(np.ones((3, 3)), np.ones((3, 3)))[0, 0]), 6)
    4.0
    """
    return signal.oaconvolve(image, kernel, mode="same")


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
    start-up notices filtered; when this file runs as a script, its thread pools are
    set to one thread."""
    with lessonkit.tensorflow_start_up_quiet():
        import tensorflow as tf

        if ONE_THREAD:
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
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


def rank_one_factors(kernel):
    """A column and a row whose outer product is the rank-1 `kernel`, from its SVD.
    kernel: (K, K) -> (K,), (K,).

    >>> column, row = rank_one_factors(np.outer([1.0, 2.0], [3.0, 4.0]))
    >>> np.allclose(np.outer(column, row), [[3, 4], [6, 8]])
    True
    """
    u, s, vt = np.linalg.svd(kernel)
    return u[:, 0] * np.sqrt(s[0]), vt[0] * np.sqrt(s[0])


def ours_separable(image, kernel):
    """The lesson's separable path (6_layer.py), 'same' size: the kernel's two 1-D factors
    from the SVD, then a pass of 1_2D.convolve2d with each. The kernel must be of rank 1.
    image: (H, W), kernel: (K, K) -> (H, W).

    >>> round(float(ours_separable(np.ones((3, 3)), np.ones((3, 3)))[1, 1]), 9)
    9.0
    """
    column, row = layer_lesson().separable_factors(kernel)
    return layer_lesson().separable_convolve2d(image, column, row, "same")


def ndimage_separable(image, kernel):
    """Two passes of scipy.ndimage.convolve1d, down the columns and along the rows, with
    the rank-1 kernel's factors, zeros outside the image: what scipy.ndimage.gaussian_filter
    does. image: (H, W), kernel: (K, K) of rank 1, K odd -> (H, W).

    >>> float(ndimage_separable(np.ones((3, 3)), np.ones((3, 3)))[1, 1].round(9))
    9.0
    """
    column, row = rank_one_factors(kernel)
    down = ndimage.convolve1d(image, column, axis=0, mode="constant")
    return ndimage.convolve1d(down, row, axis=1, mode="constant")


@dataclass(frozen=True)
class Method:
    """One series in the tables and plots: a way to convolve, in one dtype; `direct`
    methods do N²K² multiply-adds."""

    name: str
    convolve: Callable
    dtype: type = np.float64
    direct: bool = True

    @property
    def label(self):
        return f"{self.name} f32" if self.dtype == np.float32 else self.name


REFERENCE = Method("scipy.signal.convolve2d", scipy_direct)
SCIPY_FFT = Method("scipy.signal.fftconvolve", scipy_fft, direct=False)
SIGNAL_DIRECT = Method("scipy.signal.convolve direct", scipy_convolve_direct)
METHODS = [
    Method("plain Python loop", naive_convolve2d),
    Method("1_2D.convolve2d", ours_direct),
    Method("1_2D.convolve2d", ours_direct, np.float32),
    Method("1_2D.fft_convolve2d", ours_fft, direct=False),
    REFERENCE,
    Method("scipy.signal.convolve2d", scipy_direct, np.float32),
    SCIPY_FFT,
    Method("scipy.signal.fftconvolve", scipy_fft, np.float32, direct=False),
    Method("scipy.signal.oaconvolve", scipy_overlap_add, direct=False),
    Method("scipy.ndimage.convolve", ndimage_convolve),
    Method("scipy.ndimage.convolve", ndimage_convolve, np.float32),
    Method("tf.nn.conv2d", tf_conv2d),
    Method("tf.nn.conv2d", tf_conv2d, np.float32),
]
KERNEL_METHODS = METHODS + [SIGNAL_DIRECT]
# the float64 series drawn in the plots; the tables hold them all
PLOTTED = ["1_2D.convolve2d", "1_2D.fft_convolve2d", "scipy.signal.convolve2d", "scipy.signal.fftconvolve",
           "scipy.ndimage.convolve", "tf.nn.conv2d"]

SEPARABLE_METHODS = [
    Method("6_layer separable, two 1-D passes", ours_separable, direct=False),
    Method("scipy.ndimage.convolve1d, two passes", ndimage_separable, direct=False),
    Method("1_2D.convolve2d", ours_direct),
    Method("1_2D.fft_convolve2d", ours_fft, direct=False),
    SCIPY_FFT,
]


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


# What to measure -------------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    """What to measure and how long to spend on it: the sizes of the two sweeps, the
    passes over each sweep, the seconds one pass spends at a point (shared by the
    rounds, between min_rounds and max_rounds of them), the most one call of a direct
    method may be expected to take before it is skipped, the image side and rounds of
    the targets, the bytes copied to measure memory bandwidth, the side of the square
    matrices multiplied to measure the peak, the convolution layer timed (image side,
    input channels, filters, kernel side), the image side of the separable sweep, and the
    layer timed as a standard, grouped and depthwise-separable layer (image side, input
    channels, filters, kernel side, groups)."""

    image_sizes: tuple
    image_sweep_kernels: tuple
    kernel_sizes: tuple
    kernel_sweep_image: int
    passes: int
    seconds_per_point: float
    min_rounds: int
    max_rounds: int
    call_budget: float
    target_image: int
    target_rounds: int
    bandwidth_bytes: int
    matmul_side: int
    layer: tuple
    separable_image: int
    layer_kinds: tuple


FULL = Grid(
    image_sizes=(128, 256, 512, 1024, 2048),
    image_sweep_kernels=(3, 7),
    kernel_sizes=(3, 5, 7, 11, 15, 21, 31),
    kernel_sweep_image=512,
    passes=3,
    seconds_per_point=0.5,
    min_rounds=2,
    max_rounds=7,
    call_budget=1.2,
    target_image=2048,
    target_rounds=11,
    bandwidth_bytes=2**27,
    matmul_side=1024,
    layer=(64, 16, 32, 3),
    separable_image=1024,
    layer_kinds=(56, 64, 128, 3, 4),
)
QUICK = Grid(
    image_sizes=(128, 256, 512, 1024),
    image_sweep_kernels=(3, 7),
    kernel_sizes=(3, 7, 15, 31),
    kernel_sweep_image=256,
    passes=3,
    seconds_per_point=0.15,
    min_rounds=2,
    max_rounds=5,
    call_budget=0.2,
    target_image=2048,
    target_rounds=7,
    bandwidth_bytes=2**26,
    matmul_side=512,
    layer=(64, 16, 32, 3),
    separable_image=512,
    layer_kinds=(56, 64, 128, 3, 4),
)
SMOKE = Grid(
    image_sizes=(16, 32),
    image_sweep_kernels=(3,),
    kernel_sizes=(3, 5, 7),
    kernel_sweep_image=32,
    passes=3,
    seconds_per_point=0.0,
    min_rounds=1,
    max_rounds=1,
    call_budget=0.05,
    target_image=64,
    target_rounds=3,
    bandwidth_bytes=2**20,
    matmul_side=64,
    layer=(16, 4, 8, 3),
    separable_image=32,
    layer_kinds=(8, 8, 8, 3, 4),
)

# (ours, theirs, kernel side, target for the median of the per-round ratios ours / theirs)
TARGETS = [
    (Method("1_2D.convolve2d", ours_direct), REFERENCE, 3, 0.6),
    (Method("1_2D.fft_convolve2d", ours_fft, direct=False), SCIPY_FFT, 15, 1.3),
]
SEPARABLE_TARGET = 3.0  # the separable path at least this many times faster than 1_2D.convolve2d, 15x15


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


# Timing and statistics -------------------------------------------------------------------


@dataclass
class Timing:
    """Samples of one quantity (seconds per call, or a ratio), in the order taken."""

    samples: list = field(default_factory=list)

    def quartiles(self):
        """(Q1, median, Q3) of the samples.

        >>> Timing([1.0, 2.0, 3.0, 4.0, 5.0]).quartiles()
        (2.0, 3.0, 4.0)
        """
        if len(self.samples) == 1:
            return (self.samples[0],) * 3
        q1, median, q3 = statistics.quantiles(self.samples, n=4, method="inclusive")
        return q1, median, q3

    @property
    def median(self):
        return statistics.median(self.samples)

    @property
    def iqr(self):
        q1, _, q3 = self.quartiles()
        return q3 - q1


def paired_ratio(first, second):
    """The ratios first / second of samples taken in the same round.

    >>> paired_ratio(Timing([1.0, 2.0]), Timing([2.0, 2.0])).samples
    [0.5, 1.0]
    """
    return Timing([a / b for a, b in zip(first.samples, second.samples)])


def decided(ratio):
    """Whether a ratio of times is told apart from 1x, on a log scale so that 2x slower
    and 2x faster weigh the same: the distance of the median log ratio from 0 is
    larger than the IQR of the log ratios. Returns (decided, margin / IQR).

    >>> is_decided, times = decided(Timing([0.5, 0.52, 0.55])); is_decided, round(times, 1)
    (True, 13.7)
    >>> decided(Timing([0.9, 1.1, 1.0]))[0]
    False
    """
    logs = Timing([math.log(value) for value in ratio.samples])
    margin = abs(logs.median)
    spread = logs.iqr
    if spread == 0:
        return margin > 0, math.inf
    return margin > spread, margin / spread


def margin_words(ratio):
    """'margin 2.3x the spread', for a ratio from paired_ratio.

    >>> margin_words(Timing([0.5, 0.52, 0.55]))
    'margin 13.7x the spread'
    """
    _, times = decided(ratio)
    return "no spread" if math.isinf(times) else f"margin {times:.1f}x the spread"


def verdict(ratio, faster="faster", slower="slower"):
    """`faster` or `slower` for a ratio of times first / second, with its margin, or
    'too close to call' when the margin is within the spread.

    >>> verdict(Timing([0.5, 0.52, 0.55]))
    'faster (margin 13.7x the spread)'
    >>> verdict(Timing([0.9, 1.1, 1.0]))
    'too close to call (margin 0.0x the spread)'
    """
    is_decided, _ = decided(ratio)
    word = "too close to call" if not is_decided else faster if ratio.median < 1 else slower
    return f"{word} ({margin_words(ratio)})"


class Clock:
    """Wall time and CPU time spent in each timed function, summed over its samples,
    to tell how many cores it kept busy."""

    def __init__(self):
        self.wall = {}
        self.cpu = {}

    def add(self, label, wall, cpu):
        self.wall[label] = self.wall.get(label, 0.0) + wall
        self.cpu[label] = self.cpu.get(label, 0.0) + cpu

    def cores(self, label):
        """CPU seconds per wall second spent in `label`'s samples."""
        return self.cpu[label] / self.wall[label] if self.wall.get(label) else None


CLOCK = Clock()


def time_in_turn(calls, min_rounds, max_rounds, seconds, labels=None):
    """Time each (function, args) of `calls` in turn: one warm-up call of each, timed
    once more to choose how many calls one sample averages (at least MIN_SAMPLE_SECONDS
    a sample), then rounds of one sample of each, the order rotated by one every round;
    as many rounds as fit in `seconds`, between min_rounds and max_rounds. A sample is
    timeit.Timer's loop (garbage collector off) divided by its calls. `labels` names the
    calls in CLOCK.

    Returns one Timing per call; sample r of each comes from round r.

    >>> [len(t.samples) for t in time_in_turn([(sum, ([1],)), (min, ([1],))], 3, 3, 0.0)]
    [3, 3]
    """
    labels = labels or [None] * len(calls)
    timers, numbers, round_seconds = [], [], 0.0
    for function, args in calls:
        timer = timeit.Timer(functools.partial(function, *args))
        once = max(timer.timeit(1), 1e-9)  # the warm-up call
        number = max(1, math.ceil(MIN_SAMPLE_SECONDS / once))
        timers.append(timer)
        numbers.append(number)
        round_seconds += number * once
    rounds = int(min(max(seconds / round_seconds, min_rounds), max_rounds))
    timings = [Timing() for _ in calls]
    for round_index in range(rounds):
        for step in range(len(calls)):
            i = (round_index + step) % len(calls)
            wall, cpu = time.perf_counter(), time.process_time()
            total = timers[i].timeit(numbers[i])
            CLOCK.add(labels[i], time.perf_counter() - wall, time.process_time() - cpu)
            timings[i].samples.append(total / numbers[i])
    return timings


# Sweeps ----------------------------------------------------------------------------------


@dataclass
class Sweep:
    """The Timing of every method at every point (N, K) of a sweep, None where skipped:
    timings = {label: [Timing or None, one per point]}."""

    points: list
    timings: dict

    def ratio(self, first, second, index):
        """Paired ratio first / second (labels) at point `index`; None if either was skipped."""
        a, b = self.timings[first][index], self.timings[second][index]
        return None if a is None or b is None else paired_ratio(a, b)


def sweep(points, grid, rates, methods=METHODS, reference=REFERENCE, inputs=make_inputs):
    """Time every method of `methods` at every (image side N, kernel side K) of `points`,
    on inputs(N, K, dtype), all of them in turn at each point (time_in_turn), in
    grid.passes passes over all the points; the samples of the passes are pooled.

    In the first pass a direct method whose estimated time for one call, N²K² / (the
    most multiply-adds per second it reached at a point before, kept in `rates`), is over
    grid.call_budget is skipped at that point, and stays skipped; the `reference` never is.
    """
    timings = {method.label: [None] * len(points) for method in methods}
    for pass_index in range(grid.passes):
        for index, (size, kernel_size) in enumerate(points):
            work = size**2 * kernel_size**2
            if pass_index == 0:
                timed = [
                    method for method in methods
                    if not (method.direct and method is not reference and rates.get(method.label)
                            and work / rates[method.label] > grid.call_budget)
                ]
            else:
                timed = [method for method in methods if timings[method.label][index] is not None]
            arrays = {}
            calls = []
            for method in timed:
                if method.dtype not in arrays:
                    arrays[method.dtype] = inputs(size, kernel_size, method.dtype)
                calls.append((method.convolve, arrays[method.dtype]))
            results = time_in_turn(calls, grid.min_rounds, grid.max_rounds, grid.seconds_per_point,
                                   [method.label for method in timed])
            for method, timing in zip(timed, results):
                if timings[method.label][index] is None:
                    timings[method.label][index] = Timing()
                timings[method.label][index].samples += timing.samples
                if method.direct:  # the best rate seen, so that one slow pass does not skip a point
                    rates[method.label] = max(rates.get(method.label, 0.0), work / timing.median)
    return Sweep(list(points), timings)


def calibrate(rates):
    """Seed `rates` (multiply-adds per second) for the plain Python loop from a few small
    calls, so that it can be skipped at the first point of a sweep already; the other
    methods get theirs from the first point they run at."""
    size, kernel_size = 32, 3
    image, kernel = make_inputs(size, kernel_size)
    (timing,) = time_in_turn([(naive_convolve2d, (image, kernel))], 3, 3, 0.0)
    rates[METHODS[0].label] = size**2 * kernel_size**2 / timing.median


def crossover(sizes, states):
    """Where the FFT takes over, from one state per size: 'direct' or 'fft' (the faster,
    told apart from the other), or None (too close to call).

    Returns (the largest size up to which the direct method is faster at every size,
    the smallest size from which the FFT is faster at every size); None for either
    where there is no such size.

    >>> crossover([3, 5, 7, 11], ["direct", None, "fft", "fft"])
    (3, 7)
    >>> crossover([3, 5, 7, 11], ["fft", "direct", "fft", "fft"])
    (None, 7)
    """
    direct_up_to = None
    for size, state in zip(sizes, states):
        if state != "direct":
            break
        direct_up_to = size
    fft_from = None
    for size, state in reversed(list(zip(sizes, states))):
        if state != "fft":
            break
        fft_from = size
    return direct_up_to, fft_from


def fft_state(ratio):
    """'fft', 'direct' or None (too close to call) for a paired ratio fft time / direct
    time; None for the ratio means the direct method was skipped as too slow: 'fft'.

    >>> fft_state(Timing([0.5, 0.52, 0.55])), fft_state(None), fft_state(Timing([0.9, 1.1, 1.0]))
    ('fft', 'fft', None)
    """
    if ratio is None:
        return "fft"
    is_decided, _ = decided(ratio)
    if not is_decided:
        return None
    return "fft" if ratio.median < 1 else "direct"


def crossover_words(sizes, states, direct="direct"):
    """The crossover in words, then how many sizes each way; `direct` names the method
    the FFT is compared with.

    >>> crossover_words([3, 5, 7], ["direct", None, "fft"])
    'direct faster up to 3x3; FFT faster from 7x7 up; direct faster at 1, FFT at 1, too close to call at 1 of 3 sizes'
    >>> crossover_words([3, 5, 7], [None, "direct", None])
    'no crossover told apart; direct faster at 1, FFT at 0, too close to call at 2 of 3 sizes'
    """
    direct_up_to, fft_from = crossover(sizes, states)
    words = []
    if direct_up_to:
        words.append(f"{direct} faster up to {direct_up_to}x{direct_up_to}")
    if fft_from:
        words.append(f"FFT faster from {fft_from}x{fft_from} up")
    if not words:
        words.append("no crossover told apart")
    words.append(f"{direct} faster at {states.count('direct')}, FFT at {states.count('fft')}, "
                 f"too close to call at {states.count(None)} of {len(states)} sizes")
    return "; ".join(words)


def tally(ratios):
    """Counts of the verdicts of paired ratios first / second: (faster, slower, too close).

    >>> tally([Timing([0.5, 0.52, 0.55]), Timing([0.9, 1.1, 1.0]), None])
    (1, 0, 1)
    """
    faster = slower = close = 0
    for ratio in ratios:
        if ratio is None:
            continue
        is_decided, _ = decided(ratio)
        if not is_decided:
            close += 1
        elif ratio.median < 1:
            faster += 1
        else:
            slower += 1
    return faster, slower, close


def summary(ratios, where="sizes"):
    """A range of ratio medians and their verdict counts, in words.

    >>> summary([Timing([0.5, 0.52, 0.55]), Timing([0.6, 0.62, 0.63])])
    '0.52x to 0.62x; faster at 2, slower at 0, too close to call at 0 of 2 sizes'
    >>> summary([Timing([2.0, 2.1, 2.2])], "points")
    '2.10x; faster at 0, slower at 1, too close to call at 0 of 1 points'
    """
    ratios = [ratio for ratio in ratios if ratio is not None]
    if not ratios:
        return f"measured at no {where[:-1]}"
    medians = [ratio.median for ratio in ratios]
    faster, slower, close = tally(ratios)
    low, high = format_ratio(min(medians)), format_ratio(max(medians))
    span = low if low == high else f"{low} to {high}"
    return (f"{span}; faster at {faster}, slower at {slower}, "
            f"too close to call at {close} of {len(ratios)} {where}")


def slope(sizes, timings):
    """The slope of log(median time) against log(size), least squares, over the points
    measured; None with fewer than 3.

    >>> round(slope([1, 2, 4], [Timing([1.0]), Timing([4.0]), Timing([16.0])]), 6)
    2.0
    """
    points = [(size, timing.median) for size, timing in zip(sizes, timings) if timing is not None]
    if len(points) < 3:
        return None
    xs, ys = np.log([p[0] for p in points]), np.log([p[1] for p in points])
    return float(np.polyfit(xs, ys, 1)[0])


# Printing --------------------------------------------------------------------------------


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


def format_time_cell(timing):
    """A median time and its IQR as a percentage of it; 'slow' if skipped.

    >>> format_time_cell(Timing([0.010, 0.011, 0.012])), format_time_cell(Timing([0.01, 0.01, 0.5])), format_time_cell(None)
    ('11 ms 9%', '10 ms >999%', 'slow')
    """
    if timing is None:
        return "slow"
    percent = 100 * timing.iqr / timing.median
    return f"{format_seconds(timing.median)} {percent:.0f}%" if percent < 1000 else f"{format_seconds(timing.median)} >999%"


def format_ratio_cell(ratio):
    """A paired ratio's median, with '~' where it is too close to 1x to call.

    >>> format_ratio_cell(Timing([0.5, 0.52, 0.55])), format_ratio_cell(Timing([0.9, 1.1, 1.0]))
    ('0.52x', '1.00x~')
    """
    if ratio is None:
        return "slow"
    return format_ratio(ratio.median) + ("" if decided(ratio)[0] else "~")


def format_rate(multiply_adds_per_second):
    """GMAC/s with three significant digits.

    >>> format_rate(12.345e9), format_rate(2.0e7)
    ('12.3', '0.02')
    """
    return f"{multiply_adds_per_second / 1e9:.3g}"


def print_sweep(result, columns, works, reference, peak):
    """Print three tables, methods down, sweep points across: the median time of one
    call with its IQR; the multiply-adds of the direct method per second (GMAC/s); the
    median ratio of each method's samples to the `reference`'s of the same round."""
    width = max(len(label) for label in result.timings) + 2
    width = max(width, len(f"time / {reference}") + 2)
    header = "".join(f"{column:>14}" for column in columns)
    print(f"{'median time (IQR as % of it)':<{width}}{header}")
    for label, row in result.timings.items():
        print(f"{label:<{width}}" + "".join(f"{format_time_cell(t):>14}" for t in row))
    print()
    print(f"{'GMAC/s (N²K² / median time)':<{width}}{header}")
    for label, row in result.timings.items():
        cells = ["slow" if t is None else format_rate(work / t.median) for t, work in zip(row, works)]
        print(f"{label:<{width}}" + "".join(f"{cell:>14}" for cell in cells))
    print(f"(an FFT method does other work: its GMAC/s is that of a direct method as fast; one core's "
          f"matmul peak here: {format_rate(peak[np.float64])} float64, {format_rate(peak[np.float32])} float32)")
    print()
    print(f"{f'time / {reference}':<{width}}{header}")
    for label in result.timings:
        cells = [format_ratio_cell(result.ratio(label, reference, i)) if label != reference else "1.00x"
                 for i in range(len(columns))]
        print(f"{label:<{width}}" + "".join(f"{cell:>14}" for cell in cells))
    print("Each ratio is the median of the ratios of samples taken in the same round; ~: its")
    print("distance from 1x is within their IQR, too close to call. slow: skipped, a direct method")
    print("whose N²K² cost was estimated from its speed at smaller points to be too long.")
    print()


# The sections ----------------------------------------------------------------------------


def blas_name():
    """NumPy's BLAS library and version, as its build configuration names them."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '')}".strip()
    except (TypeError, KeyError):
        return "unknown"


def onednn_state(tf):
    """'on' or 'off': whether TensorFlow runs its CPU convolutions through oneDNN."""
    try:
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:
        return "unknown"
    return "on" if _pywrap_util_port.IsMklEnabled() else "off"


def matmul(a, b):
    """a @ b, the BLAS matrix multiply. (n, n), (n, n) -> (n, n).

    >>> matmul(np.eye(2), np.ones((2, 2)))
    array([[1., 1.],
           [1., 1.]])
    """
    return a @ b


def measure_peak(grid):
    """Multiply-adds per second of a float64 and a float32 matrix multiply,
    grid.matmul_side square, timed in turn: {dtype: Timing of seconds}."""
    side = grid.matmul_side
    rng = np.random.default_rng(SEED)
    calls = []
    for dtype in (np.float64, np.float32):
        a, b = rng.random((2, side, side)).astype(dtype)
        calls.append((matmul, (a, b)))
    timings = time_in_turn(calls, 7, 7, 0.0, ["matmul float64", "matmul float32"])
    return dict(zip((np.float64, np.float32), timings))


def print_machine(grid):
    """Print what the times depend on and measure one core's peak; returns {dtype: GMAC/s}."""
    lessonkit.heading("What the numbers depend on")
    tf = tensorflow()
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores")
    print(f"Python {platform.python_version()}, NumPy {np.__version__} (BLAS: {blas_name()}), "
          f"SciPy {scipy.__version__}, TensorFlow {tf.__version__} (oneDNN {onednn_state(tf)})")
    settings = ", ".join(f"{name}={os.environ[name]}" for name in THREAD_VARIABLES if name in os.environ)
    print(f"Threads: {settings or 'none of ' + ', '.join(THREAD_VARIABLES) + ' set'} (NumPy's BLAS);")
    print(f"  TensorFlow intra-op {tf.config.threading.get_intra_op_parallelism_threads() or 'one per core'}, "
          f"inter-op {tf.config.threading.get_inter_op_parallelism_threads() or 'one per core'};")
    print("  scipy.fft and numpy.fft one worker, NumPy's element-wise operations, scipy.signal and")
    print("  scipy.ndimage one thread. The last section gives the cores each method kept busy.")
    timings = measure_peak(grid)
    side = grid.matmul_side
    peak = {dtype: side**3 / timing.median for dtype, timing in timings.items()}
    print(f"Peak: a {side}x{side} matrix multiply (BLAS) does {format_rate(peak[np.float64])} GMAC/s in "
          f"float64 (IQR {100 * timings[np.float64].iqr / timings[np.float64].median:.0f}%), "
          f"{format_rate(peak[np.float32])} in float32 (IQR "
          f"{100 * timings[np.float32].iqr / timings[np.float32].median:.0f}%).")
    return peak


def image_sweeps(grid, rates, peak):
    """The image-size sweep at each of grid.image_sweep_kernels, with its verdicts.
    Returns {kernel side: Sweep}."""
    results = {}
    for kernel_size in grid.image_sweep_kernels:
        lessonkit.heading(f"Image size sweep, {kernel_size}x{kernel_size} kernel")
        points = [(size, kernel_size) for size in grid.image_sizes]
        result = sweep(points, grid, rates)
        print_sweep(result, [f"{n}x{n}" for n in grid.image_sizes], [n * n * kernel_size**2 for n in grid.image_sizes],
                    REFERENCE.label, peak)
        n_points = range(len(points))
        ours = [result.ratio("1_2D.convolve2d", REFERENCE.label, i) for i in n_points]
        print(f"1_2D.convolve2d / scipy.signal.convolve2d: {summary(ours)}")
        ffts = [result.ratio(SCIPY_FFT.label, REFERENCE.label, i) for i in n_points]
        print(f"scipy.signal.fftconvolve / scipy.signal.convolve2d: {summary(ffts)}")
        for size, ratio in zip(grid.image_sizes, ffts):
            print(f"  {size}x{size}: {format_ratio(ratio.median)}, {verdict(ratio)}")
        slopes = [(label, slope(grid.image_sizes[1:], result.timings[label][1:])) for label in PLOTTED]
        if any(value is not None for _, value in slopes):
            print(f"Slope of log time against log N from {grid.image_sizes[1]} up (2: time grows as N²): "
                  + ", ".join(f"{label} {value:.2f}" for label, value in slopes if value is not None))
        results[kernel_size] = result
    return results


def kernel_sweep(grid, rates, peak, earlier=()):
    """The kernel-size sweep and where the FFT takes over; the plain Python loop is
    compared with scipy.signal.convolve2d over this sweep and the `earlier` ones.
    Returns (Sweep, {pair name: FFT-from size})."""
    side = grid.kernel_sweep_image
    sizes = list(grid.kernel_sizes)
    lessonkit.heading(f"Kernel size sweep, {side}x{side} image")
    result = sweep([(side, k) for k in sizes], grid, rates, KERNEL_METHODS)
    print_sweep(result, [f"{k}x{k}" for k in sizes], [side * side * k * k for k in sizes], REFERENCE.label, peak)
    loop = [sweep_result.ratio("plain Python loop", REFERENCE.label, i)
            for sweep_result in (*earlier, result) for i in range(len(sweep_result.points))]
    if any(loop):
        print(f"plain Python loop / scipy.signal.convolve2d, every sweep point where it ran: {summary(loop, 'points')}")

    lessonkit.heading("Where the FFT overtakes the direct method")
    print("Direct work grows as K², the FFT's hardly at all, so past some kernel size the FFT wins.")
    print(f"On a {side}x{side} image, FFT time / direct time at each kernel size (~: too close to call):")
    pairs = {
        "scipy": (REFERENCE.label, SCIPY_FFT.label),
        "1_2D": ("1_2D.convolve2d", "1_2D.fft_convolve2d"),
        "scipy.signal.convolve": (SIGNAL_DIRECT.label, SCIPY_FFT.label),
    }
    crossovers = {}
    for name, (direct, fft) in pairs.items():
        ratios = [result.ratio(fft, direct, i) for i in range(len(sizes))]
        states = [fft_state(ratio) for ratio in ratios]
        print(f"  {fft} / {direct}: " + ", ".join(f"{k}x{k} {format_ratio_cell(r)}" for k, r in zip(sizes, ratios)))
        print(f"    {crossover_words(sizes, states)}")
        crossovers[name] = crossover(sizes, states)[1]

    direct_labels = [m.label for m in KERNEL_METHODS if m.direct and m.dtype == np.float64 and m.name != "plain Python loop"]
    print("The fastest float64 direct method at each kernel size, against the next fastest:")
    fastest = []
    for i, k in enumerate(sizes):
        ranked = sorted((result.timings[label][i].median, label) for label in direct_labels if result.timings[label][i])
        best = ranked[0][1]
        fastest.append(best)
        if len(ranked) == 1:
            print(f"  {k}x{k}: {best}, the only one measured")
        else:
            runner_up = ranked[1][1]
            print(f"  {k}x{k}: {best}; against {runner_up}: {verdict(result.ratio(best, runner_up, i))}")
    states = [fft_state(result.ratio(SCIPY_FFT.label, best, i)) for i, best in enumerate(fastest)]
    print(f"  scipy.signal.fftconvolve against the fastest direct method: {crossover_words(sizes, states)}")
    crossovers["fastest direct"] = crossover(sizes, states)[1]

    print("scipy.signal.choose_conv_method (its estimate) against the measurement, scipy.signal.convolve's")
    print("direct method or scipy.signal.fftconvolve:")
    agree = 0
    for i, k in enumerate(sizes):
        image, kernel = make_inputs(side, k)
        choice = signal.choose_conv_method(image, kernel, mode="same")
        state = fft_state(result.ratio(SCIPY_FFT.label, SIGNAL_DIRECT.label, i))
        measured = {"fft": "fft faster", "direct": "direct faster", None: "too close to call"}[state]
        agrees = state is None or (state == "fft") == (choice == "fft")
        agree += agrees
        print(f"  {k}x{k}: picks {choice:<6} measured: {measured:<18} {'agrees' if agrees else 'disagrees'}")
    print(f"  its choice agrees with the measurement at {agree} of {len(sizes)} kernel sizes"
          " (too close to call counts as agreeing)")
    overlap_add = [result.ratio("scipy.signal.oaconvolve", SCIPY_FFT.label, i) for i in range(len(sizes))]
    print(f"scipy.signal.oaconvolve / scipy.signal.fftconvolve: {summary(overlap_add)}")
    return result, crossovers


def check_targets(grid):
    """Time each pair of TARGETS on a grid.target_image square float64 image, all four
    methods in turn for grid.target_rounds rounds, and print the median of the per-round
    ratios, its IQR and the verdict. Returns {kernel side: (ours Timing, theirs Timing)}."""
    side = grid.target_image
    lessonkit.heading(f"Targets on a {side}x{side} float64 image, 'same'")
    calls, labels = [], []
    for ours, theirs, kernel_size, _ in TARGETS:
        arrays = make_inputs(side, kernel_size)
        calls += [(ours.convolve, arrays), (theirs.convolve, arrays)]
        labels += [ours.label, theirs.label]
    timings = time_in_turn(calls, grid.target_rounds, grid.target_rounds, 0.0, labels)
    print(f"All four run in turn, {grid.target_rounds} rounds; the ratio is the median of the per-round ratios.")
    results = {}
    for index, (ours, theirs, kernel_size, target) in enumerate(TARGETS):
        mine, reference = timings[2 * index], timings[2 * index + 1]
        ratio = paired_ratio(mine, reference)
        print(f"{kernel_size}x{kernel_size} kernel:")
        print(f"  {ours.label:<26}{format_time_cell(mine):>13}")
        print(f"  {theirs.label:<26}{format_time_cell(reference):>13}")
        print(f"  ours / SciPy: {format_ratio(ratio.median)} (IQR {ratio.iqr:.2f}), target ≤ {target}x: "
              f"{target_verdict(side, ratio.median <= target)}")
        results[kernel_size] = (mine, reference)
    return results


def target_verdict(side, met):
    """'met' or 'missed' for a target measured on a side x side image; a target is set
    for the full grid's image size only, so at any other size it is not judged.

    >>> target_verdict(FULL.target_image, True), target_verdict(FULL.target_image, False)
    ('met', 'missed')
    """
    if side != FULL.target_image:
        return f"not judged, it is for {FULL.target_image}x{FULL.target_image}"
    return "met" if met else "missed"


def print_memory_floor(grid, ours, theirs):
    """Print the least time memory bandwidth allows for a 3x3 float64 convolution of
    a grid.target_image square image, next to the two direct methods' medians."""
    side = grid.target_image
    lessonkit.heading("The memory-bandwidth floor")
    source = np.ones(grid.bandwidth_bytes // 8)
    target = np.empty_like(source)
    (copy,) = time_in_turn([(np.copyto, (target, source))], 9, 9, 0.0, ["np.copyto"])
    bandwidth = 2 * source.nbytes / copy.median
    moved = 2 * side * side * 8
    floor = moved / bandwidth
    print(f"A 3x3 convolution of a {side}x{side} float64 image must at least read the image")
    print(f"and write the result: 2 x {side}² x 8 bytes = {moved / 1e6:.1f} MB ({moved / 2**20:g} MiB).")
    print(f"np.copyto moves {bandwidth / 1e9:.1f} GB/s here (read + write, median of 9, IQR "
          f"{100 * copy.iqr / copy.median:.0f}%), so no 3x3 convolution can take less than {format_seconds(floor)}.")
    for name, timing in (("1_2D.convolve2d", ours), ("scipy.signal.convolve2d", theirs)):
        print(f"  {name:<24} {format_seconds(timing.median):>9}  ({format_ratio(timing.median / floor)} the floor)")
    if min(ours.median, theirs.median) < 2 * floor:
        print("Within 2x of the floor: a 3x3 convolution is limited by memory, not arithmetic.")
    else:
        print("Both are more than 2x above the floor: their time goes into more than one read and")
        print("one write of each pixel.")


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


def lesson_step(band, image):
    """One tap of 1_2D.convolve2d on one band: band += 0.5 * image, in place.

    >>> band = np.zeros(2); lesson_step(band, np.ones(2)); band
    array([0.5, 0.5])
    """
    band += 0.5 * image


def print_float32(grid, results):
    """Time three operations in float64 and float32, all in turn: a matrix multiply
    (arithmetic on data reused from cache), a large copy (bytes, no arithmetic) and the
    lesson's step on one band of lesson_2d.BAND_BYTES of float64; then the float32 /
    float64 ratios of every method over the sweeps in `results`."""
    lessonkit.heading("float32 against float64")
    rng = np.random.default_rng(SEED)
    side, values = grid.matmul_side, grid.bandwidth_bytes // 8
    band_values = lesson_2d.BAND_BYTES // 8
    cases = [
        (f"matmul {side}x{side} (arithmetic, data from cache)", side**3, "GMAC/s",
         lambda dtype: (matmul, tuple(rng.random((2, side, side)).astype(dtype)))),
        (f"copy {values / 1e6:.3g}M values (bytes, no arithmetic)", values, "G values/s",
         lambda dtype: (np.copyto, (np.empty(values, dtype), np.ones(values, dtype)))),
        (f"band += 0.5 * image, {band_values >> 10}K values (the lesson's step)", band_values, "G values/s",
         lambda dtype: (lesson_step, (np.zeros(band_values, dtype), rng.random(band_values).astype(dtype)))),
    ]
    calls, labels = [], []
    for name, _, _, make in cases:
        for dtype in (np.float64, np.float32):
            calls.append(make(dtype))
            labels.append(f"{name.split(' ')[0]} {np.dtype(dtype).name}")
    timings = time_in_turn(calls, grid.target_rounds, grid.target_rounds, 0.0, labels)
    print(f"{'':<52}{'float64':>10}{'float32':>10}  float32 / float64")
    ratios = []
    for index, (name, work, unit, _) in enumerate(cases):
        f64, f32 = timings[2 * index], timings[2 * index + 1]
        ratio = paired_ratio(f32, f64)
        ratios.append(ratio)
        print(f"{name:<52}{format_rate(work / f64.median):>10}{format_rate(work / f32.median):>10}  "
              f"{format_ratio(ratio.median)}, {verdict(ratio)}  ({unit})")
    bits, vector = vector_width()
    if bits:
        print(f"NumPy uses {vector} here: one vector instruction holds {bits // 64} float64 or {bits // 32} float32 values.")
    print("The matrix multiply shows what wider lanes give where memory is not the limit; the copy what")
    print("half the bytes give with no arithmetic. In the lesson's step both shrink together: a")
    print("vector of float32 carries twice the values in the same bytes, so this test cannot tell")
    print("which of the two makes the step faster.")
    print_float32_sweeps(results)
    return ratios


def print_float32_sweeps(results):
    """For every method timed in both dtypes, the float32 / float64 ratios over every
    point of the sweeps in `results`."""
    print("float32 / float64 of each method, over every point of the sweeps above:")
    labels = set().union(*(result.timings for result in results))
    for method in METHODS:
        if method.dtype == np.float32 and method.label in labels:
            ratios = [result.ratio(method.label, method.name, i)
                      for result in results if method.label in result.timings for i in range(len(result.points))]
            print(f"  {method.name:<26}{summary(ratios, 'points')}")


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
    side), 'valid', with every method of LAYER_METHODS in turn, after checking that all
    of them agree; print medians, GMAC/s and ratios to im2col float64 with verdicts."""
    side, channels, count, kernel_size = grid.layer
    lessonkit.heading(f"A convolution layer: {side}x{side}, {channels} channels in, {count} filters, "
                      f"{kernel_size}x{kernel_size}")
    out = side - kernel_size + 1
    work = out * out * kernel_size**2 * channels * count
    print(f"One image, VALID: {out}² x {kernel_size}² x {channels} x {count} = {work:,} multiply-adds.")
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
    rounds = 2 * grid.target_rounds + 1
    timings = time_in_turn(calls, rounds, rounds, 0.0, [f"layer: {method.label}" for method in LAYER_METHODS])
    width = max(len(method.label) for method in LAYER_METHODS) + 2
    print(f"{rounds} rounds, every method once per round, in turn.")
    print(f"{'':<{width}}{'median':>13}{'GMAC/s':>8}  time / im2col")
    for method, timing in zip(LAYER_METHODS, timings):
        ratio = paired_ratio(timing, timings[0])
        words = "" if method is LAYER_METHODS[0] else f", {verdict(ratio)}"
        print(f"{method.label:<{width}}{format_time_cell(timing):>13}{format_rate(work / timing.median):>8}  "
              f"{format_ratio(ratio.median)}{words}")
    return dict(zip((method.label for method in LAYER_METHODS), timings))


def layer_kind_calls(side, channels, count, kernel_size, groups):
    """The same layer shape as TensorFlow computes it three ways, float32, SAME: a standard
    layer, a grouped one and a depthwise-separable one (MobileNet's), each with seeded random
    weights. Returns [(label, multiply-adds, call)], the call returning (1, side, side, count).

    >>> [(label, work) for label, work, _ in layer_kind_calls(4, 4, 8, 3, 2)]
    [('standard', 4608), ('grouped, g = 2', 2304), ('depthwise-separable', 1088)]
    """
    tf = tensorflow()
    rng = np.random.default_rng([SEED, side, channels, count, kernel_size, groups])

    def weights(*shape):
        return tf.constant(rng.standard_normal(shape).astype(np.float32))

    images = weights(1, side, side, channels)
    standard = weights(kernel_size, kernel_size, channels, count)
    grouped = weights(kernel_size, kernel_size, channels // groups, count)
    depthwise, pointwise = weights(kernel_size, kernel_size, channels, 1), weights(1, 1, channels, count)
    pixels, taps = side * side, kernel_size * kernel_size
    return [
        ("standard", pixels * taps * channels * count,
         lambda: tf.nn.conv2d(images, standard, 1, "SAME").numpy()),
        (f"grouped, g = {groups}", pixels * taps * channels * count // groups,
         lambda: tf.nn.conv2d(images, grouped, 1, "SAME").numpy()),
        ("depthwise-separable", pixels * (taps * channels + channels * count),
         lambda: tf.nn.separable_conv2d(images, depthwise, pointwise, [1, 1, 1, 1], "SAME").numpy()),
    ]


def time_layer_kinds(grid):
    """Time a standard, a grouped and a depthwise-separable layer of one shape (6_layer.py's
    last two sections), in turn; print medians, GMAC/s, and the time and work ratios to the
    standard layer, with verdicts."""
    side, channels, count, kernel_size, groups = grid.layer_kinds
    lessonkit.heading(f"Standard, grouped and depthwise-separable layers: {side}x{side}, {channels} -> {count} "
                      f"channels, {kernel_size}x{kernel_size}, tf.nn, float32")
    kinds = layer_kind_calls(side, channels, count, kernel_size, groups)
    rounds = 2 * grid.target_rounds + 1
    timings = time_in_turn([(call, ()) for _, _, call in kinds], rounds, rounds, 0.0,
                           [f"layer kinds: {label}" for label, _, _ in kinds])
    width = max(len(label) for label, _, _ in kinds) + 2
    print(f"{rounds} rounds, every layer once per round, in turn.")
    print(f"{'':<{width}}{'median':>13}{'GMAC/s':>8}  {'work':>6}  time / standard")
    standard_work = kinds[0][1]
    for (label, work, _), timing in zip(kinds, timings):
        ratio = paired_ratio(timing, timings[0])
        words = "" if label == "standard" else f", {verdict(ratio)}"
        print(f"{label:<{width}}{format_time_cell(timing):>13}{format_rate(work / timing.median):>8}  "
              f"{format_ratio(work / standard_work):>6}  {format_ratio(ratio.median)}{words}")
    return dict(zip((label for label, _, _ in kinds), timings))


def separable_sweep(grid, rates, peak):
    """Time a Gaussian kernel of every grid.kernel_sizes on a grid.separable_image square
    image with SEPARABLE_METHODS, print the tables and where the FFT overtakes each of
    the others. Returns (Sweep, {label: FFT-from size})."""
    side = grid.separable_image
    sizes = list(grid.kernel_sizes)
    lessonkit.heading(f"Separable kernels: a Gaussian on a {side}x{side} image")
    print("A K×K Gaussian is the outer product of two 1-D Gaussians of K taps: two 1-D passes")
    print("cost 2K multiply-adds per pixel instead of K².")
    result = sweep([(side, k) for k in sizes], grid, rates, SEPARABLE_METHODS, SCIPY_FFT, make_gaussian_inputs)
    print_sweep(result, [f"{k}x{k}" for k in sizes], [side * side * k * k for k in sizes], SCIPY_FFT.label, peak)
    crossovers = {}
    for method in SEPARABLE_METHODS[:3]:
        ratios = [result.ratio(SCIPY_FFT.label, method.label, i) for i in range(len(sizes))]
        states = [fft_state(ratio) for ratio in ratios]
        print(f"scipy.signal.fftconvolve against {method.label}: {crossover_words(sizes, states, method.label)}")
        crossovers[method.label] = crossover(sizes, states)[1]
    ratios = [result.ratio(SEPARABLE_METHODS[0].label, SEPARABLE_METHODS[1].label, i) for i in range(len(sizes))]
    print(f"6_layer separable / scipy.ndimage.convolve1d, two passes: {summary(ratios)}")
    return result, crossovers


def check_separable_target(grid, kernel_size=15):
    """Time the separable path, the lesson's 2-D convolve2d, scipy.signal.fftconvolve and
    two passes of scipy.ndimage.convolve1d in turn, for a Gaussian kernel on a
    grid.target_image square float64 image, and print the ratios and the verdict
    (target: separable at least SEPARABLE_TARGET times faster than convolve2d)."""
    side = grid.target_image
    lessonkit.heading(f"Separable target: {kernel_size}x{kernel_size} Gaussian on a {side}x{side} float64 image")
    arrays = make_gaussian_inputs(side, kernel_size)
    methods = [SEPARABLE_METHODS[0], SEPARABLE_METHODS[2], SCIPY_FFT, SEPARABLE_METHODS[1]]
    timings = time_in_turn([(method.convolve, arrays) for method in methods], grid.target_rounds,
                           grid.target_rounds, 0.0, [f"separable target: {method.label}" for method in methods])
    print(f"All four run in turn, {grid.target_rounds} rounds.")
    for method, timing in zip(methods, timings):
        print(f"  {method.label:<38}{format_time_cell(timing):>13}")
    separable = timings[0]
    speed_up = paired_ratio(timings[1], separable)
    print(f"  separable is {speed_up.median:.1f}x faster than 1_2D.convolve2d (IQR {speed_up.iqr:.1f}), "
          f"target ≥ {SEPARABLE_TARGET:g}x: {target_verdict(side, speed_up.median >= SEPARABLE_TARGET)}")
    for other in (2, 3):
        ratio = paired_ratio(separable, timings[other])
        print(f"  separable / {methods[other].label}: {format_ratio(ratio.median)}, {verdict(ratio)}")


def print_cores():
    """Print, for every function timed, the CPU time of the process per second of wall
    time during its samples: about 1 for one busy core, less if it waited for a core."""
    lessonkit.heading("Cores kept busy")
    print("CPU time of this process per second of wall time, over each method's samples:")
    labels = [label for label in CLOCK.wall if label]
    width = max(len(label) for label in labels) + 2
    for label in labels:
        print(f"  {label:<{width}}{CLOCK.cores(label):.2f}")
    low = [label for label in labels if CLOCK.cores(label) < 0.9]
    if low:
        print(f"Below 0.9 for {len(low)} of {len(labels)}: the process waited for a core (other work on the")
        print("machine), so their times are longer than on a quiet machine.")
    else:
        print("All at least 0.9: one core each, and the process rarely waited for it.")
    several = [label for label in labels if CLOCK.cores(label) > 1.1]
    if several:
        print("Over 1.1, so using more than one core: " + ", ".join(several))


# Plots -----------------------------------------------------------------------------------

FIGURE_SIZE = (lessonkit.README_WIDTH / 100, 5.4)  # inches at dpi 100: the README column


def draw_lines(axis, sizes, result, labels):
    """Draw one log-log line per label of `labels` on `axis`: the medians, with the
    IQR as an error bar; skipped points are left out. Returns the lines drawn."""
    lines = []
    for index, label in enumerate(labels):
        points = [(size, t) for size, t in zip(sizes, result.timings[label]) if t is not None]
        if not points:
            continue
        xs = [size for size, _ in points]
        quartiles = np.array([t.quartiles() for _, t in points])
        container = axis.errorbar(xs, quartiles[:, 1], yerr=[quartiles[:, 1] - quartiles[:, 0], quartiles[:, 2] - quartiles[:, 1]],
                                  color=f"C{index}", marker="o", markersize=4, capsize=2, label=label)
        lines.append(container.lines[0])
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xticks(sizes, [str(size) for size in sizes])
    axis.minorticks_off()
    axis.grid(True, which="major", alpha=0.3)
    return lines


def draw_slope_guide(axis, sizes, through, label):
    """A dotted grey line of slope 2 on a log-log axis, through the point `through` = (x, y)."""
    x0, y0 = through
    xs = np.array([sizes[0], sizes[-1]], dtype=float)
    axis.plot(xs, y0 * (xs / x0) ** 2, color="grey", linestyle=":", linewidth=2, label=label)


def plot_image_sweeps(grid, image_results):
    """Time against image side, one panel per kernel size, one line per method of
    PLOTTED with its IQR, and a slope-2 guide. Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(image_results), figsize=FIGURE_SIZE, sharey=True, squeeze=False)
    axes = axes[0]
    sizes = list(grid.image_sizes)
    for axis, (kernel_size, result) in zip(axes, image_results.items()):
        draw_lines(axis, sizes, result, PLOTTED)
        middle = len(sizes) // 2
        highest = max(result.timings[label][middle].median for label in PLOTTED if result.timings[label][middle])
        draw_slope_guide(axis, sizes, (sizes[middle], highest * 2), "slope 2: time ∝ N²")
        axis.set_xlabel("image side N (the image is N×N)")
        axis.set_title(f"{kernel_size}x{kernel_size} kernel")
    axes[0].set_ylabel("median time of one call (s)")
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False)
    figure.suptitle("Time against image size, float64, log-log; the dotted guide has slope 2 (time ∝ N²)")
    figure.tight_layout(rect=(0, 0.16, 1, 1))
    return figure


def plot_kernel_sweep(grid, result, crossovers):
    """Time against kernel side on one image, one line per method of PLOTTED with its
    IQR, a slope-2 guide, and a dotted line where scipy.signal.fftconvolve is faster
    than scipy.signal.convolve2d from there up. Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=FIGURE_SIZE)
    sizes = list(grid.kernel_sizes)
    draw_lines(axis, sizes, result, PLOTTED)
    last = result.timings[REFERENCE.label][-1]
    draw_slope_guide(axis, sizes, (sizes[-1], last.median * 2), "slope 2: time ∝ K²")
    mark_crossover(axis, crossovers.get("scipy"), "fftconvolve faster than\nconvolve2d", "left")
    axis.set_xlabel("kernel side K (the kernel is K×K)")
    axis.set_ylabel("median time of one call (s)")
    side = grid.kernel_sweep_image
    axis.set_title(f"{side}x{side} image, float64: direct methods grow towards K², FFT methods hardly at all",
                   fontsize=10)
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    figure.tight_layout()
    return figure


def mark_crossover(axis, kernel_size, words, side):
    """A dotted vertical line at the kernel side from which the FFT is faster, with `words`
    and "from KxK" beside it, on the `side` ("left" or "right") of the line; none when
    kernel_size is None."""
    if kernel_size is None:
        return
    axis.axvline(kernel_size, color="black", linestyle=":", linewidth=1.5)
    axis.annotate(f"{words} from {kernel_size}x{kernel_size}", xy=(kernel_size, 0.97),
                  xycoords=("data", "axes fraction"), xytext=(4 if side == "left" else -4, 0),
                  textcoords="offset points", ha=side, va="top", fontsize=9,
                  bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8})


def plot_separable_sweep(grid, result, crossovers):
    """Time against the side of a Gaussian kernel, every method of SEPARABLE_METHODS with
    its IQR, and a dotted line where the FFT is faster than the lesson's separable path
    from there up. Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=FIGURE_SIZE)
    sizes = list(grid.kernel_sizes)
    draw_lines(axis, sizes, result, [method.label for method in SEPARABLE_METHODS])
    mark_crossover(axis, crossovers.get(SEPARABLE_METHODS[0].label), "FFT faster than the\nseparable path", "right")
    axis.set_xlabel("Gaussian kernel side K (the kernel is K×K)")
    axis.set_ylabel("median time of one call (s)")
    side = grid.separable_image
    axis.set_title(f"{side}x{side} image, Gaussian kernel: two 1-D passes grow as 2K, 2-D direct as K²",
                   fontsize=10)
    axis.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    figure.tight_layout()
    return figure


@lessonkit.lesson_main
def main(argv=None):
    args = lessonkit.parse_args(
        __doc__,
        argv,
        flags={"--quick": "a small grid that runs in a minute or two", "--smoke": argparse.SUPPRESS},
    )
    grid = SMOKE if args.smoke else QUICK if args.quick else FULL
    figures = lessonkit.Figures(args)

    lessonkit.heading("How fast is a convolution?")
    print("One 'same'-size 2-D convolution of a random image, float64 unless marked f32.")
    print("All methods run in turn at each point, one sample each per round; each sweep is made")
    print(f"{grid.passes} times. Cells: median, with the interquartile range (IQR) of the samples.")
    peak = print_machine(grid)

    rates = {}
    calibrate(rates)
    image_results = image_sweeps(grid, rates, peak)
    kernel_result, crossovers = kernel_sweep(grid, rates, peak, image_results.values())

    target_times = check_targets(grid)
    print_memory_floor(grid, *target_times[3])
    print_float32(grid, [*image_results.values(), kernel_result])

    time_layer(grid)
    time_layer_kinds(grid)
    separable_result, separable_crossovers = separable_sweep(grid, rates, peak)
    check_separable_target(grid)
    print_cores()

    figures.add("bench_image_size", plot_image_sweeps(grid, image_results))
    figures.add("bench_kernel_size", plot_kernel_sweep(grid, kernel_result, crossovers))
    figures.add("bench_separable", plot_separable_sweep(grid, separable_result, separable_crossovers))
    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
