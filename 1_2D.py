"""Convolution in two dimensions, with SciPy.

In two dimensions the kernel g is a small grid. Flip it in both directions, slide it
over the image I, multiply the values that overlap and add them up:

    I'(x, y) = sum over u, v of I(x - u, y - v) * g(u, v)

The lesson works the example of the older course both ways, with our own
convolve2d and with scipy.signal.convolve2d, compares the three output sizes, shows
where 'same' puts the centre of an even-sized kernel, how SciPy pads the image at
its border (fill, wrap, symm), and computes the same convolution a third way, with
Fourier transforms (the convolution theorem). It ends with the classic picture of
an image filter: a 3x3 kernel sliding over a small binary image, drawn as a figure
and as an animation.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle
from PIL import Image
from scipy import signal

import lessonkit

MODES = ("full", "same", "valid")
BOUNDARIES = {"fill": "constant", "wrap": "wrap", "symm": "symmetric"}
SCIPY_FLOAT_TYPES = tuple(
    np.dtype(t) for t in (np.float32, np.float64, np.longdouble, np.complex64, np.complex128, np.clongdouble)
)

IMAGE_COLOUR = "#cfe2f3"
KERNEL_COLOUR = "#fce5cd"
OUTPUT_COLOUR = "#d9ead3"
PADDING_COLOUR = "#eeeeee"
WINDOW_COLOUR = "#cc0000"


def as_matrix(values, name):
    """Turn `values` into a 2-D NumPy array of shape (rows, columns), both >= 1.

    Raises ValueError, naming the argument, for anything else.

    >>> as_matrix([[1, 2, 3]], "I").shape
    (1, 3)
    """
    array = np.asarray(values)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got {array.ndim} dimensions with shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    return array


def result_dtype(image, kernel):
    """The dtype SciPy's convolve2d gives for `image` and `kernel`: their common type.

    Integers stay integers (exact, wrapping around on overflow as NumPy's do); a float
    or complex input makes the result float or complex. SciPy has no convolve2d for
    bool with bool, float16 or Python objects, so neither do we (ValueError).

    >>> result_dtype(np.array([[1]], dtype=np.uint8), np.array([[1]], dtype=np.int16))
    dtype('int16')
    >>> result_dtype(np.array([[1]]), np.array([[0.5]]))
    dtype('float64')
    """
    try:
        dtype = np.result_type(image, kernel)
    except TypeError:
        raise ValueError(f"cannot convolve {image.dtype} with {kernel.dtype}") from None
    if dtype.kind in "iu" or dtype in SCIPY_FLOAT_TYPES:
        return dtype
    raise ValueError(f"convolution of {image.dtype} with {kernel.dtype} is not supported (as in SciPy)")


def larger_first(image, kernel):
    """For 'valid': the two inputs with the one that contains the other first, and
    whether they were swapped.

    'valid' keeps the positions where the smaller input lies wholly inside the larger
    one, so one of them must be at least as large as the other in every dimension;
    like SciPy, we swap them when the kernel is the larger one, and raise ValueError
    when neither contains the other.

    >>> _, _, swapped = larger_first(np.ones((2, 2)), np.ones((3, 4)))
    >>> swapped
    True
    """
    if all(n >= k for n, k in zip(image.shape, kernel.shape)):
        return image, kernel, False
    if all(k >= n for n, k in zip(image.shape, kernel.shape)):
        return kernel, image, True
    raise ValueError(
        f"'valid' needs one input at least as large as the other in every dimension, "
        f"got shapes {image.shape} and {kernel.shape}"
    )


def output_shape(image_shape, kernel_shape, mode):
    """The shape of the convolution of an (H, W) image with an (h, w) kernel.

    'full' keeps every position where they overlap at all: (H + h - 1, W + w - 1).
    'same' keeps the image's shape: (H, W).
    'valid' keeps the positions where the kernel lies wholly inside the image:
    (H - h + 1, W - w + 1), with the image the larger input (see larger_first).

    >>> [output_shape((3, 3), (2, 2), mode) for mode in MODES]
    [(4, 4), (3, 3), (2, 2)]
    """
    (H, W), (h, w) = image_shape, kernel_shape
    if mode == "full":
        return (H + h - 1, W + w - 1)
    if mode == "same":
        return (H, W)
    if mode == "valid":
        return (H - h + 1, W - w + 1)
    raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")


def window_start(kernel_shape, mode, flipped):
    """Where the output of `mode` starts inside the 'full' output, (row, column), for a
    kernel of shape (h, w); `flipped` is True for convolution, False for correlation.

    'full' starts at (0, 0) and 'valid' at (h - 1, w - 1). 'same' keeps the centre of
    'full': SciPy starts it at ((h - 1) // 2, (w - 1) // 2) for convolve2d and at
    (h // 2, w // 2) for correlate2d. The two agree for an odd kernel; for an even
    one, which has no middle tap, they are one pixel apart.

    >>> window_start((2, 3), "same", flipped=True), window_start((2, 3), "same", flipped=False)
    ((0, 1), (1, 1))
    """
    h, w = kernel_shape
    if mode == "full":
        return (0, 0)
    if mode == "valid":
        return (h - 1, w - 1)
    if flipped:
        return ((h - 1) // 2, (w - 1) // 2)
    return (h // 2, w // 2)


def overlap(shift, image_length, output_length):
    """The output positions i, 0 <= i < output_length, whose image position i + shift
    lies inside an image of `image_length`, as two slices: (outputs, image positions).

    >>> overlap(-1, 3, 4)
    (slice(1, 4, None), slice(0, 3, None))
    """
    first = max(0, -shift)
    last = max(first, min(output_length, image_length - shift))
    return slice(first, last), slice(first + shift, last + shift)


def sliding_sum(image, kernel, start, shape):
    """Slide `kernel`, shape (h, w), over `image`, shape (H, W), without flipping it,
    multiply and add: the part of the 'full' cross-correlation, shape `shape`, whose
    top-left corner is at `start` = (row, column) of 'full'. Outside the image the
    values are 0.

    out[i, j] = sum over u, v of kernel[u, v] * image[i + row + u - (h - 1), j + column + v - (w - 1)]

    Instead of a loop over the output pixels there is a loop over the kernel's taps:
    each tap (u, v) adds the whole image, shifted and scaled by kernel[u, v], to the
    part of the output it overlaps. Only the output asked for is computed.

    >>> sliding_sum(np.array([[1, 2, 3]]), np.array([[1, 10]]), (0, 0), (1, 4))
    array([[10, 21, 32,  3]])
    """
    (H, W), (h, w) = image.shape, kernel.shape
    out = np.zeros(shape, dtype=image.dtype)
    products = np.empty(shape, dtype=image.dtype)
    for (u, v), weight in np.ndenumerate(kernel):
        rows, image_rows = overlap(start[0] + u - (h - 1), H, shape[0])
        columns, image_columns = overlap(start[1] + v - (w - 1), W, shape[1])
        tap = products[: rows.stop - rows.start, : columns.stop - columns.start]
        np.multiply(image[image_rows, image_columns], weight, out=tap)
        out[rows, columns] += tap
    return out


def prepare(image, kernel, mode):
    """Check the inputs of a 2-D convolution or correlation and bring them to their
    common dtype: returns (image, kernel, swapped), both 2-D arrays, where `swapped`
    says that 'valid' put the kernel first because it is the larger (see larger_first).

    >>> prepare([[1, 2]], [[0.5]], "same")[0]
    array([[1., 2.]])
    """
    image = as_matrix(image, "image")
    kernel = as_matrix(kernel, "kernel")
    output_shape(image.shape, kernel.shape, mode)
    dtype = result_dtype(image, kernel)
    swapped = False
    if mode == "valid":
        image, kernel, swapped = larger_first(image, kernel)
    return image.astype(dtype, copy=False), kernel.astype(dtype, copy=False), swapped


def convolve2d(image, kernel, mode="full"):
    """Convolve `image`, shape (H, W), with `kernel`, shape (h, w):

    I'(x, y) = sum over u, v of I(x - u, y - v) * g(u, v)

    Flipping the kernel in both directions turns this into a sliding sum of products
    (sliding_sum). The output shape follows `mode` (see output_shape); the values and
    dtype are those of scipy.signal.convolve2d(image, kernel, mode), which pads with
    zeros: integers stay exact integers. In 'valid' mode the larger input goes first,
    as x * y = y * x.

    >>> convolve2d([[255, 7, 3], [212, 240, 4], [218, 216, 230]], [[-1, 1]], "valid")
    array([[248,   4],
           [-28, 236],
           [  2, -14]])
    """
    image, kernel, _ = prepare(image, kernel, mode)
    start = window_start(kernel.shape, mode, flipped=True)
    shape = output_shape(image.shape, kernel.shape, mode)
    return sliding_sum(image, kernel[::-1, ::-1], start, shape)


def correlate2d(image, kernel, mode="full"):
    """Cross-correlate `image`, shape (H, W), with `kernel`, shape (h, w): the same
    sliding sum as convolve2d without flipping the kernel (complex kernels are
    conjugated). Values and dtype are those of scipy.signal.correlate2d.

    When 'valid' finds the kernel larger than the image, SciPy slides the (conjugated)
    image over the kernel and turns the result around; so do we.

    >>> correlate2d([[1, 2, 3, 4, 5]], [[1, 10]], "same")
    array([[21, 32, 43, 54,  5]])
    """
    image, kernel, swapped = prepare(image, kernel, mode)
    start = window_start(kernel.shape, mode, flipped=False)
    shape = output_shape(image.shape, kernel.shape, mode)
    if swapped:
        return sliding_sum(image, np.conj(kernel), start, shape)[::-1, ::-1]
    return sliding_sum(image, np.conj(kernel), start, shape)


def next_fast_length(n):
    """The smallest m >= n whose only prime factors are 2, 3 and 5, for n >= 1.

    Fast Fourier transforms are quickest on such lengths.

    >>> [next_fast_length(n) for n in (7, 11, 2062)]
    [8, 12, 2160]
    """
    m = n
    while True:
        rest = m
        for prime in (2, 3, 5):
            while rest % prime == 0:
                rest //= prime
        if rest == 1:
            return m
        m += 1


def fft_convolve2d(image, kernel, mode="full"):
    """Convolve `image`, shape (H, W), with `kernel`, shape (h, w), through the
    convolution theorem: the spectrum of a convolution is the product of the spectra.

    Both are padded with zeros to at least (H + h - 1, W + w - 1), rounded up to fast
    transform lengths, so that the circular convolution the transform computes has no
    wrap-around; then transform (rfft2 for real input), multiply, transform back and
    keep the window of `mode`, as convolve2d does. The result is float64 (complex128
    for complex input), equal to convolve2d's up to rounding.

    >>> fft_convolve2d([[1, 2], [3, 4]], [[1, 1]]).round(6)
    array([[1., 3., 2.],
           [3., 7., 4.]])
    """
    image, kernel, _ = prepare(image, kernel, mode)
    dtype = np.result_type(image, np.float64)
    image, kernel = image.astype(dtype, copy=False), kernel.astype(dtype, copy=False)
    full_shape = output_shape(image.shape, kernel.shape, "full")
    fast_shape = tuple(next_fast_length(n) for n in full_shape)
    if np.iscomplexobj(image):
        spectrum = np.fft.fft2(image, fast_shape) * np.fft.fft2(kernel, fast_shape)
        full = np.fft.ifft2(spectrum)
    else:
        spectrum = np.fft.rfft2(image, fast_shape) * np.fft.rfft2(kernel, fast_shape)
        full = np.fft.irfft2(spectrum, fast_shape)
    (row, column) = window_start(kernel.shape, mode, flipped=True)
    rows, columns = output_shape(image.shape, kernel.shape, mode)
    return full[row : row + rows, column : column + columns]
