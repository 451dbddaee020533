"""Convolution in two dimensions, with SciPy.

An image I has H rows and W columns; a kernel g has k_h rows and k_w columns. The
convolution I ⊛ g flips g in both directions (left-right and up-down), slides it over
I, multiplies the values that overlap and adds them up. For the output pixel in row i
and column j:

    (I ⊛ g)[i, j] = Σ_u Σ_v I[i - u, j - v] · g[u, v]

where u runs over the rows of g and v over its columns, and I counts as 0 beyond its
edges (· is ordinary multiplication).

The lesson starts with an image filter: a 3x3 kernel sliding over a small binary
image, drawn as a figure and as an animation, and what its values measure; the kernel
slides unflipped (cross-correlation, I ⋆ g), which equals I ⊛ g for a kernel that is its
own 180° turn. Then it writes the formula as a four-line loop and checks it against our
fast convolve2d and scipy.signal.convolve2d on a 3x3 grey-level image, animates the flip
of an asymmetric kernel, shows that shifting the image shifts the map (translation
equivariance), how SciPy extends the image beyond its edge (fill, wrap, symm), and the
same convolution computed through Fourier transforms (the convolution theorem), with
the wrap-around that zero padding prevents. Two sections of conventions close it: where
each library starts 'same', and the dtypes and length-1 axes of fftconvolve.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_hex
from matplotlib.patches import Rectangle
from PIL import Image
from scipy import signal

import lessonkit

MODES = ("full", "same", "valid")
BOUNDARIES = {"fill": "constant", "wrap": "wrap", "symm": "symmetric"}
SCIPY_FLOAT_TYPES = tuple(
    np.dtype(t) for t in (np.float32, np.float64, np.longdouble, np.complex64, np.complex128, np.clongdouble)
)
BAND_BYTES = 2**20

IMAGE_COLOUR = lessonkit.COLOURS["input"]
KERNEL_COLOUR = lessonkit.COLOURS["kernel"]
OUTPUT_COLOUR = lessonkit.COLOURS["output"]
PADDING_COLOUR = lessonkit.COLOURS["padding"]
WINDOW_COLOUR = lessonkit.COLOURS["window"]
OUTLINE_COLOUR = "#222222"  # the image's own edge, where no window is meant
STRONG_KERNEL_COLOUR = "#f6b26b"  # a deeper peach: a kernel tap that counts (weight 1), or a kernel on a dark picture
DIM_TEXT = "#aaaaaa"
# One tint per tap of a 2x2 kernel, so that a tap can be followed through the flip.
TAP_COLOURS = ("#f4cccc", "#fff2cc", "#d9d2e9", "#f9cb9c")


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
    or complex input makes the result float or complex. scipy.signal.convolve2d has
    no version for bool with bool, for float16 or for Python objects, so convolve2d
    and correlate2d refuse them too (ValueError); fft_convolve2d takes the first two.

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
    raise ValueError(
        f"scipy.signal.convolve2d has no version for {image.dtype} with {kernel.dtype}, and neither has this one"
    )


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
    """The shape of the convolution of an (H, W) image with a (k_h, k_w) kernel.

    'full' keeps every position where they overlap at all: (H + k_h - 1, W + k_w - 1).
    'same' keeps the image's shape: (H, W), even for a kernel larger than the image.
    'valid' keeps the positions where the kernel lies wholly inside the image:
    (H - k_h + 1, W - k_w + 1), with the image the larger input (see larger_first).

    >>> [output_shape((3, 3), (2, 2), mode) for mode in MODES]
    [(4, 4), (3, 3), (2, 2)]
    """
    (H, W), (k_h, k_w) = image_shape, kernel_shape
    if mode == "full":
        return (H + k_h - 1, W + k_w - 1)
    if mode == "same":
        return (H, W)
    if mode == "valid":
        return (H - k_h + 1, W - k_w + 1)
    raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")


def window_start(kernel_shape, mode, flipped):
    """Where the output of `mode` starts inside the 'full' output, (row, column), for a
    kernel of shape (k_h, k_w); `flipped` is True for convolution, False for correlation.

    'full' starts at (0, 0) and 'valid' at (k_h - 1, k_w - 1). 'same' keeps the centre
    of 'full': SciPy starts it at ((k_h - 1) // 2, (k_w - 1) // 2) for convolve2d and
    at (k_h // 2, k_w // 2) for correlate2d. The two agree for an odd kernel; for an
    even one, which has no middle tap, they are one pixel apart.

    >>> window_start((2, 3), "same", flipped=True), window_start((2, 3), "same", flipped=False)
    ((0, 1), (1, 1))
    """
    k_h, k_w = kernel_shape
    if mode == "full":
        return (0, 0)
    if mode == "valid":
        return (k_h - 1, k_w - 1)
    if flipped:
        return ((k_h - 1) // 2, (k_w - 1) // 2)
    return (k_h // 2, k_w // 2)


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
    """Slide `kernel`, shape (k_h, k_w), over `image`, shape (H, W), without flipping
    it, multiply and add: the part of the 'full' cross-correlation, shape `shape`,
    whose top-left corner is at `start` = (row, column) of 'full'. Outside the image
    the values are 0.

    out[i, j] = Σ_u Σ_v kernel[u, v] · image[i + row + u - (k_h - 1), j + column + v - (k_w - 1)]

    Instead of a loop over the output pixels there is a loop over the kernel's taps:
    each tap (u, v) adds the image, shifted and scaled by kernel[u, v], to the part of
    the output it overlaps. Only the output asked for is computed, a band of rows at
    a time (about BAND_BYTES each), so that the band stays in the processor's cache
    while every tap is added to it; on a large image that is about twice as fast as
    adding each tap to the whole output in turn.

    >>> sliding_sum(np.array([[1, 2, 3]]), np.array([[1, 10]]), (0, 0), (1, 4))
    array([[10, 21, 32,  3]])
    """
    (H, W), (k_h, k_w) = image.shape, kernel.shape
    out = np.zeros(shape, dtype=image.dtype)
    band_rows = max(1, BAND_BYTES // (shape[1] * out.itemsize))
    for top in range(0, shape[0], band_rows):
        band = out[top : top + band_rows]
        for (u, v), weight in np.ndenumerate(kernel):
            rows, image_rows = overlap(start[0] + top + u - (k_h - 1), H, len(band))
            columns, image_columns = overlap(start[1] + v - (k_w - 1), W, shape[1])
            band[rows, columns] += weight * image[image_rows, image_columns]
    return out


def check_inputs(image, kernel, mode):
    """Both inputs as 2-D arrays, after checking them and the mode (ValueError if not
    fit); 'valid' puts the larger first. Returns (image, kernel, swapped), where
    `swapped` says that the kernel was the larger and went first (see larger_first).

    >>> [a.shape for a in check_inputs([[1, 2]], [[1], [2]], "full")[:2]]
    [(1, 2), (2, 1)]
    """
    image = as_matrix(image, "image")
    kernel = as_matrix(kernel, "kernel")
    output_shape(image.shape, kernel.shape, mode)  # raises ValueError for an unknown mode
    if mode == "valid":
        return larger_first(image, kernel)
    return image, kernel, False


def prepare(image, kernel, mode):
    """Check the inputs of a 2-D convolution or correlation and bring them to their
    common dtype, that of SciPy's convolve2d (see result_dtype): returns
    (image, kernel, swapped), as check_inputs does.

    >>> prepare([[1, 2]], [[0.5]], "same")[0]
    array([[1., 2.]])
    """
    image, kernel, swapped = check_inputs(image, kernel, mode)
    dtype = result_dtype(image, kernel)
    return image.astype(dtype, copy=False), kernel.astype(dtype, copy=False), swapped


def convolve2d(image, kernel, mode="full"):
    """Convolve `image`, shape (H, W), with `kernel`, shape (k_h, k_w): I ⊛ g, with

    (I ⊛ g)[i, j] = Σ_u Σ_v I[i - u, j - v] · g[u, v]

    Flipping the kernel in both directions turns this into a sliding sum of products
    (sliding_sum). The output shape follows `mode` (see output_shape); the values and
    dtype are those of scipy.signal.convolve2d(image, kernel, mode), which pads with
    zeros: integers stay exact integers. In 'valid' mode the larger input goes first,
    as I ⊛ g = g ⊛ I.

    >>> convolve2d([[255, 7, 3], [212, 240, 4], [218, 216, 230]], [[-1, 1]], "valid")
    array([[248,   4],
           [-28, 236],
           [  2, -14]])
    """
    image, kernel, _ = prepare(image, kernel, mode)
    start = window_start(kernel.shape, mode, flipped=True)
    shape = output_shape(image.shape, kernel.shape, mode)
    return sliding_sum(image, kernel[::-1, ::-1], start, shape)


def convolve2d_loop(image, kernel):
    """The formula itself, one output pixel and one tap at a time: the 'full'
    convolution of `image`, shape (H, W), with `kernel`, shape (k_h, k_w), shape
    (H + k_h - 1, W + k_w - 1). Slow, but it reads as the sum it computes:

    (I ⊛ g)[i, j] = Σ_u Σ_v I[i - u, j - v] · g[u, v], over the taps where I exists.

    >>> convolve2d_loop([[1, 2, 3]], [[1, 10]])
    array([[ 1, 12, 23, 30]])
    """
    image, kernel, _ = prepare(image, kernel, "full")
    (H, W), (k_h, k_w) = image.shape, kernel.shape
    full = np.zeros((H + k_h - 1, W + k_w - 1), dtype=image.dtype)
    for i, j in np.ndindex(full.shape):
        for u, v in np.ndindex(kernel.shape):
            if 0 <= i - u < H and 0 <= j - v < W:
                full[i, j] += image[i - u, j - v] * kernel[u, v]
    return full


def correlate2d(image, kernel, mode="full"):
    """Cross-correlate `image`, shape (H, W), with `kernel`, shape (k_h, k_w): I ⋆ g,
    the same sliding sum as convolve2d without flipping the kernel (complex kernels
    are conjugated). Values and dtype are those of scipy.signal.correlate2d.

    When 'valid' finds the kernel larger than the image, SciPy slides the (conjugated)
    image over the kernel and turns the result around; so do we.

    >>> correlate2d([[1, 2, 3, 4, 5]], [[1, 10]], "same")
    array([[21, 32, 43, 54,  5]])
    """
    image, kernel, swapped = prepare(image, kernel, mode)
    start = window_start(kernel.shape, mode, flipped=False)
    shape = output_shape(image.shape, kernel.shape, mode)
    result = sliding_sum(image, np.conj(kernel), start, shape)
    return result[::-1, ::-1] if swapped else result


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


def transform_dtype(image, kernel):
    """The dtype the FFT computes in, and so the dtype of fft_convolve2d's result: the
    one scipy.signal.fftconvolve gives. Each input is brought to a type the FFT works
    in - bool and integers to float64, float16 to float32, other floats and complex
    numbers as they are - and the result is the common type of the two.

    >>> transform_dtype(np.ones((1, 1), np.float16), np.ones((1, 1), np.float32))
    dtype('float32')
    >>> transform_dtype(np.ones((1, 1), bool), np.ones((1, 1), np.float16))
    dtype('float64')
    """

    def fft_type(dtype):
        if dtype.kind in "biu":
            return np.dtype(np.float64)
        if dtype == np.float16:
            return np.dtype(np.float32)
        if dtype.kind in "fc":
            return dtype
        raise ValueError(f"the Fourier transform needs numbers, got {dtype}")

    return np.result_type(fft_type(image.dtype), fft_type(kernel.dtype))


def fft_convolve2d(image, kernel, mode="full"):
    """Convolve `image`, shape (H, W), with `kernel`, shape (k_h, k_w), through the
    convolution theorem: F(I ⊛ g) = F(I) ⊙ F(g), where F is the Fourier transform and
    ⊙ the element-wise product.

    Both are padded with zeros to at least (H + k_h - 1, W + k_w - 1), rounded up to
    fast transform lengths, so that the circular convolution the transform computes
    has no wrap-around; then transform (rfft2 for real input), multiply, transform
    back and keep the window of `mode`, as convolve2d does. Like
    scipy.signal.fftconvolve it takes bool and float16 too, and the dtype is the one
    fftconvolve gives (see transform_dtype); the values equal convolve2d's up to
    rounding. (fftconvolve skips the transform along every axis where either input
    has length 1; when no axis is left, it simply multiplies, in the inputs' own
    dtype. This one always transforms.)

    >>> fft_convolve2d([[1, 2], [3, 4]], [[1, 1]]).round(6)
    array([[1., 3., 2.],
           [3., 7., 4.]])
    """
    image, kernel, _ = check_inputs(image, kernel, mode)
    dtype = transform_dtype(image, kernel)
    image, kernel = image.astype(dtype, copy=False), kernel.astype(dtype, copy=False)
    full_shape = output_shape(image.shape, kernel.shape, "full")
    fast_shape = tuple(next_fast_length(n) for n in full_shape)
    if dtype.kind == "c":
        spectrum = np.fft.fft2(image, fast_shape) * np.fft.fft2(kernel, fast_shape)
        full = np.fft.ifft2(spectrum)
    else:
        spectrum = np.fft.rfft2(image, fast_shape) * np.fft.rfft2(kernel, fast_shape)
        full = np.fft.irfft2(spectrum, fast_shape)
    row, column = window_start(kernel.shape, mode, flipped=True)
    rows, columns = output_shape(image.shape, kernel.shape, mode)
    return full[row : row + rows, column : column + columns].astype(dtype, copy=False)


def rule(image_shape, kernel_shape, mode):
    """The output-shape rule of `mode` written out with the numbers of an (H, W) image
    and a (k_h, k_w) kernel.

    >>> rule((3, 3), (1, 2), "valid")
    'valid: (H - k_h + 1, W - k_w + 1) = (3 - 1 + 1, 3 - 2 + 1) = (3, 2)'
    """
    (H, W), (k_h, k_w) = image_shape, kernel_shape
    formulas = {
        "full": ("(H + k_h - 1, W + k_w - 1)", f"({H} + {k_h} - 1, {W} + {k_w} - 1)"),
        "same": ("(H, W)", None),
        "valid": ("(H - k_h + 1, W - k_w + 1)", f"({H} - {k_h} + 1, {W} - {k_w} + 1)"),
    }
    symbols, numbers = formulas[mode]
    shape = output_shape(image_shape, kernel_shape, mode)
    if numbers is None:
        return f"{mode}: {symbols} = {shape}"
    return f"{mode}: {symbols} = {numbers} = {shape}"


def indented(array, prefix="    "):
    """The NumPy printout of `array`, each line indented by `prefix`.

    >>> print(indented(np.array([[1, 2], [3, 4]])))
        [[1 2]
         [3 4]]
    """
    return "\n".join(prefix + line for line in str(array).splitlines())


def both_ways(image, kernel, modes):
    """Print, for each of `modes`, the shape rule and the convolution of `image`, shape
    (H, W), with `kernel`, shape (k_h, k_w), by SciPy and by us, and whether they agree."""
    print(f"g =\n{indented(kernel)}")
    for mode in modes:
        ours = convolve2d(image, kernel, mode)
        theirs = signal.convolve2d(image, kernel, mode)
        print()
        print(rule(image.shape, kernel.shape, mode))
        print(f"  scipy.signal.convolve2d(I, g, '{mode}') =\n{indented(theirs)}")
        print(f"  ours == scipy: {np.array_equal(ours, theirs) and ours.dtype == theirs.dtype}")


def window_check(name, same, full, start):
    """One line: `name`, its 'same' output `same`, shape (N,), and whether it is the
    window of `full` that starts at `start`.

    >>> window_check("demo", np.array([2, 3]), np.array([1, 2, 3]), 1)
    '  demo same:              [2 3]                  = full[1:3]: True'
    """
    matches = np.array_equal(same, full[start : start + len(same)])
    return f"  {name + ' same:':24}{str(same):22} = full[{start}:{start + len(same)}]: {matches}"


def even_kernel_centres(image, kernel):
    """Print where 'same' lands for the even 1-row `kernel`, shape (1, k_w), on the 1-row
    `image`, shape (1, W): SciPy's convolve2d and correlate2d, each as a window of its
    own 'full' output, and whether ours agree."""
    k_w = kernel.shape[1]
    conv_full = signal.convolve2d(image, kernel, "full")[0]
    corr_full = signal.correlate2d(image, kernel, "full")[0]
    conv_same = signal.convolve2d(image, kernel, "same")[0]
    corr_same = signal.correlate2d(image, kernel, "same")[0]
    print(f"I = {image}, g = {kernel}")
    print(f"full convolution:  {conv_full}")
    print(f"full correlation:  {corr_full}")
    print(window_check("scipy convolve2d", conv_same, conv_full, (k_w - 1) // 2))
    print(window_check("scipy correlate2d", corr_same, corr_full, k_w // 2))
    print(f"  ours == scipy (convolve2d, correlate2d): {np.array_equal(convolve2d(image, kernel, 'same')[0], conv_same)}, "
          f"{np.array_equal(correlate2d(image, kernel, 'same')[0], corr_same)}")


def numpy_same_centres(x, h):
    """Print where NumPy's 1-D 'same' lands for the signal x, shape (N,), and a kernel h,
    shape (M,), no longer than x: np.convolve and np.correlate both start at
    (M - 1) // 2 of their 'full' outputs."""
    M = len(h)
    conv_full = np.convolve(x, h, "full")
    corr_full = np.correlate(x, h, "full")
    print(f"x = {x}, h = {h}")
    print(f"full convolution:  {conv_full}")
    print(f"full correlation:  {corr_full}")
    print(window_check("np.convolve", np.convolve(x, h, "same"), conv_full, (M - 1) // 2))
    print(window_check("np.correlate", np.correlate(x, h, "same"), corr_full, (M - 1) // 2))
    print(window_check("scipy correlate2d", signal.correlate2d([x], [h], "same")[0], corr_full, M // 2))


def longer_kernel_same(x, h):
    """Print where 'same' lands when the kernel h, shape (M,), is longer than the signal
    x, shape (N,). NumPy's 'same' has max(N, M) values: np.convolve swaps the two inputs
    and starts at (min(N, M) - 1) // 2 of 'full', np.correlate starts at min(N, M) // 2.
    SciPy's convolve2d keeps the shape of its first input, (1, N), and starts at
    (M - 1) // 2, its rule for any kernel."""
    N, M = len(x), len(h)
    length = max(N, M)
    conv_full = convolve2d([x], [h], "full")[0]
    corr_full = correlate2d([x], [h], "full")[0]
    numpy_conv, numpy_corr = (min(N, M) - 1) // 2, min(N, M) // 2
    scipy_conv = (M - 1) // 2
    scipy_same = signal.convolve2d([x], [h], "same")[0]
    cases = [
        ("np.convolve", np.convolve(x, h, "same"), conv_full, numpy_conv, length,
         f"(min(N, M) - 1) // 2 = ({min(N, M)} - 1) // 2 = {numpy_conv}"),
        ("np.correlate", np.correlate(x, h, "same"), corr_full, numpy_corr, length,
         f"min(N, M) // 2 = {min(N, M)} // 2 = {numpy_corr}"),
        ("scipy convolve2d", scipy_same, conv_full, scipy_conv, N, f"(M - 1) // 2 = ({M} - 1) // 2 = {scipy_conv}"),
    ]
    print(f"x = {x} (N = {N}), h = {h} (M = {M})")
    print(f"full convolution:  {conv_full}")
    print(f"full correlation:  {corr_full}")
    for name, same, full, start, size, why in cases:
        matches = np.array_equal(same, full[start : start + size])
        print(f"  {name + ' same:':24}{str(same):16} = full[{start}:{start + size}]: {matches}; start {why}")
    print(f"  ours == scipy (convolve2d): {np.array_equal(convolve2d([x], [h], 'same')[0], scipy_same)}")


def convolve2d_same_padding(kernel_shape):
    """How many cells convolve2d's 'same' needs around the image for a (k_h, k_w)
    kernel: ((above, below), (left, right)), as np.pad takes them. Each output pixel of
    convolve2d's 'same' uses the image from k_h // 2 rows above it to (k_h - 1) // 2
    rows below it (see window_start), and likewise from k_w // 2 columns left to
    (k_w - 1) // 2 right: an odd extra zero goes above and left (TensorFlow's SAME puts
    it below and right).

    >>> convolve2d_same_padding((3, 2))
    ((1, 1), (1, 0))
    """
    k_h, k_w = kernel_shape
    return ((k_h // 2, (k_h - 1) // 2), (k_w // 2, (k_w - 1) // 2))


def boundary_check(image, kernel):
    """Print scipy.signal.convolve2d(image, kernel, 'same', boundary=b), shape (H, W), for
    each boundary b, next to our 'valid' convolution of the image padded the same way.
    Returns {b: SciPy's result}."""
    pad = convolve2d_same_padding(kernel.shape)
    print(f"I =\n{indented(image)}")
    results = {}
    for boundary, numpy_mode in BOUNDARIES.items():
        theirs = signal.convolve2d(image, kernel, "same", boundary=boundary)
        ours = convolve2d(np.pad(image, pad, mode=numpy_mode), kernel, "valid")
        print(f"boundary='{boundary}':\n{indented(theirs)}")
        print(f"  == ours on I padded with np.pad(mode='{numpy_mode}'), 'valid': {np.array_equal(ours, theirs)}")
        results[boundary] = theirs
    return results


def draw_grid(ax, values, colours, left=0, top=0, text_colours="black", fontsize=14):
    """Draw the 2-D array `values`, shape (rows, columns), as numbered unit cells on `ax`,
    the top-left corner at (left, top), rows going down. `colours` and `text_colours`
    are one colour for all cells or an array of them, shape (rows, columns); an empty
    string as a value leaves its cell blank. Returns the cells and their texts, each an
    array of matplotlib artists of shape (rows, columns), to change later."""
    shape = np.shape(values)
    colours = np.broadcast_to(np.asarray(colours), shape)
    text_colours = np.broadcast_to(np.asarray(text_colours), shape)
    cells = np.empty(shape, dtype=object)
    texts = np.empty(shape, dtype=object)
    for (r, c), value in np.ndenumerate(np.asarray(values)):
        cells[r, c] = ax.add_artist(
            Rectangle((left + c, top + r), 1, 1, facecolor=colours[r, c], edgecolor="#555555", linewidth=1)
        )
        texts[r, c] = ax.text(
            left + c + 0.5, top + r + 0.5, str(value), ha="center", va="center", fontsize=fontsize, color=text_colours[r, c]
        )
    return cells, texts


def grid_axes(fig, width, height):
    """One axes filling `fig`, in cell units: x from 0 to `width` to the right, y from 0
    to `height` downwards, equal scales, no frame."""
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax


def label(ax, x, y, text, fontsize=11, va="center", **style):
    """Write `text` on `ax`, centred across x, and at y as `va` says."""
    return ax.text(x, y, text, ha="center", va=va, fontsize=fontsize, **style)




def boundaries_figure(image, pad=2):
    """Three panels: `image`, shape (H, W), with a border `pad` cells wide, filled the
    way SciPy's boundary options fill, wrap and symm fill it; the image is outlined.
    Arrows under the grid show which column each left border column copies. Returns the
    matplotlib Figure.

    The border cells' texts have the ids "{boundary} r,c" (padded coordinates)."""
    H, W = image.shape
    bottom = H + 2 * pad
    sources = {
        "fill": "every cell is fillvalue, 0",
        "wrap": "copies of the opposite edge",
        "symm": "the edge mirrored, edge included",
    }
    fig, axes = plt.subplots(1, 3, figsize=(8.8, 3.9))
    fig.subplots_adjust(left=0.005, right=0.995, bottom=0.01, top=0.8, wspace=0.04)
    for ax, (boundary, numpy_mode) in zip(axes, BOUNDARIES.items()):
        padded = np.pad(image, pad, mode=numpy_mode)
        inside = np.zeros(padded.shape, dtype=bool)
        inside[pad : pad + H, pad : pad + W] = True
        _, texts = draw_grid(
            ax,
            padded,
            np.where(inside, IMAGE_COLOUR, PADDING_COLOUR),
            text_colours=np.where(inside, "black", "#555555"),
            fontsize=11,
        )
        for (r, c), text in np.ndenumerate(texts):
            if not inside[r, c]:
                text.set_gid(f"{boundary} {r},{c}")
        ax.add_patch(Rectangle((pad, pad), W, H, fill=False, edgecolor=OUTLINE_COLOUR, linewidth=2.5))
        if boundary != "fill":
            for c in range(pad):
                source = padded.shape[1] - 2 * pad + c if boundary == "wrap" else 2 * pad - 1 - c
                ax.annotate(
                    "",
                    xy=(c + 0.5, bottom + 0.1),
                    xytext=(source + 0.5, bottom + 0.1),
                    arrowprops={"arrowstyle": "->", "color": "#333333", "lw": 1.5, "shrinkA": 0, "shrinkB": 0,
                                "connectionstyle": f"arc3,rad={-0.2 if boundary == 'wrap' else -0.5}"},
                )
            label(ax, padded.shape[1] / 2, bottom + 1.75, "arrow: from a column to its copy",
                  fontsize=9)
        ax.set_xlim(-0.1, padded.shape[1] + 0.1)
        ax.set_ylim(bottom + 2.2, -0.1)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(f"boundary='{boundary}':\n{sources[boundary]}", fontsize=11)
    fig.suptitle(f"How SciPy extends the image (outlined) by {pad} cells, as a {2 * pad + 1}x{2 * pad + 1} kernel "
                 "needs in 'same'", fontsize=12)
    return fig


def is_binary(image):
    """Whether every value of `image`, shape (H, W), is 0 or 1.

    >>> is_binary(np.array([[0, 1]])), is_binary(np.array([[0, 2]]))
    (True, False)
    """
    return bool(np.isin(image, (0, 1)).all())


def image_colours(image):
    """Cell and text colours for `image`, shape (H, W): a binary image in white (1) and
    black (0), any other in one light colour with black numbers."""
    if is_binary(image):
        return np.where(image == 1, "white", "black"), np.where(image == 1, "black", "white")
    return IMAGE_COLOUR, "black"


def feature_map_colours(feature_map):
    """A green for each value of `feature_map`, shape (rows, columns), deeper for larger."""
    shades = plt.get_cmap("Greens")
    top = max(feature_map.max(), 1)
    return np.array([[to_hex(shades(0.15 + 0.5 * value / top)) for value in row] for row in feature_map])


def kernel_colours(kernel):
    """Cell and text colours for a kernel of 0s and 1s, shape (k_h, k_w): the 1s shaded,
    the 0s dimmed; any other kernel in the one kernel colour with black numbers."""
    if is_binary(kernel):
        return np.where(kernel == 1, STRONG_KERNEL_COLOUR, "#fdf6ee"), np.where(kernel == 1, "black", DIM_TEXT)
    return KERNEL_COLOUR, "black"


def feature_map_figure(image, kernel, feature_map):
    """The binary `image`, shape (H, W), the `kernel`, shape (k_h, k_w), and their
    'valid' `feature_map`, shape (H - k_h + 1, W - k_w + 1), side by side with their
    numbers: the kernel's 1s shaded and its 0s dimmed, the map shaded by value.
    Returns the matplotlib Figure."""
    H, W = image.shape
    k_h, k_w = kernel.shape
    rows, columns = feature_map.shape
    kernel_left, map_left = W + 1.5, W + k_w + 3
    fig = plt.figure(figsize=(8.8, 4.6))
    ax = grid_axes(fig, map_left + columns + 0.5, H + 2.5)
    ax.set_xlim(-0.5, map_left + columns + 0.5)
    ax.set_ylim(H + 0.5, -2)
    cells, text = image_colours(image)
    draw_grid(ax, image, cells, text_colours=text)
    kernel_cells, kernel_text = kernel_colours(kernel)
    draw_grid(ax, kernel, kernel_cells, left=kernel_left, top=(H - k_h) / 2, text_colours=kernel_text)
    draw_grid(ax, feature_map, feature_map_colours(feature_map), left=map_left, top=(H - rows) / 2)
    label(ax, W / 2, -0.5, "image I (1 white, 0 black)", fontsize=12)
    label(ax, kernel_left + k_w / 2, (H - k_h) / 2 - 0.5, "kernel g", fontsize=12)
    label(ax, map_left + columns / 2, (H - rows) / 2 - 0.5, "feature map I ⋆ g", fontsize=12)
    label(ax, W + 0.75, H / 2, "⋆", fontsize=26)
    label(ax, kernel_left + k_w + 0.75, H / 2, "=", fontsize=30)
    label(ax, (map_left + columns) / 2, -1.4, "An image filter: slide the kernel over the image, multiply, add up",
          fontsize=13)
    return fig


def rgb_pixels(fig):
    """What the canvas of the matplotlib figure `fig` holds now, as an array of shape
    (height, width, 3), dtype uint8."""
    return np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy()


def to_shared_palette(pictures):
    """PIL images in palette mode, one per picture of shape (height, width, 3), all with
    one palette of at most 256 colours chosen for all of them together.

    A GIF holds at most 256 colours per frame. Choosing them once, for the pictures
    stacked into one tall image, is much quicker than letting the GIF writer choose
    them frame by frame, and keeps each colour the same from frame to frame.

    >>> frames = to_shared_palette([np.zeros((2, 3, 3), np.uint8), np.full((2, 3, 3), 255, np.uint8)])
    >>> [(frame.mode, frame.size) for frame in frames]
    [('P', (3, 2)), ('P', (3, 2))]
    """
    height, width, _ = pictures[0].shape
    stacked = Image.fromarray(np.concatenate(pictures))
    indexed = stacked.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    return [indexed.crop((0, k * height, width, (k + 1) * height)) for k in range(len(pictures))]



def sum_lines(products):
    """The sum of `products`, shape (k_h, k_w), written out one row per line, negative
    terms in brackets.

    >>> print(sum_lines(np.array([[1, 0], [3, -4]])))
    1 + 0
    + 3 + (-4)
    = 0
    """
    rows = [" + ".join(f"({p})" if p < 0 else str(p) for p in row) for row in products]
    return "\n+ ".join(rows) + f"\n= {products.sum()}"


def sliding_durations(count):
    """Milliseconds per frame of a sliding animation of `count` frames: the first steps
    slow, to check each product and the sum, then quicker (the last frame is held
    longer by lessonkit.Figures.add_animation).

    >>> sliding_durations(5)
    [4000, 3000, 2000, 1200, 1200]
    """
    return ([4000, 3000, 2000] + [1200] * count)[:count]


def sliding_frames(image, kernel, flip=False):
    """The kernel, shape (k_h, k_w), sliding over `image`, shape (H, W), one frame per
    value of the 'valid' output, in reading order, as PIL images of one size and one
    palette: the window on the image with the weight each pixel is multiplied by, the
    element-wise products and their sum, and the output filled in up to that value.

    Without `flip` the kernel slides as given: the feature map of an image filter,
    I ⋆ g (the same as I ⊛ g for a kernel that is its own flip); a kernel of 0s and
    1s has its 1s shaded and its x0 taps dimmed, and the map is shaded by value as in
    feature_map_figure. With `flip` two more panels show the kernel as given and
    turned by 180 degrees, each tap in its own tint wherever it goes, and the flipped
    kernel slides: the convolution I ⊛ g. A binary image is drawn in white and black.

    Returns (frames, states, text_px): `states` holds, for each frame, the window's
    top-left corner, the output cell and its value as {"window": (r, c), "cell":
    (r, c), "value": v}; `text_px` is the height in pixels of the smallest text.

    The parts that stay put are drawn once and kept as a background; each step adds
    its output cell to that background and draws only the moving parts on top
    (matplotlib's "blitting")."""
    H, W = image.shape
    k_h, k_w = kernel.shape
    weights = kernel[::-1, ::-1] if flip else kernel
    output = correlate2d(image, weights, "valid")
    rows, columns = output.shape
    if flip:
        tints = np.array(TAP_COLOURS[: kernel.size], dtype=object).reshape(kernel.shape)
        weight_cells, weight_text = tints[::-1, ::-1], "black"
        map_colours = np.full(output.shape, OUTPUT_COLOUR)
    else:
        weight_cells, weight_text = kernel_colours(kernel)
        map_colours = feature_map_colours(output)
    weight_cells = np.broadcast_to(np.asarray(weight_cells, dtype=object), kernel.shape)
    weight_text = np.broadcast_to(np.asarray(weight_text, dtype=object), kernel.shape)
    image_left = 2 * k_w + 2.5 if flip else 0
    products_left = image_left + W + 1
    map_left = products_left + k_w + 1.5
    bottom = max(H, k_h + 0.3 + 0.4 * (k_h + 1)) + 0.5  # below the image and the k_h + 1 lines of the sum
    unit = 0.6
    dpi = 80
    fig = plt.figure(figsize=(unit * (map_left + columns + 1), unit * (bottom + 2)), dpi=dpi)
    ax = grid_axes(fig, 1, 1)
    ax.set_xlim(-0.5, map_left + columns + 0.5)
    ax.set_ylim(bottom, -2)
    cells, text = image_colours(image)
    draw_grid(ax, image, cells, text_colours=text, left=image_left)
    if flip:
        draw_grid(ax, kernel, tints)
        draw_grid(ax, weights, weight_cells, left=k_w + 1)
        label(ax, k_w / 2, -0.5, "g as given")
        label(ax, k_w + 1 + k_w / 2, -0.5, "g flipped")
        label(ax, k_w + 0.5, k_h / 2, "→", fontsize=20)
        label(ax, k_w + 0.5, k_h + 0.6, "turned 180°", fontsize=11, va="top")
    _, product_texts = draw_grid(ax, np.zeros_like(kernel), weight_cells, left=products_left,
                                 text_colours=weight_text)
    map_cells, map_texts = draw_grid(ax, np.full(output.shape, ""), "white", left=map_left)
    label(ax, image_left + W / 2, -0.5, "image I, g flipped on it" if flip else "image I, kernel weights on it")
    label(ax, products_left + k_w / 2, -0.5, "products, summed")
    label(ax, map_left + columns / 2, -0.5, "I ⊛ g ('valid')" if flip else "feature map I ⋆ g")
    title = label(ax, (map_left + columns) / 2, -1.4, "", fontsize=14)
    total = label(ax, products_left + k_w / 2, k_h + 0.3, "", fontsize=13, va="top", linespacing=1.3)
    window = ax.add_patch(Rectangle((0, 0), k_w, k_h, fill=False, edgecolor=WINDOW_COLOUR, linewidth=3))
    current = ax.add_patch(Rectangle((map_left, 0), 1, 1, fill=False, edgecolor=WINDOW_COLOUR, linewidth=3))
    weight_texts = []
    for (u, v), weight in np.ndenumerate(weights):
        counts = flip or weight != 0
        weight_texts.append((u, v, label(
            ax, 0, 0, f"×{weight}", fontsize=12, color=WINDOW_COLOUR if counts else "#888888",
            fontweight="bold" if counts else "normal",
            bbox={"facecolor": weight_cells[u, v] if flip else "white", "edgecolor": "none", "pad": 0.6},
        )))
    moving = [current, window, *(text for _, _, text in weight_texts), *product_texts.flat, total, title]
    for artist in moving:
        artist.set_animated(True)
    fig.canvas.draw()
    text_px = lessonkit.smallest_text_px(fig, dpi)
    pictures, states = [], []
    for (r, c), value in np.ndenumerate(output):
        map_cells[r, c].set_facecolor(map_colours[r, c])
        map_texts[r, c].set_text(str(value))
        ax.draw_artist(map_cells[r, c])
        ax.draw_artist(map_texts[r, c])
        background = fig.canvas.copy_from_bbox(fig.bbox)
        products = image[r : r + k_h, c : c + k_w] * weights
        window.set_xy((image_left + c, r))
        for u, v, text in weight_texts:
            text.set_position((image_left + c + v + 0.5, r + u + 0.8))
        for (u, v), product in np.ndenumerate(products):
            product_texts[u, v].set_text(str(product))
        total.set_text(sum_lines(products))
        current.set_xy((map_left + c, r))
        where = f"rows {r}-{r + k_h - 1}, columns {c}-{c + k_w - 1}"
        step = f"Step {len(pictures) + 1} of {output.size}"
        if flip:
            title.set_text(f"{step}: g flipped over {where} of I gives {value}")
        else:
            title.set_text(f"{step}: the window at row {r}, column {c} gives {value}")
        for artist in moving:
            ax.draw_artist(artist)
        pictures.append(rgb_pixels(fig))
        states.append({"window": (r, c), "cell": (r, c), "value": int(value)})
        fig.canvas.restore_region(background)
    plt.close(fig)
    return to_shared_palette(pictures), states, text_px


def theorem_figure(image, kernel):
    """The convolution theorem in eight panels: the `image`, shape (H, W), and the
    `kernel`, shape (k_h, k_w), zero-padded to the 'full' shape P = (H + k_h - 1,
    W + k_w - 1); their spectra |F(I)| and |F(g)| and the product of the spectra (log
    scale, zero frequency in the middle); the inverse transform of the product, which
    is I ⊛ g; the same without padding, a circular convolution of shape (H, W); and
    its difference from the true result, where the far edge wraps round. Returns the
    matplotlib Figure."""
    H, W = image.shape
    padded_shape = output_shape(image.shape, kernel.shape, "full")
    image_spectrum = np.fft.fft2(image, padded_shape)
    kernel_spectrum = np.fft.fft2(kernel, padded_shape)
    product = image_spectrum * kernel_spectrum
    result = np.real(np.fft.ifft2(product))
    circular = np.real(np.fft.ifft2(np.fft.fft2(image) * np.fft.fft2(kernel, image.shape)))
    wrapped = circular - result[:H, :W]
    padded_kernel = np.zeros(padded_shape)
    padded_kernel[: kernel.shape[0], : kernel.shape[1]] = kernel

    def spectrum(values):
        return np.log1p(np.abs(np.fft.fftshift(values)))

    limit = max(np.abs(wrapped).max(), 1e-12)
    panels = [
        (np.pad(image, ((0, padded_shape[0] - H), (0, padded_shape[1] - W))), "gray", f"I, padded to {padded_shape}",
         None),
        (padded_kernel, "gray", f"g ({kernel.shape[0]}x{kernel.shape[1]}), padded", None),
        (spectrum(image_spectrum), "magma", "|F(I)|, log scale", None),
        (spectrum(kernel_spectrum), "magma", "|F(g)|, log scale", None),
        (spectrum(product), "magma", "|F(I) ⊙ F(g)|", None),
        (result, "gray", "inverse: I ⊛ g", None),
        (circular, "gray", f"no padding: {H}x{W},\ncircular", None),
        (wrapped, lessonkit.SIGNED_COLOURMAP, "circular - true:\nthe wrap-around", limit),
    ]
    fig, axes = plt.subplots(2, 4, figsize=(8.8, 5.2))
    fig.subplots_adjust(left=0.01, right=0.92, bottom=0.02, top=0.82, wspace=0.08, hspace=0.35)
    for ax, (values, colours, title, signed) in zip(axes.flat, panels):
        if signed is None:
            ax.imshow(values, cmap=colours, interpolation="nearest")
        else:
            shown = ax.imshow(values, cmap=colours, vmin=-signed, vmax=signed, interpolation="nearest")
            bar = fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.03)
            bar.ax.tick_params(labelsize=9)
            bar.set_label("difference", fontsize=9)
        ax.set_title(title, fontsize=10)
        if values is padded_kernel:
            ax.add_patch(Rectangle((-0.5, -0.5), kernel.shape[1], kernel.shape[0], fill=False,
                                   edgecolor=STRONG_KERNEL_COLOUR, linewidth=2.5))
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("The convolution theorem: transform, multiply the spectra, transform back.\n"
                 "Without zero padding the blur that leaves the right edge comes back on the left.", fontsize=11)
    return fig


def theorem_example():
    """The picture of the convolution theorem: a 32x32 image, zero with a bright
    square and a bright bar near the right edge, and a 1x9 horizontal moving average
    (a motion blur). Returns (image, kernel).

    >>> [a.shape for a in theorem_example()]
    [(32, 32), (1, 9)]
    """
    image = np.zeros((32, 32))
    image[10:20, 4:14] = 1
    image[4:28, 28:31] = 1
    return image, np.full((1, 9), 1 / 9)


def shifted_map_check(image, kernel, shift):
    """Shift `image`, shape (H, W), down and right by `shift` = (a, b) with np.roll, and
    compare the 'valid' maps of the shifted and the original image with `kernel`.
    Returns (away_from_the_border, everywhere): whether the shifted map, from row a
    and column b on, equals the original map moved by (a, b) (the windows there hold
    no pixels the roll brought round from the far edge), and whether the whole of it
    does.

    >>> shifted_map_check(np.arange(20).reshape(4, 5) % 7, np.array([[1, 2]]), (1, 2))
    (True, False)
    """
    a, b = shift
    original = convolve2d(image, kernel, "valid")
    shifted = convolve2d(np.roll(image, shift, axis=(0, 1)), kernel, "valid")
    rows, columns = original.shape
    away = np.array_equal(shifted[a:, b:], original[: rows - a, : columns - b])
    return away, np.array_equal(shifted, np.roll(original, shift, axis=(0, 1)))


def image_filter(figures):
    """README: "Image filter". A 3x3 kernel slides over a binary image; its feature map,
    what the values measure, a figure and an animation."""
    lessonkit.heading("Image filter")
    binary = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]])
    kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    (H, W), (k_h, k_w) = binary.shape, kernel.shape
    feature_map = correlate2d(binary, kernel, "valid")
    print(f"A binary image I (1 white, 0 black) of H = {H} rows and W = {W} columns:\n{indented(binary)}")
    print(f"kernel g of k_h = {k_h} rows and k_w = {k_w} columns:\n{indented(kernel)}")
    print(f"feature map I ⋆ g, {rule(binary.shape, kernel.shape, 'valid')}:\n{indented(feature_map)}")
    print(f"  == scipy.signal.correlate2d: {np.array_equal(feature_map, signal.correlate2d(binary, kernel, 'valid'))}")
    print(f"g turned 180° is g: {np.array_equal(kernel[::-1, ::-1], kernel)}, so the convolution I ⊛ g, which turns "
          f"g first, is the same map: {np.array_equal(feature_map, convolve2d(binary, kernel, 'valid'))}")
    patches = {"the X itself": kernel, "an all-white patch": np.ones_like(kernel), "an all-black patch": np.zeros_like(kernel)}
    scores = ", ".join(f"{name} {np.sum(patch * kernel)}" for name, patch in patches.items())
    print(f"Scores: {scores}.")
    print(f"The weights sum to {kernel.sum()}, not 0, so every white pixel under a 1 adds to the score:")
    print("the kernel measures overlap with the X, not a match.")
    zero_sum = np.where(kernel == 1, 4, -5)
    scores = ", ".join(f"{name} {np.sum(patch * zero_sum)}" for name, patch in patches.items())
    print(f"Weights that sum to {zero_sum.sum()}, 4 on the X and -5 elsewhere, tell them apart:\n{indented(zero_sum)}")
    matches = correlate2d(binary, zero_sum, "valid")
    print(f"Scores: {scores}. Its feature map:\n{indented(matches)}")
    r, c = np.unravel_index(np.argmax(matches), matches.shape)
    window = binary[r : r + k_h, c : c + k_w]
    on_x, off_x = int(np.sum(window * kernel)), int(np.sum(window * (1 - kernel)))
    print(f"The best window, at row {r}, column {c}, scores {matches.max()} = 4·{on_x} - 5·{off_x}: {on_x} of the "
          f"X's {kernel.sum()} pixels are white, and {off_x} of the {kernel.size - kernel.sum()} around them.")
    figures.add("2d_feature_map", feature_map_figure(binary, kernel, feature_map))
    frames, _, _ = sliding_frames(binary, kernel)
    figures.add_animation("2d_sliding", frames, frame_ms=sliding_durations(len(frames)))


def two_d_convolution_with_scipy(figures):
    """README: "2-D convolution with SciPy". The formula, as a loop and as the fast
    convolve2d; a 3x3 image convolved with two kernels in each mode, by us and by
    scipy.signal.convolve2d; an animation of the flip of an asymmetric kernel."""
    lessonkit.heading("2-D convolution with SciPy")
    print("I ⊛ g, the convolution of an image I (H rows, W columns) with a kernel g (k_h rows, k_w columns):")
    print("  (I ⊛ g)[i, j] = Σ_u Σ_v I[i - u, j - v] · g[u, v]")
    print("i and j are the row and column of the output pixel; u and v run over the rows and columns of g.")
    print("As in 1-D, g is flipped (left-right and up-down), slid over I, and at each place the")
    print("overlapping values are multiplied and added up. Beyond the edge of I the values count as 0.")
    print()
    image = np.array([[255, 7, 3], [212, 240, 4], [218, 216, 230]])
    edge, square = np.array([[-1, 1]]), np.array([[-1, 1], [2, 3]])
    print(f"I =\n{indented(image)}")
    for kernel in (edge, square):
        loop = convolve2d_loop(image, kernel)
        print(f"g = {kernel.tolist()}: convolve2d_loop(I, g) == convolve2d(I, g, 'full') == scipy: "
              f"{np.array_equal(loop, convolve2d(image, kernel)) and np.array_equal(loop, signal.convolve2d(image, kernel))}")
    rng = np.random.default_rng(0)
    agree = all(
        np.array_equal(convolve2d_loop(a, g), convolve2d(a, g))
        for a, g in ((rng.integers(-9, 9, rng.integers(1, 9, 2)), rng.integers(-9, 9, rng.integers(1, 5, 2)))
                     for _ in range(20))
    )
    print(f"  and on 20 random integer images and kernels of random shapes: {agree}")
    print()
    print("With g = [[-1  1]], flipped to [[ 1 -1]], each value is a pixel minus its right neighbour:")
    print("large where the brightness changes along a row, near 0 where it does not.")
    both_ways(image, edge, ("valid", "full"))
    full, valid = convolve2d(image, edge, "full"), convolve2d(image, edge, "valid")
    k_h, k_w = edge.shape
    print(f"The formula counts i and j in 'full': at i = j = 0 it is I[0, 0]·g[0, 0] = {image[0, 0]}·({edge[0, 0]}) = "
          f"{full[0, 0]}.")
    print(f"'valid' drops the first k_h - 1 = {k_h - 1} rows and k_w - 1 = {k_w - 1} columns: "
          f"valid[i, j] = full[i + {k_h - 1}, j + {k_w - 1}], so valid[0, 0] = full[0, 1] = {valid[0, 0]}: "
          f"{np.array_equal(valid, full[k_h - 1 : full.shape[0] - k_h + 1, k_w - 1 : full.shape[1] - k_w + 1])}")
    print()
    both_ways(image, square, ("full", "same", "valid"))
    print()
    flipped = square[::-1, ::-1]
    print(f"This g is neither its own flip nor minus it; g[::-1, ::-1] =\n{indented(flipped)}")
    print(f"so the flip shows: convolve2d(I, g, 'valid') == correlate2d(I, g[::-1, ::-1], 'valid'): "
          f"{np.array_equal(convolve2d(image, square, 'valid'), correlate2d(image, flipped, 'valid'))}")
    print(f"  and without the flip, correlate2d(I, g, 'valid') =\n{indented(correlate2d(image, square, 'valid'))}")
    frames, _, _ = sliding_frames(image, square, flip=True)
    figures.add_animation("2d_flip", frames, frame_ms=sliding_durations(len(frames)))


def shift_the_image_and_the_map_shifts(figures):
    """README: "Shift the image, and the map shifts". Translation equivariance, checked
    with np.roll away from the border."""
    lessonkit.heading("Shift the image, and the map shifts")
    rng = np.random.default_rng(1)
    image, kernel, shift = rng.integers(0, 10, (7, 8)), np.array([[-1, 1], [2, 3]]), (2, 3)
    a, b = shift
    original = convolve2d(image, kernel, "valid")
    moved = convolve2d(np.roll(image, shift, axis=(0, 1)), kernel, "valid")
    away, everywhere = shifted_map_check(image, kernel, shift)
    print(f"A random {image.shape} image of digits 0-9, g = {kernel.tolist()}, shifted down {a} and right {b} "
          f"with np.roll:")
    print(f"  map of the shifted image, from row {a} and column {b} on, == the map moved by ({a}, {b}): {away}")
    print(f"  the whole map == the map moved by ({a}, {b}): {everywhere} (the roll brought the far edge round)")
    strongest = np.unravel_index(np.argmax(original), original.shape)
    moved_to = np.unravel_index(np.argmax(moved[a:, b:]), moved[a:, b:].shape)
    print(f"  the strongest response moves from {tuple(map(int, strongest))} to "
          f"{(int(moved_to[0]) + a, int(moved_to[1]) + b)}")
    cases = [(rng.integers(0, 10, (rng.integers(4, 12), rng.integers(4, 12))), rng.integers(-3, 4, (2, 3)),
              tuple(rng.integers(0, 3, 2))) for _ in range(20)]
    print(f"  and for 20 random images, kernels and shifts: {all(shifted_map_check(*case)[0] for case in cases)}")


def boundaries_fill_wrap_and_symm(figures):
    """README: "Boundaries: fill, wrap and symm". SciPy's three ways of extending the
    image beyond its edge, each checked against np.pad and a 'valid' convolution."""
    lessonkit.heading("Boundaries: fill, wrap and symm")
    image = np.arange(1, 37).reshape(6, 6)
    kernel = np.ones((5, 5), dtype=int)
    print("Near the edge the kernel hangs over the image; SciPy's `boundary` says what it finds there:")
    print("  fill: a constant, `fillvalue`, 0 unless you say otherwise (the default).")
    print("  wrap: the image repeats, as if rolled into a tube both ways: past the right edge comes the left column.")
    print("  symm: the image is mirrored at its edge, the edge pixel repeated: ... b a | a b c | c b ...")
    print("g is a 5x5 box of ones: each value of 'same' is the sum of the 25 pixels around a pixel.")
    results = boundary_check(image, kernel)
    inner = results["fill"][2:4, 2:4]
    print(f"Only the 2x2 pixels in the middle have windows wholly inside I; there all three agree: "
          f"{all(np.array_equal(result[2:4, 2:4], inner) for result in results.values())}")
    print(f"The corner differs: fill {results['fill'][0, 0]}, wrap {results['wrap'][0, 0]}, "
          f"symm {results['symm'][0, 0]}")
    figures.add("2d_boundaries", boundaries_figure(image, pad=2))


def the_convolution_theorem(figures):
    """README: "The convolution theorem". Convolution through Fourier transforms,
    checked against convolve2d and scipy.signal.fftconvolve, and the wrap-around
    without padding, in numbers and in a picture."""
    lessonkit.heading("The convolution theorem")
    print("The Fourier transform F turns convolution into multiplication: F(I ⊛ g) = F(I) ⊙ F(g),")
    print("where ⊙ multiplies the two spectra element by element.")
    print("So: pad I and g with zeros to at least (H + k_h - 1, W + k_w - 1) - else the transform's")
    print("circular convolution would wrap the far edge round onto the near one - transform both,")
    print("multiply, and transform back. Padding goes on up to a length made of 2s, 3s and 5s,")
    rng = np.random.default_rng(0)
    big_image, big_kernel = rng.standard_normal((60, 80)), rng.standard_normal((7, 5))
    full_shape = output_shape(big_image.shape, big_kernel.shape, "full")
    fast_shape = tuple(next_fast_length(n) for n in full_shape)
    print(f"where the FFT is fast: a {big_image.shape} image and a {big_kernel.shape} kernel need {full_shape},")
    print(f"padded to {fast_shape}.")
    ours_fft = fft_convolve2d(big_image, big_kernel, "same")
    ours_direct = convolve2d(big_image, big_kernel, "same")
    scipy_fft = signal.fftconvolve(big_image, big_kernel, "same")
    print("With random numbers in both, mode 'same' (the largest |value| is "
          f"{np.abs(ours_direct).max():.0f}):")
    print(f"  max |fft_convolve2d - convolve2d|         < 1e-10: {np.abs(ours_fft - ours_direct).max() < 1e-10}")
    print(f"  max |fft_convolve2d - scipy fftconvolve|  < 1e-10: {np.abs(ours_fft - scipy_fft).max() < 1e-10}")
    print("  the differences are rounding errors in the 16 or so digits a float64 keeps.")
    image, kernel = np.array([[255, 7, 3], [212, 240, 4], [218, 216, 230]]), np.array([[-1, 1], [2, 3]])
    print(f"On the example, fft_convolve2d(I, g, 'full') rounds back to the exact integers: "
          f"{np.array_equal(np.rint(fft_convolve2d(image, kernel, 'full')), convolve2d(image, kernel))}")
    print()
    picture, blur = theorem_example()
    H, W = picture.shape
    true = convolve2d(picture, blur)
    padded = np.real(np.fft.ifft2(np.fft.fft2(picture, true.shape) * np.fft.fft2(blur, true.shape)))
    circular = np.real(np.fft.ifft2(np.fft.fft2(picture) * np.fft.fft2(blur, picture.shape)))
    wrong = np.abs(circular - true[:H, :W]).max(axis=0) > 1e-9
    print(f"In pictures: a {H}x{W} image with a bright bar near its right edge, g a 1x{blur.shape[1]} moving average.")
    print(f"  padded to {true.shape}: F⁻¹(F(I) ⊙ F(g)) == convolve2d(I, g) to 1e-12: "
          f"{np.allclose(padded, true, rtol=0, atol=1e-12)}")
    print(f"  not padded: columns {np.flatnonzero(wrong).min()} to {np.flatnonzero(wrong).max()} differ, by up to "
          f"{np.abs(circular - true[:H, :W]).max():.3f}: the blur that leaves the right edge lands on the left")
    figures.add("2d_theorem", theorem_figure(picture, blur))


def where_same_starts(figures):
    """README: "Where 'same' starts" (in the conventions). SciPy's convolve2d and
    correlate2d for even kernels, NumPy's np.convolve and np.correlate, and a kernel
    longer than the signal."""
    lessonkit.heading("Where 'same' starts")
    print("'same' keeps an H x W window of 'full'. An odd kernel has a middle tap, and the window is")
    print("centred on it. An even kernel has none, so the window leans one way: SciPy's convolve2d starts")
    print("it at ((k_h - 1) // 2, (k_w - 1) // 2), correlate2d at (k_h // 2, k_w // 2), one pixel apart.")
    print("With a two-tap kernel:")
    even_kernel_centres(np.array([[1, 2, 3, 4, 5]]), np.array([[1, 10]]))
    print("So convolve2d's same[0, j] = I[0, j-1]·10 + I[0, j]·1 reaches left of pixel j,")
    print("correlate2d's same[0, j] = I[0, j]·1 + I[0, j+1]·10 reaches right of it.")
    print()
    print("NumPy's np.convolve and np.correlate, with a kernel of M taps no longer than the signal, both")
    print("start 'same' at (M - 1) // 2, like convolve2d. For even M np.correlate's window sits one place")
    print("left of correlate2d's; for odd M the two rules agree:")
    numpy_same_centres(np.array([1, 2, 3, 4, 5]), np.array([1, 10]))
    numpy_same_centres(np.array([1, 2, 3, 4, 5]), np.array([1, 10, 100]))
    print()
    print("A kernel longer than the signal changes NumPy's rule: its 'same' is as long as the longer")
    print("input, and np.convolve swaps the two, so it starts at (min(N, M) - 1) // 2, not (M - 1) // 2;")
    print("np.correlate starts at min(N, M) // 2. SciPy keeps the shape of the first input and its own")
    print("rule:")
    longer_kernel_same(np.array([6, 2]), np.array([1, 2, 5, 4]))


def fftconvolve_dtypes_and_length_1_axes(figures):
    """README: "fftconvolve: dtypes and length-1 axes" (in the conventions). The dtypes
    fft_convolve2d and scipy.signal.fftconvolve give, and the axes fftconvolve does
    not transform."""
    lessonkit.heading("fftconvolve: dtypes and length-1 axes")
    image, kernel = np.array([[255, 7, 3], [212, 240, 4], [218, 216, 230]]), np.array([[-1, 1], [2, 3]])
    print("Like scipy.signal.fftconvolve, fft_convolve2d takes bool and float16 images too (float16 is")
    print("transformed in float32), and integers come back as float64:")
    cases = {
        "int64, I and g": (image, kernel),
        "bool, I > 100 and g > 0": (image > 100, kernel > 0),
        "float16, I / 255 and g": ((image / 255).astype(np.float16), kernel.astype(np.float16)),
    }
    for name, (small_image, small_kernel) in cases.items():
        ours = fft_convolve2d(small_image, small_kernel, "full")
        theirs = signal.fftconvolve(small_image, small_kernel, "full")
        print(f"  {name}: result {ours.dtype}, the dtype and values of fftconvolve's: "
              f"{ours.dtype == theirs.dtype and np.allclose(ours, theirs, atol=1e-4)}")
    print("fftconvolve skips the transform along every axis where either input has length 1; when that")
    print("leaves no axis, it just multiplies, in the inputs' own dtype. fft_convolve2d always transforms:")
    column, row = np.array([[1], [2]]), np.array([[1, 2, 3]])
    length_1 = {
        "I and a 1x1 kernel [[2]]": (image, np.array([[2]])),
        "a 2x1 column and a 1x3 row": (column, row),
        "a 1x3 row and I's first row": (row, image[:1]),
    }
    for name, (first, second) in length_1.items():
        ours = fft_convolve2d(first, second, "full")
        theirs = signal.fftconvolve(first, second, "full")
        print(f"  {name}: fftconvolve gives {theirs.dtype}, fft_convolve2d {ours.dtype}; values equal: "
              f"{np.allclose(ours, theirs, atol=1e-9)}")


@lessonkit.lesson_main
def main(argv=None):
    args = lessonkit.parse_args(__doc__, argv)
    figures = lessonkit.Figures(args)
    image_filter(figures)
    two_d_convolution_with_scipy(figures)
    shift_the_image_and_the_map_shifts(figures)
    boundaries_fill_wrap_and_symm(figures)
    the_convolution_theorem(figures)
    where_same_starts(figures)
    fftconvolve_dtypes_and_length_1_axes(figures)
    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
