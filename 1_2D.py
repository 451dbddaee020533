"""Convolution in two dimensions, with SciPy.

An image I has H rows and W columns; a kernel g has k_h rows and k_w columns. The
convolution I ⊛ g flips g in both directions (left-right and up-down), slides it over
I, multiplies the values that overlap and adds them up. For the output pixel in row i
and column j:

    (I ⊛ g)[i, j] = Σ_u Σ_v I[i - u, j - v] · g[u, v]

where u runs over the rows of g and v over its columns, and I counts as 0 beyond its
edges (· is ordinary multiplication).

The lesson starts with an image filter: a 3x3 kernel sliding over a small binary
image, drawn as a figure and as an animation, and what its values measure. Then it
convolves a 3x3 grey-level image with our own convolve2d and with
scipy.signal.convolve2d, animates the flip of an asymmetric kernel, compares the
three output sizes, shows where 'same' puts the centre of an even-sized kernel, how
SciPy extends the image beyond its edge (fill, wrap, symm), and computes the same
convolution a third way, with Fourier transforms (the convolution theorem). A last
section collects the corner cases: NumPy's 'same' and kernels larger than the image.
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
    rounding. (Where an input has length 1 along both axes, fftconvolve skips the
    transform and simply multiplies, in the inputs' own dtype; this one always
    transforms.)

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
    each boundary b, next to our 'valid' convolution of the image padded the same way."""
    pad = convolve2d_same_padding(kernel.shape)
    print(f"I =\n{indented(image)}\ng =\n{indented(kernel)}")
    for boundary, numpy_mode in BOUNDARIES.items():
        theirs = signal.convolve2d(image, kernel, "same", boundary=boundary)
        ours = convolve2d(np.pad(image, pad, mode=numpy_mode), kernel, "valid")
        print(f"boundary='{boundary}':\n{indented(theirs)}")
        print(f"  == ours on I padded with np.pad(mode='{numpy_mode}'), 'valid': {np.array_equal(ours, theirs)}")


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




def boundaries_figure(image, kernel_shape):
    """Three panels: `image`, shape (H, W), padded as 'same' needs for a kernel of
    `kernel_shape`, the way SciPy's boundary options fill, wrap and symm pad it; the
    image itself is outlined."""
    H, W = image.shape
    pad = convolve2d_same_padding(kernel_shape)
    top, left = pad[0][0], pad[1][0]
    explanations = {
        "fill": "zeros all round",
        "wrap": "the opposite edge comes round",
        "symm": "the edge mirrored",
    }
    fig, axes = plt.subplots(1, 3, figsize=(12, 4.6))
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.86, wspace=0.06)
    for ax, (boundary, numpy_mode) in zip(axes, BOUNDARIES.items()):
        padded = np.pad(image, pad, mode=numpy_mode)
        inside = np.zeros(padded.shape, dtype=bool)
        inside[top : top + H, left : left + W] = True
        draw_grid(
            ax,
            padded,
            np.where(inside, IMAGE_COLOUR, PADDING_COLOUR),
            text_colours=np.where(inside, "black", "#777777"),
            fontsize=10,
        )
        ax.add_patch(Rectangle((left, top), W, H, fill=False, edgecolor=WINDOW_COLOUR, linewidth=2.5))
        ax.set_xlim(-0.1, padded.shape[1] + 0.1)
        ax.set_ylim(padded.shape[0] + 0.1, -0.1)
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.set_title(f"boundary='{boundary}': {explanations[boundary]}", fontsize=12)
    k_h, k_w = kernel_shape
    fig.suptitle(f"How SciPy extends the image (outlined) beyond its edge, as far as a {k_h}x{k_w} kernel reaches "
                 "in 'same'", fontsize=13)
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


