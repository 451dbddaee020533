"""Inside a convolution layer: a matrix, one matrix multiply, its gradients, the transposed convolution.

A convolution layer computes a = ReLU(x ⋆ w + b): a cross-correlation (⋆) of its input x
with its weights w, plus a bias b, through an activation. This lesson opens that layer up
on arrays small enough to print, and checks every step against TensorFlow and Keras:

- the cross-correlation is a matrix K times the image, a dense layer with most weights
  forced to 0 and the rest tied together;
- im2col turns the whole layer, channels and filters included, into one matrix multiply,
  one classic way to compute it; fewer, bigger calls beat many small ones;
- the backward pass: the weight gradient is a cross-correlation of the input with the
  upstream gradient, the input gradient a true convolution of the upstream gradient with
  the weights (for a stride, the upstream gradient is first spread out with zeros); for a
  whole batched layer with channels and bias, both are one matrix multiply again (col2im);
  max pooling passes each gradient to its block's maximum;
- the transposed convolution is K transposed: each input value stamps a scaled copy of
  the kernel into the output; it is also a plain convolution of the input spread out
  with zeros; its output size, and the checkerboard of uneven overlap;
- separable kernels (Sobel, Gaussian) are outer products of two 1-D kernels, so two 1-D
  passes do the work of one 2-D pass at 2k instead of k² multiply-adds per pixel;
- depthwise-separable and grouped convolutions split a layer across channels instead, for
  far fewer weights and multiply-adds.
"""

import importlib
import sys
import time

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

import lessonkit

with lessonkit.tensorflow_start_up_quiet():
    import keras
    import tensorflow as tf

    tf.config.list_physical_devices("GPU")

lesson_2d = importlib.import_module("1_2D")
convolve2d = lesson_2d.convolve2d
correlate2d = lesson_2d.correlate2d
indented = lesson_2d.indented
yes = importlib.import_module("2_TensorFlow").yes
max_pool2d = importlib.import_module("4_digit").max_pool2d

WEIGHT_COLOURS = ["#fbb4ae", "#b3cde3", "#ccebc5", "#decbe4", "#fed9a6", "#ffffcc", "#e5d8bd", "#fddaec", "#d9d9d9"]
LIT_COLOUR = "#f4cccc"  # the input cell whose stamp is being added, and that stamp


# Checking arguments ----------------------------------------------------------------------


def as_array(values, ndim, name):
    """`values` as a NumPy array of `ndim` dimensions, none of them empty; ValueError
    naming the argument otherwise.

    >>> as_array([[1, 2]], 2, "w").shape
    (1, 2)
    """
    array = np.asarray(values)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    return array


def as_size(values, name, count=2):
    """`values` as a tuple of `count` positive integers (a shape); ValueError naming
    the argument otherwise.

    >>> as_size((4, 4), "image_shape")
    (4, 4)
    """
    try:
        sizes = tuple(int(value) for value in values)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be {count} positive integers, got {values!r}") from None
    if len(sizes) != count or min(sizes) < 1 or sizes != tuple(values):
        raise ValueError(f"{name} must be {count} positive integers, got {values!r}")
    return sizes


def as_stride(stride):
    """A stride: one positive integer, used along both axes; ValueError otherwise.

    >>> as_stride(2)
    2
    """
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) or stride < 1:
        raise ValueError(f"stride must be a positive integer, got {stride!r}")
    return int(stride)


