"""Exercises that check themselves: write a convolution yourself and be told what is wrong.

Each lesson ends with a few exercises, one file each in exercises/: a function to write, whose
docstring states the task, the shapes and a small example. Running the file checks it:

    python exercises/convolve_full.py             # the verdict; exit status 0 when correct
    python exercises/convolve_full.py --hint      # the first hint; --hint 2 the next one
    python exercises/convolve_full.py --solution  # a reference solution
    python selfcheck.py                           # where you stand on every exercise

In Python, check(name, function) returns the verdict. The check runs the function on small
hand-made cases, then on random ones (fixed seed), and compares each answer with the reference
solution's: arrays within |got - expected| <= 1e-6 * (1 + |expected|), whole numbers exactly,
gradients by their relative error. On the smallest case that fails, the verdict says what was
expected, what came back and, when it recognises it, which classic mistake gives that answer.

>>> print(check("transposed_output_size", lambda n, k, stride=1: n * stride))
transposed_output_size: not yet. For n = 1, k = 2, stride = 1, the answer should be 2, but your
function returned 1. That is SAME's size, n·s. With VALID padding the last stamp of the kernel
reaches k - 1 cells past its start: (n - 1)·s + k. (16 of 17 cases fail.)
"""

import argparse
import ast
import copy
import importlib.util
import inspect
import sys
import textwrap
import traceback
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
EXERCISE_FOLDER = ROOT / "exercises"

CORRECT, NOT_YET, NOT_ATTEMPTED = "correct", "not yet", "not attempted"
TOLERANCE = 1e-6  # arrays agree when |got - expected| <= TOLERANCE * (1 + |expected|)
GRADIENT_TOLERANCE = 1e-6  # a gradient whose relative error is above this has a bug
SHOWN_VALUES = 16  # arrays with more values are described by their shape, never printed whole
SEED = 0

__all__ = ["EXERCISES", "LESSON", "Verdict", "check", "solution", "hint", "hints", "stub_source", "main"]


# Reference solutions: plain loops, written to be read ------------------------------------------------


def convolve_full(x, h):
    x, h = np.asarray(x), np.asarray(h)
    N, M = len(x), len(h)
    y = np.zeros(N + M - 1, dtype=np.result_type(x, h))
    for i in range(N + M - 1):
        for m in range(N):
            if 0 <= i - m < M:  # h[i - m] exists
                y[i] += x[m] * h[i - m]
    return y


def convolve_same(x, h):
    x, h = np.asarray(x), np.asarray(h)
    N, M = len(x), len(h)
    full = np.zeros(N + M - 1, dtype=np.result_type(x, h))
    for m in range(N):
        full[m:m + M] += x[m] * h  # x[m] adds a copy of h, scaled, starting at m
    start = (min(N, M) - 1) // 2  # the middle max(N, M) values, leaning left
    return full[start:start + max(N, M)]


def correlate2d_valid(image, kernel):
    image, kernel = np.asarray(image), np.asarray(kernel)
    H, W = image.shape
    k_h, k_w = kernel.shape
    out = np.zeros((H - k_h + 1, W - k_w + 1), dtype=np.result_type(image, kernel))
    for i in range(H - k_h + 1):
        for j in range(W - k_w + 1):
            out[i, j] = np.sum(image[i:i + k_h, j:j + k_w] * kernel)  # the kernel as it is
    return out


def output_size(n, k, stride=1, padding=0, dilation=1):
    before, after = (padding, padding) if isinstance(padding, int) else padding
    span = dilation * (k - 1) + 1  # pixels the dilated kernel covers
    return (n + before + after - span) // stride + 1


def same_padding(n, k, stride=1, dilation=1):
    outputs = -(-n // stride)  # SAME promises ceil(n / stride) outputs
    span = dilation * (k - 1) + 1
    total = max((outputs - 1) * stride + span - n, 0)  # where the last window ends, minus n
    return total // 2, total - total // 2  # an odd zero goes after


def relu_with_bias(feature_map, bias):
    return np.maximum(np.asarray(feature_map) + bias, 0)


def edge_kernel():
    # Sobel x, as written for cross-correlation, is [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]:
    # right minus left. Convolution turns the kernel by 180 degrees, so write it turned.
    return np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])


def max_pool2d(x, size=2):
    x = np.asarray(x)
    rows, columns = x.shape[0] // size, x.shape[1] // size  # incomplete windows are dropped
    out = np.zeros((rows, columns), dtype=x.dtype)
    for i in range(rows):
        for j in range(columns):
            out[i, j] = x[i * size:(i + 1) * size, j * size:(j + 1) * size].max()
    return out


def conv_param_count(k_h, k_w, c_in, c_out, bias=True):
    weights = k_h * k_w * c_in * c_out  # each filter has a kernel per input channel
    return weights + (c_out if bias else 0)  # one bias per filter


def receptive_field(layers):
    field, jump = 1, 1  # one input pixel; neighbouring units 1 pixel apart
    for k, stride in layers:
        field += (k - 1) * jump
        jump *= stride
    return field


def im2col(image, kernel_shape, stride=1):
    image = np.asarray(image)
    k_h, k_w = kernel_shape
    out_h = (image.shape[0] - k_h) // stride + 1
    out_w = (image.shape[1] - k_w) // stride + 1
    rows = []
    for i in range(out_h):  # windows in reading order
        for j in range(out_w):
            window = image[i * stride:i * stride + k_h, j * stride:j * stride + k_w]
            rows.append(window.ravel())  # row by row, as a kernel ravels
    return np.array(rows)


def conv2d_backward(x, w, grad_y):
    x, w, grad_y = (np.asarray(a, dtype=float) for a in (x, w, grad_y))
    k_h, k_w = w.shape
    grad_x, grad_w = np.zeros_like(x), np.zeros_like(w)
    for i in range(grad_y.shape[0]):
        for j in range(grad_y.shape[1]):
            # y[i, j] = sum(x[i:i + k_h, j:j + k_w] * w): its gradient flows back to both
            grad_x[i:i + k_h, j:j + k_w] += grad_y[i, j] * w
            grad_w += grad_y[i, j] * x[i:i + k_h, j:j + k_w]
    return grad_x, grad_w


def transposed_output_size(n, k, stride=1):
    return (n - 1) * stride + k  # the last input's stamp starts at (n - 1)·s and covers k cells


# Verdicts -----------------------------------------------------------------------------------------


class Verdict:
    """The outcome of a check: .status is "correct", "not yet" or "not attempted", .message says
    why for a person, str() gives both as one paragraph."""

    def __init__(self, name, status, message):
        self.name, self.status, self.message = name, status, message

    def __str__(self):
        return textwrap.fill(f"{self.name}: {self.status}. {self.message}", 96,
                             break_long_words=False, break_on_hyphens=False)

    def __repr__(self):
        return f"Verdict({self.name!r}, {self.status!r})"

    def __bool__(self):
        return self.status == CORRECT


def small_text(value):
    """A tolerance or an error in few characters: 1e-6, 3e-10, 0.

    >>> small_text(1e-6), small_text(3.2e-10), small_text(0.0), small_text(0.5)
    ('1e-6', '3e-10', '0', '0.5')
    """
    if value == 0:
        return "0"
    if value >= 1e-3:
        return f"{value:.2g}"
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def number_text(value):
    """A number as a person writes it: 3, -0.5, 1.2346e-07.

    >>> number_text(np.float64(3.0)), number_text(0.123456789), number_text(True)
    ('3', '0.1235', 'True')
    """
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"


def shown(value):
    """A value written out for the verdict; arrays of more than SHOWN_VALUES values by shape only.

    >>> shown(np.array([[1, 2], [3, 4.5]])), shown(np.zeros((5, 5))), shown([(3, 1), (2, 2)])
    ('[[1, 2], [3, 4.5]]', 'an array of shape (5, 5)', '[(3, 1), (2, 2)]')
    """
    try:
        return shown_numbers(value)
    except (TypeError, ValueError):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."