def feature_map_figure(image, kernel, feature_map):
    """The binary `image`, shape (H, W), the `kernel`, shape (k_h, k_w), and their
    'valid' `feature_map`, shape (H - k_h + 1, W - k_w + 1), side by side with their
    numbers."""
    H, W = image.shape
    k_h, k_w = kernel.shape
    rows, columns = feature_map.shape
    kernel_left, map_left = W + 1.5, W + k_w + 3
    fig = plt.figure(figsize=(10, 5))
    ax = grid_axes(fig, map_left + columns + 0.5, H + 2.5)
    ax.set_xlim(-0.5, map_left + columns + 0.5)
    ax.set_ylim(H + 0.5, -2)
    cells, text = image_colours(image)
    draw_grid(ax, image, cells, text_colours=text)
    draw_grid(ax, kernel, KERNEL_COLOUR, left=kernel_left, top=(H - k_h) / 2)
    draw_grid(ax, feature_map, feature_map_colours(feature_map), left=map_left, top=(H - rows) / 2)
    label(ax, W / 2, -0.5, "image I (1 white, 0 black)")
    label(ax, kernel_left + k_w / 2, (H - k_h) / 2 - 0.5, "kernel g")
    label(ax, map_left + columns / 2, (H - rows) / 2 - 0.5, "feature map I ⊛ g ('valid')")
    label(ax, W + 0.75, H / 2, "⊛", fontsize=26)
    label(ax, kernel_left + k_w + 0.75, H / 2, "=", fontsize=30)
    label(ax, (map_left + columns) / 2, -1.4, "An image filter: slide the kernel over the image, multiply, add up",
          fontsize=14)
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


def sliding_frames(image, kernel, flip=False):
    """The kernel, shape (k_h, k_w), sliding over `image`, shape (H, W), one frame per
    value of the 'valid' output, in reading order, as PIL images of one size and one
    palette: the window on the image with the weight each pixel is multiplied by, the
    element-wise products and their sum, and the output filled in up to that value.

    Without `flip` the kernel slides as given: the feature map of an image filter,
    I ⋆ g (the same as I ⊛ g for a kernel that is its own flip). With `flip` two more
    panels show the kernel as given and turned by 180 degrees, and the flipped kernel
    slides: the convolution I ⊛ g. A binary image is drawn in white and black.

    The parts that stay put are drawn once and kept as a background; each step adds
    its output cell to that background and draws only the moving parts on top
    (matplotlib's "blitting")."""
    H, W = image.shape
    k_h, k_w = kernel.shape
    weights = kernel[::-1, ::-1] if flip else kernel
    output = correlate2d(image, weights, "valid")
    rows, columns = output.shape
    image_left = 2 * k_w + 2.5 if flip else 0
    products_left = image_left + W + 1
    map_left = products_left + k_w + 1.5
    bottom = max(H, k_h + 2.5) + 0.6
    unit = 0.6
    fig = plt.figure(figsize=(unit * (map_left + columns + 1), unit * (bottom + 2)), dpi=80)
    ax = grid_axes(fig, 1, 1)
    ax.set_xlim(-0.5, map_left + columns + 0.5)
    ax.set_ylim(bottom, -2)
    cells, text = image_colours(image)
    draw_grid(ax, image, cells, text_colours=text, left=image_left)
    if flip:
        draw_grid(ax, kernel, KERNEL_COLOUR)
        draw_grid(ax, weights, KERNEL_COLOUR, left=k_w + 1, text_colours=WINDOW_COLOUR)
        label(ax, k_w / 2, -0.5, "g as given")
        label(ax, k_w + 1 + k_w / 2, -0.5, "g flipped")
        label(ax, k_w + 0.5, k_h / 2, "→", fontsize=20)
        label(ax, k_w + 0.5, k_h + 0.6, "turned 180°", fontsize=11, va="top")
    _, product_texts = draw_grid(ax, np.zeros_like(kernel), KERNEL_COLOUR, left=products_left)
    map_cells, map_texts = draw_grid(ax, np.full(output.shape, ""), "white", left=map_left)
    label(ax, image_left + W / 2, -0.5, "image I, g flipped in red" if flip else "image, kernel weights in red")
    label(ax, products_left + k_w / 2, -0.5, "products, summed")
    label(ax, map_left + columns / 2, -0.5, "I ⊛ g ('valid')" if flip else "feature map")
    title = label(ax, (map_left + columns) / 2, -1.4, "", fontsize=14)
    total = label(ax, products_left + k_w / 2, k_h + 0.3, "", fontsize=13, va="top", linespacing=1.3)
    window = ax.add_patch(Rectangle((0, 0), k_w, k_h, fill=False, edgecolor=WINDOW_COLOUR, linewidth=3))
    current = ax.add_patch(Rectangle((map_left, 0), 1, 1, fill=False, edgecolor=WINDOW_COLOUR, linewidth=3))
    weight_texts = [
        (u, v, label(ax, 0, 0, f"×{weight}", fontsize=12, color=WINDOW_COLOUR, fontweight="bold",
                     bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6}))
        for (u, v), weight in np.ndenumerate(weights)
    ]
    moving = [current, window, *(text for _, _, text in weight_texts), *product_texts.flat, total, title]
    for artist in moving:
        artist.set_animated(True)
    fig.canvas.draw()
    pictures = []
    for (r, c), value in np.ndenumerate(output):
        map_cells[r, c].set_facecolor(OUTPUT_COLOUR)
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
        fig.canvas.restore_region(background)
    plt.close(fig)
    return to_shared_palette(pictures)