def valid_size(image_shape, kernel_shape, stride, names=("image", "kernel")):
    """The 'valid' output shape (out_h, out_w) of an (H, W) image and a (k_h, k_w) kernel
    at `stride`: floor((n - k) / s) + 1 along each axis. ValueError naming the two
    arguments when the kernel does not fit.

    >>> valid_size((6, 6), (3, 3), 2)
    (2, 2)
    """
    if any(k > n for n, k in zip(image_shape, kernel_shape)):
        raise ValueError(
            f"{names[1]} of shape {tuple(kernel_shape)} does not fit inside {names[0]} of shape {tuple(image_shape)}"
        )
    return tuple((n - k) // stride + 1 for n, k in zip(image_shape, kernel_shape))


# The functions of the lesson ---------------------------------------------------------------


def correlation_matrix(kernel, image_shape, stride=1):
    """The matrix K such that K @ image.ravel() is the 'valid' cross-correlation of an
    image of shape image_shape = (H, W) with `kernel`, shape (k_h, k_w), at `stride`,
    raveled row by row.

    Row r = i * out_w + j of K belongs to output pixel (i, j): it holds kernel[u, v] in
    column (s*i + u) * W + (s*j + v), the pixel that weight meets, and 0 everywhere else.
    Shape (out_h * out_w, H * W).

    >>> correlation_matrix(np.array([[1, 2]]), (1, 3))
    array([[1, 2, 0],
           [0, 1, 2]])
    """
    kernel = as_array(kernel, 2, "kernel")
    H, W = as_size(image_shape, "image_shape")
    stride = as_stride(stride)
    out_h, out_w = valid_size((H, W), kernel.shape, stride, ("image_shape", "kernel"))
    matrix = np.zeros((out_h * out_w, H * W), dtype=kernel.dtype)
    for i in range(out_h):
        for j in range(out_w):
            for (u, v), weight in np.ndenumerate(kernel):
                matrix[i * out_w + j, (stride * i + u) * W + stride * j + v] = weight
    return matrix


def same_correlation_matrix(kernel, image_shape):
    """K for TensorFlow's SAME padding at stride 1, shape (H * W, H * W): the 'valid'
    matrix of the image padded with zeros, without the columns of the padding (they
    only ever multiply zeros).

    kernel: (k_h, k_w); image_shape: (H, W).

    >>> same_correlation_matrix(np.array([[1, 2, 3]]), (1, 2))
    array([[2, 3],
           [1, 2]])
    """
    kernel = as_array(kernel, 2, "kernel")
    H, W = as_size(image_shape, "image_shape")
    (top, bottom), (left, right) = [((k - 1) // 2, k - 1 - (k - 1) // 2) for k in kernel.shape]
    padded = (H + top + bottom, W + left + right)
    inside = np.zeros(padded, dtype=bool)
    inside[top : top + H, left : left + W] = True
    return correlation_matrix(kernel, padded)[:, inside.ravel()]


def im2col(image, kernel_shape, stride=1):
    """The patch matrix of an (H, W, C_in) image (C_in channels): one row per output pixel of a
    'valid' layer with (k_h, k_w) filters at `stride`, in reading order, holding the
    k_h * k_w * C_in values under the window, ordered (row, column, channel) as a filter of shape
    (k_h, k_w, C_in) ravels. Shape (out_h * out_w, k_h * k_w * C_in).

    >>> im2col(np.arange(6).reshape(2, 3, 1), (2, 2))
    array([[0, 1, 3, 4],
           [1, 2, 4, 5]])
    """
    image = as_array(image, 3, "image")
    k_h, k_w = as_size(kernel_shape, "kernel_shape")
    stride = as_stride(stride)
    out_h, out_w = valid_size(image.shape[:2], (k_h, k_w), stride, ("image", "kernel_shape"))
    windows = np.lib.stride_tricks.sliding_window_view(image, (k_h, k_w), axis=(0, 1))[::stride, ::stride]
    return windows.transpose(0, 1, 3, 4, 2).reshape(out_h * out_w, k_h * k_w * image.shape[2])


def conv2d_im2col(images, filters, stride=1):
    """A 'valid' convolution layer (cross-correlation, as tf.nn.conv2d) as one matrix
    multiply: the patch matrices of all images, stacked, times the filters reshaped to
    (k_h * k_w * C_in, C_out).

    images: (B, H, W, C_in) (NHWC, B images); filters: (k_h, k_w, C_in, C_out) (HWIO).
    Returns (B, out_h, out_w, C_out), out = floor((n - k) / stride) + 1.

    >>> conv2d_im2col(np.ones((1, 3, 3, 2)), np.ones((2, 2, 2, 1)))[0, :, :, 0]
    array([[8., 8.],
           [8., 8.]])
    """
    images = as_array(images, 4, "images")
    filters = as_array(filters, 4, "filters")
    stride = as_stride(stride)
    k_h, k_w, channels, count = filters.shape
    if channels != images.shape[3]:
        raise ValueError(f"filters has {channels} input channels but images has {images.shape[3]} channels")
    out_h, out_w = valid_size(images.shape[1:3], (k_h, k_w), stride, ("images", "filters"))
    patches = np.concatenate([im2col(image, (k_h, k_w), stride) for image in images])
    return (patches @ filters.reshape(k_h * k_w * channels, count)).reshape(len(images), out_h, out_w, count)


def col2im(columns, image_shape, kernel_shape, stride=1):
    """The way back from im2col: add each row of `columns`, shape (out_h * out_w,
    k_h * k_w * C_in), into the window it belongs to in an image of image_shape =
    (H, W, C_in); where windows overlap, their values add up. Shape (H, W, C_in).
    It is im2col transposed: a pixel copied into r rows of the patch matrix gets the sum
    of those r values.

    >>> col2im(np.ones((2, 4)), (2, 3, 1), (2, 2))[..., 0]
    array([[1., 2., 1.],
           [1., 2., 1.]])
    """
    H, W, C_in = as_size(image_shape, "image_shape", 3)
    k_h, k_w = as_size(kernel_shape, "kernel_shape")
    stride = as_stride(stride)
    out_h, out_w = valid_size((H, W), (k_h, k_w), stride, ("image_shape", "kernel_shape"))
    columns = as_array(columns, 2, "columns")
    if columns.shape != (out_h * out_w, k_h * k_w * C_in):
        raise ValueError(f"columns must have shape {(out_h * out_w, k_h * k_w * C_in)}, got {columns.shape}")
    windows = columns.reshape(out_h, out_w, k_h, k_w, C_in)
    image = np.zeros((H, W, C_in), dtype=columns.dtype)
    for u in range(k_h):
        for v in range(k_w):
            rows = slice(u, u + stride * (out_h - 1) + 1, stride)
            cols = slice(v, v + stride * (out_w - 1) + 1, stride)
            image[rows, cols] += windows[:, :, u, v]
    return image


def matmul_in_calls(patches, matrix, rows):
    """patches @ matrix, shapes (P, T) and (T, C_out), as one call of `@` per block of
    `rows` rows of patches: ceil(P / rows) calls, the same multiply-adds whatever `rows`
    is. Returns (P, C_out).

    >>> patches, matrix = np.arange(8.0).reshape(4, 2), np.ones((2, 3))
    >>> bool(np.array_equal(matmul_in_calls(patches, matrix, 3), patches @ matrix))
    True
    """
    return np.concatenate([patches[start : start + rows] @ matrix for start in range(0, len(patches), rows)])


def matmul_per_channel_and_filter(patches, matrix, taps):
    """patches @ matrix, shapes (P, taps · C_in) and (taps · C_in, C_out), as a loop of
    2-D correlations computes it: for each input channel and filter, one call that
    multiplies that channel's (P, taps) columns of patches by that filter's `taps`
    weights, the results summed over the channels. C_in · C_out calls. Returns (P, C_out).

    >>> patches, matrix = np.arange(8.0).reshape(2, 4), np.ones((4, 3))
    >>> bool(np.array_equal(matmul_per_channel_and_filter(patches, matrix, 2), patches @ matrix))
    True
    """
    out = np.zeros((len(patches), matrix.shape[1]), np.result_type(patches, matrix))
    for c in range(0, matrix.shape[0], taps):
        for f in range(matrix.shape[1]):
            out[:, f] += patches[:, c : c + taps] @ matrix[c : c + taps, f]
    return out


def best_seconds(function, repeats=5):
    """The shortest of `repeats` wall-clock times of function(), in seconds: the run
    least disturbed by whatever else the machine was doing."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def conv2d_backward(x, w, grad_y):
    """The gradients of y = 'valid' cross-correlation of x with w, at stride 1 (for a
    stride, see conv2d_backward_strided), given grad_y = dL/dy:

        grad_w = 'valid' cross-correlation of x with grad_y
        grad_x = 'full' convolution of grad_y with w (the full cross-correlation of
                 grad_y with w flipped both ways)

    x: (H, W); w: (k_h, k_w); grad_y: (H - k_h + 1, W - k_w + 1).
    Returns (grad_x, grad_w), shapes (H, W) and (k_h, k_w).

    >>> grad_x, grad_w = conv2d_backward(np.array([[1, 2, 3]]), np.array([[1, 10]]), np.array([[1, 1]]))
    >>> grad_x, grad_w
    (array([[ 1, 11, 10]]), array([[3, 5]]))
    """
    x = as_array(x, 2, "x")
    w = as_array(w, 2, "w")
    grad_y = as_array(grad_y, 2, "grad_y")
    expected = valid_size(x.shape, w.shape, 1, ("x", "w"))
    if grad_y.shape != expected:
        raise ValueError(f"grad_y must have the shape of y, {expected}, got {grad_y.shape}")
    return convolve2d(grad_y, w, "full"), correlate2d(x, grad_y, "valid")


def dilate(grad_y, stride, shape):
    """Spread grad_y, shape (out_h, out_w), `stride` cells apart with zeros between, and
    pad it with zeros after (bottom, right) to `shape`: the gradient of the stride-1
    output that a stride-s layer keeps every s-th value of.

    >>> dilate(np.array([[1, 2]]), 2, (1, 4))
    array([[1, 0, 2, 0]])
    """
    spread = np.zeros(shape, dtype=grad_y.dtype)
    spread[: stride * (grad_y.shape[0] - 1) + 1 : stride, : stride * (grad_y.shape[1] - 1) + 1 : stride] = grad_y
    return spread


def conv2d_backward_strided(x, w, grad_y, stride):
    """conv2d_backward for y = 'valid' cross-correlation of x with w at `stride`: a
    stride-s output is every s-th value of the stride-1 output, so its gradient is the
    stride-1 gradient with zeros for the values left out (dilate), and the stride-1
    formulas do the rest.

    x: (H, W); w: (k_h, k_w); grad_y: (floor((H - k_h) / s) + 1, floor((W - k_w) / s) + 1).
    Returns (grad_x, grad_w), shapes (H, W) and (k_h, k_w).

    >>> conv2d_backward_strided(np.arange(5.0)[None], np.ones((1, 3)), np.ones((1, 2)), 2)[0]
    array([[1., 1., 2., 1., 1.]])
    """
    x = as_array(x, 2, "x")
    w = as_array(w, 2, "w")
    grad_y = as_array(grad_y, 2, "grad_y")
    stride = as_stride(stride)
    expected = valid_size(x.shape, w.shape, stride, ("x", "w"))
    if grad_y.shape != expected:
        raise ValueError(f"grad_y must have the shape of y, {expected}, got {grad_y.shape}")
    return conv2d_backward(x, w, dilate(grad_y, stride, valid_size(x.shape, w.shape, 1)))


def layer_arguments(x, w, grad_y, stride):
    """x (B, H, W, C_in), w (k_h, k_w, C_in, C_out) and grad_y (B, out_h, out_w, C_out),
    the shape of the 'valid' output at `stride`, as arrays, and the stride; ValueError
    naming the argument whose shape is wrong.

    >>> [np.shape(a) for a in layer_arguments(np.ones((1, 3, 3, 2)), np.ones((2, 2, 2, 1)), np.ones((1, 2, 2, 1)), 1)]
    [(1, 3, 3, 2), (2, 2, 2, 1), (1, 2, 2, 1), ()]
    """
    x = as_array(x, 4, "x")
    w = as_array(w, 4, "w")
    grad_y = as_array(grad_y, 4, "grad_y")
    stride = as_stride(stride)
    if w.shape[2] != x.shape[3]:
        raise ValueError(f"w has {w.shape[2]} input channels but x has {x.shape[3]} channels")
    out_h, out_w = valid_size(x.shape[1:3], w.shape[:2], stride, ("x", "w"))
    expected = (x.shape[0], out_h, out_w, w.shape[3])
    if grad_y.shape != expected:
        raise ValueError(f"grad_y must have the shape of y, {expected}, got {grad_y.shape}")
    return x, w, grad_y, stride


def conv2d_layer_backward(x, w, grad_y, stride=1):
    """The whole backward pass of a 'valid' convolution layer y = x ⋆ w + b at `stride`,
    for a batch with channels, in im2col form: with patches = im2col of every image,
    stacked, shape (B · out_h · out_w, k_h · k_w · C_in), and grad_Y = grad_y as rows,
    shape (B · out_h · out_w, C_out),

        grad_w = patchesᵀ · grad_Y                 (reshaped to w's shape)
        grad_x = col2im(grad_Y · w_matrixᵀ)        (w_matrix: w reshaped to (k_h · k_w · C_in, C_out))
        grad_b = the sum of grad_y over the batch and every position

    x: (B, H, W, C_in); w: (k_h, k_w, C_in, C_out); grad_y = dL/dy: (B, out_h, out_w, C_out).
    Returns (grad_x, grad_w, grad_b) of shapes (B, H, W, C_in), (k_h, k_w, C_in, C_out), (C_out,).

    >>> grad_x, grad_w, grad_b = conv2d_layer_backward(np.ones((1, 2, 3, 1)), np.ones((2, 2, 1, 1)), np.ones((1, 1, 2, 1)))
    >>> grad_x[0, :, :, 0], grad_w[:, :, 0, 0], grad_b
    (array([[1., 2., 1.],
           [1., 2., 1.]]), array([[2., 2.],
           [2., 2.]]), array([2.]))
    """
    x, w, grad_y, stride = layer_arguments(x, w, grad_y, stride)
    count, H, W, channels = x.shape
    k_h, k_w, _, filters = w.shape
    out_h, out_w = grad_y.shape[1:3]
    patches = np.concatenate([im2col(image, (k_h, k_w), stride) for image in x])
    grad_rows = grad_y.reshape(-1, filters)
    grad_w = (patches.T @ grad_rows).reshape(w.shape)
    grad_patches = (grad_rows @ w.reshape(-1, filters).T).reshape(count, out_h * out_w, -1)
    grad_x = np.stack([col2im(rows, (H, W, channels), (k_h, k_w), stride) for rows in grad_patches])
    return grad_x, grad_w, grad_rows.sum(axis=0)


def conv2d_layer_backward_by_channels(x, w, grad_y, stride=1):
    """conv2d_layer_backward from the 2-D formulas, one image, input channel and filter
    at a time: output channel q of image e reads input channel c through w[:, :, c, q]
    alone, so that pair contributes conv2d_backward_strided(x[e, :, :, c], w[:, :, c, q],
    grad_y[e, :, :, q]). grad_x[e, :, :, c] adds those over the output channels q, and
    grad_w[:, :, c, q] over the images e. Shapes as conv2d_layer_backward's.

    >>> conv2d_layer_backward_by_channels(np.ones((1, 2, 3, 1)), np.ones((2, 2, 1, 1)), np.ones((1, 1, 2, 1)))[2]
    array([2.])
    """
    x, w, grad_y, stride = layer_arguments(x, w, grad_y, stride)
    dtype = np.result_type(x, w, grad_y)
    grad_x, grad_w = np.zeros(x.shape, dtype), np.zeros(w.shape, dtype)
    for e in range(x.shape[0]):
        for c in range(x.shape[3]):
            for q in range(w.shape[3]):
                pair_x, pair_w = conv2d_backward_strided(x[e, :, :, c], w[:, :, c, q], grad_y[e, :, :, q], stride)
                grad_x[e, :, :, c] += pair_x
                grad_w[:, :, c, q] += pair_w
    return grad_x, grad_w, grad_y.sum(axis=(0, 1, 2))


def max_pool2d_backward(maps, grad_out, size=2):
    """The gradient of max pooling (4_digit.max_pool2d: size x size blocks, stride
    `size`, leftover rows and columns dropped) with respect to its input. Each block's
    output is its largest value, so the block's gradient grad_out[i, j, c] goes to the
    cell that holds the maximum (the first in reading order when several do, as in
    TensorFlow); every other cell, and every dropped row and column, gets 0.

    maps: (H, W, C); grad_out: (H // size, W // size, C). Returns (H, W, C).

    >>> max_pool2d_backward(np.array([[1, 3], [2, 0]])[:, :, None], np.array([[5]])[:, :, None])[:, :, 0]
    array([[0, 5],
           [0, 0]])
    """
    maps = as_array(maps, 3, "maps")
    grad_out = as_array(grad_out, 3, "grad_out")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive integer, got {size!r}")
    height, width, channels = maps.shape
    rows, columns = height // size, width // size
    if rows == 0 or columns == 0:
        raise ValueError(f"size {size} is larger than maps of shape {maps.shape}")
    if grad_out.shape != (rows, columns, channels):
        raise ValueError(
            f"grad_out must have the shape of the pooled maps, {(rows, columns, channels)}, got {grad_out.shape}"
        )
    blocks = maps[: rows * size, : columns * size].reshape(rows, size, columns, size, channels)
    blocks = blocks.transpose(0, 2, 4, 1, 3).reshape(rows, columns, channels, size * size)
    routed = np.zeros(blocks.shape, dtype=grad_out.dtype)
    np.put_along_axis(routed, blocks.argmax(axis=-1)[..., None], grad_out[..., None], axis=-1)
    grad = np.zeros(maps.shape, dtype=grad_out.dtype)
    routed = routed.reshape(rows, columns, channels, size, size).transpose(0, 3, 1, 4, 2)
    grad[: rows * size, : columns * size] = routed.reshape(rows * size, columns * size, channels)
    return grad


def conv_transpose2d(x, kernel, stride=1):
    """The transposed convolution: each input value x[i, j] adds x[i, j] * kernel, a
    stamp of the kernel, into the output at row s*i, column s*j; the stride spreads
    the stamps apart, and where they overlap they add up.

    x: (h, w); kernel: (k_h, k_w). Returns ((h - 1) * s + k_h, (w - 1) * s + k_w).

    >>> conv_transpose2d(np.array([[1, 2]]), np.array([[1, 10]]))
    array([[ 1, 12, 20]])
    """
    x = as_array(x, 2, "x")
    kernel = as_array(kernel, 2, "kernel")
    stride = as_stride(stride)
    k_h, k_w = kernel.shape
    out = np.zeros(((x.shape[0] - 1) * stride + k_h, (x.shape[1] - 1) * stride + k_w), np.result_type(x, kernel))
    for (i, j), value in np.ndenumerate(x):
        out[stride * i : stride * i + k_h, stride * j : stride * j + k_w] += value * kernel
    return out


def transposed_sizes(n, k, stride, padding):
    """The output sizes o whose stride-s convolution with k taps gives back n, which
    are the ones tf.nn.conv2d_transpose accepts: VALID (n - 1)s + k up to (n - 1)s + k
    + s - 1, SAME (n - 1)s + 1 up to n*s. Returns range(first, last + 1).

    >>> list(transposed_sizes(3, 3, 2, "VALID")), list(transposed_sizes(3, 3, 2, "SAME"))
    ([7, 8], [5, 6])
    """
    first = (n - 1) * stride + (k if padding == "VALID" else 1)
    return range(first, first + stride)


def conv_transpose2d_by_zero_insertion(x, kernel, stride=1):
    """The transposed convolution as an ordinary one: put stride - 1 zeros between the
    values of x (dilate), pad the result with k - 1 zeros on every side, and
    cross-correlate it, stride 1, 'valid', with the kernel turned 180 degrees. Equals
    conv_transpose2d(x, kernel, stride).

    x: (h, w); kernel: (k_h, k_w). Returns ((h - 1) * s + k_h, (w - 1) * s + k_w).

    >>> conv_transpose2d_by_zero_insertion(np.array([[1, 2]]), np.array([[1, 10]]))
    array([[ 1, 12, 20]])
    """
    x = as_array(x, 2, "x")
    kernel = as_array(kernel, 2, "kernel")
    stride = as_stride(stride)
    k_h, k_w = kernel.shape
    spread = dilate(x, stride, ((x.shape[0] - 1) * stride + 1, (x.shape[1] - 1) * stride + 1))
    padded = np.pad(spread, ((k_h - 1, k_h - 1), (k_w - 1, k_w - 1)))
    return correlate2d(padded, kernel[::-1, ::-1], "valid")


def transposed_output_size(n, k, stride=1, padding=0, output_padding=0, dilation=1):
    """The output size, along one axis, of a transposed convolution of n values with k
    taps at `stride` and `dilation`, with `padding` cells cut from the output (an int
    for both ends, or a (before, after) pair) and `output_padding` cells added after:

        o = (n - 1)·s - p_before - p_after + d·(k - 1) + output_padding + 1

    the smallest input size whose convolution gives n, less the padding, plus the
    output_padding (0 <= output_padding < s) that picks one of the s sizes giving n.

    >>> transposed_output_size(3, 3, 2), transposed_output_size(3, 3, 2, padding=1, output_padding=1)
    (7, 6)
    """
    values = {"n": n, "k": k, "stride": stride, "dilation": dilation}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    pair = (padding, padding) if isinstance(padding, (int, np.integer)) else tuple(padding)
    if len(pair) != 2 or any(isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 0 for p in pair):
        raise ValueError(f"padding must be an integer >= 0 or a (before, after) pair of them, got {padding!r}")
    whole = isinstance(output_padding, (int, np.integer)) and not isinstance(output_padding, bool)
    if not whole or not 0 <= output_padding < stride:
        raise ValueError(f"output_padding must be an integer from 0 to stride - 1 = {stride - 1}, got {output_padding!r}")
    size = (n - 1) * stride - sum(pair) + dilation * (k - 1) + output_padding + 1
    if size < 1:
        raise ValueError(f"padding {padding!r} cuts away the whole output of {size + sum(pair)} cells")
    return int(size)


def overlap_counts(n, k, stride):
    """How many kernel stamps of a transposed convolution cover each output cell, along
    one axis: the transposed convolution of n ones with k ones. Where k is a multiple of
    the stride, every cell away from the two ends is covered equally often; otherwise
    the counts alternate, and in 2-D (the outer product of two such rows) they make a
    checkerboard.

    >>> overlap_counts(4, 3, 2), overlap_counts(4, 4, 2)
    (array([1, 1, 2, 1, 2, 1, 2, 1, 1]), array([1, 1, 2, 2, 2, 2, 2, 2, 1, 1]))
    """
    return conv_transpose2d(np.ones((1, n), dtype=int), np.ones((1, k), dtype=int), stride)[0]


def rank_tolerance(singular_values, shape, dtype):
    """The size below which a singular value counts as 0, for a kernel of `shape`
    (k_h, k_w) stored as `dtype`: S[0] · max(k_h, k_w) · eps, where eps is the gap
    between 1 and the next number of the kernel's float type (float64 for integers).
    Rounding each entry to that type already leaves singular values of about this size,
    so a smaller tolerance calls rank-1 kernels stored in float32 not separable. It is
    the rule of NumPy's matrix_rank.

    >>> float(rank_tolerance(np.array([2.0, 0.0]), (2, 3), np.float32) / np.finfo(np.float32).eps)
    6.0
    """
    eps = np.finfo(dtype if np.issubdtype(dtype, np.floating) else np.float64).eps
    return singular_values[0] * max(shape) * eps


def separable_factors(kernel):
    """The two 1-D kernels whose outer product is `kernel`, shape (k_h, k_w), found with
    the SVD: kernel = U diag(S) V^T, and rank 1 means S[1:] is 0 (below rank_tolerance,
    which depends on the kernel's float type and shape), so kernel = S[0] * outer(U[:, 0],
    V[0]). Scaled so that the column's smallest non-zero |value| is 1 and its first
    non-zero value positive (factors of an integer kernel rounded to 12 decimals).
    Returns (column (k_h,), row (k_w,)) in float64;
    ValueError when the kernel is not of rank 1.

    >>> separable_factors(np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]))
    (array([1., 2., 1.]), array([-1.,  0.,  1.]))
    """
    kernel = as_array(kernel, 2, "kernel")
    work = np.promote_types(kernel.dtype, np.float32) if np.issubdtype(kernel.dtype, np.floating) else np.float64
    u, s, vt = np.linalg.svd(kernel.astype(work))
    tolerance = rank_tolerance(s, kernel.shape, kernel.dtype)
    if s[0] == 0 or (len(s) > 1 and s[1] > tolerance):
        raise ValueError(f"kernel is not separable: its singular values are {np.round(s, 6)}, "
                         f"not one above {tolerance:.2g}")
    column, row = u[:, 0].astype(float) * float(s[0]), vt[0].astype(float)
    nonzero = column[np.abs(column) > max(kernel.shape) * np.finfo(work).eps * np.abs(column).max()]
    scale = np.abs(nonzero).min() * np.sign(nonzero[0])
    column, row = column / scale, row * scale
    if not np.issubdtype(kernel.dtype, np.floating):  # integer kernels: integer factors print as such
        column, row = column.round(12), row.round(12)
    return column + 0.0, row + 0.0


def separable_convolve2d(image, column, row, mode="full"):
    """Convolve `image`, shape (H, W), with the kernel outer(column, row), shape
    (k_h, k_w), as two 1-D passes: the column (k_h, 1) down every column of pixels,
    then the row (1, k_w) along every row, each with convolve2d of 1_2D.py: k_h + k_w
    multiply-adds per pixel instead of k_h * k_w. `mode` as convolve2d's.

    >>> separable_convolve2d(np.eye(3), np.array([1, 1]), np.array([1, 2]), "valid")
    array([[3., 2.],
           [1., 3.]])
    """
    image = as_array(image, 2, "image")
    column = as_array(column, 1, "column")
    row = as_array(row, 1, "row")
    return convolve2d(convolve2d(image, column[:, np.newaxis], mode), row[np.newaxis, :], mode)


def depthwise_conv2d(x, kernels, stride=1):
    """The depthwise convolution: each channel of x cross-correlated ('valid') with its
    own 2-D kernel, nothing mixed across channels. Keras's DepthwiseConv2D with depth
    multiplier 1 and no bias.

    x: (H, W, C); kernels: (k_h, k_w, C). Returns (out_h, out_w, C).

    >>> depthwise_conv2d(np.ones((2, 3, 2)), np.stack([np.ones((2, 2)), -np.ones((2, 2))], axis=-1))[..., 1]
    array([[-4., -4.]])
    """
    x = as_array(x, 3, "x")
    kernels = as_array(kernels, 3, "kernels")
    stride = as_stride(stride)
    if kernels.shape[2] != x.shape[2]:
        raise ValueError(f"kernels has {kernels.shape[2]} channels but x has {x.shape[2]}")
    valid_size(x.shape[:2], kernels.shape[:2], stride, ("x", "kernels"))
    return np.stack(
        [correlate2d(x[:, :, c], kernels[:, :, c], "valid")[::stride, ::stride] for c in range(x.shape[2])], axis=-1
    )


def pointwise_conv2d(x, weights):
    """The pointwise (1x1) convolution: at every pixel, the C_in values times a
    (C_in, C_out) matrix, mixing the channels and nothing across pixels. A layer of 1x1
    filters, so conv2d_im2col with filters of shape (1, 1, C_in, C_out).

    x: (H, W, C_in); weights: (C_in, C_out). Returns (H, W, C_out).

    >>> pointwise_conv2d(np.ones((1, 2, 3)), np.array([[1], [2], [3]]))[..., 0]
    array([[6., 6.]])
    """
    x = as_array(x, 3, "x")
    weights = as_array(weights, 2, "weights")
    if weights.shape[0] != x.shape[2]:
        raise ValueError(f"weights has {weights.shape[0]} input channels but x has {x.shape[2]}")
    return conv2d_im2col(x[np.newaxis], weights[np.newaxis, np.newaxis])[0]


def separable_conv2d(x, depthwise, pointwise, stride=1):
    """The depthwise-separable convolution of MobileNet and Xception: a depthwise
    convolution (one 2-D kernel per input channel, at `stride`), then a pointwise one
    that mixes the channels. Keras's SeparableConv2D with depth multiplier 1, no bias.

    x: (H, W, C_in); depthwise: (k_h, k_w, C_in); pointwise: (C_in, C_out).
    Returns (out_h, out_w, C_out).

    >>> separable_conv2d(np.ones((3, 3, 2)), np.ones((3, 3, 2)), np.array([[1.0], [-2.0]]))[..., 0]
    array([[-9.]])
    """
    pointwise = as_array(pointwise, 2, "pointwise")
    return pointwise_conv2d(depthwise_conv2d(x, depthwise, stride), pointwise)


def grouped_conv2d(x, w, groups, stride=1):
    """The grouped convolution: the C_in input channels and the C_out filters split into
    `groups` equal groups, and each group of filters a standard 'valid' layer
    (conv2d_im2col) on its own group of channels. groups = 1 is the standard layer;
    groups = C_in = C_out is the depthwise convolution. Keras's Conv2D(groups=groups)
    without bias.

    x: (H, W, C_in); w: (k_h, k_w, C_in / groups, C_out). Returns (out_h, out_w, C_out).

    >>> grouped_conv2d(np.ones((1, 1, 4)), np.arange(1.0, 5.0).reshape(1, 1, 2, 2), 2)[0, 0]
    array([4., 6.])
    """
    x = as_array(x, 3, "x")
    w = as_array(w, 4, "w")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"groups must be a positive integer, got {groups!r}")
    channels, filters = x.shape[2], w.shape[3]
    if channels % groups or filters % groups:
        raise ValueError(f"groups = {groups} must divide x's {channels} channels and w's {filters} filters")
    if w.shape[2] * groups != channels:
        raise ValueError(f"w must have C_in / groups = {channels // groups} input channels, got {w.shape[2]}")
    size_in, size_out = channels // groups, filters // groups
    outputs = []
    for g in range(groups):
        channels_in = x[np.newaxis, :, :, g * size_in : (g + 1) * size_in]
        outputs.append(conv2d_im2col(channels_in, w[..., g * size_out : (g + 1) * size_out], stride)[0])
    return np.concatenate(outputs, axis=-1)


def layer_costs(k, c_in, c_out, out_pixels, kind="standard", groups=1):
    """(weights, multiply-adds) of a k x k layer from c_in to c_out channels with
    out_pixels output pixels, biases left out. Every weight is used once per output pixel:

    "standard"             k·k·c_in·c_out weights
    "grouped"              k·k·(c_in / groups)·c_out
    "separable"            k·k·c_in (depthwise) + c_in·c_out (pointwise)

    >>> layer_costs(3, 64, 128, 56 * 56), layer_costs(3, 64, 128, 56 * 56, "separable")
    ((73728, 231211008), (8768, 27496448))
    """
    if kind == "standard":
        weights = k * k * c_in * c_out
    elif kind == "grouped":
        if c_in % groups or c_out % groups:
            raise ValueError(f"groups = {groups} must divide c_in = {c_in} and c_out = {c_out}")
        weights = k * k * (c_in // groups) * c_out
    elif kind == "separable":
        weights = k * k * c_in + c_in * c_out
    else:
        raise ValueError(f"kind must be 'standard', 'grouped' or 'separable', got {kind!r}")
    return weights, weights * out_pixels


# TensorFlow, for the checks ------------------------------------------------------------------


def tf_correlate(x, w, stride=1):
    """tf.nn.conv2d, VALID, of a 2-D x, shape (H, W), with a 2-D w, shape (k_h, k_w), in
    float64: the 'valid' cross-correlation, shape (out_h, out_w), as a NumPy array.

    >>> tf_correlate(np.array([[1, 2, 3]]), np.array([[1, 10]]))
    array([[21., 32.]])
    """
    image = tf.constant(np.asarray(x, np.float64)[np.newaxis, :, :, np.newaxis])
    kernel = tf.constant(np.asarray(w, np.float64)[:, :, np.newaxis, np.newaxis])
    return tf.nn.conv2d(image, kernel, strides=stride, padding="VALID").numpy()[0, :, :, 0]


def tf_gradients(x, w, grad_y, stride=1):
    """(dL/dx, dL/dw) from tf.GradientTape for L = sum(y * grad_y), y = tf.nn.conv2d of
    x, shape (H, W), with w, shape (k_h, k_w), VALID at `stride`: then dL/dy is grad_y.

    >>> tf_gradients(np.array([[1, 2, 3]]), np.array([[1, 10]]), np.array([[1, 1]]))[1]
    array([[3., 5.]])
    """
    image = tf.Variable(np.asarray(x, np.float64)[np.newaxis, :, :, np.newaxis])
    kernel = tf.Variable(np.asarray(w, np.float64)[:, :, np.newaxis, np.newaxis])
    with tf.GradientTape() as tape:
        y = tf.nn.conv2d(image, kernel, strides=stride, padding="VALID")
        loss = tf.reduce_sum(y[0, :, :, 0] * grad_y)
    grad_x, grad_w = tape.gradient(loss, [image, kernel])
    return grad_x.numpy()[0, :, :, 0], grad_w.numpy()[:, :, 0, 0]


def tf_layer_gradients(x, w, b, grad_y, stride=1):
    """(dL/dx, dL/dw, dL/db) from tf.GradientTape for L = sum(y * grad_y), where
    y = tf.nn.conv2d(x, w, VALID, stride) + b: then dL/dy is grad_y. x: (B, H, W, C_in);
    w: (k_h, k_w, C_in, C_out); b: (C_out,); grad_y: y's shape. NumPy arrays, float64.

    >>> [g.shape for g in tf_layer_gradients(np.ones((1, 2, 2, 1)), np.ones((2, 2, 1, 3)), np.zeros(3), np.ones((1, 1, 1, 3)))]
    [(1, 2, 2, 1), (2, 2, 1, 3), (3,)]
    """
    x, w, b = (tf.Variable(np.asarray(a, np.float64)) for a in (x, w, b))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum((tf.nn.conv2d(x, w, stride, "VALID") + b) * np.asarray(grad_y, np.float64))
    return tuple(gradient.numpy() for gradient in tape.gradient(loss, [x, w, b]))


def tf_max_pool_gradient(maps, grad_out, size=2):
    """dL/dmaps from tf.GradientTape for L = sum(tf.nn.max_pool2d(maps) * grad_out), a
    size x size window at stride `size`, VALID: maps (H, W, C), grad_out (H // size,
    W // size, C). Returns (H, W, C), float64.

    >>> tf_max_pool_gradient(np.array([[1, 3], [2, 0]])[:, :, None], np.array([[5]])[:, :, None])[:, :, 0]
    array([[0., 5.],
           [0., 0.]])
    """
    variable = tf.Variable(np.asarray(maps, np.float64)[np.newaxis])
    with tf.GradientTape() as tape:
        pooled = tf.nn.max_pool2d(variable, size, size, "VALID")
        loss = tf.reduce_sum(pooled[0] * np.asarray(grad_out, np.float64))
    return tape.gradient(loss, variable).numpy()[0]


def keras_layer(layer, weights, x):
    """Run the Keras `layer` (float64, no bias) with its weights set to the list `weights`
    on one image x, shape (H, W, C_in); returns its output (out_h, out_w, C_out).

    >>> keras_layer(keras.layers.Conv2D(1, 1, use_bias=False, dtype="float64"), [np.full((1, 1, 2, 1), 2.0)], np.ones((1, 1, 2)))
    array([[[4.]]])
    """
    layer.build((1, *np.shape(x)))
    layer.set_weights(weights)
    return keras.ops.convert_to_numpy(layer(np.asarray(x, np.float64)[np.newaxis]))[0]


def tf_conv_transpose(x, kernel, stride=1, size=None, padding="VALID"):
    """tf.nn.conv2d_transpose of a 2-D x, shape (h, w), with a 2-D kernel, shape
    (k_h, k_w), in float64, to an output of `size` (rows, columns), by default the
    VALID size ((h - 1)s + k_h, (w - 1)s + k_w). Returns a NumPy array of that shape.

    >>> tf_conv_transpose(np.array([[1, 2]]), np.array([[1, 10]]))
    array([[ 1., 12., 20.]])
    """
    x, kernel = np.asarray(x, np.float64), np.asarray(kernel, np.float64)
    if size is None:
        size = ((x.shape[0] - 1) * stride + kernel.shape[0], (x.shape[1] - 1) * stride + kernel.shape[1])
    result = tf.nn.conv2d_transpose(
        x[np.newaxis, :, :, np.newaxis], kernel[:, :, np.newaxis, np.newaxis], (1, *size, 1), stride, padding
    )
    return result.numpy()[0, :, :, 0]


def tf_transposed_ops():
    """The types of the TensorFlow operations that tf.nn.conv2d_transpose builds, traced
    once with tf.function on a small input; the transposed convolution itself is
    Conv2DBackpropInput, the convolution's input gradient.

    >>> "Conv2DBackpropInput" in tf_transposed_ops()
    True
    """
    traced = tf.function(lambda x, kernel: tf.nn.conv2d_transpose(x, kernel, (1, 5, 5, 1), 2, "VALID"))
    graph = traced.get_concrete_function(tf.TensorSpec((1, 2, 2, 1), tf.float64),
                                         tf.TensorSpec((3, 3, 1, 1), tf.float64)).graph
    return {operation.type for operation in graph.get_operations()}


def tf_cpu_refuses_dilated_transpose():
    """Whether TensorFlow's CPU kernel refuses tf.nn.conv2d_transpose with dilation 2
    (a 3x3 input, a 3x3 kernel, stride 1, VALID, which would give 7x7).

    >>> tf_cpu_refuses_dilated_transpose()
    True
    """
    with tf.device("/CPU:0"):
        try:
            tf.nn.conv2d_transpose(np.ones((1, 3, 3, 1)), np.ones((3, 3, 1, 1)), (1, 7, 7, 1), 1, "VALID", dilations=2)
        except tf.errors.OpError:
            return True
    return False


def tf_accepted_sizes(n, k, stride, padding):
    """The output sizes o, 1 <= o <= n*s + k, for which tf.nn.conv2d_transpose takes an
    n x n input and a k x k kernel at `stride` and `padding` (it refuses the others).

    >>> tf_accepted_sizes(3, 3, 2, "VALID")
    [7, 8]
    """
    accepted = []
    for size in range(1, n * stride + k + 1):
        try:
            tf_conv_transpose(np.ones((n, n)), np.ones((k, k)), stride, (size, size), padding)
        except (ValueError, tf.errors.InvalidArgumentError):
            continue
        accepted.append(size)
    return accepted


def keras_transposed_size(n, k, stride, padding, output_padding=None, dilation=1):
    """The output size Keras's Conv2DTranspose gives an n x n input, from its shape
    inference (nothing is computed).

    >>> keras_transposed_size(3, 3, 2, "valid"), keras_transposed_size(3, 3, 2, "valid", 1)
    (7, 8)
    """
    layer = keras.layers.Conv2DTranspose(1, k, strides=stride, padding=padding, output_padding=output_padding,
                                         dilation_rate=dilation)
    return layer.compute_output_shape((1, n, n, 1))[1]


def keras_transposed_run(n, k, stride, output_padding):
    """The output size Keras's Conv2DTranspose, SAME, gives when it is run on an n x n
    input, or None when TensorFlow refuses the size that Keras's shape inference asks
    tf.nn.conv2d_transpose for.

    >>> keras_transposed_run(3, 3, 2, 0), keras_transposed_run(3, 2, 2, 0)
    (5, None)
    """
    layer = keras.layers.Conv2DTranspose(1, k, strides=stride, padding="same", output_padding=output_padding,
                                         dtype="float64")
    try:
        return int(layer(np.ones((1, n, n, 1))).shape[1])
    except (ValueError, tf.errors.InvalidArgumentError):
        return None


# Figures -------------------------------------------------------------------------------------


def figure_in_cells(width, height, left=-0.5, top=-0.5):
    """A figure README_WIDTH pixels wide (at dpi 100) whose one axes shows `width` x
    `height` cell units from (left, top), rows going down, at one scale."""
    fig = plt.figure(figsize=(lessonkit.README_WIDTH / 100, lessonkit.README_WIDTH / 100 * height / width))
    ax = lesson_2d.grid_axes(fig, 1, 1)
    ax.set_xlim(left, left + width)
    ax.set_ylim(top + height, top)
    return fig, ax


def matrix_figure(kernel, image_shape):
    """K of `kernel`, shape (3, 3), for an image of `image_shape`, drawn cell by cell:
    each of the nine weights in its own colour, zeros blank, with the kernel beside it
    in the same colours. Returns the matplotlib Figure."""
    taps = correlation_matrix(np.arange(1, kernel.size + 1).reshape(kernel.shape), image_shape)  # tap 1..9, or 0
    rows, columns = taps.shape
    colours = np.array(["white"] + WEIGHT_COLOURS)[taps]
    values = np.array([""] + [str(v) for v in kernel.ravel()])[taps]
    left = kernel.shape[1] + 1.5
    fig, ax = figure_in_cells(left + columns + 1, rows + 4.6, top=-4.1)
    lesson_2d.draw_grid(ax, kernel, np.array(WEIGHT_COLOURS).reshape(kernel.shape), fontsize=11)
    lesson_2d.label(ax, kernel.shape[1] / 2, -0.6, "kernel w", fontsize=11)
    lesson_2d.draw_grid(ax, values, colours, left=left, fontsize=9)
    H, W = image_shape
    for column in range(W, H * W, W):
        ax.plot([left + column] * 2, [0, rows], color="black", linewidth=1.5)
    lesson_2d.label(ax, left + columns / 2, -0.6,
                    f"K: one row per output pixel ({rows}), one column per image pixel ({H}x{W} = {columns}); "
                    "thick lines between image rows", fontsize=9)
    lesson_2d.label(ax, (left + columns) / 2, -2.9,
                    f"A 3x3 cross-correlation of a {H}x{W} image is a {rows}x{columns} matrix K:", fontsize=12)
    lesson_2d.label(ax, (left + columns) / 2, -1.8,
                    "every row holds the same nine weights, shifted along; blank cells are 0", fontsize=12)
    return fig


def im2col_figure(image, filters):
    """im2col of a one-channel `image`, shape (4, 4), for `filters` of shape (3, 3, F):
    the image with one window outlined, how many rows of the patch matrix hold each
    pixel, the patch matrix (that window its first row), the filters as the columns of a
    (9, F) matrix, and their product, the output. Returns the matplotlib Figure."""
    k_h, k_w, count = filters.shape
    H, W = image.shape
    patches = im2col(image[:, :, np.newaxis], (k_h, k_w))
    matrix = filters.reshape(k_h * k_w, count)
    product = patches @ matrix
    out_h, out_w = valid_size((H, W), (k_h, k_w), 1)
    copies = col2im(np.ones(patches.shape, dtype=int), (H, W, 1), (k_h, k_w))[:, :, 0]
    patch_left = W + 1.5
    filter_left = patch_left + patches.shape[1] + 1.5
    out_left = filter_left + count + 1.5
    bottom = max(matrix.shape[0], H + 1.6 + H)
    fig, ax = figure_in_cells(out_left + count + 1, bottom + 3.7, top=-3.2)
    window = lessonkit.COLOURS["window"]
    lesson_2d.draw_grid(ax, image, lessonkit.COLOURS["input"], fontsize=12)
    ax.add_patch(Rectangle((0, 0), k_w, k_h, fill=False, edgecolor=window, linewidth=3))
    lesson_2d.draw_grid(ax, copies, "white", top=H + 1.6, fontsize=12)
    lesson_2d.draw_grid(ax, patches, lessonkit.COLOURS["input"], left=patch_left, fontsize=12)
    ax.add_patch(Rectangle((patch_left, 0), patches.shape[1], 1, fill=False, edgecolor=window, linewidth=3))
    lesson_2d.draw_grid(ax, matrix, lessonkit.COLOURS["kernel"], left=filter_left, fontsize=12)
    lesson_2d.draw_grid(ax, product, lessonkit.COLOURS["output"], left=out_left, fontsize=12)
    lesson_2d.label(ax, W / 2, -0.6, f"image, {H}x{W}", fontsize=11)
    lesson_2d.label(ax, W / 2, H + 1.0, "copies of each pixel", fontsize=11)
    lesson_2d.label(ax, patch_left + patches.shape[1] / 2, -0.6,
                    f"patch matrix, {patches.shape[0]}x{patches.shape[1]}: row r = window r", fontsize=11)
    lesson_2d.label(ax, filter_left + count / 2, -0.6, f"filters, {matrix.shape[0]}x{count}", fontsize=11)
    lesson_2d.label(ax, out_left + count / 2, -0.6, f"output, {product.shape[0]}x{count}", fontsize=11)
    lesson_2d.label(ax, filter_left - 0.75, patches.shape[0] / 2, "@", fontsize=16)
    lesson_2d.label(ax, out_left - 0.75, patches.shape[0] / 2, "=", fontsize=16)
    notes = [f"Each filter, {k_h}x{k_w}, is raveled into one column;",
             f"column q of the output is filter q's {out_h}x{out_w} map, raveled.", "",
             f"Memory: the {image.size} pixels fill {patches.size} cells of the",
             f"patch matrix, {patches.size / image.size:.2f} times as many: each pixel",
             "is copied once for every window that covers it", "(the counts on the left)."]
    for line, note in enumerate(notes):
        lesson_2d.label(ax, patch_left + patches.shape[1] / 2, patches.shape[0] + 0.8 + 0.75 * line, note, fontsize=11)
    middle = (out_left + count) / 2
    lesson_2d.label(ax, middle, -2.5, f"im2col: each {k_h}x{k_w} window of the image becomes a row (window 0 in red),",
                    fontsize=12)
    lesson_2d.label(ax, middle, -1.6, f"and one matrix multiply gives every output of the {count} filters", fontsize=12)
    return fig


def transposed_frames(x, kernel, stride):
    """The transposed convolution of `x`, shape (h, w), with `kernel`, shape (k_h, k_w),
    at `stride`, one frame per input cell in reading order and a last one with the
    result: the input cell lit up, its stamp x[i, j] * kernel, and the output with the
    stamp outlined where it is added.

    Returns (frames, states): PIL images of one size and one palette, and for each
    frame a dict of what it shows: "input" (i, j) and "value" x[i, j] (None on the last
    frame), "rows" and "columns" of the output the stamp covers (first, last), "output"
    the sums so far (cells no stamp has reached yet are not drawn) and "title"."""
    h, w = x.shape
    k_h, k_w = kernel.shape
    out_h, out_w = (h - 1) * stride + k_h, (w - 1) * stride + k_w
    kernel_left, stamp_left, out_left = w + 1.5, w + k_w + 3, w + 2 * k_w + 4.5
    output = np.zeros((out_h, out_w), dtype=int)
    steps = list(np.ndenumerate(x))
    pictures, states = [], []
    for step in range(len(steps) + 1):
        fig = plt.figure(figsize=(11.5, 4.6), dpi=72)
        ax = lesson_2d.grid_axes(fig, 1, 1)
        ax.set_xlim(-0.5, out_left + out_w + 0.5)
        ax.set_ylim(out_h + 0.4, -2.6)
        input_colours = np.full(x.shape, lessonkit.COLOURS["input"], dtype=object)
        touched = np.zeros(output.shape, dtype=bool)
        for (i, j), _ in steps[: step + 1]:
            touched[stride * i : stride * i + k_h, stride * j : stride * j + k_w] = True
        if step < len(steps):
            (i, j), value = steps[step]
            input_colours[i, j] = LIT_COLOUR
            output[stride * i : stride * i + k_h, stride * j : stride * j + k_w] += value * kernel
            stamp = value * kernel
            rows, columns = (stride * i, stride * i + k_h - 1), (stride * j, stride * j + k_w - 1)
            title = (f"Step {step + 1} of {x.size}: input x[{i}, {j}] = {value} adds {value} × kernel "
                     f"at output rows {rows[0]}-{rows[1]}, columns {columns[0]}-{columns[1]}")
            states.append({"input": (i, j), "value": int(value), "rows": rows, "columns": columns,
                           "output": output.copy(), "title": title})
        else:
            stamp = np.full(kernel.shape, "")
            title = f"Done: the {out_h}x{out_w} output is the sum of the {x.size} stamps; where stamps overlap they add"
            states.append({"input": None, "value": None, "rows": (0, out_h - 1), "columns": (0, out_w - 1),
                           "output": output.copy(), "title": title})
        lesson_2d.draw_grid(ax, x, input_colours.astype(str), fontsize=14)
        lesson_2d.draw_grid(ax, kernel, lessonkit.COLOURS["kernel"], left=kernel_left, fontsize=14)
        lesson_2d.draw_grid(ax, stamp, LIT_COLOUR if step < len(steps) else "white", left=stamp_left, fontsize=14)
        shown = np.where(touched, output.astype(str), "")
        lesson_2d.draw_grid(ax, shown, np.where(touched, lessonkit.COLOURS["output"], "white"), left=out_left, fontsize=14)
        if step < len(steps):
            ax.add_patch(Rectangle((j, i), 1, 1, fill=False, edgecolor=lessonkit.COLOURS["window"], linewidth=3))
            ax.add_patch(Rectangle((out_left + stride * j, stride * i), k_w, k_h, fill=False,
                                   edgecolor=lessonkit.COLOURS["window"], linewidth=3))
        lesson_2d.label(ax, w / 2, -0.5, f"INPUT x, {h}x{w}", fontsize=12, fontweight="bold")
        lesson_2d.label(ax, kernel_left + k_w / 2, -0.5, f"kernel, {k_h}x{k_w}", fontsize=12)
        lesson_2d.label(ax, stamp_left + k_w / 2, -0.5, "stamp = x[i, j] × kernel", fontsize=12)
        lesson_2d.label(ax, out_left + out_w / 2, -0.5,
                        f"OUTPUT, {out_h}x{out_w}: ({h} - 1)·{stride} + {k_h} = {out_h}", fontsize=12, fontweight="bold")
        lesson_2d.label(ax, (out_left + out_w) / 2, -1.9,
                        f"Transposed convolution, stride {stride}: {title}", fontsize=12)
        fig.canvas.draw()
        pictures.append(lesson_2d.rgb_pixels(fig))
        plt.close(fig)
    return lesson_2d.to_shared_palette(pictures), states


def zero_insertion_figure(x, kernel, stride):
    """Above: the transposed convolution of `x`, shape (h, w), with `kernel`, shape
    (k_h, k_w), at `stride` as a plain convolution: x spread out with stride - 1 zeros,
    padded with k - 1 zeros, cross-correlated with the kernel turned 180 degrees, one
    window outlined with the output cell it gives. Below: why the transposed
    convolution must be told its size: inputs of 7 and 8 cells give 3 outputs each with
    k = 3, s = 2. Returns the matplotlib Figure."""
    k_h, k_w = kernel.shape
    spread = dilate(x, stride, ((x.shape[0] - 1) * stride + 1, (x.shape[1] - 1) * stride + 1))
    padded = np.pad(spread, ((k_h - 1, k_h - 1), (k_w - 1, k_w - 1)))
    is_input = np.zeros(padded.shape, dtype=bool)
    is_input[k_h - 1 : k_h - 1 + spread.shape[0] : stride, k_w - 1 : k_w - 1 + spread.shape[1] : stride] = True
    turned = kernel[::-1, ::-1]
    out = correlate2d(padded, turned, "valid")
    P_h, P_w = padded.shape
    kernel_left, kernel_top = P_w + 1.5, (P_h - k_h) / 2
    out_left, out_top = kernel_left + k_w + 1.5, (P_h - out.shape[0]) / 2
    strip_top = P_h + 2.3
    fig, ax = figure_in_cells(out_left + out.shape[1] + 1, strip_top + 7.5, top=-3.3)
    window = lessonkit.COLOURS["window"]
    colours = np.where(is_input, lessonkit.COLOURS["input"], lessonkit.COLOURS["padding"])
    lesson_2d.draw_grid(ax, padded, colours, fontsize=12)
    lesson_2d.draw_grid(ax, turned, lessonkit.COLOURS["kernel"], left=kernel_left, top=kernel_top, fontsize=12)
    lesson_2d.draw_grid(ax, out, lessonkit.COLOURS["output"], left=out_left, top=out_top, fontsize=12)
    i, j = out.shape[0] // 2, out.shape[1] // 2
    ax.add_patch(Rectangle((j, i), k_w, k_h, fill=False, edgecolor=window, linewidth=3))
    ax.add_patch(Rectangle((out_left + j, out_top + i), 1, 1, fill=False, edgecolor=window, linewidth=3))
    lesson_2d.label(ax, kernel_left - 0.75, P_h / 2, "⋆", fontsize=30)
    lesson_2d.label(ax, out_left - 0.75, P_h / 2, "=", fontsize=18)
    lesson_2d.label(ax, P_w / 2, -0.6, f"x spread out and padded, {P_h}x{P_w}", fontsize=11)
    lesson_2d.label(ax, kernel_left + k_w / 2, kernel_top - 0.6, "kernel turned", fontsize=11)
    lesson_2d.label(ax, out_left + out.shape[1] / 2, out_top - 0.6, f"output, {out.shape[0]}x{out.shape[1]}", fontsize=11)
    lesson_2d.label(ax, out_left + out.shape[1] / 2, out_top + out.shape[0] + 0.6,
                    f"out[{i}, {j}] = {out[i, j]}: the red window times", fontsize=11)
    lesson_2d.label(ax, out_left + out.shape[1] / 2, out_top + out.shape[0] + 1.35,
                    "the turned kernel, summed", fontsize=11)
    middle = (out_left + out.shape[1]) / 2
    lesson_2d.label(ax, middle, -2.6, f"The transposed convolution, stride {stride}, as a convolution: blue x, "
                    f"{stride - 1} grey zero between,", fontsize=12)
    lesson_2d.label(ax, middle, -1.7, f"{k_h - 1} grey zeros around, the kernel turned 180°, stride 1: "
                    "the same output as the stamps", fontsize=12)
    lesson_2d.label(ax, middle, strip_top - 0.9,
                    "Why it must be told its size: windows of k = 3 at s = 2 on 7 and on 8 cells", fontsize=12)
    for length, left in ((7, 0), (8, 8.5)):
        read = np.arange(length) < 7
        cell_colours = np.where(read, lessonkit.COLOURS["input"], "white")[np.newaxis]
        lesson_2d.draw_grid(ax, np.arange(length)[np.newaxis], cell_colours, left=left, top=strip_top, fontsize=11)
        starts = range(0, length - 3 + 1, 2)
        for number, start in enumerate(starts):
            depth = strip_top + 1.3 + 0.45 * number
            ax.plot([left + start + 0.1, left + start + 2.9], [depth, depth], color=window, linewidth=2.5)
            for end in (start + 0.1, start + 2.9):
                ax.plot([left + end] * 2, [depth - 0.2, depth], color=window, linewidth=2.5)
        note = f"{length} cells: {len(starts)} windows, {len(starts)} outputs"
        lesson_2d.label(ax, left + length / 2, strip_top + 2.8, note, fontsize=11)
        if length == 8:
            lesson_2d.label(ax, left + length + 1.0, strip_top + 0.1, "← read by", fontsize=11)
            lesson_2d.label(ax, left + length + 1.0, strip_top + 0.8, "no window", fontsize=11)
    lesson_2d.label(ax, middle, strip_top + 3.7, "From 3 values the transposed convolution gives (3 - 1)·2 + 3 = 7 "
                    "with output_padding 0, or 8 with 1", fontsize=11)
    return fig


def separable_figure(column, row):
    """The kernel outer(column, row) drawn as the product of its two 1-D factors, every
    number written in, all three in the kernel's colour; column (k_h,), row (k_w,) of
    integers. Returns the matplotlib Figure."""
    kernel = np.outer(column, row)
    k_h, k_w = kernel.shape
    row_left, kernel_left = 2.5, k_w + 5
    fig, ax = figure_in_cells(kernel_left + k_w + 1, k_h + 3.4, top=-2.9)
    peach = lessonkit.COLOURS["kernel"]
    lesson_2d.draw_grid(ax, column[:, np.newaxis], peach, fontsize=13)
    lesson_2d.draw_grid(ax, row[np.newaxis, :], peach, left=row_left, top=(k_h - 1) / 2, fontsize=13)
    lesson_2d.draw_grid(ax, kernel, peach, left=kernel_left, fontsize=13)
    lesson_2d.label(ax, 0.5, -0.5, "column", fontsize=12)
    lesson_2d.label(ax, row_left + k_w / 2, (k_h - 1) / 2 - 0.5, "row", fontsize=12)
    lesson_2d.label(ax, kernel_left + k_w / 2, -0.5, f"kernel = outer(column, row), {k_h}x{k_w}", fontsize=12)
    lesson_2d.label(ax, 1.75, k_h / 2, "×", fontsize=24)
    lesson_2d.label(ax, kernel_left - 1.25, k_h / 2, "=", fontsize=24)
    lesson_2d.label(ax, (kernel_left + k_w) / 2, -2.0,
                    f"A separable kernel: {k_h} + {k_w} = {k_h + k_w} multiply-adds per pixel in two 1-D passes, "
                    f"instead of {k_h * k_w}", fontsize=12)
    return fig


# The sections ----------------------------------------------------------------------------------


def inside_a_convolution_layer():
    """README: "Inside a convolution layer". A layer computes a = ReLU(x ⋆ w + b);
    checked against TensorFlow on one small case."""
    lessonkit.heading("Inside a convolution layer")
    rng = np.random.default_rng(3)
    x = rng.integers(-3, 4, size=(4, 4)).astype(float)
    w = rng.integers(-2, 3, size=(3, 3)).astype(float)
    b = -1.0
    ours = np.maximum(correlate2d(x, w, "valid") + b, 0)
    theirs = tf.nn.relu(tf_correlate(x, w) + b).numpy()
    print("A convolution layer computes a = ReLU(x ⋆ w + b): the cross-correlation (⋆) of its input")
    print("x with its weights w, plus a bias b, through ReLU(z) = max(z, 0).")
    print(f"x =\n{indented(x.astype(int))}\nw =\n{indented(w.astype(int))}\nb = {b:g}")
    print(f"x ⋆ w + b = correlate2d(x, w, 'valid') + b =\n{indented((correlate2d(x, w, 'valid') + b).astype(int))}")
    print(f"a = ReLU(x ⋆ w + b) =\n{indented(ours.astype(int))}")
    print(f"  == tf.nn.relu(tf.nn.conv2d(x, w, VALID) + b): {yes(np.array_equal(ours, theirs))}")


def a_convolution_is_a_matrix(figures):
    """README: "A convolution is a matrix". K @ image.ravel() is the 'valid'
    cross-correlation; K drawn for a 6x6 image; the 28x28 numbers of "Three ideas behind convolutional networks"."""
    lessonkit.heading("A convolution is a matrix")
    kernel = np.arange(1, 10).reshape(3, 3)
    image = np.random.default_rng(1).integers(0, 10, size=(4, 4))
    matrix = correlation_matrix(kernel, image.shape)
    print(f"A 4x4 image I and a 3x3 kernel w:\nI =\n{indented(image)}\nw =\n{indented(kernel)}")
    print(f"K = correlation_matrix(w, (4, 4)), shape {matrix.shape}: one row per output pixel, one column per")
    print("image pixel. Each row is the nine weights, laid out where the window sits on I raveled:")
    print(indented(matrix))
    product = (matrix @ image.ravel()).reshape(2, 2)
    print(f"K @ I.ravel(), reshaped to 2x2:\n{indented(product)}")
    print(f"  == correlate2d(I, w, 'valid'): {yes(np.array_equal(product, correlate2d(image, kernel, 'valid')))}")
    print(f"  == tf.nn.conv2d VALID:         {yes(np.array_equal(product, tf_correlate(image, kernel)))}")
    figures.add("layer_matrix", matrix_figure(kernel, (6, 6)))

    weights = np.random.default_rng(2).standard_normal((3, 3))
    same = same_correlation_matrix(weights, (28, 28))
    picture = np.random.default_rng(3).random((28, 28))
    by_matrix = (same @ picture.ravel()).reshape(28, 28)
    by_tf = tf.nn.conv2d(picture[None, :, :, None], weights[:, :, None, None], 1, "SAME").numpy()[0, :, :, 0]
    nonzero = np.count_nonzero(same)
    print()
    print("For a 28x28 image and a 3x3 kernel with SAME padding (28x28 out), K has the shape of the")
    print(f"dense layer's weight matrix: {same.shape}, {same.size:,} entries (with 784 biases, the dense")
    print("layer's 615,440 parameters). With random weights in the kernel:")
    print(f"  non-zero entries:      {nonzero:,} (at most 9 per row; fewer on the border, where the")
    print("                         window hangs over the zero padding)")
    print(f"  distinct values:       {len(np.unique(same[same != 0]))} (the kernel's weights), plus 0")
    print(f"  fraction that is zero: {1 - nonzero / same.size:.2%}")
    print(f"  K @ image.ravel() == tf.nn.conv2d SAME: {yes(np.allclose(by_matrix, by_tf, rtol=0, atol=1e-12))}")
    print("A convolutional layer is a dense layer with most weights forced to 0 and the rest tied")
    print("together: 9 weights to learn instead of 614,656.")


def one_matrix_multiply_im2col(figures):
    """README: "One matrix multiply: im2col". The patch matrix times the reshaped filters
    is the whole layer; checked against tf.nn.conv2d for channels, filters and stride 2;
    its memory price; the patch building and the multiply timed apart, and the same
    multiply-adds in more and smaller calls."""
    lessonkit.heading("One matrix multiply: im2col")
    rng = np.random.default_rng(4)
    image = rng.integers(0, 10, size=(4, 4, 2))
    patches = im2col(image, (3, 3))
    print("A 4x4 image with 2 channels, shape (4, 4, 2), and 3x3 filters: im2col puts each 3x3x2")
    print(f"window in a row, ordered (row, column, channel) as a filter ravels: shape {patches.shape}")
    print(indented(patches))
    images = rng.standard_normal((2, 9, 9, 3))
    filters = rng.standard_normal((3, 3, 3, 4))
    print()
    print(f"A batch of images {images.shape} (NHWC) and filters {filters.shape} (HWIO):")
    for stride in (1, 2):
        ours = conv2d_im2col(images, filters, stride)
        theirs = tf.nn.conv2d(images, filters, strides=stride, padding="VALID").numpy()
        rows, columns = images.shape[0] * ours.shape[1] * ours.shape[2], np.prod(filters.shape[:3])
        print(f"  stride {stride}: patches ({rows}, {columns}) @ filters reshaped ({columns}, {filters.shape[3]}) "
              f"-> {ours.shape}; "
              f"== tf.nn.conv2d: {yes(np.allclose(ours, theirs, rtol=0, atol=1e-12))}")
    bias = rng.standard_normal(4)
    layer = np.maximum(conv2d_im2col(images, filters) + bias, 0)
    tf_layer = tf.nn.relu(tf.nn.conv2d(images, filters, 1, "VALID") + bias).numpy()
    print(f"  the whole layer, ReLU(x ⋆ w + b), == tf.nn.relu(tf.nn.conv2d + b): "
          f"{yes(np.allclose(layer, tf_layer, rtol=0, atol=1e-12))}")
    figure_image = np.random.default_rng(9).integers(0, 10, size=(4, 4))
    figure_filters = np.random.default_rng(10).integers(-1, 3, size=(3, 3, 2))
    figures.add("layer_im2col", im2col_figure(figure_image, figure_filters))

    side, channels, k, count = 64, 16, 3, 32
    out = side - k + 1
    print()
    print(f"The price: every pixel is copied into up to {k * k} rows. A {side}x{side} image with {channels} channels")
    print(f"holds {side * side * channels:,} values; its patch matrix for {k}x{k} filters, {out * out:,} rows of "
          f"{k * k * channels},")
    print(f"holds {out * out * k * k * channels:,}: {out * out * k * k / (side * side):.1f} times as many.")
    timing_the_multiply(side, channels, k, count)


def timing_the_multiply(side, channels, k, count):
    """Time the patch building and the multiply of one layer apart, and the same
    multiply-adds split into more and smaller calls; print GMAC/s."""
    rng = np.random.default_rng(11)
    image = rng.standard_normal((side, side, channels))
    matrix = rng.standard_normal((k * k * channels, count))
    patches = im2col(image, (k, k))
    out = side - k + 1
    macs = patches.shape[0] * matrix.size
    print()
    print(f"Timing that layer with {count} filters, float64, {macs:,} multiply-adds, best of 5 runs; the times")
    print("change from run to run and machine to machine:")
    building = best_seconds(lambda: im2col(image, (k, k)))
    print(f"  building the patch matrix {patches.shape}, {patches.nbytes / 1e6:.1f} MB: {building * 1e3:.2f} ms")
    print(f"  {'the multiply, as':<40} {'calls':>6} {'ms':>7} {'GMAC/s':>7}")
    expected = patches @ matrix
    splits = [(f"one call of all {len(patches):,} rows", len(patches)), (f"one call per output row ({out} rows)", out),
              ("one call per 4 rows", 4), ("one call per row (per output pixel)", 1)]
    seconds, same = {}, True
    for label, rows in splits:
        same &= np.allclose(matmul_in_calls(patches, matrix, rows), expected, rtol=1e-12, atol=1e-9)
        seconds[rows] = best_seconds(lambda: matmul_in_calls(patches, matrix, rows))
        print(f"  {label:<40} {-(-len(patches) // rows):>6} {seconds[rows] * 1e3:7.2f} {macs / seconds[rows] / 1e9:7.1f}")
    same &= np.allclose(matmul_per_channel_and_filter(patches, matrix, k * k), expected, rtol=1e-12, atol=1e-9)
    loop = best_seconds(lambda: matmul_per_channel_and_filter(patches, matrix, k * k))
    print(f"  {'one call per input channel and filter':<40} {channels * count:>6} {loop * 1e3:7.2f} {macs / loop / 1e9:7.1f}")
    print(f"  every split gives the same result: {yes(same)}")
    print(f"Building the patch matrix copies {patches.size:,} values; the multiply does {macs // patches.size} "
          f"multiply-adds with each")
    print("of them, one per filter.")
    faster = seconds[out] < min(seconds[1], loop)
    print(f"{out} calls of {out} rows beat {len(patches):,} calls of one row and {channels * count} calls per channel "
          f"and filter: {yes(faster)}")


def the_backward_pass():
    """README: "The backward pass". grad_w is a cross-correlation, grad_x a true
    convolution; checked against tf.GradientTape and a finite difference."""
    lessonkit.heading("The backward pass")
    x = np.array([[1, 2, 0], [3, 1, 2], [0, 1, 4]])
    w = np.array([[1, 2], [3, 4]])
    grad_y = np.array([[1, 0], [2, -1]])
    y = correlate2d(x, w, "valid")
    grad_x, grad_w = conv2d_backward(x, w, grad_y)
    tf_x, tf_w = tf_gradients(x, w, grad_y)
    print(f"x =\n{indented(x)}\nw =\n{indented(w)}\ny = correlate2d(x, w, 'valid') =\n{indented(y)}")
    print(f"grad_y = dL/dy, from the layers above:\n{indented(grad_y)}")
    print(f"grad_w = correlate2d(x, grad_y, 'valid') =\n{indented(grad_w)}")
    print(f"grad_x = convolve2d(grad_y, w, 'full') =\n{indented(grad_x)}")
    print(f"  == correlate2d(grad_y, w flipped, 'full'): {yes(np.array_equal(grad_x, correlate2d(grad_y, w[::-1, ::-1])))}")
    print(f"  == tf.GradientTape (grad_x, grad_w): {yes(np.array_equal(grad_x, tf_x))}, {yes(np.array_equal(grad_w, tf_w))}")
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((7, 6)), rng.standard_normal((3, 2))
    grad_y = rng.standard_normal((5, 5))
    grad_x, grad_w = conv2d_backward(x, w, grad_y)
    tf_x, tf_w = tf_gradients(x, w, grad_y)
    print(f"Random x {x.shape}, w {w.shape}, grad_y {grad_y.shape}: == tf.GradientTape: "
          f"{yes(np.allclose(grad_x, tf_x, atol=1e-12) and np.allclose(grad_w, tf_w, atol=1e-12))}")
    step = 1e-6
    nudge = np.zeros_like(x)
    nudge[2, 3] = step

    def loss(image):
        return np.sum(correlate2d(image, w, "valid") * grad_y)

    finite = (loss(x + nudge) - loss(x - nudge)) / (2 * step)
    print(f"Finite difference, δ = {step:g} added to x[2, 3]: (L(x + δ) - L(x - δ)) / 2δ = {finite:.6f}, "
          f"grad_x[2, 3] = {grad_x[2, 3]:.6f}")
    print("The input gradient slides the kernel flipped: the gradient of a cross-correlation")
    print("layer is a true convolution.")


def with_a_stride():
    """README: "With a stride: spread the gradient with zeros". conv2d_backward_strided
    against tf.GradientTape at stride 2."""
    lessonkit.heading("With a stride: spread the gradient with zeros")
    rng = np.random.default_rng(6)
    x = rng.integers(-2, 3, size=(6, 6))
    w = rng.integers(-2, 3, size=(3, 3))
    grad_y = np.array([[1, 2], [3, 4]])
    spread = dilate(grad_y, 2, (4, 4))
    print(f"A 6x6 x, a 3x3 w, stride 2: y is {grad_y.shape}, every other value of the 4x4 stride-1 output.")
    print(f"grad_y =\n{indented(grad_y)}\nspread 2 apart with zeros, to the 4x4 of stride 1:\n{indented(spread)}")
    grad_x, grad_w = conv2d_backward_strided(x, w, grad_y, 2)
    tf_x, tf_w = tf_gradients(x, w, grad_y, stride=2)
    print(f"grad_x, grad_w from the stride-1 formulas == tf.GradientTape at stride 2: "
          f"{yes(np.array_equal(grad_x, tf_x))}, {yes(np.array_equal(grad_w, tf_w))}")
    x = rng.standard_normal((10, 10))
    grad_y = rng.standard_normal((3, 3))
    grad_x, grad_w = conv2d_backward_strided(x, w, grad_y, 3)
    tf_x, tf_w = tf_gradients(x, w, grad_y, stride=3)
    print(f"Random 10x10 x, stride 3 (the last row and column of x fall in no window): "
          f"{yes(np.allclose(grad_x, tf_x, atol=1e-12) and np.allclose(grad_w, tf_w, atol=1e-12))}")


def the_backward_pass_of_a_whole_layer():
    """README: "The backward pass of a whole layer". Batched, with channels, filters,
    bias and a stride: the per-channel 2-D formulas and the im2col form against
    tf.GradientTape."""
    lessonkit.heading("The backward pass of a whole layer")
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 7, 6, 3))
    w = rng.standard_normal((3, 2, 3, 4))
    b = rng.standard_normal(4)
    print(f"A batch x {x.shape} (B, H, W, C_in), weights w {w.shape} (k_h, k_w, C_in, C_out), bias b {b.shape}.")
    for stride in (1, 2):
        out_h, out_w = valid_size(x.shape[1:3], w.shape[:2], stride)
        grad_y = rng.standard_normal((2, out_h, out_w, 4))
        grads = conv2d_layer_backward(x, w, grad_y, stride)
        loops = conv2d_layer_backward_by_channels(x, w, grad_y, stride)
        tape = tf_layer_gradients(x, w, b, grad_y, stride)
        print(f"stride {stride}: y and grad_y {grad_y.shape}")
        print(f"  conv2d_layer_backward (im2col form) == tf.GradientTape, for grad_x, grad_w, grad_b: "
              f"{', '.join(yes(np.allclose(ours, theirs, rtol=0, atol=1e-10)) for ours, theirs in zip(grads, tape))}")
        print(f"  == the 2-D formulas, one image, channel and filter at a time: "
              f"{yes(all(np.allclose(a, c, rtol=0, atol=1e-10) for a, c in zip(grads, loops)))}")
    patches = np.concatenate([im2col(image, w.shape[:2]) for image in x])
    print(f"At stride 1: patches {patches.shape}, grad_Y {(patches.shape[0], 4)}, w_matrix {(patches.shape[1], 4)};")
    print(f"grad_w = patchesᵀ · grad_Y is {(patches.shape[1], 4)}, reshaped to {w.shape};")
    print(f"grad_Y · w_matrixᵀ is {patches.shape}, one row per window, and col2im adds each row back into its window.")
    print("grad_b = grad_y summed over the batch and every position: each bias is added once at each")
    print("output pixel of its filter.")


def backward_through_max_pooling():
    """README: "Backward through max pooling". Each block's gradient goes to its maximum;
    against tf.GradientTape, with a tie and a dropped row and column."""
    lessonkit.heading("Backward through max pooling")
    maps = np.array([[1, 5, 2, 0, 3], [4, 2, 7, 7, 1], [0, 3, 1, 2, 6], [3, 3, 0, 5, 2], [9, 1, 1, 4, 8]])
    grad_out = np.array([[10, 20], [30, 40]])
    pooled = max_pool2d(maps[:, :, None])[:, :, 0]
    grad = max_pool2d_backward(maps[:, :, None], grad_out[:, :, None])[:, :, 0]
    tape = tf_max_pool_gradient(maps[:, :, None], grad_out[:, :, None])[:, :, 0]
    print(f"maps (one channel, 5x5) =\n{indented(maps)}\nmax_pool2d(maps), 2x2 blocks, stride 2 =\n{indented(pooled)}")
    print(f"grad_out = dL/d(pooled) =\n{indented(grad_out)}")
    print(f"max_pool2d_backward(maps, grad_out) =\n{indented(grad)}")
    print(f"  == tf.GradientTape through tf.nn.max_pool2d: {yes(np.array_equal(grad, tape))}")
    print("Each block passes its gradient to the cell that held its maximum, and 0 to the other three;")
    print("the blocks with two 7s and with three 3s give it to the first in reading order, as")
    print("TensorFlow's CPU kernel does. Row 4 and column 4 fall in no block: their gradient is 0,")
    print("whatever the loss.")
    rng = np.random.default_rng(13)
    maps = rng.integers(0, 4, size=(7, 9, 3))
    grad_out = rng.standard_normal((3, 4, 3))
    print(f"Random maps {maps.shape} with many ties, values 0..3: == tf.GradientTape: "
          f"{yes(np.allclose(max_pool2d_backward(maps, grad_out), tf_max_pool_gradient(maps, grad_out), atol=1e-12))}")


def the_transposed_convolution(figures):
    """README: "The transposed convolution". Stamps of the kernel; equal to K transposed,
    to the input gradient and to tf.nn.conv2d_transpose, at stride 1 and 2."""
    lessonkit.heading("The transposed convolution")
    x = np.array([[1, 2], [3, 1]])
    kernel = np.array([[1, 2, 0], [0, 1, 0], [2, 0, 1]])
    print(f"x =\n{indented(x)}\nkernel =\n{indented(kernel)}")
    for stride in (1, 2):
        out = conv_transpose2d(x, kernel, stride)
        matrix = correlation_matrix(kernel, out.shape, stride)
        by_matrix = (matrix.T @ x.ravel()).reshape(out.shape)
        gradient, _ = conv2d_backward_strided(np.zeros(out.shape), kernel, x, stride)
        print(f"stride {stride}: conv_transpose2d(x, kernel, {stride}), shape {out.shape}:\n{indented(out)}")
        print(f"  == K.T @ x.ravel(), K = correlation_matrix(kernel, {out.shape}, stride={stride}) of shape "
              f"{matrix.shape}: {yes(np.array_equal(out, by_matrix))}")
        print(f"  == the input gradient of that convolution, with grad_y = x:       {yes(np.array_equal(out, gradient))}")
        print(f"  == tf.nn.conv2d_transpose, VALID:                                 "
              f"{yes(np.array_equal(out, tf_conv_transpose(x, kernel, stride)))}")
    print("Each input value adds a copy of the kernel, scaled by it, into the output; stride 2")
    print("spreads the copies two cells apart, so here they overlap on one row and one column only.")
    frames, _ = transposed_frames(x, kernel, 2)
    figures.add_animation("layer_transposed", frames, frame_ms=1400)


def the_transposed_convolution_as_a_convolution(figures):
    """README: "The transposed convolution as a convolution". Zeros inserted, padding,
    the flipped kernel: equal to conv_transpose2d and to TensorFlow."""
    lessonkit.heading("The transposed convolution as a convolution")
    x = np.array([[1, 2], [3, 1]])
    kernel = np.array([[1, 2, 0], [0, 1, 0], [2, 0, 1]])
    spread = dilate(x, 2, (3, 3))
    padded = np.pad(spread, 2)
    out = conv_transpose2d_by_zero_insertion(x, kernel, 2)
    print(f"x with s - 1 = 1 zero between its values:\n{indented(spread)}")
    print(f"padded with k - 1 = 2 zeros on every side, {padded.shape}:\n{indented(padded)}")
    print(f"cross-correlated, stride 1, 'valid', with the kernel turned 180 degrees:\n{indented(kernel[::-1, ::-1])}")
    print(f"gives {out.shape}:\n{indented(out)}")
    print(f"  == conv_transpose2d(x, kernel, 2), the stamps: {yes(np.array_equal(out, conv_transpose2d(x, kernel, 2)))}")
    rng = np.random.default_rng(14)
    agree = True
    for stride in (1, 2, 3):
        for shape, kernel_shape in (((3, 4), (2, 3)), ((2, 5), (4, 1)), ((4, 4), (3, 3))):
            x_random, k_random = rng.standard_normal(shape), rng.standard_normal(kernel_shape)
            ours = conv_transpose2d_by_zero_insertion(x_random, k_random, stride)
            agree &= np.allclose(ours, conv_transpose2d(x_random, k_random, stride), atol=1e-12)
            agree &= np.allclose(ours, tf_conv_transpose(x_random, k_random, stride), atol=1e-12)
    print(f"Random x and kernels, strides 1 to 3: == conv_transpose2d == tf.nn.conv2d_transpose: {yes(agree)}")
    ops = tf_transposed_ops()
    print(f"tf.nn.conv2d_transpose builds one operation, Conv2DBackpropInput, the convolution's input gradient: "
          f"{yes(ops - {'Placeholder', 'Const', 'Identity'} == {'Conv2DBackpropInput'})}")
    zeros = padded.size - x.size
    print(f"The kernel slides over {padded.size} values here, and {zeros} of them are zeros put there. Spreading")
    print("n x n values out at stride s gives ((n - 1)·s + 1)² cells, so the inserted zeros alone")
    print("approach 1 - 1/s² of them as n grows, 3/4 at s = 2, before the padding adds more.")
    figures.add("layer_zero_insertion", zero_insertion_figure(x, kernel, 2))


def the_transposed_output_size():
    """README: "The output size of a transposed convolution". The general rule; the sizes
    TensorFlow accepts over a small grid; Keras's choices, with and without output_padding."""
    lessonkit.heading("The output size of a transposed convolution")
    print("A stride-s convolution with k taps maps several input sizes o to the same output size n:")
    print(f"with k = 3, s = 2, o = 7 gives floor((7 - 3) / 2) + 1 = {(7 - 3) // 2 + 1}, and so does o = 8: "
          f"floor((8 - 3) / 2) + 1 = {(8 - 3) // 2 + 1}.")
    print("So a transposed convolution from n values must be told which o to give back.")
    print("The rule, along one axis, with p_before + p_after cells cut from the output:")
    print("  o = (n - 1)·s - p_before - p_after + d·(k - 1) + output_padding + 1,  0 <= output_padding < s")
    print(f"  transposed_output_size(3, 3, stride=2) = {transposed_output_size(3, 3, 2)}, "
          f"with output_padding=1: {transposed_output_size(3, 3, 2, output_padding=1)}")
    print("tf.nn.conv2d_transpose accepts exactly the o whose convolution gives n, the rule with")
    print("output_padding 0 to s - 1, and p_before + p_after = 0 for VALID, k - 1 for SAME:")
    print("  VALID: (n - 1)·s + k  up to (n - 1)·s + k + s - 1")
    print("  SAME:  (n - 1)·s + 1  up to n·s")
    columns = "{:>3} {:>3} {:>3} | {:>14} {:>6} {:>8} | {:>14} {:>6}"
    print(columns.format("n", "k", "s", "VALID rule", "TF", "Keras", "SAME rule", "TF"))
    grid = [(n, k, s) for n in (1, 3) for k in (1, 2, 3, 4) for s in (1, 2, 3)]
    agree = True
    for n, k, s in grid:
        cells = []
        for padding in ("VALID", "SAME"):
            rule = list(transposed_sizes(n, k, s, padding))
            accepted = tf_accepted_sizes(n, k, s, padding)
            agree &= rule == accepted
            cut = 0 if padding == "VALID" else ((k - 1) // 2, k - 1 - (k - 1) // 2)
            agree &= rule[0] == transposed_output_size(n, k, s, cut)
            cells += [f"{rule[0]}..{rule[-1]}" if len(rule) > 1 else str(rule[0]), yes(rule == accepted)]
            if padding == "VALID":
                cells.append(keras_transposed_size(n, k, s, "valid"))
        if n == 3:
            print(columns.format(n, k, s, *cells))
    print(f"The rule == the sizes TensorFlow accepts, n in (1, 3), k in 1..4, s in 1..3: {yes(agree)}")
    padded = all(
        keras_transposed_size(n, k, s, "valid", p) == transposed_output_size(n, k, s, output_padding=p)
        for n, k, s in grid for p in range(s)
    )
    default = all(
        keras_transposed_size(n, k, s, "valid") == (n - 1) * s + max(k, s) and keras_transposed_size(n, k, s, "same") == n * s
        for n, k, s in grid
    )
    same = all(
        keras_transposed_size(n, k, s, "same", p, d) == transposed_output_size(n, k, s, (d * (k - 1) + 1) // 2, p, d)
        for n, k, s in grid for p in range(s) for d in (1, 2) if n > 1 and (d == 1 or s == 1)
    )
    runs = all(
        keras_transposed_run(3, k, s, p) == (transposed_output_size(3, k, s, k // 2, p) if k % 2 or p else None)
        for k in (1, 2, 3, 4) for s in (1, 2, 3) for p in range(s)
    )
    print(f"Keras's Conv2DTranspose, output_padding not given: (n - 1)·s + max(k, s) for VALID, n·s for SAME: "
          f"{yes(default)}")
    print("Given an output_padding, Keras's shape inference follows the rule:")
    print(f"  VALID with no padding: {yes(padded)}")
    print(f"  SAME with p_before = p_after = floor((d·(k - 1) + 1) / 2), n = 3, also at dilation d = 2 (s = 1): "
          f"{yes(same)}")
    print(f"TensorFlow's CPU kernel refuses a transposed convolution with dilation d = 2: "
          f"{yes(tf_cpu_refuses_dilated_transpose())}")
    print("Run (d = 1), the SAME layer gives that size when k is odd or output_padding > 0, and fails")
    print(f"when k is even and output_padding = 0: {yes(runs)}")
    print("An even k cuts k cells, one more than SAME's k - 1, and asks for (n - 1)·s, a size TensorFlow refuses.")
    layer = keras.layers.Conv2DTranspose(1, 3, strides=2, padding="same", output_padding=0, dtype="float64")
    shape = keras.ops.shape(layer(np.ones((1, 3, 3, 1))))
    print(f"  n = 3, k = 3, s = 2, SAME: output_padding=0 gives {transposed_output_size(3, 3, 2, 1, 0)} "
          f"(the layer, run: {shape[1]}), not n·s = 6; output_padding=1 gives {transposed_output_size(3, 3, 2, 1, 1)}")


def uneven_overlap_makes_a_checkerboard():
    """README: "Uneven overlap makes a checkerboard". How many stamps cover each output
    cell, for k a multiple of s and not."""
    lessonkit.heading("Uneven overlap makes a checkerboard")
    print("Stamps per output cell, along one axis, for 4 inputs (overlap_counts(4, k, s)):")
    for k, s in ((3, 2), (4, 2), (3, 1), (2, 3)):
        counts = overlap_counts(4, k, s)
        inner = counts[k - 1 : len(counts) - k + 1]
        print(f"  k = {k}, s = {s}: {counts}; away from the ends {'even' if np.ptp(inner) == 0 else 'uneven'}")
    grid = [(k, s) for k in range(1, 7) for s in range(1, 4)]
    rule = all((np.ptp(overlap_counts(k + 3, k, s)[k - 1 : -k + 1 or None]) == 0) == (k % s == 0) for k, s in grid)
    print(f"Even away from the ends exactly when k is a multiple of s, k in 1..6, s in 1..3: {yes(rule)}")
    counts = conv_transpose2d(np.ones((4, 4), dtype=int), np.ones((3, 3), dtype=int), 2)
    print(f"In 2-D, all-ones input and kernel, k = 3, s = 2: the stamps per cell make a checkerboard\n{indented(counts)}")
    print("A network must learn to cancel that pattern, and often does not quite. A kernel size that")
    print("the stride divides makes the overlap even; resizing followed by a stride-1 convolution has")
    print("no uneven overlap at all.")


def separable_kernels(figures):
    """README: "Separable kernels". The SVD finds Sobel and Gaussian kernels to be of
    rank 1, in float64 and float32; two 1-D passes equal the 2-D convolution at 2k
    instead of k² multiply-adds."""
    lessonkit.heading("Separable kernels")
    sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    binomial = np.array([1, 4, 6, 4, 1])
    gaussian = np.outer(binomial, binomial)
    image = np.random.default_rng(7).integers(0, 256, size=(40, 50))
    for name, kernel in (("Sobel x", sobel), ("Gaussian (binomial 5x5, times 256)", gaussian)):
        singular = np.linalg.svd(kernel.astype(float), compute_uv=False)
        column, row = separable_factors(kernel)
        print(f"{name}:\n{indented(kernel)}")
        print(f"  singular values: {np.round(singular, 6) + 0.0}: one non-zero, rank 1")
        print(f"  = outer(column, row), column = {column}, row = {row}: "
              f"{yes(np.array_equal(np.outer(column, row), kernel))}")
        two_passes = separable_convolve2d(image, column, row, "same")
        print(f"  two 1-D passes == convolve2d with the 2-D kernel, 'same', on a 40x50 image: "
              f"{yes(np.array_equal(two_passes, convolve2d(image, kernel, 'same')))}")
    taps = np.arange(-2, 3)
    bell = np.exp(-(taps**2) / 2) / np.exp(-(taps**2) / 2).sum()
    print("A sampled Gaussian, exp(-t²/2) for t = -2..2 normalised, outer(bell, bell), 5x5, stored as")
    for dtype in (np.float64, np.float32):
        kernel = np.outer(bell, bell).astype(dtype)
        singular = np.linalg.svd(kernel, compute_uv=False)
        relative = float(rank_tolerance(singular, kernel.shape, dtype) / singular[0])
        column, row = separable_factors(kernel)
        print(f"  {np.dtype(dtype).name}: S[1] / S[0] = {singular[1] / singular[0]:.0e}; tolerance / S[0] = "
              f"max(k_h, k_w)·eps = {relative:.0e}")
        verdict = "not separable" if singular[1] > 1e-10 * singular[0] else "separable"
        print(f"    a fixed tolerance of 1e-10 · S[0] would call it {verdict}")
        factored = np.allclose(np.outer(column, row), kernel, rtol=10 * relative, atol=0)
        print(f"    below the tolerance, rank 1, separable: {yes(singular[1] <= relative * singular[0])}; "
              f"outer(column, row) == kernel: {yes(factored)}")
    print("Rounding each entry to float32 leaves S[1] far above a fixed tolerance of 1e-10 · S[0], but")
    print("within the type's own rounding: the tolerance must grow with the type's eps and the size.")
    laplacian = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]])
    print(f"The Laplacian's singular values: {np.round(np.linalg.svd(laplacian.astype(float), compute_uv=False), 3) + 0.0}:")
    print("rank 2, not separable.")
    print("Multiply-adds per output pixel, k x k kernel: 2-D k², separable 2k:")
    for k in (3, 5, 15, 31):
        print(f"  {f'{k}x{k}':>5}: {k * k:4d} against {2 * k:2d}, {k * k / (2 * k):.1f} times fewer")
    figures.add("layer_separable", separable_figure(binomial, binomial))


def depthwise_separable_convolutions():
    """README: "Depthwise-separable convolutions". Depthwise, pointwise and their chain
    against Keras; not the same idea as a separable kernel."""
    lessonkit.heading("Depthwise-separable convolutions")
    rng = np.random.default_rng(15)
    x = rng.standard_normal((7, 8, 3))
    depthwise = rng.standard_normal((3, 3, 3))
    pointwise = rng.standard_normal((3, 5))
    print(f"x {x.shape} (H, W, C_in), depthwise kernels {depthwise.shape} (k_h, k_w, C_in), "
          f"pointwise weights {pointwise.shape} (C_in, C_out):")
    for stride in (1, 2):
        ours = depthwise_conv2d(x, depthwise, stride)
        theirs = keras_layer(keras.layers.DepthwiseConv2D(3, stride, use_bias=False, dtype="float64"),
                             [depthwise[..., np.newaxis]], x)
        print(f"  stride {stride}: depthwise_conv2d -> {ours.shape} == keras DepthwiseConv2D: "
              f"{yes(np.allclose(ours, theirs, rtol=0, atol=1e-12))}")
        ours = separable_conv2d(x, depthwise, pointwise, stride)
        theirs = keras_layer(keras.layers.SeparableConv2D(5, 3, stride, use_bias=False, dtype="float64"),
                             [depthwise[..., np.newaxis], pointwise[np.newaxis, np.newaxis]], x)
        print(f"  stride {stride}: separable_conv2d -> {ours.shape} == keras SeparableConv2D: "
              f"{yes(np.allclose(ours, theirs, rtol=0, atol=1e-12))}")
    print(f"  pointwise_conv2d == x @ weights at every pixel: "
          f"{yes(np.allclose(pointwise_conv2d(x, pointwise), x @ pointwise, rtol=0, atol=1e-12))}")
    standard = depthwise[:, :, :, np.newaxis] * pointwise[np.newaxis, np.newaxis]
    print(f"The same layer as a standard one, w[u, v, c, q] = depthwise[u, v, c] · pointwise[c, q], shape "
          f"{standard.shape}:")
    same = np.allclose(conv2d_im2col(x[np.newaxis], standard)[0], separable_conv2d(x, depthwise, pointwise), atol=1e-12)
    print(f"  conv2d_im2col(x, w) == separable_conv2d: {yes(same)}")
    ranks = [int(np.linalg.matrix_rank(depthwise[:, :, c])) for c in range(3)]
    print(f"  the factoring is across channels; each 3x3 depthwise kernel stays a full 2-D kernel, "
          f"ranks {ranks}:")
    refused = []
    for c in range(3):
        try:
            separable_factors(depthwise[:, :, c])
        except ValueError:
            refused.append(c)
    print(f"  separable_factors refuses every one of them, channels {refused}: {yes(refused == [0, 1, 2])}")


def grouped_convolutions():
    """README: "Grouped convolutions". grouped_conv2d against Keras's Conv2D(groups=g);
    g = 1 and g = C_in = C_out; weights and multiply-adds of standard, grouped and
    depthwise-separable layers."""
    lessonkit.heading("Grouped convolutions")
    rng = np.random.default_rng(16)
    x = rng.standard_normal((6, 7, 4))
    for groups, count in ((2, 6), (4, 4)):
        w = rng.standard_normal((3, 3, 4 // groups, count))
        ours = grouped_conv2d(x, w, groups)
        theirs = keras_layer(keras.layers.Conv2D(count, 3, groups=groups, use_bias=False, dtype="float64"), [w], x)
        print(f"x {x.shape}, groups = {groups}, w {w.shape}: grouped_conv2d -> {ours.shape} "
              f"== keras Conv2D(groups={groups}): {yes(np.allclose(ours, theirs, rtol=0, atol=1e-12))}")
    w = rng.standard_normal((3, 3, 4, 6))
    print(f"  groups = 1 == the standard layer, conv2d_im2col: "
          f"{yes(np.allclose(grouped_conv2d(x, w, 1), conv2d_im2col(x[np.newaxis], w)[0], atol=1e-12))}")
    w = rng.standard_normal((3, 3, 1, 4))
    print(f"  groups = C_in = C_out = 4 == depthwise_conv2d: "
          f"{yes(np.allclose(grouped_conv2d(x, w, 4), depthwise_conv2d(x, w[:, :, 0]), atol=1e-12))}")
    k, c_in, c_out, side = 3, 64, 128, 56
    probe = keras.layers.Conv2D(c_out, k, padding="same", use_bias=False)
    out_h, out_w = probe.compute_output_shape((1, side, side, c_in))[1:3]
    print()
    print(f"One layer of a real network: {k}x{k}, {c_in} -> {c_out} channels, a {side}x{side} input, SAME, "
          f"stride 1 ({out_h}x{out_w} out), no biases:")
    print(f"  {'layer':<30} {'weights':>9} {'== Keras':>9} {'multiply-adds':>14} {'fewer than standard':>20}")
    cases = [("standard", "standard", 1, keras.layers.Conv2D(c_out, k, use_bias=False)),
             ("grouped, g = 4", "grouped", 4, keras.layers.Conv2D(c_out, k, groups=4, use_bias=False)),
             ("grouped, g = 32", "grouped", 32, keras.layers.Conv2D(c_out, k, groups=32, use_bias=False)),
             ("depthwise-separable", "separable", 1, keras.layers.SeparableConv2D(c_out, k, use_bias=False))]
    base = layer_costs(k, c_in, c_out, out_h * out_w)
    for label, kind, groups, layer in cases:
        weights, macs = layer_costs(k, c_in, c_out, out_h * out_w, kind, groups)
        layer.build((None, side, side, c_in))
        print(f"  {label:<30} {weights:>9,} {yes(layer.count_params() == weights):>9} {macs:>14,} "
              f"{base[1] / macs:>19.2f}x")
    ratio = base[0] / layer_costs(k, c_in, c_out, 1, "separable")[0]
    print(f"Depthwise-separable saves 1 / (1/C_out + 1/k²) = 1 / (1/{c_out} + 1/{k * k}) = "
          f"{1 / (1 / c_out + 1 / (k * k)):.2f} times: {yes(np.isclose(ratio, 1 / (1 / c_out + 1 / (k * k))))}")
    print("A grouped layer saves g times: each filter reads C_in / g channels.")


@lessonkit.lesson_main
def main(argv=None):
    args = lessonkit.parse_args(__doc__, argv)
    figures = lessonkit.Figures(args)
    inside_a_convolution_layer()
    a_convolution_is_a_matrix(figures)
    one_matrix_multiply_im2col(figures)
    the_backward_pass()
    with_a_stride()
    the_backward_pass_of_a_whole_layer()
    backward_through_max_pooling()
    the_transposed_convolution(figures)
    the_transposed_convolution_as_a_convolution(figures)
    the_transposed_output_size()
    uneven_overlap_makes_a_checkerboard()
    separable_kernels(figures)
    depthwise_separable_convolutions()
    grouped_convolutions()
    return figures.write()


if __name__ == "__main__":
    sys.exit(main())