def shown_numbers(value):
    """shown() for numbers and tuples of them; TypeError for anything else."""
    if isinstance(value, tuple):
        return "(" + ", ".join(shown(part) for part in value) + ")"
    if isinstance(value, list) and value and all(isinstance(part, tuple) for part in value):
        return "[" + ", ".join(shown(part) for part in value) + "]"
    array = as_numbers(value)
    if array is None:
        raise TypeError("not numbers")
    if array.ndim == 0:
        return number_text(value if np.ndim(value) == 0 and not isinstance(value, np.ndarray) else array[()])
    if array.size > SHOWN_VALUES:
        return f"an array of shape {array.shape}"

    def nested(part):
        return "[" + ", ".join(nested(p) if np.ndim(p) else number_text(p) for p in part) + "]"

    return nested(np.asarray(value))


def last_line(error):
    """The last line of a traceback: the exception's type and message, and where the learner's
    code raised it (the innermost frame outside this module)."""
    text = traceback.format_exception_only(type(error), error)[-1].strip()
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename != __file__]
    if frames:
        text += f" (line {frames[-1].lineno} of {Path(frames[-1].filename).name})"
    return text


# Comparisons: None when the answer is right, else what is wrong, for a person -------------------


def as_numbers(got):
    """got as a float array, or None when it is not an array of numbers."""
    try:
        array = np.asarray(got)
        if array.dtype.kind == "O":
            array = array.astype(float)
    except (TypeError, ValueError):
        return None
    return array.astype(float) if array.dtype.kind in "iuf" else None


def not_numbers(got):
    """What is wrong with an answer that is not an array of numbers."""
    if got is None:
        return "your function returned None: is a return statement missing?"
    return f"your function returned {shown(got)} ({type(got).__name__}), which is not an array of numbers"


def compare_arrays(got, expected, rule):
    """None when got has expected's shape and agrees within TOLERANCE; else the problem."""
    array = as_numbers(got)
    if array is None or array.ndim == 0 and expected.ndim:
        return not_numbers(got)
    if array.shape != expected.shape:
        return (f"the answer should have shape {expected.shape} ({rule}), but yours has shape {array.shape}"
                + (f": {shown(got)}" if array.size <= SHOWN_VALUES else ""))
    wrong = np.abs(array - expected) > TOLERANCE * (1 + np.abs(expected))
    if not wrong.any():
        return None
    if expected.size <= SHOWN_VALUES:
        return f"the answer should be {shown(expected)}, but your function returned {shown(got)}"
    where = tuple(int(i) for i in np.argwhere(wrong)[0])
    return (f"the answer has shape {expected.shape} and your function's too, but at index {list(where)} it "
            f"should be {number_text(expected[where])}, and yours is {number_text(array[where])} "
            f"({np.count_nonzero(wrong)} of {expected.size} values differ)")


def compare_whole(got, expected):
    """None when got is the whole number (or the tuple of whole numbers) expected."""
    if got is None:
        return not_numbers(got)
    array = as_numbers(got)
    want = np.asarray(expected)
    if array is None or array.shape != want.shape:
        noun = "a whole number" if want.ndim == 0 else f"{want.size} whole numbers"
        return f"the answer should be {shown(expected)}, {noun}, but your function returned {shown(got)}"
    if np.array_equal(array, want):
        return None
    return f"the answer should be {shown(expected)}, but your function returned {shown(got)}"


def relative_error(got, expected):
    """CS231n's relative error: the largest |a - b| / max(1e-8, |a| + |b|).

    >>> relative_error(np.array([1.0, 0.0]), np.array([1.0 + 1e-9, 0.0])) < 1e-9
    True
    """
    return float(np.max(np.abs(got - expected) / np.maximum(1e-8, np.abs(got) + np.abs(expected)), initial=0))


def compare_gradients(got, expected, rule=None):
    """None when got is a pair of arrays of expected's shapes, each within GRADIENT_TOLERANCE."""
    names = ("grad_x", "grad_w")
    if got is None:
        return not_numbers(got)
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"your function returned {shown(got)}; it should return a pair (grad_x, grad_w)"
    for name, part, want in zip(names, got, expected):
        array = as_numbers(part)
        if array is None:
            return f"{name}: " + not_numbers(part)
        if array.shape != want.shape:
            return f"{name} should have shape {want.shape} ({rule[name]}), but yours has shape {array.shape}"
    errors = [relative_error(as_numbers(part), want) for part, want in zip(got, expected)]
    for name, error, part, want in zip(names, errors, got, expected):
        if error > GRADIENT_TOLERANCE:
            values = (f": it should be {shown(want)}, but yours is {shown(part)}" if want.size <= SHOWN_VALUES
                      else "")
            return (f"{name} has relative error {small_text(error)}, and above "
                    f"{small_text(GRADIENT_TOLERANCE)} means a bug{values}")
    return None


# The exercises --------------------------------------------------------------------------------


class Exercise:
    """One exercise: its reference, cases (smallest first), how answers compare, the mistakes it
    recognises as [(explanation, detect(args, kwargs, got))], the shape rule and the hints."""

    def __init__(self, name, lesson, reference, cases, kind, mistakes, hints, rule=None, params=None):
        self.name, self.lesson, self.reference, self.kind = name, lesson, reference, kind
        self.params = params or list(inspect.signature(reference).parameters)
        self.cases = sorted(cases, key=lambda case: sum(np.size(a) for a in case[0]) + len(case[1]))
        self.mistakes, self.hints, self.rule = mistakes, hints, rule

    def compare(self, got, expected, args=(), kwargs=None):
        if self.kind == "array":
            return compare_arrays(got, np.asarray(expected), self.rule(*args, **(kwargs or {})))
        if self.kind == "gradients":
            return compare_gradients(got, expected, self.rule(*args))
        return compare_whole(got, expected)

    def describe(self, args, kwargs):
        """The case in words: 'x = [1, 2], h = [3]' or 'x of shape (9,), ...'."""
        parts = []
        for name, value in [*zip(self.params, args), *kwargs.items()]:
            text = shown(value)
            parts.append(f"{name} of shape {np.shape(value)}" if text.startswith("an array") else f"{name} = {text}")
        return ", ".join(parts)


def gives(wrong):
    """A detector: the learner's answer is what the function `wrong` returns on the case."""

    def detect(exercise, args, kwargs, got):
        try:
            value = wrong(*copy.deepcopy(args), **kwargs)
        except Exception:
            return False
        if value is None:
            return False
        return exercise.compare(got, value, args, kwargs) is None

    return detect


def shaped(shape_of):
    """A detector: the learner's array has the shape shape_of(*args, **kwargs) (and not the right one)."""

    def detect(exercise, args, kwargs, got):
        array = as_numbers(got)
        wrong = tuple(shape_of(*args, **kwargs))
        right = np.shape(exercise.reference(*copy.deepcopy(args), **kwargs))
        return array is not None and array.shape == wrong != right

    return detect


def rng_for(name):
    """The random generator of one exercise's random cases: fixed, whatever order checks run in."""
    return np.random.default_rng([SEED, sum(map(ord, name))])


def random_values(rng, shape, integers):
    """Whole numbers from -4 to 4, or floats with one decimal, easy to read in a verdict."""
    if integers:
        return rng.integers(-4, 5, size=shape)
    return np.round(rng.uniform(-3, 3, size=shape), 1)


def full_by_numpy(x, h):
    """np.convolve(x, h) in float64: the 'full' convolution, shape (N + M - 1,)."""
    return np.convolve(np.asarray(x, dtype=float), np.asarray(h, dtype=float))