def image_filter(figures):
    """README: "Image filter". A 3x3 kernel slides over a binary image; its feature map,
    what the values measure, a figure and an animation."""
    lessonkit.heading("Image filter")
    binary = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]])
    kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    (H, W), (k_h, k_w) = binary.shape, kernel.shape
    feature_map = convolve2d(binary, kernel, "valid")
    print(f"A binary image I (1 white, 0 black) of H = {H} rows and W = {W} columns:\n{indented(binary)}")
    print(f"kernel g of k_h = {k_h} rows and k_w = {k_w} columns:\n{indented(kernel)}")
    print(f"feature map, {rule(binary.shape, kernel.shape, 'valid')}:\n{indented(feature_map)}")
    print(f"  == scipy: {np.array_equal(feature_map, signal.convolve2d(binary, kernel, 'valid'))}")
    print("This kernel is the same flipped, so convolution and correlation agree here: "
          f"{np.array_equal(feature_map, correlate2d(binary, kernel, 'valid'))}")
    best = feature_map.max()
    print(f"Each value counts the white pixels under the kernel's five 1s, an X shape. The best here is {best},")
    print(f"at {np.sum(feature_map == best)} of the {feature_map.size} places.")
    patches = {"the X itself": kernel, "an all-white patch": np.ones_like(kernel), "an all-black patch": np.zeros_like(kernel)}
    scores = ", ".join(f"{name} {np.sum(patch * kernel)}" for name, patch in patches.items())
    print(f"Scores: {scores}.")
    print(f"The weights sum to {kernel.sum()}, not 0, so every white pixel under a 1 adds to the score:")
    print("the kernel measures overlap with the X, not a match.")
    zero_sum = np.where(kernel == 1, 4, -5)
    scores = ", ".join(f"{name} {np.sum(patch * zero_sum)}" for name, patch in patches.items())
    print(f"Weights that sum to {zero_sum.sum()}, 4 on the X and -5 elsewhere, tell them apart:\n{indented(zero_sum)}")
    print(f"Scores: {scores}. Its feature map:\n{indented(convolve2d(binary, zero_sum, 'valid'))}")
    figures.add("2d_feature_map", feature_map_figure(binary, kernel, feature_map))
    figures.add_animation("2d_sliding", sliding_frames(binary, kernel), frame_ms=900)


