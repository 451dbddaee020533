"""Convolution in two dimensions, with SciPy.

In two dimensions the kernel g is a small grid. Flip it in both directions, slide it
over the image I, multiply the values that overlap and add them up:

    I'(x, y) = sum over u, v of I(x - u, y - v) * g(u, v)

The lesson starts with the classic picture of an image filter: a 3x3 kernel sliding
over a small binary image, drawn as a figure and as an animation. Then it works the
example of the older course both ways, with our own convolve2d and with
scipy.signal.convolve2d, compares the three output sizes, shows where 'same' puts
the centre of an even-sized kernel, how SciPy pads the image at its border (fill,
wrap, symm), and computes the same convolution a third way, with Fourier
transforms (the convolution theorem).
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
    each tap (u, v) adds the image, shifted and scaled by kernel[u, v], to the part of
    the output it overlaps. Only the output asked for is computed, a band of rows at
    a time (about BAND_BYTES each), so that the band stays in the processor's cache
    while every tap is added to it; on a large image that is about twice as fast as
    adding each tap to the whole output in turn.

    >>> sliding_sum(np.array([[1, 2, 3]]), np.array([[1, 10]]), (0, 0), (1, 4))
    array([[10, 21, 32,  3]])
    """
    (H, W), (h, w) = image.shape, kernel.shape
    out = np.zeros(shape, dtype=image.dtype)
    band_rows = max(1, BAND_BYTES // (shape[1] * out.itemsize))
    for top in range(0, shape[0], band_rows):
        band = out[top : top + band_rows]
        for (u, v), weight in np.ndenumerate(kernel):
            rows, image_rows = overlap(start[0] + top + u - (h - 1), H, len(band))
            columns, image_columns = overlap(start[1] + v - (w - 1), W, shape[1])
            band[rows, columns] += weight * image[image_rows, image_columns]
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
    output_shape(image.shape, kernel.shape, mode)  # raises ValueError for an unknown mode
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
    row, column = window_start(kernel.shape, mode, flipped=True)
    rows, columns = output_shape(image.shape, kernel.shape, mode)
    return full[row : row + rows, column : column + columns]


def rule(image_shape, kernel_shape, mode):
    """The output-shape rule of `mode` written out with the numbers of an (H, W) image
    and an (h, w) kernel.

    >>> rule((3, 3), (1, 2), "valid")
    'valid: (H - h + 1, W - w + 1) = (3 - 1 + 1, 3 - 2 + 1) = (3, 2)'
    """
    (H, W), (h, w) = image_shape, kernel_shape
    formulas = {
        "full": ("(H + h - 1, W + w - 1)", f"({H} + {h} - 1, {W} + {w} - 1)"),
        "same": ("(H, W)", None),
        "valid": ("(H - h + 1, W - w + 1)", f"({H} - {h} + 1, {W} - {w} + 1)"),
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
    (H, W), with `kernel`, shape (h, w), by SciPy and by us, and whether they agree."""
    print(f"g =\n{indented(kernel)}")
    for mode in modes:
        ours = convolve2d(image, kernel, mode)
        theirs = signal.convolve2d(image, kernel, mode)
        print()
        print(rule(image.shape, kernel.shape, mode))
        print(f"  scipy.signal.convolve2d(I, g, '{mode}') =\n{indented(theirs)}")
        print(f"  ours == scipy: {np.array_equal(ours, theirs) and ours.dtype == theirs.dtype}")


def even_kernel_centres(x, g):
    """Print where 'same' lands for the even 1-row kernel `g`, shape (1, 2), on the 1-row
    image `x`, shape (1, N): SciPy's convolve2d and correlate2d and NumPy's
    np.convolve and np.correlate, each as a window of its own 'full' output."""
    N, h = x.shape[1], g.shape[1]
    conv_full = signal.convolve2d(x, g, "full")[0]
    corr_full = signal.correlate2d(x, g, "full")[0]
    conv_start, corr_start = (h - 1) // 2, h // 2
    cases = [
        ("scipy convolve2d", signal.convolve2d(x, g, "same")[0], conv_full, conv_start),
        ("np.convolve", np.convolve(x[0], g[0], "same"), conv_full, conv_start),
        ("scipy correlate2d", signal.correlate2d(x, g, "same")[0], corr_full, corr_start),
        ("np.correlate", np.correlate(x[0], g[0], "same"), corr_full, conv_start),
    ]
    print(f"I = {x}, g = {g}")
    print(f"full convolution:  {conv_full}")
    print(f"full correlation:  {corr_full}")
    for name, same, full, start in cases:
        matches = np.array_equal(same, full[start : start + N])
        print(f"  {name + ' same:':24}{str(same):22} = full[{start}:{start + N}]: {matches}")
    ours_conv, ours_corr = convolve2d(x, g, "same")[0], correlate2d(x, g, "same")[0]
    print(f"  ours == scipy (convolve2d, correlate2d): {np.array_equal(ours_conv, cases[0][1])}, "
          f"{np.array_equal(ours_corr, cases[2][1])}")


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
    """How many cells convolve2d's 'same' needs around the image for an (h, w) kernel:
    ((above, below), (left, right)), as np.pad takes them. Each output pixel of
    convolve2d's 'same' uses the image from h // 2 rows above it to (h - 1) // 2 rows
    below it (see window_start), and likewise from w // 2 columns left to (w - 1) // 2 right:
    an odd extra zero goes above and left (TensorFlow's SAME puts it below and right).

    >>> convolve2d_same_padding((3, 2))
    ((1, 1), (1, 0))
    """
    h, w = kernel_shape
    return ((h // 2, (h - 1) // 2), (w // 2, (w - 1) // 2))


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
    h, w = kernel_shape
    fig.suptitle(f"How SciPy extends the image (outlined) beyond its edge, as far as a {h}x{w} kernel reaches in 'same'",
                 fontsize=13)
    return fig


def binary_colours(image):
    """Cell and text colours for a binary image, shape (H, W): 1 white, 0 black."""
    return np.where(image == 1, "white", "black"), np.where(image == 1, "black", "white")


def feature_map_colours(feature_map):
    """A green for each value of `feature_map`, shape (rows, columns), deeper for larger."""
    shades = plt.get_cmap("Greens")
    top = max(feature_map.max(), 1)
    return np.array([[to_hex(shades(0.15 + 0.5 * value / top)) for value in row] for row in feature_map])


def feature_map_figure(image, kernel, feature_map):
    """The binary `image`, shape (H, W), the `kernel`, shape (h, w), and their 'valid'
    `feature_map`, shape (H - h + 1, W - w + 1), side by side with their numbers."""
    H, W = image.shape
    h, w = kernel.shape
    rows, columns = feature_map.shape
    kernel_left, map_left = W + 1.5, W + w + 3
    fig = plt.figure(figsize=(10, 5))
    ax = grid_axes(fig, map_left + columns + 0.5, H + 2.5)
    ax.set_xlim(-0.5, map_left + columns + 0.5)
    ax.set_ylim(H + 0.5, -2)
    cells, text = binary_colours(image)
    draw_grid(ax, image, cells, text_colours=text)
    draw_grid(ax, kernel, KERNEL_COLOUR, left=kernel_left, top=(H - h) / 2)
    draw_grid(ax, feature_map, feature_map_colours(feature_map), left=map_left, top=(H - rows) / 2)
    label(ax, W / 2, -0.5, "image (1 white, 0 black)")
    label(ax, kernel_left + w / 2, (H - h) / 2 - 0.5, "kernel")
    label(ax, map_left + columns / 2, (H - rows) / 2 - 0.5, "feature map ('valid')")
    label(ax, W + 0.75, H / 2, "\u2217", fontsize=30)
    label(ax, kernel_left + w + 0.75, H / 2, "=", fontsize=30)
    label(ax, (map_left + columns) / 2, -1.4, "An image filter: slide the kernel over the image, multiply, add up", fontsize=14)
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
    """The sum of `products`, shape (h, w), written out one row per line.

    >>> print(sum_lines(np.array([[1, 0], [0, 1]])))
    1 + 0
    + 0 + 1
    = 2
    """
    rows = [" + ".join(map(str, row)) for row in products]
    return "\n+ ".join(rows) + f"\n= {products.sum()}"


def sliding_frames(image, kernel):
    """The kernel, shape (h, w), sliding over the binary `image`, shape (H, W), one
    frame per cell of the 'valid' feature map, in reading order, as PIL images of one
    size and one palette: the window on the image with the kernel's weights, the
    element-wise products and their sum, and the feature map filled in up to that cell.

    The parts that stay put are drawn once and kept as a background; each step adds
    its feature-map cell to that background and draws only the moving parts on top
    (matplotlib's "blitting")."""
    H, W = image.shape
    h, w = kernel.shape
    feature_map = correlate2d(image, kernel, "valid")
    rows, columns = feature_map.shape
    products_left, map_left = W + 1, W + w + 2.5
    fig = plt.figure(figsize=(9.6, 4.4), dpi=80)
    ax = grid_axes(fig, 1, 1)
    ax.set_xlim(-0.5, map_left + columns + 0.5)
    ax.set_ylim(H + 0.6, -2)
    cells, text = binary_colours(image)
    draw_grid(ax, image, cells, text_colours=text)
    _, product_texts = draw_grid(ax, np.zeros_like(kernel), KERNEL_COLOUR, left=products_left)
    map_cells, map_texts = draw_grid(ax, np.full(feature_map.shape, ""), "white", left=map_left)
    label(ax, W / 2, -0.5, "image, kernel weights in red")
    label(ax, products_left + w / 2, -0.5, "element-wise products, summed")
    label(ax, map_left + columns / 2, -0.5, "feature map")
    title = label(ax, (map_left + columns) / 2, -1.4, "", fontsize=14)
    total = label(ax, products_left + w / 2, h + 0.3, "", fontsize=11, va="top", linespacing=1.3)
    window = ax.add_patch(Rectangle((0, 0), w, h, fill=False, edgecolor=WINDOW_COLOUR, linewidth=3))
    current = ax.add_patch(Rectangle((map_left, 0), 1, 1, fill=False, edgecolor=WINDOW_COLOUR, linewidth=3))
    weights = [
        (u, v, label(ax, 0, 0, f"\u00d7{weight}", fontsize=8, color=WINDOW_COLOUR, fontweight="bold",
                     bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5}))
        for (u, v), weight in np.ndenumerate(kernel)
    ]
    moving = [current, window, *(text for _, _, text in weights), *product_texts.flat, total, title]
    for artist in moving:
        artist.set_animated(True)
    fig.canvas.draw()
    pictures = []
    for (r, c), value in np.ndenumerate(feature_map):
        map_cells[r, c].set_facecolor(OUTPUT_COLOUR)
        map_texts[r, c].set_text(str(value))
        ax.draw_artist(map_cells[r, c])
        ax.draw_artist(map_texts[r, c])
        background = fig.canvas.copy_from_bbox(fig.bbox)
        products = image[r : r + h, c : c + w] * kernel
        window.set_xy((c, r))
        for u, v, text in weights:
            text.set_position((c + v + 0.78, r + u + 0.8))
        for (u, v), product in np.ndenumerate(products):
            product_texts[u, v].set_text(str(product))
        total.set_text(sum_lines(products))
        current.set_xy((map_left + c, r))
        title.set_text(f"Step {len(pictures) + 1} of {feature_map.size}: the window at row {r}, column {c} gives {value}")
        for artist in moving:
            ax.draw_artist(artist)
        pictures.append(rgb_pixels(fig))
        fig.canvas.restore_region(background)
    plt.close(fig)
    return to_shared_palette(pictures)


@lessonkit.lesson_main
def main(argv=None):
    args = lessonkit.parse_args(__doc__, argv)
    figures = lessonkit.Figures(args)

    lessonkit.heading("An image filter")
    binary = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]])
    kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    feature_map = convolve2d(binary, kernel, "valid")
    print(f"A binary image (1 white, 0 black):\n{indented(binary)}")
    print(f"kernel:\n{indented(kernel)}")
    print(f"feature map, {rule(binary.shape, kernel.shape, 'valid')}:\n{indented(feature_map)}")
    print(f"  == scipy: {np.array_equal(feature_map, signal.convolve2d(binary, kernel, 'valid'))}")
    print("This kernel is the same flipped, so convolution and correlation agree here: "
          f"{np.array_equal(feature_map, correlate2d(binary, kernel, 'valid'))}")
    best = feature_map.max()
    print("Each value counts the white pixels under the kernel's five 1s, an X shape: 5 would be a")
    print(f"perfect match; the best here is {best}, at {np.sum(feature_map == best)} of the {feature_map.size} places.")
    figures.add("2d_feature_map", feature_map_figure(binary, kernel, feature_map))
    figures.add_animation("2d_sliding", sliding_frames(binary, kernel), frame_ms=900)

    lessonkit.heading("The formula")
    print("I'(x, y) = sum over u, v of I(x - u, y - v) * g(u, v)")
    print("x, y pick a pixel of the output I': x is its row and y its column, in NumPy's row-first")
    print("order, so I(x, y) is I[x, y]. u, v run over the kernel g the same way. As in 1-D, g is flipped")
    print("(left-right and up-down), slid over the image I, and at each place the overlapping values")
    print("are multiplied and added up. Beyond the edge of I the values count as 0.")

    lessonkit.heading("The example, with SciPy and with our convolve2d")
    image = np.array([[255, 7, 3], [212, 240, 4], [218, 216, 230]])
    print(f"I =\n{indented(image)}")
    print("With g = [[-1  1]], flipped to [[ 1 -1]], each value is a pixel minus its right neighbour:")
    print("large where the brightness changes along a row, near 0 where it does not.")
    both_ways(image, np.array([[-1, 1]]), ("valid", "full"))
    print()
    both_ways(image, np.array([[-1, 1], [2, 3]]), ("full", "same", "valid"))
    print()
    print("'same' is the part of 'full' the size of I. With an even kernel there is no middle")
    print("tap, so which part is a choice; here it is the top-left 3x3 of 'full' (see the next section).")

    lessonkit.heading("Where 'same' centres an even kernel")
    print("'same' keeps an H x W window of 'full'. SciPy's convolve2d starts it at ((h-1)//2, (w-1)//2),")
    print("correlate2d at (h//2, w//2): the same for an odd kernel, one pixel apart for an even one.")
    print("NumPy's np.convolve and np.correlate, with a kernel of M taps no longer than the signal, both")
    print("start at (M-1)//2, like convolve2d, so np.correlate's 'same' sits one place left of")
    print("correlate2d's. With a two-tap kernel:")
    even_kernel_centres(np.array([[1, 2, 3, 4, 5]]), np.array([[1, 10]]))
    print("So correlate2d's same[j] = I[j]*1 + I[j+1]*10 reaches right of pixel j,")
    print("np.correlate's same[j] = I[j-1]*1 + I[j]*10 reaches left of it.")
    print()
    print("A kernel longer than the signal changes NumPy's rule: its 'same' is as long as the longer")
    print("input, and np.convolve swaps the two, so it starts at (min(N, M) - 1) // 2, not (M-1)//2;")
    print("np.correlate starts at min(N, M) // 2. SciPy keeps the shape of the first input and its own")
    print("rule. With the longer kernel of 0_1D.py:")
    longer_kernel_same(np.array([6, 2]), np.array([1, 2, 5, 4]))

    lessonkit.heading("Boundaries: fill, wrap and symm")
    print("Near the edge the kernel hangs over the image; SciPy's `boundary` says what it finds there:")
    print("  fill: a constant, `fillvalue`, 0 unless you say otherwise (the default).")
    print("  wrap: the image repeats, as if rolled into a tube both ways: past the right edge comes the left column.")
    print("  symm: the image is mirrored at its edge, the edge pixel repeated: ... b a | a b c | c b ...")
    boundary_check(image, np.ones((3, 3), dtype=int))
    print("With a 3x3 kernel of ones each value is the sum of a pixel's 3x3 neighbourhood: only the")
    print("pixels at the edge differ. With 'wrap', every neighbourhood of this 3x3 image holds all nine")
    print(f"pixels, so every value is their total, {image.sum()}.")
    figures.add("2d_boundaries", boundaries_figure(image, (3, 3)))

    lessonkit.heading("The convolution theorem")
    print("The Fourier transform turns convolution into multiplication: F(I * g) = F(I) . F(g).")
    print("So: pad I and g with zeros to at least (H + h - 1, W + w - 1) - else the transform's")
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
    seed = fft_convolve2d(image, np.array([[-1, 1], [2, 3]]), "full")
    print(f"On the example, fft_convolve2d(I, g, 'full') rounds back to the exact integers: "
          f"{np.array_equal(np.rint(seed), convolve2d(image, np.array([[-1, 1], [2, 3]])))}")

    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