def one_d_cases(name):
    """The cases of the two 1-D exercises: [((x, h), {})], kernels not symmetric, some longer than x."""
    rng = rng_for(name)
    cases = [
        ((np.array([2]), np.array([3])), {}),
        ((np.array([1, 2, 3]), np.array([1, -1])), {}),
        ((np.array([3, 4, 5]), np.array([2, 1, 0])), {}),
        ((np.array([1, 2, 3, 4, 5]), np.array([1, 2])), {}),
        ((np.array([6, 2]), np.array([1, 2, 5, 4])), {}),
        ((np.array([1, 2, 3]), np.array([0.5, 0.25])), {}),
        ((np.array([1, 2, 3, 4, 5, 6]), np.array([1, 2, 3, 4])), {}),
        ((np.array([1, 0, 2]), np.array([3, 1, 4, 1, 5])), {}),
    ]
    for count in range(6):
        N, M = rng.integers(1, 13), rng.integers(1, 7)
        cases.append(((random_values(rng, N, count % 2 == 0), random_values(rng, M, count % 2 == 0)), {}))
    return cases


def centred(full, N, M, shift=0):
    """The max(N, M) values of `full` that NumPy's 'same' keeps, moved by `shift`; None past the ends."""
    start = (min(N, M) - 1) // 2 + shift
    if start < 0 or start + max(N, M) > len(full):
        return None
    return full[start:start + max(N, M)]


def same_one_off(x, h, shift):
    """'same' centred `shift` places away from NumPy's rule."""
    return centred(full_by_numpy(x, h), len(x), len(h), shift)


def correlate_same(x, h, shift=0):
    """The 'same' cross-correlation (h not flipped), centred `shift` places from NumPy's rule."""
    return centred(full_by_numpy(x, np.asarray(h)[::-1]), len(x), len(h), shift)


def image_cases(name):
    """The cases of correlate2d_valid: [((image, kernel), {})], kernels not symmetric, none larger than the image."""
    rng = rng_for(name)
    cases = [
        ((np.array([[5]]), np.array([[2]])), {}),
        ((np.array([[1, 2, 3]]), np.array([[1, 10]])), {}),
        ((np.arange(9).reshape(3, 3), np.array([[1, 2], [3, 4]])), {}),
        ((np.arange(12).reshape(3, 4), np.array([[1, 0, -1]])), {}),
        ((np.array([[1, 2], [3, 4], [5, 6]]), np.array([[0.5], [0.25]])), {}),
        ((np.arange(20).reshape(4, 5) % 7, np.array([[1, 2, 0], [0, -1, 3]])), {}),
    ]
    for count in range(5):
        H, W = rng.integers(2, 10, size=2)
        k_h, k_w = rng.integers(1, H + 1), rng.integers(1, W + 1)
        integers = count % 2 == 0
        cases.append(((random_values(rng, (H, W), integers), random_values(rng, (k_h, k_w), integers)), {}))
    return cases


def correlate_by_numpy(image, kernel):
    """'valid' cross-correlation of image (H, W) with kernel (k_h, k_w) in float64; None when the kernel is larger."""
    image, kernel = np.asarray(image, dtype=float), np.asarray(kernel, dtype=float)
    if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        return None
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)
    return np.einsum("ijpq,pq->ij", windows, kernel)


def size_cases():
    """The cases of output_size: [((n, k), {stride, padding, dilation})], each with at least one output."""
    rng = rng_for("output_size")
    cases = [
        ((10, 3), {"stride": 1, "padding": 0, "dilation": 1}),
        ((10, 3), {"stride": 2, "padding": 0, "dilation": 1}),
        ((10, 3), {"stride": 1, "padding": 0, "dilation": 2}),
        ((5, 3), {"stride": 2, "padding": 1, "dilation": 1}),
        ((5, 3), {"stride": 1, "padding": (2, 2), "dilation": 1}),
        ((7, 3), {"stride": 2, "padding": (0, 1), "dilation": 1}),
        ((28, 5), {"stride": 1, "padding": 2, "dilation": 1}),
        ((9, 4), {"stride": 3, "padding": (1, 2), "dilation": 1}),
        ((11, 3), {"stride": 2, "padding": 1, "dilation": 2}),
    ]
    while len(cases) < 30:
        n, k, stride, dilation = int(rng.integers(3, 33)), int(rng.integers(1, 6)), *map(int, rng.integers(1, 4, 2))
        padding = int(rng.integers(0, 4)) if rng.random() < 0.5 else tuple(map(int, rng.integers(0, 4, 2)))
        if output_size(n, k, stride, padding, dilation) >= 1:
            cases.append(((n, k), {"stride": stride, "padding": padding, "dilation": dilation}))
    return cases


def pads(padding):
    """An int p or a pair as (before, after)."""
    return (padding, padding) if np.ndim(padding) == 0 else tuple(padding)


def same_cases():
    """The cases of same_padding: [((n, k), {stride, dilation})]."""
    rng = rng_for("same_padding")
    cases = [((10, 3), {"stride": 1, "dilation": 1}), ((10, 4), {"stride": 1, "dilation": 1}),
             ((10, 3), {"stride": 2, "dilation": 1}), ((10, 3), {"stride": 1, "dilation": 2}),
             ((7, 2), {"stride": 1, "dilation": 1}), ((10, 1), {"stride": 2, "dilation": 1}),
             ((5, 3), {"stride": 3, "dilation": 1}), ((8, 3), {"stride": 2, "dilation": 3})]
    for _ in range(24):
        n, k, stride, dilation = int(rng.integers(1, 30)), int(rng.integers(1, 8)), *map(int, rng.integers(1, 4, 2))
        cases.append(((n, k), {"stride": stride, "dilation": dilation}))
    return cases