def two_d_convolution_with_scipy(figures):
    """README: "2-D convolution with SciPy". The formula, and a 3x3 image convolved with
    two kernels in each mode, by us and by scipy.signal.convolve2d; an animation of the
    flip of an asymmetric kernel."""
    lessonkit.heading("2-D convolution with SciPy")
    print("I ⊛ g, the convolution of an image I (H rows, W columns) with a kernel g (k_h rows, k_w columns):")
    print("  (I ⊛ g)[i, j] = Σ_u Σ_v I[i - u, j - v] · g[u, v]")
    print("i and j are the row and column of the output pixel; u and v run over the rows and columns of g.")
    print("As in 1-D, g is flipped (left-right and up-down), slid over I, and at each place the")
    print("overlapping values are multiplied and added up. Beyond the edge of I the values count as 0.")
    print()
    image = np.array([[255, 7, 3], [212, 240, 4], [218, 216, 230]])
    print(f"I =\n{indented(image)}")
    print("With g = [[-1  1]], flipped to [[ 1 -1]], each value is a pixel minus its right neighbour:")
    print("large where the brightness changes along a row, near 0 where it does not.")
    both_ways(image, np.array([[-1, 1]]), ("valid", "full"))
    print()
    kernel = np.array([[-1, 1], [2, 3]])
    both_ways(image, kernel, ("full", "same", "valid"))
    print()
    print("'full' and 'valid' are the 1-D sizes, one axis at a time. 'same' is the image's (H, W), the 1-D")
    print("max(N, M) along each axis when the kernel is no larger than the image; for a larger kernel SciPy")
    print("still keeps (H, W), where np.convolve would take the longer length (see the corner cases).")
    print()
    flipped = kernel[::-1, ::-1]
    print(f"This g differs from its flip, g[::-1, ::-1] =\n{indented(flipped)}")
    print(f"so the flip shows: convolve2d(I, g, 'valid') == correlate2d(I, g[::-1, ::-1], 'valid'): "
          f"{np.array_equal(convolve2d(image, kernel, 'valid'), correlate2d(image, flipped, 'valid'))}")
    print(f"  and without the flip, correlate2d(I, g, 'valid') =\n{indented(correlate2d(image, kernel, 'valid'))}")
    figures.add_animation("2d_flip", sliding_frames(image, kernel, flip=True), frame_ms=2000)


def where_same_centres_an_even_kernel(figures):
    """README: "Where 'same' centres an even kernel". SciPy's convolve2d and
    correlate2d keep windows of 'full' one pixel apart for an even kernel."""
    lessonkit.heading("Where 'same' centres an even kernel")
    print("'same' keeps an H x W window of 'full'. An odd kernel has a middle tap, and the window is")
    print("centred on it. An even kernel has none, so the window leans one way: SciPy's convolve2d starts")
    print("it at ((k_h - 1) // 2, (k_w - 1) // 2), correlate2d at (k_h // 2, k_w // 2), one pixel apart.")
    print("With a two-tap kernel:")
    even_kernel_centres(np.array([[1, 2, 3, 4, 5]]), np.array([[1, 10]]))
    print("So convolve2d's same[0, j] = I[0, j-1]·10 + I[0, j]·1 reaches left of pixel j,")
    print("correlate2d's same[0, j] = I[0, j]·1 + I[0, j+1]·10 reaches right of it.")


def boundaries_fill_wrap_and_symm(figures):
    """README: "Boundaries: fill, wrap and symm". SciPy's three ways of extending the
    image beyond its edge, each checked against np.pad and a 'valid' convolution."""
    lessonkit.heading("Boundaries: fill, wrap and symm")
    image = np.array([[255, 7, 3], [212, 240, 4], [218, 216, 230]])
    print("Near the edge the kernel hangs over the image; SciPy's `boundary` says what it finds there:")
    print("  fill: a constant, `fillvalue`, 0 unless you say otherwise (the default).")
    print("  wrap: the image repeats, as if rolled into a tube both ways: past the right edge comes the left column.")
    print("  symm: the image is mirrored at its edge, the edge pixel repeated: ... b a | a b c | c b ...")
    boundary_check(image, np.ones((3, 3), dtype=int))
    print("With a 3x3 kernel of ones each value is the sum of a pixel's 3x3 neighbourhood: only the")
    print("pixels at the edge differ. With 'wrap', every neighbourhood of this 3x3 image holds all nine")
    print(f"pixels, so every value is their total, {image.sum()}.")
    figures.add("2d_boundaries", boundaries_figure(image, (3, 3)))