def same_total(n, k, stride, dilation, outputs=None, clamp=True):
    """The zeros SAME needs in all along one axis, for `outputs` outputs (by default ceil(n / stride))."""
    outputs = -(-n // stride) if outputs is None else outputs
    total = (outputs - 1) * stride + dilation * (k - 1) + 1 - n
    return max(total, 0) if clamp else total


def split(total):
    """A total of zeros split as TensorFlow does: (before, after), an odd one after."""
    return total // 2, total - total // 2


def relu_cases():
    """The cases of relu_with_bias: [((feature_map, bias), {})], biases of both signs."""
    rng = rng_for("relu_with_bias")
    cases = [
        ((np.array([-60.0, 0.0, 30.0]), -50), {}),
        ((np.array([-60.0, 0.0, 30.0, 80.0]), -50), {}),
        ((np.array([[-2, 1], [3, -4]]), 1), {}),
        ((np.array([[-2.5, 1.5, 6.0], [3.0, -4.0, 0.5]]), -1), {}),
        ((np.array([[10, -10, 5], [0, 7, -3]]), 0.5), {}),
    ]
    for count in range(5):
        shape = tuple(rng.integers(1, 9, size=1 + count % 2))
        cases.append(((np.round(rng.normal(scale=50, size=shape), 1), round(float(rng.normal(scale=30)), 1)), {}))
    return cases


def pool_cases():
    """The cases of max_pool2d: [((x,), {size})], with negative windows and incomplete ones."""
    rng = rng_for("max_pool2d")
    cases = [
        ((np.array([[1, 5], [3, 2]]),), {"size": 2}),
        ((np.array([[-3, -5], [-4, -2]]),), {"size": 2}),
        ((np.arange(16).reshape(4, 4),), {"size": 2}),
        ((np.array([[4, 1, 0, 9], [2, 8, 3, 1], [5, 0, 6, 2], [1, 7, 2, 3]]),), {"size": 2}),
        ((np.arange(25).reshape(5, 5) % 7,), {"size": 2}),
        ((np.arange(21).reshape(3, 7) % 5,), {"size": 3}),
        ((np.arange(36).reshape(6, 6) % 11 - 5.5,), {"size": 3}),
    ]
    for count in range(5):
        size = int(rng.integers(2, 4))
        shape = tuple(rng.integers(size, 4 * size + 1, size=2))
        cases.append(((random_values(rng, shape, count % 2 == 0),), {"size": size}))
    return cases


def pooled(x, size, reduce, stride=None, keep_partial=False):
    """`reduce` of each size x size window of x (H, W), windows `stride` apart; the incomplete ones kept when
    keep_partial.
    """
    x = np.asarray(x, dtype=float)
    stride = stride or size
    if keep_partial:
        rows, columns = -(-x.shape[0] // size), -(-x.shape[1] // size)
    else:
        rows, columns = (x.shape[0] - size) // stride + 1, (x.shape[1] - size) // stride + 1
    return np.array([[reduce(x[i * stride:i * stride + size, j * stride:j * stride + size])
                      for j in range(columns)] for i in range(rows)])


def param_cases():
    """The cases of conv_param_count: [((k_h, k_w, c_in, c_out), {bias})]."""
    rng = rng_for("conv_param_count")
    cases = [((3, 3, 1, 1), {"bias": True}), ((3, 3, 3, 64), {"bias": True}), ((5, 5, 32, 64), {"bias": True}),
             ((1, 1, 64, 32), {"bias": True}), ((3, 3, 3, 64), {"bias": False}), ((3, 5, 2, 4), {"bias": True}),
             ((3, 3, 16, 8), {"bias": False})]
    for _ in range(8):
        k_h, k_w, c_in, c_out = map(int, rng.integers(1, 8, size=4) * [1, 1, 9, 9])
        cases.append(((k_h, k_w, c_in, c_out), {"bias": bool(rng.random() < 0.7)}))
    return cases


def field_cases():
    """The cases of receptive_field: [(([(k, s), ...],), {})]."""
    rng = rng_for("receptive_field")
    cases = [([(3, 1)],), ([(3, 1), (3, 1)],), ([(2, 2)],), ([(2, 2), (3, 1)],),
             ([(3, 1), (2, 2), (3, 1), (2, 2)],), ([(7, 2), (3, 2)],), ([(5, 1), (3, 3), (3, 1)],)]
    cases = [(case, {}) for case in cases]
    for _ in range(8):
        depth = int(rng.integers(2, 7))
        kernels, strides = rng.integers(1, 8, depth), rng.integers(1, 4, depth)
        cases.append((([(int(k), int(s)) for k, s in zip(kernels, strides)],), {}))
    return cases


def field_without_jump(layers):
    """The receptive field with every layer adding k - 1, as if no stride came before it."""
    return 1 + sum(k - 1 for k, _ in layers)


def field_jump_too_early(layers):
    """The receptive field with each layer's own stride counted in its own growth."""
    field, jump = 1, 1
    for k, stride in layers:
        jump *= stride
        field += (k - 1) * jump
    return field


def im2col_cases():
    """The cases of im2col: [((image, kernel_shape), {stride})]."""
    rng = rng_for("im2col")
    cases = [
        ((np.arange(6).reshape(2, 3), (2, 2)), {"stride": 1}),
        ((np.arange(9).reshape(3, 3), (2, 2)), {"stride": 1}),
        ((np.arange(12).reshape(3, 4), (2, 3)), {"stride": 1}),
        ((np.arange(16).reshape(4, 4), (2, 2)), {"stride": 2}),
        ((np.arange(25).reshape(5, 5), (3, 3)), {"stride": 2}),
        ((np.arange(20).reshape(5, 4) * 0.5, (3, 1)), {"stride": 1}),
    ]
    for count in range(5):
        H, W = rng.integers(2, 9, size=2)
        kernel_shape = (int(rng.integers(1, H + 1)), int(rng.integers(1, W + 1)))
        cases.append(((random_values(rng, (H, W), count % 2 == 0), kernel_shape), {"stride": int(rng.integers(1, 4))}))
    return cases


def window_count(image_shape, kernel_shape, stride):
    """How many windows a 'valid' layer has: out_h · out_w."""
    return ((image_shape[0] - kernel_shape[0]) // stride + 1) * ((image_shape[1] - kernel_shape[1]) // stride + 1)


def im2col_column_order(image, kernel_shape, stride=1):
    """im2col with the windows taken column by column instead of in reading order."""
    k_h, k_w = kernel_shape
    image = np.asarray(image)
    out_h, out_w = (image.shape[0] - k_h) // stride + 1, (image.shape[1] - k_w) // stride + 1
    rows = im2col(image, kernel_shape, stride).reshape(out_h, out_w, -1)
    return rows.transpose(1, 0, 2).reshape(out_h * out_w, -1)


def im2col_windows_by_column(image, kernel_shape, stride=1):
    """im2col with each window raveled column by column."""
    k_h, k_w = kernel_shape
    return im2col(image, kernel_shape, stride).reshape(-1, k_h, k_w).transpose(0, 2, 1).reshape(-1, k_h * k_w)


def backward_cases():
    """The cases of conv2d_backward: [((x, w, grad_y), {})]."""
    rng = rng_for("conv2d_backward")
    cases = [
        ((np.array([[1, 2, 3]]), np.array([[1, 10]]), np.array([[1, 1]])), {}),
        ((np.array([[1, 2, 3]]), np.array([[1, 10]]), np.array([[1, -2]])), {}),
        ((np.arange(9).reshape(3, 3), np.array([[1, 2], [3, 4]]), np.array([[1, 0], [0, -1]])), {}),
        ((np.arange(12).reshape(3, 4) % 5, np.array([[1, 0, -1], [2, 3, 0]]), np.array([[1, 2], [-1, 0.5]])), {}),
    ]
    for _ in range(5):
        H, W = rng.integers(2, 9, size=2)
        k_h, k_w = rng.integers(1, H + 1), rng.integers(1, W + 1)
        cases.append(((rng.normal(size=(H, W)), rng.normal(size=(k_h, k_w)),
                       np.round(rng.normal(size=(H - k_h + 1, W - k_w + 1)), 1)), {}))
    return cases


def backward_rule(x, w, grad_y):
    """The shape rule of grad_x and of grad_w, for the verdict."""
    return {"grad_x": "the shape of x, (H, W): a 'full' correlation of grad_y with w turned 180 degrees",
            "grad_w": "the shape of w, (k_h, k_w): a 'valid' correlation of x with grad_y"}


def grad_x_part(wrong):
    """A detector on grad_x alone: the learner's grad_x is wrong(x, w, grad_y)."""

    def detect(exercise, args, kwargs, got):
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return False
        value, part = wrong(*args), as_numbers(got[0])
        return part is not None and value is not None and part.shape == value.shape and (
            relative_error(part, value) <= GRADIENT_TOLERANCE)

    return detect


def grad_w_part(wrong):
    """A detector on grad_w alone: the learner's grad_w is wrong(x, w, grad_y)."""
    def detect(exercise, args, kwargs, got):
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return False
        value, part = wrong(*args), as_numbers(got[1])
        return part is not None and part.shape == value.shape and relative_error(part, value) <= GRADIENT_TOLERANCE

    return detect


def grad_x_unflipped(x, w, grad_y):
    """grad_x computed with w not turned: the 'full' cross-correlation of grad_y with w, shape (H, W)."""
    return conv2d_backward(x, np.asarray(w)[::-1, ::-1], grad_y)[0]


def grad_x_shape_valid(exercise, args, kwargs, got):
    """A detector: grad_x has the shape of a 'valid' correlation of grad_y with w."""
    x, w, grad_y = args
    if not isinstance(got, (tuple, list)) or len(got) != 2 or as_numbers(got[0]) is None:
        return False
    valid = (grad_y.shape[0] - w.shape[0] + 1, grad_y.shape[1] - w.shape[1] + 1)
    return as_numbers(got[0]).shape == valid != x.shape


def swapped_gradients(exercise, args, kwargs, got):
    """A detector: the pair came back as (grad_w, grad_x)."""
    x, w, _ = args
    if not isinstance(got, (tuple, list)) or len(got) != 2 or x.shape == w.shape:
        return False
    return np.shape(got[0]) == w.shape and np.shape(got[1]) == x.shape


def transposed_cases():
    """The cases of transposed_output_size: [((n, k), {stride})]."""
    rng = rng_for("transposed_output_size")
    cases = [((1, 2), {"stride": 1}), ((3, 3), {"stride": 1}), ((3, 3), {"stride": 2}), ((4, 2), {"stride": 2}),
             ((5, 4), {"stride": 3}), ((7, 1), {"stride": 2}), ((2, 5), {"stride": 4})]
    for _ in range(10):
        n, k, stride = map(int, rng.integers(1, 9, size=3))
        cases.append(((n, k), {"stride": stride}))
    return cases


NOT_FLIPPED = ("This is the cross-correlation: the kernel was not flipped. Convolution turns the kernel around "
               "before it slides, y[i] = Σ_m x[m]·h[i - m]; np.correlate is the same sum without the flip.")
CUT_TO_INTEGERS = ("The fractions were cut off: the output array was made with x's integer dtype. Make it "
                   "float, or np.result_type(x, h).")


EXERCISE_LIST = [
    Exercise(
        "convolve_full", "0_1D", convolve_full, one_d_cases("convolve_full"), "array",
        rule=lambda x, h: f"'full' keeps every position where x and h overlap: N + M - 1 = {len(x) + len(h) - 1}",
        mistakes=[
            (NOT_FLIPPED, gives(lambda x, h: full_by_numpy(x, h[::-1]))),
            (CUT_TO_INTEGERS, gives(lambda x, h: np.convolve(x, h).astype(x.dtype))),
            ("That is the 'same' length, max(N, M). 'full' keeps every position where the two overlap at "
             "all: N + M - 1 values.", shaped(lambda x, h: (max(len(x), len(h)),))),
            ("The last value is missing: the output indices run from 0 to N + M - 2, so the loop is "
             "range(N + M - 1).", shaped(lambda x, h: (len(x) + len(h) - 2,))),
        ],
        hints=[
            "Make an output of N + M - 1 zeros. For each output index i, add x[m] * h[i - m] for every m where "
            "both indices exist (0 <= m < N and 0 <= i - m < M).",
            "Equivalently: each x[m] adds a copy of h, scaled by x[m], into the output starting at index m. "
            "Check with np.convolve(x, h).",
            "If an answer comes out reversed-looking, you slid h without flipping it: that is np.correlate.",
        ],
    ),
    Exercise(
        "convolve_same", "0_1D", convolve_same, one_d_cases("convolve_same"), "array",
        rule=lambda x, h: f"'same' is as long as the longer input: max(N, M) = {max(len(x), len(h))}",
        mistakes=[
            ("The middle was found from the kernel's length alone: when the kernel is the longer input NumPy "
             "swaps the two, so 'full' is cut from index (min(N, M) - 1) // 2.",
             gives(lambda x, h: full_by_numpy(x, h)[(len(h) - 1) // 2:][:max(len(x), len(h))])),
            ("Centred one place off: NumPy's 'same' is the middle max(N, M) values of 'full', starting at "
             "index (min(N, M) - 1) // 2; when the middle falls between two values it leans left.",
             lambda *a: any(gives(lambda x, h, s=s: same_one_off(x, h, s))(*a) for s in (1, -1))),
            (NOT_FLIPPED, lambda *a: any(gives(lambda x, h, s=s: correlate_same(x, h, s))(*a) for s in (0, 1, -1))),
            ("That is the length of x, but when the kernel is the longer input, 'same' keeps its length: "
             "max(N, M).", shaped(lambda x, h: (len(x),))),
        ],
        hints=[
            "Compute 'full' first (N + M - 1 values, see convolve_full), then keep its middle max(N, M) values.",
            "The middle starts at index (len(full) - max(N, M)) // 2, which is (min(N, M) - 1) // 2; check "
            "with np.convolve(x, h, 'same') on an even kernel such as [1, 2].",
        ],
    ),
    Exercise(
        "correlate2d_valid", "1_2D", correlate2d_valid, image_cases("correlate2d_valid"), "array",
        rule=lambda image, kernel: ("'valid' keeps the windows that lie wholly inside the image: "
                                    f"(H - k_h + 1, W - k_w + 1) = ({image.shape[0] - kernel.shape[0] + 1}, "
                                    f"{image.shape[1] - kernel.shape[1] + 1})"),
        mistakes=[
            ("This is the convolution: the kernel was flipped. Cross-correlation, what TensorFlow's and Keras's "
             "layers compute, lays the kernel on each window as it is: "
             "out[i, j] = Σ image[i + u, j + v]·kernel[u, v].",
             gives(lambda image, kernel: correlate_by_numpy(image, kernel[::-1, ::-1]))),
            ("The kernel was flipped along one axis: cross-correlation uses it as it is, not turned at all.",
             lambda *a: gives(lambda i, k: correlate_by_numpy(i, k[::-1]))(*a)
             or gives(lambda i, k: correlate_by_numpy(i, k[:, ::-1]))(*a)),
            ("The rows and columns of the kernel were swapped: kernel[u, v] multiplies image[i + u, j + v], "
             "u down and v across.", gives(lambda image, kernel: correlate_by_numpy(image, kernel.T))),
            ("The last row or column of windows is missing: a window can start at H - k_h, so the loop is "
             "range(H - k_h + 1).",
             lambda e, a, k, got: as_numbers(got) is not None and as_numbers(got).ndim == 2 and (
                 as_numbers(got).shape[0] <= a[0].shape[0] - a[1].shape[0]
                 or as_numbers(got).shape[1] <= a[0].shape[1] - a[1].shape[1])),
            ("That is the 'same' shape, the image's. 'valid' keeps only the windows wholly inside the image.",
             shaped(lambda image, kernel: image.shape)),
            ("The fractions were cut off: the output array was made with the image's integer dtype.",
             gives(lambda image, kernel: correlate_by_numpy(image, kernel).astype(image.dtype))),
        ],
        hints=[
            "The output has H - k_h + 1 rows and W - k_w + 1 columns. out[i, j] is the sum of "
            "image[i:i + k_h, j:j + k_w] * kernel.",
            "No flip: that is the difference from convolution. Check with scipy.signal.correlate2d(image, kernel, "
            "'valid').",
        ],
    ),
    Exercise(
        "output_size", "2_TensorFlow", output_size, size_cases(), "whole",
        mistakes=[
            ("Ceil instead of floor: a window that would stick out past the padded input does not count, so "
             "o = floor((n + p_before + p_after - d(k - 1) - 1) / s) + 1.",
             gives(lambda n, k, stride, padding, dilation:
                   -(-(n + sum(pads(padding)) - dilation * (k - 1) - 1) // stride) + 1)),
            ("Dilation ignored: a kernel of k taps with dilation d spans d(k - 1) + 1 pixels.",
             gives(lambda n, k, stride, padding, dilation: output_size(n, k, stride, padding, 1))),
            ("The dilated kernel spans d(k - 1) + 1 pixels, not d·k.",
             gives(lambda n, k, stride, padding, dilation: (n + sum(pads(padding)) - dilation * k) // stride + 1)),
            ("Padding counted on one side only: an int p puts p zeros before and p after, 2p in all, and a pair "
             "(before, after) adds both.",
             gives(lambda n, k, stride, padding, dilation: output_size(n, k, stride, (pads(padding)[0], 0),
                                                                       dilation))),
            ("The + 1 is missing: the first window needs no step, then each step of s gives one more output.",
             gives(lambda n, k, stride, padding, dilation: output_size(n, k, stride, padding, dilation) - 1)),
            ("Not a whole number: divide with // (floor), since a window either fits or not.",
             gives(lambda n, k, stride, padding, dilation:
                   (n + sum(pads(padding)) - dilation * (k - 1) - 1) / stride + 1)),
        ],
        hints=[
            "Add the padding to n (an int p counts twice, a pair (before, after) once each), then see how far the "
            "first window's start can move: the dilated kernel covers d(k - 1) + 1 pixels.",
            "o = floor((n + p_before + p_after - d(k - 1) - 1) / s) + 1. In Python, floor division is //.",
        ],
    ),
    Exercise(
        "same_padding", "2_TensorFlow", same_padding, same_cases(), "whole",
        mistakes=[
            ("SAME's extra zero is on the wrong side: when the total is odd, TensorFlow puts the extra zero "
             "after (bottom, right): (total // 2, total - total // 2).",
             gives(lambda n, k, stride, dilation: split(same_total(n, k, stride, dilation))[::-1])),
            ("The stride was ignored: SAME promises ceil(n / s) outputs, and the last window must end at "
             "(ceil(n / s) - 1)·s + d(k - 1) + 1, so the total is that minus n.",
             gives(lambda n, k, stride, dilation: split(dilation * (k - 1)))),
            ("Dilation ignored: the dilated kernel spans d(k - 1) + 1 pixels.",
             gives(lambda n, k, stride, dilation: split(same_total(n, k, stride, 1)))),
            ("A negative total: when the windows already reach the end, no zeros are added, max(total, 0).",
             gives(lambda n, k, stride, dilation: split(same_total(n, k, stride, dilation, clamp=False)))),
            ("floor(n / s) outputs instead of SAME's ceil(n / s).",
             gives(lambda n, k, stride, dilation: split(same_total(n, k, stride, dilation, outputs=n // stride)))),
        ],
        hints=[
            "SAME gives ceil(n / s) outputs. The last window starts at (outputs - 1)·s and covers "
            "d(k - 1) + 1 pixels; the zeros needed are where it ends minus n, never below 0.",
            "Split the total in two halves; when it is odd, TensorFlow puts the extra zero after.",
        ],
    ),
    Exercise(
        "relu_with_bias", "3_image", relu_with_bias, relu_cases(), "array",
        rule=lambda feature_map, bias: "the shape of the feature map: ReLU works value by value",
        mistakes=[
            ("The bias was added after ReLU: a neuron adds the bias first, then applies its activation, "
             "ReLU(map + b).", gives(lambda m, b: np.maximum(m, 0) + b)),
            ("ReLU is missing: the answer still has negative values; a = ReLU(map + b) = max(map + b, 0).",
             gives(lambda m, b: m + b)),
            ("The bias was subtracted: the neuron computes ReLU(map + b), with b as given (here b may be "
             "negative).", gives(lambda m, b: np.maximum(m - b, 0))),
            ("The strong values were kept but not lowered by the bias: ReLU(map + b) is map + b where that is "
             "positive.", gives(lambda m, b: np.where(m + b > 0, m, 0))),
        ],
        hints=[
            "Two steps, in this order: add the bias to every value, then replace every negative value by 0.",
            "np.maximum(values, 0) is ReLU, value by value; max() of the whole array is something else.",
        ],
    ),
    Exercise(
        "edge_kernel", "4_digit", edge_kernel, [], "edge",
        mistakes=[],
        hints=[
            "Sobel x, [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], takes right minus left when it is used as written, "
            "in a cross-correlation.",
            "Convolution turns the kernel by 180 degrees before it slides: write the kernel already turned, "
            "so that after the turn it takes right minus left.",
        ],
        params=[],
    ),
    Exercise(
        "max_pool2d", "4_digit", max_pool2d, pool_cases(), "array",
        rule=lambda x, size: (f"(H // size, W // size) = ({x.shape[0] // size}, {x.shape[1] // size}): "
                              "windows of size x size side by side, the incomplete ones dropped"),
        mistakes=[
            ("Average pooling: max pooling keeps the largest value of each window, not the mean.",
             gives(lambda x, size: pooled(x, size, np.mean))),
            ("Overlapping windows: the window moved by 1, not by its size. Max pooling here takes windows side "
             "by side, stride = size.", gives(lambda x, size: pooled(x, size, np.max, stride=1))),
            ("Incomplete windows were kept: rows and columns that do not fill a window are dropped, as Keras's "
             "MaxPooling2D does (H // size rows).", gives(lambda x, size: pooled(x, size, np.max, keep_partial=True))),
            ("The maximum started at 0: a window of negative values has a negative maximum. Start from the "
             "window's first value, or use .max().", gives(lambda x, size: np.maximum(pooled(x, size, np.max), 0))),
        ],
        hints=[
            "The output has H // size rows and W // size columns; out[i, j] is the largest value of "
            "x[i*size:(i+1)*size, j*size:(j+1)*size].",
            "A slice of a NumPy array has .max(). With only NumPy calls: crop to whole windows, reshape to "
            "(rows, size, columns, size) and take the max over axes 1 and 3.",
        ],
    ),
    Exercise(
        "conv_param_count", "5_cnn", conv_param_count, param_cases(), "whole",
        mistakes=[
            ("The input channels were left out: each of the C_out filters has a k_h x k_w kernel for every "
             "one of the C_in input channels.",
             gives(lambda k_h, k_w, c_in, c_out, bias: k_h * k_w * c_out + (c_out if bias else 0))),
            ("The bias was left out: each filter has one bias, C_out in all.",
             gives(lambda k_h, k_w, c_in, c_out, bias: k_h * k_w * c_in * c_out)),
            ("The biases were counted even with bias=False.",
             gives(lambda k_h, k_w, c_in, c_out, bias: k_h * k_w * c_in * c_out + c_out)),
            ("One bias per filter and input channel: a filter adds up its channels first and has one bias, "
             "C_out biases in all.",
             gives(lambda k_h, k_w, c_in, c_out, bias: k_h * k_w * c_in * c_out + (c_in * c_out if bias else 0))),
            ("One bias for the whole layer: each filter has its own, C_out in all.",
             gives(lambda k_h, k_w, c_in, c_out, bias: k_h * k_w * c_in * c_out + (1 if bias else 0))),
        ],
        hints=[
            "A filter has a k_h x k_w kernel for each of the C_in input channels, and one bias.",
            "The layer has C_out filters: k_h·k_w·C_in·C_out weights, plus C_out biases when bias is True. "
            "Check with keras.layers.Conv2D(...).count_params().",
        ],
    ),
    Exercise(
        "receptive_field", "5_cnn", receptive_field, field_cases(), "whole",
        mistakes=[
            ("The receptive fields were added without the stride's jump: after a stride-s layer neighbouring "
             "units are s times further apart in the input, so a later k-wide window adds (k - 1)·J input "
             "pixels, J the product of the strides before it.", gives(field_without_jump)),
            ("The jump was multiplied in too early: a layer's window spans (k - 1)·J_in, with the jump of the "
             "layer below; its own stride only counts for the layers after it.", gives(field_jump_too_early)),
            ("The kernel sizes were added up: each window adds k - 1 new pixels to what one unit below sees, "
             "times the jump.", gives(lambda layers: sum(k for k, _ in layers))),
        ],
        hints=[
            "Start from one pixel, r = 1, with jump J = 1 (neighbouring units are 1 pixel apart).",
            "Each layer: r = r + (k - 1)·J, then J = J·s. The lesson's network, [(3, 1), (2, 2), (3, 1), (2, 2)], "
            "gives 10.",
        ],
    ),
    Exercise(
        "im2col", "6_layer", im2col, im2col_cases(), "array",
        rule=lambda image, kernel_shape, stride: (
            "one row per window, one column per kernel value: (out_h·out_w, k_h·k_w) = "
            f"({window_count(image.shape, kernel_shape, stride)}, {kernel_shape[0] * kernel_shape[1]})"),
        mistakes=[
            ("Each window was read column by column: ravel it row by row, as a (k_h, k_w) kernel ravels, so that "
             "im2col(image, kernel.shape) @ kernel.ravel() is the correlation.", gives(im2col_windows_by_column)),
            ("The windows were taken column by column: take them in reading order, row by row, as the output "
             "ravels.", gives(im2col_column_order)),
            ("The matrix is transposed: here each window is a row, shape (out_h·out_w, k_h·k_w).",
             gives(lambda image, kernel_shape, stride: im2col(image, kernel_shape, stride).T)),
            ("The stride was ignored: windows start every stride pixels, out = (n - k) // stride + 1 along each "
             "axis.", gives(lambda image, kernel_shape, stride: im2col(image, kernel_shape, 1))),
        ],
        hints=[
            "Loop over the window positions in reading order: i from 0 to out_h - 1, j from 0 to out_w - 1, "
            "the window starting at row i·stride, column j·stride.",
            "Each row of the answer is window.ravel(). Check: im2col(image, k.shape) @ k.ravel(), reshaped to "
            "(out_h, out_w), is scipy.signal.correlate2d(image, k, 'valid').",
        ],
    ),
    Exercise(
        "conv2d_backward", "6_layer", conv2d_backward, backward_cases(), "gradients", rule=backward_rule,
        mistakes=[
            ("grad_x used the kernel unflipped: grad_x is the 'full' correlation of grad_y with w turned by 180 "
             "degrees (the 'full' convolution of grad_y with w).", grad_x_part(grad_x_unflipped)),
            ("grad_x was computed as a 'valid' correlation: it must be 'full', so that grad_x has x's shape and "
             "every pixel of x gets the gradient of each output it fed.", grad_x_shape_valid),
            ("grad_w was computed with a flip: grad_w[u, v] = Σ grad_y[i, j]·x[i + u, j + v], the 'valid' "
             "cross-correlation of x with grad_y, neither of them turned.",
             lambda *a: grad_w_part(lambda x, w, grad_y: conv2d_backward(x, w, grad_y)[1][::-1, ::-1])(*a)
             or grad_w_part(lambda x, w, grad_y: correlate_by_numpy(x, np.asarray(grad_y)[::-1, ::-1]))(*a)),
            ("The pair is the wrong way round: return (grad_x, grad_w).", swapped_gradients),
        ],
        hints=[
            "y[i, j] = sum(x[i:i + k_h, j:j + k_w] * w). So grad_y[i, j] flows back into that window of x, "
            "weighted by w, and into w, weighted by that window of x.",
            "As correlations: grad_w = 'valid' correlation of x with grad_y; grad_x = 'full' correlation of "
            "grad_y with w turned by 180 degrees. scipy.signal has both.",
            "Check a gradient numerically: nudge one value by 1e-6, see how sum(y * grad_y) changes.",
        ],
    ),
    Exercise(
        "transposed_output_size", "6_layer", transposed_output_size, transposed_cases(), "whole",
        mistakes=[
            ("That is SAME's size, n·s. With VALID padding the last stamp of the kernel reaches k - 1 cells past "
             "its start: (n - 1)·s + k.", gives(lambda n, k, stride: n * stride)),
            ("The stride was ignored: the stamps of neighbouring inputs are s cells apart, (n - 1)·s + k.",
             gives(lambda n, k, stride: n + k - 1)),
            ("n gaps were counted: n inputs have n - 1 gaps of s between their stamps, (n - 1)·s + k.",
             gives(lambda n, k, stride: n * stride + k)),
        ],
        hints=[
            "Input i stamps the kernel into the output starting at i·s.",
            "The last input, i = n - 1, stamps from (n - 1)·s to (n - 1)·s + k - 1.",
        ],
    ),
]
EXERCISES = [exercise.name for exercise in EXERCISE_LIST]
LESSON = {exercise.name: exercise.lesson for exercise in EXERCISE_LIST}
BY_NAME = {exercise.name: exercise for exercise in EXERCISE_LIST}


def exercise_named(name):
    """The Exercise called `name`; ValueError listing the names for any other."""
    if name not in BY_NAME:
        raise ValueError(f"no exercise {name!r}: the exercises are {', '.join(EXERCISES)}")
    return BY_NAME[name]


# The edge kernel is judged by what it does, not against one answer ------------------------------

EDGE_SIDE = 7


def convolve_valid(picture, kernel):
    """'valid' 2-D convolution: the kernel turned by 180 degrees, laid on each window."""
    return correlate_by_numpy(picture, np.asarray(kernel, dtype=float)[::-1, ::-1])


def edge_pictures():
    """{what it shows: picture}: 7x7, dark 0 and bright 10."""
    rising = np.zeros((EDGE_SIDE, EDGE_SIDE))
    rising[:, EDGE_SIDE // 2 + 1:] = 10
    return {
        "a flat grey picture (every pixel 5)": np.full((EDGE_SIDE, EDGE_SIDE), 5.0),
        "a picture dark (0) on the left and bright (10) on the right": rising,
        "a picture dark (0) at the top and bright (10) at the bottom": rising.T.copy(),
    }


def judge_edge_kernel(kernel):
    """None when `kernel` convolved with the test pictures finds dark-to-bright edges to the right
    (positive there, 0 elsewhere); else (problem, mistake or None)."""
    array = as_numbers(kernel)
    if array is None or array.ndim != 2 or min(array.shape) < 1 or max(array.shape) > 5:
        return (f"your function returned {shown(kernel)}; it should return a 2-D kernel, at most 5 x 5", None)
    if not np.isfinite(array).all() or not np.any(array):
        return (f"your kernel {shown(kernel)} is all zeros or not finite", None)
    (flat_text, flat), (rising_text, rising), (lying_text, lying) = edge_pictures().items()
    scale = TOLERANCE * (1 + 10 * np.abs(array).sum())
    response = convolve_valid(flat, array)
    if np.abs(response).max() > scale:
        return (f"on {flat_text} its 'valid' convolution should be 0 everywhere, but it is {shown(response[0, 0])}",
                "A flat region must give 0: the kernel's values must add up to 0.")
    response = convolve_valid(rising, array)
    if response.max() <= scale:
        mistake = None
        if response.min() < -scale:
            mistake = ("The kernel was not flipped: as written it suits a cross-correlation (OpenCV's and "
                       "TensorFlow's filtering). Convolution turns it by 180 degrees first, which swaps its sign "
                       "here; write it turned.")
        elif np.abs(convolve_valid(lying, array)).max() > scale:
            mistake = "This kernel finds horizontal edges (top to bottom); turn it by 90 degrees."
        return (f"on {rising_text} its 'valid' convolution should be positive along the edge, but its largest "
                f"value is {number_text(response.max())}", mistake)
    if response.min() < -scale:
        return (f"on {rising_text} its 'valid' convolution should be 0 or positive everywhere, but it goes down "
                f"to {number_text(response.min())}", None)
    response = convolve_valid(lying, array)
    if np.abs(response).max() > scale:
        return (f"on {lying_text} its 'valid' convolution should be 0 everywhere, but it reaches "
                f"{number_text(np.abs(response).max())}",
                "It also answers horizontal edges: each row of the kernel must add up to 0.")
    return None


# The check ------------------------------------------------------------------------------------


def check(name, function):
    """Run the learner's `function` for exercise `name` on every case; return a Verdict."""
    exercise = exercise_named(name)
    if exercise.kind == "edge":
        return check_edge_kernel(exercise, function)
    failures, first_exception, worst = [], None, 0.0
    for number, (args, kwargs) in enumerate(exercise.cases):
        expected = exercise.reference(*copy.deepcopy(args), **kwargs)
        inputs = copy.deepcopy(args)
        try:
            got = function(*inputs, **kwargs)
        except NotImplementedError as error:
            if number == 0:
                return Verdict(name, NOT_ATTEMPTED, attempt_message(name))
            failures.append((args, kwargs, None, f"your function raised {last_line(error)}"))
            first_exception = first_exception or failures[-1]
            continue
        except Exception as error:  # the learner's code may raise anything: report it, not ours
            failures.append((args, kwargs, None, f"your function raised {last_line(error)}"))
            first_exception = first_exception or failures[-1]
            continue
        changed = [param for param, before, after in zip(exercise.params, args, inputs)
                   if not np.array_equal(np.asarray(before, dtype=object), np.asarray(after, dtype=object))]
        if changed:
            failures.append((args, kwargs, got, f"your function changed its input {changed[0]} in place; "
                             "work on a copy, or build a new array"))
            continue
        problem = exercise.compare(got, expected, args, kwargs)
        if problem:
            failures.append((args, kwargs, got, problem))
        elif exercise.kind == "gradients":
            worst = max(worst, *(relative_error(as_numbers(p), e) for p, e in zip(got, expected)))
    if not failures:
        return Verdict(name, CORRECT, correct_message(exercise, worst))
    args, kwargs, _, problem = failures[0]
    message = f"For {exercise.describe(args, kwargs)}, {problem}."
    mistake, everywhere = recognise(exercise, [f for f in failures if f[2] is not None])
    if mistake and failures[0][2] is not None:
        message += f" {mistake}"
        if not everywhere:
            message += " Other cases fail another way: mend this one first, then check again."
    count = len(failures)
    if count > 1:
        message += f" ({count} of {len(exercise.cases)} cases fail.)"
    return Verdict(name, NOT_YET, message)


def recognise(exercise, failures):
    """(explanation, whether it explains every failing case) of the catalogued mistake that gives
    the learner's answers: the one that explains every failing case, else the one that explains
    the smallest; (None, False) when none does."""
    def fits(detect, args, kwargs, got):
        try:
            return bool(detect(exercise, args, kwargs, got))
        except Exception:  # an answer of an odd type or shape is no catalogued mistake
            return False

    if not failures:
        return None, False
    for explanation, detect in exercise.mistakes:
        if all(fits(detect, args, kwargs, got) for args, kwargs, got, _ in failures):
            return explanation, True
    args, kwargs, got, _ = failures[0]
    for explanation, detect in exercise.mistakes:
        if fits(detect, args, kwargs, got):
            return explanation, False
    return None, False


def check_edge_kernel(exercise, function):
    """check() for edge_kernel, which is judged by what its convolution does."""
    try:
        kernel = function()
    except NotImplementedError:
        return Verdict(exercise.name, NOT_ATTEMPTED, attempt_message(exercise.name))
    except Exception as error:
        return Verdict(exercise.name, NOT_YET, f"Your function raised {last_line(error)}.")
    outcome = judge_edge_kernel(kernel)
    if outcome is None:
        return Verdict(exercise.name, CORRECT,
                       f"Your kernel {shown(kernel)}, by convolution, gives 0 on a flat picture and on a horizontal "
                       "edge, and a positive response only where the picture turns from dark to bright to the right.")
    problem, mistake = outcome
    return Verdict(exercise.name, NOT_YET, f"Your kernel is {shown(kernel)}: {problem}." + (f" {mistake}" if mistake
                                                                                           else ""))


def attempt_message(name):
    """The message of a stub still raising NotImplementedError."""
    return (f"The function still raises NotImplementedError: write its body in exercises/{name}.py (or in the "
            f"notebook's cell), then check again. For a hint: python exercises/{name}.py --hint, or "
            f"print(selfcheck.hint({name!r})) in Python.")


def correct_message(exercise, worst):
    """The message of a correct answer: how many cases, and the tolerance or the relative error."""
    count = len(exercise.cases)
    if exercise.kind == "gradients":
        return (f"Relative error {small_text(worst)} (the largest of {count} cases, grad_x and grad_w): correct; "
                f"above {small_text(GRADIENT_TOLERANCE)} would mean a bug.")
    if exercise.kind == "array":
        return (f"All {count} cases, hand-made and random, agree with the reference solution within "
                f"|got - expected| <= {small_text(TOLERANCE)}·(1 + |expected|).")
    return f"All {count} cases, hand-made and random, give the reference solution's answer."


def solution(name):
    """The reference solution of exercise `name`, a function."""
    return exercise_named(name).reference


def hints(name):
    """The hints of exercise `name`, a list of strings, most general first."""
    return list(exercise_named(name).hints)


def hint(name, number=1):
    """Hint `number` (from 1) of exercise `name`, with a note of how many there are."""
    all_hints = hints(name)
    number = min(max(number, 1), len(all_hints))
    more = f" (--hint {number + 1} for the next)" if number < len(all_hints) else ""
    return f"Hint {number} of {len(all_hints)}{more}: {all_hints[number - 1]}"


def stub_source(name):
    """The stub of exercise `name` as a notebook cell holds it: the imports and the function of
    exercises/NAME.py, without the file's docstring and command-line block."""
    lines = (EXERCISE_FOLDER / f"{name}.py").read_text(encoding="utf-8").splitlines()
    body = ast.parse("\n".join(lines)).body
    start = body[1].lineno - 1 if ast.get_docstring(ast.Module(body=body, type_ignores=[])) else 0
    end = next(node.lineno - 1 for node in body if isinstance(node, ast.If))
    return "\n".join(lines[start:end]).strip() + "\n"


# The command line -----------------------------------------------------------------------------


def main(name, function, argv=None):
    """What `python exercises/NAME.py [--hint [N]] [--solution]` does. Returns the exit status:
    0 when the function is correct (or a hint or the solution was asked for), 1 otherwise."""
    parser = argparse.ArgumentParser(prog=f"{name}.py", description=f"Check your {name}, or ask for help.")
    parser.add_argument("--hint", nargs="?", const=1, type=int, metavar="N", help="print hint N (default 1)")
    parser.add_argument("--solution", action="store_true", help="print a reference solution")
    args = parser.parse_args(argv)
    if args.hint is not None:
        print(textwrap.fill(hint(name, args.hint), 96, break_long_words=False, break_on_hyphens=False))
        return 0
    if args.solution:
        print(inspect.getsource(solution(name)), end="")
        return 0
    verdict = check(name, function)
    print(verdict)
    return 0 if verdict.status == CORRECT else 1


def load_learner_function(name):
    """The function in exercises/NAME.py, or a Verdict when the file cannot be loaded."""
    spec = importlib.util.spec_from_file_location(f"exercise_{name}", EXERCISE_FOLDER / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        return getattr(module, name)
    except Exception as error:
        return Verdict(name, NOT_YET, f"exercises/{name}.py could not be loaded: {last_line(error)}.")


def overview(argv=None):
    """`python selfcheck.py [NAME]`: one line per exercise, or one exercise's full verdict."""
    parser = argparse.ArgumentParser(prog="selfcheck.py", description="Check the exercises in exercises/.")
    parser.add_argument("name", nargs="?", choices=EXERCISES, help="check this one only, with its full verdict")
    args = parser.parse_args(argv)
    names = [args.name] if args.name else EXERCISES
    verdicts = []
    for name in names:
        loaded = load_learner_function(name)
        verdicts.append(loaded if isinstance(loaded, Verdict) else check(name, loaded))
    if args.name:
        print(verdicts[0])
    else:
        for verdict in verdicts:
            print(f"{LESSON[verdict.name]:<13} {verdict.name:<23} {verdict.status}")
        done = sum(verdict.status == CORRECT for verdict in verdicts)
        print(f"{done} of {len(verdicts)} correct. python exercises/NAME.py gives one verdict in full.")
    return 0 if all(verdict.status == CORRECT for verdict in verdicts) else 1


if __name__ == "__main__":
    sys.exit(overview())