def the_convolution_theorem(figures):
    """README: "The convolution theorem". Convolution through Fourier transforms,
    checked against convolve2d and scipy.signal.fftconvolve."""
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
    print("With random numbers in both, mode 'same':")
    print(f"  max |fft_convolve2d - convolve2d|         = {np.abs(ours_fft - ours_direct).max():.1e}")
    print(f"  max |fft_convolve2d - scipy fftconvolve|  = {np.abs(ours_fft - scipy_fft).max():.1e}")
    print(f"  largest |value| = {np.abs(ours_direct).max():.1f}: the differences are rounding errors in the")
    print("  16 or so digits a float64 keeps.")
    image, kernel = np.array([[255, 7, 3], [212, 240, 4], [218, 216, 230]]), np.array([[-1, 1], [2, 3]])
    print(f"On the example, fft_convolve2d(I, g, 'full') rounds back to the exact integers: "
          f"{np.array_equal(np.rint(fft_convolve2d(image, kernel, 'full')), convolve2d(image, kernel))}")
    print("Like scipy.signal.fftconvolve, it takes bool and float16 images too (float16 is transformed in float32):")
    cases = {
        "bool, I > 100 and g > 0": (image > 100, kernel > 0),
        "float16, I / 255 and g": ((image / 255).astype(np.float16), kernel.astype(np.float16)),
    }
    for name, (small_image, small_kernel) in cases.items():
        ours = fft_convolve2d(small_image, small_kernel, "full")
        theirs = signal.fftconvolve(small_image, small_kernel, "full")
        print(f"  {name}: result {ours.dtype}, the dtype and values of fftconvolve's: "
              f"{ours.dtype == theirs.dtype and np.allclose(ours, theirs, atol=1e-4)}")


def corner_cases_numpys_same_and_larger_kernels(figures):
    """README: "Corner cases: NumPy's 'same' and larger kernels". Where NumPy's 1-D
    'same' lands next to SciPy's, and what happens when the kernel is the longer input."""
    lessonkit.heading("Corner cases: NumPy's 'same' and larger kernels")
    print("NumPy's np.convolve and np.correlate, with a kernel of M taps no longer than the signal, both")
    print("start 'same' at (M - 1) // 2, like convolve2d, so np.correlate's sits one place left of")
    print("correlate2d's:")
    numpy_same_centres(np.array([1, 2, 3, 4, 5]), np.array([1, 10]))
    print()
    print("A kernel longer than the signal changes NumPy's rule: its 'same' is as long as the longer")
    print("input, and np.convolve swaps the two, so it starts at (min(N, M) - 1) // 2, not (M - 1) // 2;")
    print("np.correlate starts at min(N, M) // 2. SciPy keeps the shape of the first input and its own")
    print("rule. With the longer kernel of 0_1D.py:")
    longer_kernel_same(np.array([6, 2]), np.array([1, 2, 5, 4]))


@lessonkit.lesson_main
def main(argv=None):
    args = lessonkit.parse_args(__doc__, argv)
    figures = lessonkit.Figures(args)
    image_filter(figures)
    two_d_convolution_with_scipy(figures)
    where_same_centres_an_even_kernel(figures)
    boundaries_fill_wrap_and_symm(figures)
    the_convolution_theorem(figures)
    corner_cases_numpys_same_and_larger_kernels(figures)
    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
