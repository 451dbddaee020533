"""Convolution in TensorFlow 2.

TensorFlow's tf.nn.conv2d: eager execution and tf.function, the tensor layouts
([batch, height, width, channels] and [height, width, in_channels, out_channels]),
SAME and VALID padding, a check with an asymmetric kernel that what TensorFlow calls
convolution is cross-correlation, then one output-size rule for every framework
(padding, stride and dilation), checked against TensorFlow and animated, with a
playground for any case. Then several channels and filters, 1x1 convolutions, the
parameter counts of dense and convolutional Keras layers, and a kernel fitted by
gradient descent. Last, the conventions in which frameworks differ: TensorFlow 1,
SAME's split, PyTorch's and ONNX's SAME, pooling's rounding and padding modes.
"""

import importlib

import numpy as np
import scipy.signal

import lessonkit

with lessonkit.tensorflow_start_up_quiet():
    import keras
    import tensorflow as tf

    GPUS = tf.config.list_physical_devices("GPU")

lesson_2d = importlib.import_module("1_2D")
correlate2d = lesson_2d.correlate2d
convolve2d = lesson_2d.convolve2d

LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float32)
SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
# The image I and the kernel g of the 2-D lesson: g turned 180 degrees is neither g nor -g.
IMAGE_I = np.array([[255, 7, 3], [212, 240, 4], [218, 216, 230]], dtype=np.float32)
KERNEL_G = np.array([[-1, 1], [2, 3]], dtype=np.float32)

# The animated cases: (figure name, title, n, k, padding, stride, dilation).
ANIMATIONS = [
    ("tf_padding_valid", "No padding, stride 1 (VALID)", 5, 3, 0, 1, 1),
    ("tf_padding_half", "Half padding, stride 1 (SAME)", 5, 3, 1, 1, 1),
    ("tf_padding_full", "Full padding, stride 1", 5, 3, 2, 1, 1),
    ("tf_stride_2", "No padding, stride 2", 5, 3, 0, 2, 1),
    ("tf_stride_2_same", "TensorFlow's SAME at stride 2", 6, 3, "SAME", 2, 1),
    ("tf_dilation_2", "Dilation 2, no padding", 7, 3, 0, 1, 2),
]
ANIMATION_PX = 440  # two animations share a row of the README's 880 px column
PLAYGROUND_LIMIT = 24  # the largest padded input the playground draws
# Tints of the three input channels in tf_channels.png, and the darker edge of each.
CHANNEL_TINTS = ["#ead1dc", "#fff2a8", "#d9d2e9"]  # pink, yellow, lilac: none is a colour with a meaning
CHANNEL_EDGES = ["#a64d79", "#b45f06", "#674ea7"]


def device_description(gpus):
    """One line saying where TensorFlow runs, from tf.config.list_physical_devices('GPU').

    >>> device_description([])
    'the CPU (no GPU is visible to TensorFlow)'
    """
    if not gpus:
        return "the CPU (no GPU is visible to TensorFlow)"
    names = ", ".join(gpu.name for gpu in gpus)
    return f"{len(gpus)} GPU(s) ({names}), with the CPU for the rest"


def as_batch(image):
    """Wrap a greyscale image as the 4-D tensor tf.nn.conv2d reads.

    image: (H, W) array. Returns a float32 tensor of shape (1, H, W, 1):
    [batch, height, width, channels].

    >>> as_batch(np.zeros((10, 10))).shape
    TensorShape([1, 10, 10, 1])
    """
    return tf.constant(np.asarray(image, dtype=np.float32)[np.newaxis, :, :, np.newaxis])


def as_filter(kernel):
    """Wrap a 2-D kernel as the 4-D filter tf.nn.conv2d reads.

    kernel: (k_h, k_w) array. Returns a float32 tensor of shape (k_h, k_w, 1, 1):
    [height, width, in_channels, out_channels].

    >>> as_filter(np.ones((3, 3))).shape
    TensorShape([3, 3, 1, 1])
    """
    return tf.constant(np.asarray(kernel, dtype=np.float32)[:, :, np.newaxis, np.newaxis])


def tensorflow_padding(padding):
    """The `padding` argument of tf.nn.conv2d for one of ours: 'SAME' and 'VALID' as they
    are, an int p or a pair (before, after) as TensorFlow's explicit list, the same
    zeros on both spatial axes.

    >>> tensorflow_padding("SAME"), tensorflow_padding(1)
    ('SAME', [[0, 0], [1, 1], [1, 1], [0, 0]])
    """
    if isinstance(padding, str):
        return padding.upper()
    before, after = (padding, padding) if isinstance(padding, int) else padding
    return [[0, 0], [before, after], [before, after], [0, 0]]


def tensorflow_conv2d(image, kernel, padding, stride=1, dilation=1):
    """Filter one greyscale image with one kernel through tf.nn.conv2d.

    image: (H, W); kernel: (k_h, k_w); padding: 'SAME', 'VALID', an int p or a pair
    (before, after) of zeros for both axes. Returns the feature map as a float32
    array (o_h, o_w), each size given by `conv_output_size`.

    >>> tensorflow_conv2d(np.arange(9).reshape(3, 3), [[1, -1]], "VALID")
    array([[-1., -1.],
           [-1., -1.],
           [-1., -1.]], dtype=float32)
    """
    result = tf.nn.conv2d(
        as_batch(image), as_filter(kernel), strides=stride, padding=tensorflow_padding(padding), dilations=dilation
    )
    return result[0, :, :, 0].numpy()


def check_positive(**sizes):
    """Raise ValueError naming the first of `sizes` that is not a positive integer.

    >>> check_positive(n=10, k=0)
    Traceback (most recent call last):
    ...
    ValueError: k must be a positive integer, got 0
    """
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def tensorflow_same_padding(n, k, stride=1, dilation=1):
    """The zeros TensorFlow's SAME padding adds before and after one axis.

    n: input size, k: kernel taps. SAME promises ceil(n / stride) outputs; the last
    window must then end at (ceil(n / stride) - 1) * stride + d(k - 1) + 1, so the
    total of zeros is that minus n (never below 0). When the total is odd, the extra
    zero goes after (bottom or right). Returns (before, after).

    >>> tensorflow_same_padding(10, 3), tensorflow_same_padding(10, 4)
    ((1, 1), (1, 2))
    >>> tensorflow_same_padding(10, 3, stride=2), tensorflow_same_padding(10, 3, dilation=2)
    ((0, 1), (2, 2))
    """
    check_positive(n=n, k=k, stride=stride, dilation=dilation)
    outputs = -(-n // stride)
    total = max((outputs - 1) * stride + dilation * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def padding_pair(n, k, stride=1, padding="VALID", dilation=1):
    """The zeros (before, after) one axis gets: 'VALID' none, 'SAME' TensorFlow's split,
    an int p that many on both sides, a pair (before, after) as given.

    Raises ValueError for a negative, non-integer or malformed padding.

    >>> padding_pair(10, 3, padding="same"), padding_pair(10, 3, padding=2), padding_pair(10, 3, padding=(0, 1))
    ((1, 1), (2, 2), (0, 1))
    """
    if isinstance(padding, str):
        mode = padding.upper()
        if mode == "VALID":
            return 0, 0
        if mode == "SAME":
            return tensorflow_same_padding(n, k, stride, dilation)
        raise ValueError(f"padding must be 'SAME', 'VALID', an int or a pair (before, after), got {padding!r}")
    pair = (padding, padding) if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool) else padding
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2) or any(
        isinstance(p, bool) or not isinstance(p, (int, np.integer)) for p in pair
    ):
        raise ValueError(f"padding must be 'SAME', 'VALID', an int or a pair (before, after), got {padding!r}")
    if min(pair) < 0:
        raise ValueError(f"padding must not be negative, got {padding!r}")
    return tuple(pair)


def conv_output_size(n, k, stride=1, padding="VALID", dilation=1):
    """The output size of a convolution along one axis, in every framework.

    n: input size, k: kernel taps, stride s and dilation d: positive integers;
    padding: 'SAME' or 'VALID' (any case, as TensorFlow), an int p (p zeros on both
    sides, as PyTorch's padding=p and Keras's ZeroPadding2D), or a pair (before, after).
    The dilated kernel spans d(k - 1) + 1 pixels, so

        o = floor((n + p_before + p_after - d(k - 1) - 1) / s) + 1,

    and 0 when no window fits (TensorFlow then refuses to build the layer). VALID is
    p = 0; SAME pads so that o = ceil(n / s). Raises ValueError for a padding it does
    not know or a negative one, and for n, k, stride or dilation below 1.

    >>> conv_output_size(10, 3), conv_output_size(10, 3, padding="same")
    (8, 10)
    >>> conv_output_size(10, 3, stride=2), conv_output_size(10, 3, dilation=2)
    (4, 6)
    >>> conv_output_size(5, 3, stride=2, padding=1), conv_output_size(5, 3, padding=(2, 2))
    (3, 7)
    >>> conv_output_size(2, 3)
    0
    """
    check_positive(n=n, k=k, stride=stride, dilation=dilation)
    before, after = padding_pair(n, k, stride, padding, dilation)
    span = dilation * (k - 1) + 1
    return max(0, (n + before + after - span) // stride + 1)


def size_rule_text(n, k, stride, padding, dilation):
    """The rule written out with the numbers of one case.

    >>> size_rule_text(5, 3, 2, 1, 1)
    'n = 5, k = 3, p = (1, 1), s = 2, d = 1: o = floor((5 + 1 + 1 - 1*(3 - 1) - 1) / 2) + 1 = 3'
    """
    before, after = padding_pair(n, k, stride, padding, dilation)
    size = conv_output_size(n, k, stride, padding, dilation)
    return (
        f"n = {n}, k = {k}, p = ({before}, {after}), s = {stride}, d = {dilation}: "
        f"o = floor(({n} + {before} + {after} - {dilation}*({k} - 1) - 1) / {stride}) + 1 = {size}"
    )


def tensorflow_output_size(n, k, stride=1, padding="VALID", dilation=1):
    """The output size TensorFlow's shape inference gives an n x n input and a k x k
    kernel: tf.nn.conv2d is added to a fresh graph, as tracing a tf.function does, and
    nothing is computed. `padding` as in `conv_output_size`.

    Returns None when TensorFlow refuses the shapes (no window fits).

    >>> tensorflow_output_size(10, 3), tensorflow_output_size(2, 3), tensorflow_output_size(5, 3, 2, 1)
    (8, None, 3)
    """
    with tf.Graph().as_default():
        try:
            output = tf.nn.conv2d(
                tf.zeros([1, n, n, 1]), tf.zeros([k, k, 1, 1]), strides=stride,
                padding=tensorflow_padding(padding), dilations=dilation,
            )
        except ValueError:
            return None
        return output.shape[1]


def keras_refusal(stride, dilation):
    """What Keras's Conv2D says when asked for this stride and dilation together:
    its ValueError message, or 'accepted'.

    >>> keras_refusal(stride=1, dilation=2)
    'accepted'
    """
    try:
        keras.layers.Conv2D(filters=1, kernel_size=3, strides=stride, dilation_rate=dilation)
    except ValueError as refusal:
        return f"ValueError: {refusal}"
    return "accepted"


def dilate(kernel, dilation):
    """The kernel with dilation - 1 zeros put between neighbouring taps.

    kernel: (k_h, k_w). Returns (d(k_h - 1) + 1, d(k_w - 1) + 1).

    >>> dilate(np.array([[1, 2]]), 3)
    array([[1, 0, 0, 2]])
    """
    k_h, k_w = kernel.shape
    spread = np.zeros((dilation * (k_h - 1) + 1, dilation * (k_w - 1) + 1), dtype=kernel.dtype)
    spread[::dilation, ::dilation] = kernel
    return spread


def correlate_padded(image, kernel, padding=(0, 0), stride=1, dilation=1):
    """Our own strided, dilated cross-correlation with explicit zero padding:
    pad, spread the kernel's taps, take every window ('valid'), keep every stride-th.

    image: (H, W); kernel: (k_h, k_w); padding: (before, after) zeros on both axes.
    Returns (o_h, o_w), each size as `conv_output_size` says.

    >>> correlate_padded(np.arange(5.0)[np.newaxis], np.array([[1.0, 1.0]]), (0, 1), stride=2)
    array([[1., 5., 4.]])
    """
    before, after = padding
    padded = np.pad(image, ((before, after), (before, after)))
    return correlate2d(padded, dilate(kernel, dilation), "valid")[::stride, ::stride]


def sum_over_input_channels(images, filters):
    """Our own multi-channel SAME layer, built from the single-channel correlate2d.

    images: (1, H, W, C_in); filters: (k_h, k_w, C_in, C_out).
    Output channel f is the sum over input channels c of
    correlate2d(images[0, :, :, c], filters[:, :, c, f], 'same').
    Returns (1, H, W, C_out).

    >>> sum_over_input_channels(np.ones((1, 4, 4, 3)), np.ones((1, 1, 3, 2)))[0, 0, 0]
    array([3., 3.])
    """
    height, width, channels = images.shape[1:]
    count = filters.shape[3]
    feature_maps = np.zeros((1, height, width, count))
    for f in range(count):
        for c in range(channels):
            feature_maps[0, :, :, f] += correlate2d(images[0, :, :, c], filters[:, :, c, f], "same")
    return feature_maps


def conv_parameter_count(k_h, k_w, c_in, c_out):
    """Weights and biases of a convolution layer: k_h * k_w * C_in * C_out + C_out.

    >>> conv_parameter_count(3, 3, 1, 1), conv_parameter_count(3, 3, 3, 64)
    (10, 1792)
    """
    return k_h * k_w * c_in * c_out + c_out


def pointwise_as_matmul(images, weights, bias):
    """A 1x1 convolution written as a matrix multiply: each pixel's channel vector,
    a row of C_in numbers, times the (C_in, C_out) weights, plus the bias.

    images: (N, H, W, C_in); weights: (C_in, C_out); bias: (C_out,).
    Returns (N, H, W, C_out).

    >>> pointwise_as_matmul(np.ones((1, 2, 2, 3)), np.ones((3, 1)), np.array([0.5]))[0, :, :, 0]
    array([[3.5, 3.5],
           [3.5, 3.5]])
    """
    batch, height, width, channels = images.shape
    pixels = images.reshape(-1, channels)
    return (pixels @ weights + bias).reshape(batch, height, width, -1)


def dense_and_conv_layers(size=28):
    """A Keras Dense layer and a Keras Conv2D layer, each mapping a size x size image
    to a size x size map, built so that their weights exist.

    The dense layer reads the image flattened to size * size inputs and has
    size * size outputs; the convolutional one has one 3x3 filter, SAME padding.
    Returns (dense, conv).

    >>> [layer.count_params() for layer in dense_and_conv_layers(4)]
    [272, 10]
    """
    dense = keras.layers.Dense(size * size)
    dense.build((None, size * size))
    conv = keras.layers.Conv2D(filters=1, kernel_size=3, padding="same")
    conv.build((None, size, size, 1))
    return dense, conv


def learn_kernel(image, target, kernel_shape=(3, 3), steps=300, learning_rate=0.3, seed=0):
    """Find the kernel that turns `image` into `target` by gradient descent, the way a
    network learns: the model is tf.nn.conv2d (cross-correlation, VALID).

    image: (H, W); target: (H - k_h + 1, W - k_w + 1). A kernel of `kernel_shape`,
    started from seeded random values, is changed step by step against the gradient
    of the mean squared error, each step a tf.function. Returns (start, learned,
    losses): two kernel_shape arrays and the loss after 0, 1, ..., steps steps.

    >>> start, learned, losses = learn_kernel(np.eye(6), np.ones((5, 5)), (2, 2), steps=2)
    >>> start.shape, learned.shape, losses.shape
    ((2, 2), (2, 2), (3,))
    """
    images = as_batch(image)
    targets = as_batch(target)
    start = np.random.default_rng(seed).normal(size=kernel_shape).astype(np.float32)
    kernel = tf.Variable(start)

    def mean_squared_error():
        prediction = tf.nn.conv2d(images, kernel[:, :, tf.newaxis, tf.newaxis], strides=1, padding="VALID")
        return tf.reduce_mean(tf.square(prediction - targets))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = mean_squared_error()
        kernel.assign_sub(learning_rate * tape.gradient(loss, kernel))
        return loss

    losses = [step().numpy() for _ in range(steps)]
    losses.append(mean_squared_error().numpy())
    return start, kernel.numpy(), np.array(losses)


def yes(flag):
    """'True' or 'False', for printed checks (NumPy booleans print the same way).

    >>> yes(np.True_)
    'True'
    """
    return str(bool(flag))


def decimals(array, places=4):
    """A NumPy printout of `array` with exactly `places` decimals per value (no -0).

    >>> print(decimals(np.array([[1.0, -0.00001]]), 2))
    [[ 1.00  0.00]]
    """
    return np.array2string(np.round(array, places) + 0.0, formatter={"float_kind": f"{{: .{places}f}}".format})




def turned(kernel):
    """The kernel turned by 180 degrees (flipped up-down and left-right), as a
    convolution uses it.

    >>> turned(np.array([[-1, 1], [2, 3]]))
    array([[ 3,  2],
           [ 1, -1]])
    """
    return np.flip(kernel, (0, 1))


def flip_is_visible(kernel):
    """Whether turning the kernel by 180 degrees gives neither the kernel nor minus the
    kernel: only then can a map show whether a flip happened rather than a sign change.

    >>> flip_is_visible(np.array([[-1, 1], [2, 3]])), flip_is_visible(SOBEL_X), flip_is_visible(LAPLACIAN)
    (True, False, False)
    """
    kernel = np.asarray(kernel)
    return not (np.array_equal(turned(kernel), kernel) or np.array_equal(turned(kernel), -kernel))


def patch_matrix(image, kernel_shape):
    """Every 'valid' window of `image` (H, W) as one row: shape (o_h * o_w, k_h * k_w),
    so that patch_matrix(image, kernel.shape) @ kernel.ravel() is the cross-correlation.

    >>> patch_matrix(np.arange(6).reshape(2, 3), (2, 2))
    array([[0, 1, 3, 4],
           [1, 2, 4, 5]])
    """
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel_shape)
    return windows.reshape(-1, kernel_shape[0] * kernel_shape[1])


def least_squares_kernel(image, target, kernel_shape):
    """The kernel whose 'valid' cross-correlation with `image` is closest to `target` in
    the sum of squares, solved directly (np.linalg.lstsq), and the rank of the patch
    matrix: when the rank is k_h * k_w the mean squared error is a convex quadratic in
    the kernel's weights with exactly one minimum, this kernel.

    >>> kernel, rank = least_squares_kernel(np.eye(4) + np.arange(16).reshape(4, 4) ** 2, np.zeros((3, 3)), (2, 2))
    >>> np.abs(kernel).max() < 1e-9, rank
    (np.True_, 4)
    """
    patches = patch_matrix(np.asarray(image, dtype=np.float64), kernel_shape)
    weights, _, rank, _ = np.linalg.lstsq(patches, np.asarray(target, dtype=np.float64).ravel(), rcond=None)
    return weights.reshape(kernel_shape), int(rank)


def unread_pixels(n, k, stride=1, padding="VALID", dilation=1):
    """The input pixels (0 to n - 1) of one axis that no window's tap reads, found by
    listing what every window reads. `padding` as in `conv_output_size`.

    >>> unread_pixels(11, 2, stride=2), unread_pixels(10, 3, stride=2, padding="SAME")
    ([10], [])
    """
    before, after = padding_pair(n, k, stride, padding, dilation)
    read = set()
    for window in range(conv_output_size(n, k, stride, padding, dilation)):
        read.update(window * stride + tap * dilation - before for tap in range(k))
    return [pixel for pixel in range(n) if pixel not in read]


def positions_past_the_last_window(n, k, stride=1, padding="VALID", dilation=1):
    """r = (n + p_before + p_after - d(k - 1) - 1) mod s: how many positions at the end of
    the padded axis lie after the last window. When windows leave no gap between them
    (d = 1 and k >= s), these are the only positions never read; those beyond the
    p_after zeros, max(r - p_after, 0) of them, are real input pixels.

    >>> positions_past_the_last_window(11, 2, stride=2), positions_past_the_last_window(10, 3, 2, "SAME")
    (1, 0)
    """
    before, after = padding_pair(n, k, stride, padding, dilation)
    return (n + before + after - dilation * (k - 1) - 1) % stride


def tensorflow_unread_pixels(n, k, stride=1, padding="VALID", dilation=1):
    """The pixels of a 1 x n input that tf.nn.conv2d's output does not depend on: where the
    gradient of the sum of the outputs, for a kernel of ones, is 0 (tf.GradientTape).

    >>> tensorflow_unread_pixels(11, 2, stride=2)
    [10]
    """
    image = tf.ones([1, 1, n, 1])
    with tf.GradientTape() as tape:
        tape.watch(image)
        if isinstance(padding, str):
            padded, mode = image, padding.upper()
        else:
            before, after = padding_pair(n, k, stride, padding, dilation)
            padded, mode = tf.pad(image, [[0, 0], [0, 0], [before, after], [0, 0]]), "VALID"
        output = tf.nn.conv2d(padded, tf.ones([1, k, 1, 1]), strides=[1, 1, stride, 1], padding=mode,
                              dilations=[1, 1, dilation, 1])
        total = tf.reduce_sum(output)
    gradient = tape.gradient(total, image).numpy().ravel()
    return [int(pixel) for pixel in np.flatnonzero(gradient == 0)]


def pooled_output_size(n, k, stride=None, ceil_mode=False):
    """The output size of k-wide pooling along one axis, no padding, stride s (k unless
    given): the convolution rule, floor((n - k) / s) + 1, as TensorFlow and Keras round;
    with ceil_mode=True, ceil((n - k) / s) + 1 as PyTorch's ceil_mode=True (and Caffe)
    round, keeping a last, partial window, though never one that would start past the
    input (PyTorch's extra rule).

    >>> pooled_output_size(11, 2), pooled_output_size(11, 2, ceil_mode=True)
    (5, 6)
    """
    stride = stride or k
    check_positive(n=n, k=k, stride=stride)
    if n < k:
        return 0
    if not ceil_mode:
        return (n - k) // stride + 1
    size = -(-(n - k) // stride) + 1
    return size - 1 if (size - 1) * stride >= n else size


def same_lower_padding(n, k, stride=1, dilation=1):
    """ONNX's auto_pad SAME_LOWER: the zeros of TensorFlow's SAME (ONNX's SAME_UPPER),
    the extra one of an odd total put before instead of after.

    >>> same_lower_padding(10, 4), tensorflow_same_padding(10, 4)
    ((2, 1), (1, 2))
    """
    before, after = tensorflow_same_padding(n, k, stride, dilation)
    return after, before


def torch_same_padding(k, dilation=1):
    """PyTorch's padding='same' (stride 1 only; PyTorch refuses it with a stride): d(k - 1)
    zeros in all, the extra one of an odd total after, whatever n.

    >>> torch_same_padding(3), torch_same_padding(4), torch_same_padding(3, dilation=2)
    ((1, 1), (1, 2), (2, 2))
    """
    total = dilation * (k - 1)
    return total // 2, total - total // 2


# Padding modes: how each library names them, None where it has no such mode.
PADDING_MODES = [
    # (what the border gets, np.pad, tf.pad, PyTorch padding_mode, SciPy convolve2d boundary)
    ("zeros", "constant", "CONSTANT", "zeros", "fill"),
    ("mirror, edge pixel once", "reflect", "REFLECT", "reflect", None),
    ("mirror, edge pixel twice", "symmetric", "SYMMETRIC", None, "symm"),
    ("edge pixel repeated", "edge", None, "replicate", None),
    ("wrap around", "wrap", None, "circular", "wrap"),
]
def figure_texts(figure):
    """Every non-empty text a matplotlib figure draws (titles, labels, legends, cell values).

    >>> import matplotlib.figure
    >>> figure = matplotlib.figure.Figure()
    >>> _ = figure.text(0.5, 0.5, "o = 3")
    >>> figure_texts(figure)
    ['o = 3']
    """
    from matplotlib.text import Text

    return [text.get_text() for text in figure.findobj(Text) if text.get_visible() and text.get_text().strip()]


def connections_figure(units=8):
    """Two panels of `units` inputs over `units` outputs: a dense layer joins every pair;
    a 3-wide convolution with SAME padding joins output i to inputs i-1, i and i+1 with
    3 shared weights, each drawn in its own colour and line style; at the two ends the
    missing neighbour is a padding zero (grey square, fainter links). Returns the Figure."""
    import matplotlib.pyplot as plt

    fig, (dense_ax, conv_ax) = plt.subplots(1, 2, figsize=(8.8, 3.9))
    positions = np.arange(units)
    weights = [(-1, "tab:blue", "-", "w0: input i-1"), (0, "tab:orange", "--", "w1: input i"),
               (1, "tab:green", ":", "w2: input i+1")]
    for out in positions:
        for inp in positions:
            dense_ax.plot([inp, out], [1, 0], color="grey", linewidth=0.7, alpha=0.7)
        for offset, colour, style, label in weights:
            padding = not 0 <= out + offset < units
            conv_ax.plot([out + offset, out], [1, 0], color=colour, linestyle=style, linewidth=2.2,
                         alpha=0.35 if padding else 1, label=label if out == 1 else None)
    conv_ax.scatter([-1, units], [1, 1], s=130, marker="s", color=lessonkit.COLOURS["padding"], edgecolors="grey",
                    zorder=3, label="padding zero")
    for x in (-1, units):
        conv_ax.text(x, 1.13, "0", ha="center", fontsize=10, color="grey")
    conv_ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=9, title="shared weight",
                   title_fontsize=9, frameon=False)
    dense_ax.set_title(f"Dense: every output sees every input,\n{units} x {units} = {units * units} weights, "
                       "each used once", fontsize=10)
    conv_ax.set_title("Convolution (SAME): output i sees inputs\ni-1, i, i+1 through the same 3 weights", fontsize=10)
    for ax in (dense_ax, conv_ax):
        ax.scatter(positions, np.ones(units), s=130, color=lessonkit.COLOURS["input"], edgecolors="black", zorder=3)
        ax.scatter(positions, np.zeros(units), s=130, color=lessonkit.COLOURS["output"], edgecolors="black", zorder=3)
        ax.set_yticks([0, 1], ["outputs", "inputs"], fontsize=10)
        ax.set_xticks(positions, [str(i) for i in positions], fontsize=9)
        ax.set_xlim(-1.5, units + 0.5)
        ax.set_ylim(-0.2, 1.3)
        for side in ("top", "right", "left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.tick_params(length=0)
    fig.text(0.5, 0.02, "Outputs 0 and 7 have no input on one side: SAME pads a zero there (grey), which "
             "contributes nothing.", ha="center", fontsize=9)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def loss_figure(curves):
    """The mean squared error after each gradient-descent step, log-scale y, one line
    per fitted kernel. curves: {name: losses}, each losses (steps + 1,), the first one
    before any step. Returns the Figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.8, 3.6))
    for (name, losses), style in zip(curves.items(), ("-", "--", ":")):
        ax.semilogy(np.arange(len(losses)), losses, linestyle=style, linewidth=2, label=name)
    ax.set_xlabel("gradient-descent steps taken", fontsize=10)
    ax.set_ylabel("mean squared error (log scale)", fontsize=10)
    ax.set_title("Fitting a kernel to a known filter's output: a convex problem, so the error falls steadily",
                 fontsize=10)
    ax.tick_params(labelsize=9)
    ax.legend(fontsize=9)
    ax.grid(True, which="major", alpha=0.4)
    fig.tight_layout()
    return fig


def kernels_figure(rows, title):
    """Kernels in a grid, each value written in its cell, in the signed colours with one
    symmetric scale. rows: a list of (row title, [(panel title, kernel (k_h, k_w)), ...]),
    one row of panels each. Returns the Figure."""
    import matplotlib.pyplot as plt

    limit = max(np.abs(kernel).max() for _, panels in rows for _, kernel in panels)
    columns = max(len(panels) for _, panels in rows)
    fig, axes = plt.subplots(len(rows), columns, figsize=(8.8, 2.45 * len(rows) + 0.5), layout="constrained",
                             squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for row_axes, (row_title, panels) in zip(axes, rows):
        for ax, (panel_title, kernel) in zip(row_axes, panels):
            ax.set_axis_on()
            shown = ax.imshow(kernel, cmap=lessonkit.SIGNED_COLOURMAP, vmin=-limit, vmax=limit)
            for (r, c), value in np.ndenumerate(kernel):
                ax.text(c, r, f"{round(float(value), 2) + 0.0:.2f}", ha="center", va="center", fontsize=10,
                        color="white" if abs(value) > 0.6 * limit else "black")
            ax.set_title(panel_title, fontsize=10)
            ax.set_xticks([])
            ax.set_yticks([])
        row_axes[0].set_ylabel(row_title, fontsize=10)
    bar = fig.colorbar(shown, ax=axes, shrink=0.8, pad=0.02)
    bar.set_label("weight (one scale, symmetric about 0)", fontsize=9)
    bar.ax.tick_params(labelsize=9)
    fig.suptitle(title, fontsize=11)
    return fig


def arithmetic_extent(n, k, stride=1, padding="VALID", dilation=1):
    """The width and height, in cells, that the padding/stride/dilation picture of one
    case needs: the padded input, then a column with the kernel above the output.

    >>> arithmetic_extent(5, 3, padding=2)
    (18.1, 11.6)
    """
    before, after = padding_pair(n, k, stride, padding, dilation)
    padded = n + before + after
    size = conv_output_size(n, k, stride, padding, dilation)
    return round(padded + 1.5 + max(k, size) + 0.6, 2), round(max(padded, k + 1.6 + size), 2)


def shared_canvas(cases):
    """The (width, height) in cells that holds every case of `cases`, a list of
    (n, k, padding, stride, dilation), so that all of them are drawn at one scale."""
    extents = [arithmetic_extent(n, k, stride, padding, dilation) for n, k, padding, stride, dilation in cases]
    return max(width for width, _ in extents), max(height for _, height in extents)


def animation_canvas():
    """The (width, height) in cells shared by the six animations of ANIMATIONS."""
    return shared_canvas([case[2:] for case in ANIMATIONS])


def arithmetic_picture(title, image, kernel, padding="VALID", stride=1, dilation=1, canvas=None):
    """The still parts of one frame of the padding, stride and dilation picture, at
    ANIMATION_PX / canvas width pixels per cell: the padded input (input values blue,
    zeros grey), the kernel (peach) and the empty output, labelled, with the title and
    the output-size rule worked out below; plus the moving parts, hidden until placed
    by `place_window`.

    image: (n, n); kernel: (k, k); canvas: (width, height) in cells, at least this
    case's `arithmetic_extent` (the default). Returns (figure, parts), parts a dict.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    n, k = image.shape[0], kernel.shape[0]
    before, after = padding_pair(n, k, stride, padding, dilation)
    size = conv_output_size(n, k, stride, padding, dilation)
    padded = n + before + after
    own = arithmetic_extent(n, k, stride, padding, dilation)
    width, height = np.maximum(own, canvas or own)
    top_margin, bottom_margin = 3.1, 3.5
    cell = ANIMATION_PX / 100 / animation_canvas()[0]
    fig = plt.figure(figsize=(width * cell, (height + top_margin + bottom_margin) * cell), dpi=100)
    ax = lesson_2d.grid_axes(fig, width, height)
    ax.set_xlim(-0.3, width - 0.3)
    ax.set_ylim(height + bottom_margin, -top_margin)
    inside = np.zeros((padded, padded), dtype=bool)
    inside[before : before + n, before : before + n] = True
    values = np.full((padded, padded), "0", dtype=object)
    values[inside] = [f"{value:g}" for value in image.ravel()]
    cells, texts = lesson_2d.draw_grid(ax, values, np.where(inside, lessonkit.COLOURS["input"], lessonkit.COLOURS["padding"]),
                                       text_colours=np.where(inside, "black", "#777777"), fontsize=8)
    right = padded + 1.5
    lesson_2d.draw_grid(ax, [[f"{value:g}" for value in row] for row in kernel], lessonkit.COLOURS["kernel"], left=right,
                        fontsize=8)
    out_top = k + 1.6
    out_cells, out_texts = lesson_2d.draw_grid(ax, np.full((size, size), ""), "white", left=right, top=out_top, fontsize=8)
    if before == after:
        zeros = {0: "no padding"}.get(before, f"{before} zero{'s' * (before > 1)} on each side (grey)")
    else:
        zeros = f"zeros (grey): {before} before, {after} after"
    ax.text(-0.1, -2.45, title, fontsize=9, fontweight="bold", va="center")
    ax.text(-0.1, -1.35, f"input {n}x{n} (blue), {zeros}", fontsize=8, va="center")
    dilated = f", dilation {dilation}" if dilation > 1 else ""
    ax.text(right, -0.45, f"kernel {k}x{k}{dilated}", fontsize=8, va="center")
    ax.text(right, out_top - 0.45, f"output {size}x{size}", fontsize=8, va="center")
    case, rule = size_rule_text(n, k, stride, padding, dilation).split(": ")
    ax.text(-0.1, height + 1.8, case, fontsize=8, va="center")
    ax.text(-0.1, height + 2.8, rule, fontsize=8, va="center")
    span = dilation * (k - 1) + 1
    style = {"fill": False, "edgecolor": lessonkit.COLOURS["window"], "visible": False}
    parts = {
        "input_texts": texts,
        "out_cells": out_cells,
        "out_texts": out_texts,
        "output": correlate_padded(image, kernel, (before, after), stride, dilation),
        "stride": stride,
        "dilation": dilation,
        "taps": [ax.add_patch(Rectangle((0, 0), 1, 1, facecolor=lessonkit.COLOURS["kernel"], edgecolor="#555555",
                                        visible=False)) for _ in range(k * k)],
        "previous": ax.add_patch(Rectangle((0, 0), span, span, linestyle="--", linewidth=1.5, alpha=0.45, **style)),
        "window": ax.add_patch(Rectangle((0, 0), span, span, linewidth=2, **style)),
        "current": ax.add_patch(Rectangle((right, out_top), 1, 1, linewidth=2, **style)),
        "where": ax.text(-0.1, height + 0.8, "", fontsize=8, va="center", color=lessonkit.COLOURS["window"],
                         visible=False),
    }
    return fig, parts


def place_window(parts, step):
    """Put the window of `arithmetic_picture` on output cell number `step` (row by row),
    the window of step - 1 as a faint dashed outline, and fill that output cell with its
    value. Returns the state drawn: {'window': (top, left) in the padded input,
    'output': (row, column), 'value': the output value}, and the artists to draw."""
    size = parts["out_cells"].shape[0]
    r, c = divmod(step, size)
    stride, dilation = parts["stride"], parts["dilation"]
    top, left = r * stride, c * stride
    k = int(round(len(parts["taps"]) ** 0.5))
    covered = []
    for tap, (u, v) in zip(parts["taps"], np.ndindex(k, k)):
        tap.set_xy((left + v * dilation, top + u * dilation))
        tap.set_visible(True)
        covered.append(parts["input_texts"][top + u * dilation, left + v * dilation])
    parts["window"].set_xy((left, top))
    parts["window"].set_visible(True)
    if step:
        pr, pc = divmod(step - 1, size)
        parts["previous"].set_xy((pc * stride, pr * stride))
        parts["previous"].set_visible(True)
    value = parts["output"][r, c]
    parts["out_cells"][r, c].set_facecolor(lessonkit.COLOURS["output"])
    parts["out_texts"][r, c].set_text(f"{value:g}")
    current = parts["current"]
    current.set_xy((parts["out_cells"][r, c].get_x(), parts["out_cells"][r, c].get_y()))
    current.set_visible(True)
    span = dilation * (k - 1) + 1
    moved = f", {stride} to the right" if c else (f", back to column 0, {stride} down" if r else "")
    parts["where"].set_text(f"window at rows {top}-{top + span - 1}, columns {left}-{left + span - 1}{moved}: "
                            f"output ({r}, {c}) = {value:g}")
    parts["where"].set_visible(True)
    state = {"window": (top, left), "output": (r, c), "value": float(value)}
    return state, [parts["previous"] if step else None, *parts["taps"], *covered, parts["window"], current,
                   parts["where"]]


def padding_frames(title, image, kernel, padding="VALID", stride=1, dilation=1, canvas=None):
    """An animation of the k x k `kernel` sliding over the n x n `image`, padded, with this
    stride and dilation, one frame per output cell: `arithmetic_picture` with the window
    placed by `place_window` on each output cell in turn, the output filling in.

    Returns (frames, states): PIL images of one palette, and per frame the state drawn
    ({'window', 'output', 'value'}, as `place_window` returns it)."""
    import matplotlib.pyplot as plt

    fig, parts = arithmetic_picture(title, image, kernel, padding, stride, dilation, canvas)
    fig.canvas.draw()
    pictures, states = [], []
    for step in range(parts["out_cells"].size):
        r, c = divmod(step, parts["out_cells"].shape[0])
        state, moving = place_window(parts, step)
        ax = fig.axes[0]
        ax.draw_artist(parts["out_cells"][r, c])
        ax.draw_artist(parts["out_texts"][r, c])
        filled = fig.canvas.copy_from_bbox(fig.bbox)
        for artist in moving:
            if artist is not None:
                ax.draw_artist(artist)
        pictures.append(lesson_2d.rgb_pixels(fig))
        states.append(state)
        fig.canvas.restore_region(filled)
    plt.close(fig)
    return lesson_2d.to_shared_palette(pictures), states


def animation_durations(size, first_ms=800, rest_ms=8000):
    """Per-frame durations (ms) of an animation of a size x size output: the first row
    slowly, `first_ms` a frame, the other rows sharing about `rest_ms` (150 to 450 ms a
    frame), so that a large output does not take half a minute a loop.

    >>> animation_durations(2), animation_durations(7)[6:8]
    ([800, 800, 450, 450], [800, 190])
    """
    rest = size * size - size
    fast = int(min(450, max(150, rest_ms // max(rest, 1))))
    return [first_ms] * size + [fast] * rest


def arithmetic_playground(n, k, stride=1, padding="VALID", dilation=1):
    """One frame of the padding, stride and dilation picture for any case: a seeded n x n
    input of digits 0-9 and a k x k kernel of -2 to 2, padded as `padding` says
    ('VALID', 'SAME', an int or a pair (before, after), as `conv_output_size` takes it),
    the window on the last output cell, every output value filled in, and the output
    size o worked out with the rule, o = conv_output_size(n, k, stride, padding, dilation).

    Raises ValueError, with conv_output_size's message, for a bad argument; also when no
    window fits or when the padded input is over PLAYGROUND_LIMIT pixels wide.
    Returns the matplotlib Figure.
    """
    size = conv_output_size(n, k, stride, padding, dilation)
    before, after = padding_pair(n, k, stride, padding, dilation)
    span = dilation * (k - 1) + 1
    if n + before + after > PLAYGROUND_LIMIT:
        raise ValueError(f"n + p_before + p_after must be at most {PLAYGROUND_LIMIT} to be drawn, "
                         f"got {n + before + after}")
    if size == 0:
        raise ValueError(f"no window fits: the kernel spans {span} pixels, the padded input has {n + before + after}")
    rng = np.random.default_rng(0)
    image = rng.integers(0, 10, size=(n, n)).astype(np.float32)
    kernel = rng.integers(-2, 3, size=(k, k)).astype(np.float32)
    title = f"n = {n}, k = {k}, stride {stride}, padding {padding!r}, dilation {dilation}"
    fig, parts = arithmetic_picture(title, image, kernel, padding, stride, dilation, animation_canvas())
    for step in range(size * size):
        place_window(parts, step)
    return fig


def playground_padding(choice):
    """A padding as the playground's menu offers it, made into what `conv_output_size`
    takes: 'VALID' and 'SAME' as they are, '1' an int, '(0, 1)' a pair.

    >>> playground_padding("SAME"), playground_padding("2"), playground_padding("(0, 1)")
    ('SAME', 2, (0, 1))
    """
    if choice in ("VALID", "SAME"):
        return choice
    numbers = tuple(int(part) for part in choice.strip("()").split(","))
    return numbers[0] if len(numbers) == 1 else numbers


def interactive_playground():
    """Sliders for n, k, stride and dilation and a menu of paddings, driving
    `arithmetic_playground` in a notebook (ipywidgets.interact, inline backend). A bad
    case prints its one-line error instead of a picture. Returns the interact widget."""
    import ipywidgets
    import matplotlib.pyplot as plt

    def show(n, k, stride, dilation, padding):
        try:
            arithmetic_playground(n, k, stride, playground_padding(padding), dilation)
        except ValueError as error:
            print(f"error: {error}")
            return
        plt.show()

    return ipywidgets.interact(
        show,
        n=ipywidgets.IntSlider(value=5, min=1, max=12, description="n"),
        k=ipywidgets.IntSlider(value=3, min=1, max=7, description="k"),
        stride=ipywidgets.IntSlider(value=1, min=1, max=4, description="s"),
        dilation=ipywidgets.IntSlider(value=1, min=1, max=3, description="d"),
        padding=ipywidgets.Dropdown(options=["VALID", "SAME", "0", "1", "2", "(0, 1)", "(1, 0)", "(1, 2)"],
                                    value="VALID", description="padding"),
    )


def channels_figure(images, filters, bias):
    """A convolution layer with several channels, drawn with its numbers: each input
    channel (its own tint) cross-correlated with its filter slice (peach, edged in the
    channel's tint) gives a partial map; the partial maps plus the filter's bias make the
    map before the activation, and ReLU of it is the output channel (green).

    images: (H, W, C_in) integers, C_in <= 3; filters: (k_h, k_w, C_in, C_out);
    bias: (C_out,). Returns the Figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    H, W, c_in = images.shape
    k_h, k_w, _, c_out = filters.shape
    o_h, o_w = H - k_h + 1, W - k_w + 1
    gap = 3.4
    column = gap + k_w + 1.0 + o_w + 1.2
    out_left = c_in * column + 2.9
    relu_left = out_left + o_w + 2.6
    block = k_h + 1.5
    width, height = relu_left + o_w + 0.3, H + 1.3 + c_out * block
    cell = 8.8 / width
    fig = plt.figure(figsize=(8.8, (height + 3.0) * cell))
    ax = lesson_2d.grid_axes(fig, width, height)
    ax.set_xlim(0, width)
    ax.set_ylim(height, -3.0)

    def outline(left, top, rows, columns, colour):
        ax.add_patch(Rectangle((left, top), columns, rows, fill=False, edgecolor=colour, linewidth=2.5))

    lesson_2d.label(ax, width / 2, -2.3, f"{c_out} filters of {k_h}x{k_w}x{c_in} on a {H}x{W}x{c_in} input: a "
                    f"{o_h}x{o_w}x{c_out} output ('valid'), then ReLU", fontsize=10, fontweight="bold")
    lesson_2d.label(ax, width / 2, -1.25, "each output = ReLU(" + " + ".join(f"channel {c} \u22c6 slice {c}"
                                                                   for c in range(c_in)) + " + its bias b)", fontsize=9)
    for c in range(c_in):
        left = c * column + gap
        lesson_2d.draw_grid(ax, images[:, :, c], CHANNEL_TINTS[c], left=left, fontsize=9)
        outline(left, 0, H, W, CHANNEL_EDGES[c])
        lesson_2d.label(ax, left + W / 2, -0.45, f"input channel {c}", fontsize=9)
    for f in range(c_out):
        top = H + 1.3 + f * block
        out_top = top + (k_h - o_h) / 2
        total = np.full((o_h, o_w), bias[f], dtype=images.dtype)
        for c in range(c_in):
            left = c * column + gap
            part = correlate2d(images[:, :, c], filters[:, :, c, f], "valid")
            total = total + part
            lesson_2d.label(ax, left - gap / 2, top + k_h / 2 - 0.55, f"channel {c}", fontsize=9)
            lesson_2d.label(ax, left - gap / 2, top + k_h / 2 + 0.45, "\u22c6", fontsize=20)
            lesson_2d.draw_grid(ax, filters[:, :, c, f], lessonkit.COLOURS["kernel"], left=left, top=top, fontsize=9)
            outline(left, top, k_h, k_w, CHANNEL_EDGES[c])
            lesson_2d.label(ax, left + k_w / 2, top - 0.45, f"filter {f}, slice {c}", fontsize=8)
            lesson_2d.label(ax, left + k_w + 0.5, top + k_h / 2, "=", fontsize=12)
            lesson_2d.draw_grid(ax, part, "white", left=left + k_w + 1, top=out_top, fontsize=9)
            outline(left + k_w + 1, out_top, o_h, o_w, CHANNEL_EDGES[c])
        lesson_2d.label(ax, out_left - 1.6, top + k_h / 2, f"sum of\nthe {c_in}\n+ b{f} ({bias[f]})\n=", fontsize=9)
        lesson_2d.draw_grid(ax, total, "white", left=out_left, top=out_top, fontsize=9)
        lesson_2d.label(ax, out_left + o_w / 2, top - 0.45, "before ReLU", fontsize=8)
        lesson_2d.label(ax, relu_left - 1.3, top + k_h / 2, "ReLU\n\u2192", fontsize=9)
        lesson_2d.draw_grid(ax, np.maximum(total, 0), lessonkit.COLOURS["output"], left=relu_left, top=out_top, fontsize=9)
        lesson_2d.label(ax, relu_left + o_w / 2, top - 0.45, f"output {f}", fontsize=8)
    return fig


def eager_execution_and_tf_function():
    """README: Convolution in TensorFlow, "Eager execution and tf.function"."""
    lessonkit.heading("Eager execution and tf.function")
    print(f"TensorFlow {tf.__version__} runs on {device_description(GPUS)}.")
    print("tf.executing_eagerly():", tf.executing_eagerly())
    traced = []

    @tf.function
    def double(x):
        traced.append(x.dtype.name)  # a Python side effect: it runs only while tracing
        return 2 * x

    for value in (tf.constant([1.0]), tf.constant([5.0]), tf.constant([1])):
        double(value)
    print(f"A @tf.function called 3 times, with float32, float32 and int32 tensors: traced {len(traced)} times "
          f"({', '.join(traced)}).")


def layouts_same_and_valid():
    """README: Convolution in TensorFlow, "Layouts, SAME and VALID"."""
    lessonkit.heading("Layouts, SAME and VALID")
    image = np.zeros((10, 10), dtype=np.float32)
    image[2:8, 3:7] = 1
    print("The image: a bright 6x4 rectangle (1) on a dark background (0).")
    print(image.astype(int))
    print("The filter: Sobel x as 3_image.py writes it (right column minus left column).")
    print(SOBEL_X.astype(int))
    print("Input shape [batch, height, width, channels]:", as_batch(image).shape)
    print("Filter shape [height, width, in_channels, out_channels]:", as_filter(SOBEL_X).shape)
    same = tf.nn.conv2d(as_batch(image), as_filter(SOBEL_X), strides=1, padding="SAME")
    valid = tf.nn.conv2d(as_batch(image), as_filter(SOBEL_X), strides=1, padding="VALID")
    print("SAME pads the border with zeros, so the feature map keeps the input's size:", same.shape)
    print("VALID keeps only the windows that fit inside the image: 10 - 3 + 1 = 8, so 8x8:", valid.shape)
    print(valid[0, :, :, 0].numpy().astype(int))
    print("Positive on the rectangle's left edge (dark to bright), negative on its right edge.")


def tensorflow_computes_cross_correlation():
    """README: Convolution in TensorFlow, "TensorFlow computes cross-correlation"."""
    lessonkit.heading("TensorFlow computes cross-correlation")
    print("The 2-D lesson's image I and kernel g:")
    print(IMAGE_I.astype(int))
    print(KERNEL_G.astype(int))
    print("g turned 180 degrees:")
    print(turned(KERNEL_G).astype(int))
    print("The turned g is neither g nor -g, so a map shows whether the kernel was turned:",
          yes(flip_is_visible(KERNEL_G)))
    tf_valid = tensorflow_conv2d(IMAGE_I, KERNEL_G, "VALID")
    print("tf.nn.conv2d(I, g, VALID):")
    print(tf_valid.astype(int))
    as_is = convolve2d(IMAGE_I, KERNEL_G, "valid")
    by_turned = convolve2d(IMAGE_I, turned(KERNEL_G), "valid")
    print("TensorFlow == our correlate2d (1_2D.py): ", yes(np.array_equal(tf_valid, correlate2d(IMAGE_I, KERNEL_G, "valid"))))
    print("TensorFlow == scipy.signal.correlate2d:  ",
          yes(np.array_equal(tf_valid, scipy.signal.correlate2d(IMAGE_I, KERNEL_G, "valid"))))
    print("TensorFlow == convolve2d with g:         ", yes(np.array_equal(tf_valid, as_is)))
    print("TensorFlow == convolve2d with g turned:  ", yes(np.array_equal(tf_valid, by_turned)))
    print("The convolution I \u229b g of the 2-D lesson, by tf.nn.conv2d with g turned:")
    handed_turned = tensorflow_conv2d(IMAGE_I, turned(KERNEL_G), "VALID")
    print(handed_turned.astype(int))
    print("equal to convolve2d(I, g):", yes(np.array_equal(handed_turned, as_is)))


def the_output_size():
    """README: Convolution in TensorFlow, "The output size: one rule for every framework"."""
    lessonkit.heading("The output size: one rule for every framework")
    columns = "{:>4} {:>3} {:>3} {:>3}  {:<9} | {:>5} {:>8}"
    print(columns.format("n", "k", "s", "d", "padding", "rule", "TF"))
    cases = [
        (10, 3, 1, 1, "VALID"), (10, 3, 1, 1, "SAME"), (10, 3, 2, 1, "VALID"), (10, 3, 2, 1, "SAME"),
        (10, 3, 1, 2, "VALID"), (10, 3, 1, 2, "SAME"), (10, 3, 1, 1, 1), (10, 3, 2, 1, 1),
        (10, 3, 1, 1, 2), (10, 3, 1, 1, (0, 1)), (5, 3, 2, 1, 1), (4, 5, 1, 1, "VALID"), (4, 5, 1, 1, "SAME"),
    ]
    agree = True
    for n, k, stride, dilation, padding in cases:
        ours = conv_output_size(n, k, stride, padding, dilation)
        theirs = tensorflow_output_size(n, k, stride, padding, dilation)
        agree &= ours == (theirs or 0)
        print(columns.format(n, k, stride, dilation, str(padding).replace(" ", ""), ours,
                             "refused" if theirs is None else theirs))
    print("The rule and TensorFlow agree on every row:", yes(agree))
    print("Pooling (k = 2, s = 2, no padding) follows the same rule in TensorFlow, rounding down:")
    pool_agree = True
    for n in (10, 11, 13):
        pooled = tf.nn.max_pool2d(tf.zeros([1, n, n, 1]), 2, 2, "VALID").shape[1]
        pool_agree &= pooled == pooled_output_size(n, 2) == conv_output_size(n, 2, stride=2)
        print(f"  n = {n}: tf.nn.max_pool2d gives {pooled}; rounding up (PyTorch's ceil_mode=True, Caffe) "
              f"gives {pooled_output_size(n, 2, ceil_mode=True)}")
    print("tf.nn.max_pool2d follows the rule:", yes(pool_agree))
    print("Keras's Conv2D refuses stride > 1 together with dilation > 1:")
    print("  ", keras_refusal(stride=2, dilation=2))


def pixels_that_no_window_reads():
    """README: Convolution in TensorFlow, "Pixels that no window reads"."""
    lessonkit.heading("Pixels that no window reads")
    print("r = (n + p_before + p_after - d(k - 1) - 1) mod s positions at the end lie past the last window.")
    print("   n   k   s  padding |  r  unread input pixels  by tf.GradientTape")
    agree = True
    for n, k, stride, padding in ((11, 2, 2, "VALID"), (10, 3, 2, "VALID"), (10, 3, 2, "SAME"), (10, 3, 2, 1),
                                  (9, 3, 2, 1), (12, 3, 3, "VALID")):
        r = positions_past_the_last_window(n, k, stride, padding)
        ours = unread_pixels(n, k, stride, padding)
        theirs = tensorflow_unread_pixels(n, k, stride, padding)
        _, after = padding_pair(n, k, stride, padding)
        agree &= ours == theirs == list(range(n - max(r - after, 0), n))
        print(f"  {n:2d} {k:3d} {stride:3d}  {str(padding):7} | {r:2d}  {str(ours):20} {theirs}")
    print("The unread pixels are the last r - p_after, as TensorFlow's gradient says:", yes(agree))
    gaps = unread_pixels(12, 2, 3)
    print(f"With k < s the windows leave gaps: n = 12, k = 2, s = 3 never reads {gaps};",
          "TensorFlow agrees:", yes(gaps == tensorflow_unread_pixels(12, 2, 3)))


def how_same_pads():
    """README: Convolution in TensorFlow, "How SAME pads, at any stride"."""
    lessonkit.heading("How SAME pads, at any stride")
    n, k, stride = 10, 3, 2
    size = conv_output_size(n, k, stride, "SAME")
    starts = [window * stride for window in range(size)]
    before, after = tensorflow_same_padding(n, k, stride)
    covered = [starts[-1] + tap for tap in range(k)]
    print(f"n = {n}, k = {k}, s = {stride}: o = ceil({n} / {stride}) = {size} windows, starting at "
          f"{', '.join(map(str, starts))}.")
    print(f"The last covers pixels {', '.join(map(str, covered[:-1]))} and {covered[-1]}; the image ends at pixel "
          f"{n - 1}, so {covered[-1]} is padding:")
    print(f"(p_before, p_after) = ({before}, {after})")


def padding_conventions():
    """README: Convolution in TensorFlow, "Padding conventions: same, full and padding=1"."""
    lessonkit.heading("Padding conventions: same, full and padding=1")
    n = 10
    print(f"n = {n} at stride 1: the output size o for each padding")
    print("   k  same p  o   full p   o")
    for k in (1, 3, 5, 7):
        same_p, full_p = (k - 1) // 2, k - 1
        print(f"  {k:2d}  {same_p:6d} {conv_output_size(n, k, padding=same_p):2d}  {full_p:7d}"
              f" {conv_output_size(n, k, padding=full_p):3d}")
    rng = np.random.default_rng(6)
    kernel = rng.integers(-2, 3, size=(3, 3)).astype(np.float32)
    image = rng.integers(0, 10, size=(n, n)).astype(np.float32)
    full = correlate_padded(image, kernel, (2, 2))
    print("Full padding gives SciPy's correlate2d 'full':",
          yes(np.array_equal(full, scipy.signal.correlate2d(image, kernel, "full"))))
    print("padding=1 (PyTorch's Conv2d, or ZeroPadding2D(1) before a VALID layer) against TensorFlow's")
    print("SAME, a 3x3 kernel, seeded n x n images:")
    print("   n  s  SAME pads  equal")
    agree_odd, differ_even = True, True
    for stride in (1, 2):
        for size in range(5, 13):
            picture = rng.integers(0, 10, size=(size, size)).astype(np.float32)
            equal = np.array_equal(correlate_padded(picture, kernel, (1, 1), stride),
                                   tensorflow_conv2d(picture, kernel, "SAME", stride))
            if stride == 1 or size % 2:
                agree_odd &= equal
            else:
                differ_even &= not equal
            if stride == 2 and size in (9, 10, 11, 12):
                print(f"  {size:2d}  {stride}  {str(tensorflow_same_padding(size, 3, stride)):9}  {yes(equal)}")
    print("n 5-12: equal at stride 1 and, at stride 2, for odd n:", yes(agree_odd))
    print("n 5-12: different at stride 2 for even n:", yes(differ_even))


def padding_stride_and_dilation_animated(figures):
    """README: Convolution in TensorFlow, "Padding, stride and dilation, animated"."""
    lessonkit.heading("Padding, stride and dilation, animated")
    rng = np.random.default_rng(7)
    canvas = animation_canvas()
    for name, title, n, k, padding, stride, dilation in ANIMATIONS:
        image = rng.integers(0, 10, size=(n, n)).astype(np.float32)
        kernel = rng.integers(-2, 3, size=(k, k)).astype(np.float32)
        frames, states = padding_frames(title, image, kernel, padding, stride, dilation, canvas)
        theirs = tensorflow_conv2d(image, kernel, padding, stride, dilation)
        drawn = np.array([state["value"] for state in states]).reshape(theirs.shape)
        print(f"{name}.gif: {title}")
        print(f"  {size_rule_text(n, k, stride, padding, dilation)}; drawn == tf.nn.conv2d: "
              f"{yes(np.array_equal(drawn, theirs))}")
        figures.add_animation(name, frames, frame_ms=animation_durations(theirs.shape[0]))


def channels_and_filters(figures):
    """README: Convolution in TensorFlow, "Channels and filters"."""
    lessonkit.heading("Channels and filters")
    colour = np.random.default_rng(3).integers(0, 4, size=(1, 6, 6, 3)).astype(np.float32)
    filters = np.random.default_rng(4).integers(-1, 2, size=(3, 3, 3, 4)).astype(np.float32)
    feature_maps = tf.nn.conv2d(colour, filters, strides=1, padding="SAME")
    print("Input [batch, height, width, channels] = one 6x6 RGB image:", colour.shape)
    print("Filters [height, width, in_channels, out_channels] = four 3x3x3 filters:", filters.shape)
    print("Output [batch, height, width, filters] = one 6x6 feature map per filter:", feature_maps.shape)
    ours = sum_over_input_channels(colour, filters)
    print("Each output channel is the sum over the 3 input channels of correlate2d:",
          yes(np.array_equal(feature_maps.numpy(), ours)))
    rng = np.random.default_rng(8)
    small = rng.integers(0, 3, size=(4, 4, 3))
    small_filters = rng.integers(-1, 2, size=(3, 3, 3, 2))
    bias = np.array([1, 5])
    layer = tf.nn.relu(tf.nn.conv2d(small[np.newaxis].astype(np.float32), small_filters.astype(np.float32), 1, "VALID")
                       + bias)
    drawn = np.stack([np.maximum(sum(correlate2d(small[:, :, c], small_filters[:, :, c, f], "valid") for c in range(3))
                                 + bias[f], 0) for f in range(2)], axis=-1)
    print("The figure: two 3x3x3 filters on a 4x4x3 input; ReLU(per-channel maps + bias) ==")
    print("ReLU(tf.nn.conv2d + bias):", yes(np.array_equal(layer[0].numpy(), drawn)))
    figures.add("tf_channels", channels_figure(small, small_filters, bias))
    print("  k_h x k_w  C_in  C_out |   rule  Keras count_params")
    agree = True
    for k_h, k_w, c_in, c_out in ((3, 3, 1, 1), (3, 3, 1, 8), (3, 3, 8, 16), (5, 5, 3, 32), (1, 1, 16, 4)):
        conv = keras.layers.Conv2D(c_out, (k_h, k_w))
        conv.build((None, 28, 28, c_in))
        rule = conv_parameter_count(k_h, k_w, c_in, c_out)
        agree &= rule == conv.count_params()
        print(f"  {k_h:>3} x {k_w:<3} {c_in:5d} {c_out:6d} | {rule:6,d}  {conv.count_params():6,d}")
    print("The rule and Keras agree:", yes(agree))


def one_by_one_convolutions():
    """README: Convolution in TensorFlow, "1x1 convolutions"."""
    lessonkit.heading("1x1 convolutions")
    rng = np.random.default_rng(9)
    images = rng.normal(size=(2, 5, 5, 16)).astype(np.float32)
    weights = rng.normal(size=(16, 4)).astype(np.float32)
    bias = rng.normal(size=4).astype(np.float32)
    conv = tf.nn.conv2d(images, weights[np.newaxis, np.newaxis], strides=1, padding="VALID") + bias
    matmul = pointwise_as_matmul(images, weights, bias)
    print(f"Images {images.shape}, a 1x1 layer from 16 channels to 4: output {tuple(conv.shape)}.")
    print("As one matrix multiply, (B*H*W, 16) @ (16, 4) + bias, it equals tf.nn.conv2d to float32")
    print("rounding (the two sum in different orders):", yes(np.allclose(conv.numpy(), matmul, rtol=1e-5, atol=1e-5)))
    print(f"Parameters: 1 * 1 * 16 * 4 + 4 = {conv_parameter_count(1, 1, 16, 4)}.")


def dense_against_convolutional(figures):
    """README: Convolution in TensorFlow, "Dense against convolutional: connections and shared weights"."""
    lessonkit.heading("Dense against convolutional: connections and shared weights")
    dense, conv = dense_and_conv_layers(28)
    dense_map = tf.reshape(dense(tf.zeros([1, 28 * 28])), [1, 28, 28, 1])
    conv_map = conv(tf.zeros([1, 28, 28, 1]))
    print("Both layers turn a 28x28 image into a 28x28 map:", dense_map.shape, conv_map.shape)
    print(f"Dense  (Keras count_params): {dense.count_params():>7,} = 784 * 784 weights + 784 biases")
    print(f"Conv2D (Keras count_params): {conv.count_params():>7,} = 3 * 3 weights + 1 bias")
    figures.add("tf_dense_vs_conv", connections_figure())


def learning_a_kernel(figures):
    """README: Convolution in TensorFlow, "Learning a kernel"."""
    lessonkit.heading("Learning a kernel")
    picture = np.random.default_rng(5).uniform(size=(24, 24)).astype(np.float32)
    laplacian_data = tensorflow_conv2d(picture, LAPLACIAN, "VALID")
    start, learned, losses = learn_kernel(picture, laplacian_data)
    steps = len(losses) - 1
    print(f"Target: a seeded random 24x24 image filtered with the Laplacian; {steps} steps from a random start.")
    for taken in (0, 100, 200, 300):
        print(f"loss after {taken:3d} steps: {losses[taken]:.0e}")
    print("Learned (4 decimals):")
    print(decimals(learned))
    error = np.abs(learned - LAPLACIAN).max()
    print(f"max |learned - Laplacian| = {error:.0e}, below 1e-3: {yes(error < 1e-3)}")
    solved, rank = least_squares_kernel(picture, laplacian_data, LAPLACIAN.shape)
    print(f"The patch matrix has rank {rank} of {LAPLACIAN.size}: the error is a convex quadratic with one minimum.")
    print("np.linalg.lstsq, solving for that minimum directly, gives the same kernel (to 1e-3):",
          yes(np.abs(solved - learned).max() < 1e-3))
    print()
    print("Data made by a true convolution with g (convolve2d of 1_2D.py); the model is again")
    print("tf.nn.conv2d, a cross-correlation:")
    g_data = convolve2d(picture, KERNEL_G, "valid")
    g_start, g_learned, g_losses = learn_kernel(picture, g_data, KERNEL_G.shape, seed=1)
    print("Learned (4 decimals):")
    print(decimals(g_learned))
    print("g turned 180 degrees:")
    print(turned(KERNEL_G).astype(int))
    turn_error = np.abs(g_learned - turned(KERNEL_G)).max()
    print(f"max |learned - g turned| = {turn_error:.0e}; max |learned - g| = {np.abs(g_learned - KERNEL_G).max():.1f}; "
          f"max |learned + g| = {np.abs(g_learned + KERNEL_G).max():.1f}")
    print("The learned kernel is g turned 180 degrees, to within 1e-3:", yes(turn_error < 1e-3))
    figures.add("tf_learning_loss", loss_figure({"Laplacian": losses, "g, data made by convolution": g_losses}))
    figures.add("tf_learned_kernels", kernels_figure([
        ("Laplacian data", [("random start", start), ("learned", learned), ("Laplacian", LAPLACIAN)]),
        ("g data (convolution)", [("random start", g_start), ("learned", g_learned), ("g turned 180\u00b0", turned(KERNEL_G)),
                                  ("g, as convolved", KERNEL_G)]),
    ], "Gradient descent from a random start finds the filter that made the data;\n"
       "for data made by convolution with g it finds g turned 180\u00b0"))


def convolution_or_cross_correlation():
    """README: "Convolution or cross-correlation?"."""
    lessonkit.heading("Convolution or cross-correlation?")
    print("A \"convolution\" layer computes cross-correlation: no flip. Data made by a true")
    print("convolution with g gave a fitted kernel equal to g turned 180 degrees.")


def tensorflow_1_and_tracing():
    """README: Conventions and corner cases, "TensorFlow 1, sessions and retracing"."""
    lessonkit.heading("TensorFlow 1, sessions and retracing")
    print("tf.Session is gone from TensorFlow 2:", yes(not hasattr(tf, "Session")), end="; ")
    print("code written that way needs tf.compat.v1.Session:", yes(hasattr(tf.compat.v1, "Session")))
    shapes = []

    @tf.function
    def total(x):
        shapes.append(tuple(x.shape))  # runs only while tracing
        return tf.reduce_sum(x)

    for length in (3, 3, 4, 5):
        total(tf.ones([length]))
    print(f"Called with float32 vectors of length 3, 3, 4 and 5: traced for shapes {shapes}.")


def tensorflows_same_split_in_detail():
    """README: Conventions and corner cases, "TensorFlow's SAME split in detail"."""
    lessonkit.heading("TensorFlow's SAME split in detail")
    for n, k, stride, dilation in ((10, 3, 1, 1), (10, 4, 1, 1), (10, 3, 2, 1), (9, 3, 2, 1), (10, 3, 1, 2)):
        before, after = tensorflow_same_padding(n, k, stride, dilation)
        print(f"  n = {n:2d}, k = {k}, s = {stride}, d = {dilation}: (p_before, p_after) = ({before}, {after}),"
              f" o = {conv_output_size(n, k, stride, 'SAME', dilation)}")
    rng = np.random.default_rng(2)
    agree = True
    cases = 0
    for n in range(1, 11):
        image = rng.integers(0, 10, size=(n, n)).astype(np.float32)
        for k in range(1, 5):
            kernel = rng.integers(-2, 3, size=(k, k)).astype(np.float32)
            for stride, dilation in ((1, 1), (2, 1), (3, 1), (1, 2)):
                same = tensorflow_conv2d(image, kernel, "SAME", stride, dilation)
                split = tensorflow_same_padding(n, k, stride, dilation)
                explicit = tensorflow_conv2d(image, kernel, split, stride, dilation)
                ours = correlate_padded(image, kernel, split, stride, dilation)
                agree &= np.array_equal(same, explicit) and np.array_equal(same, ours)
                if conv_output_size(n, k, stride, "VALID", dilation):
                    valid = tensorflow_conv2d(image, kernel, "VALID", stride, dilation)
                    agree &= np.array_equal(valid, tensorflow_conv2d(image, kernel, 0, stride, dilation))
                cases += 1
    print(f"On {cases} seeded images and kernels (n 1-10, k 1-4, several s and d), SAME equals")
    print(f"explicit padding with that split, in TensorFlow and in our own code, and VALID equals p = 0: {yes(agree)}")
    image = rng.integers(0, 10, size=(6, 6)).astype(np.float32)
    centred, odd_only = True, True
    for k in (2, 3, 4):
        kernel = rng.integers(-2, 3, size=(k, k)).astype(np.float32)
        same = tensorflow_conv2d(image, kernel, "SAME")
        centred &= np.array_equal(same, scipy.signal.correlate2d(image, kernel, "same"))
        odd_only &= np.array_equal(same, scipy.signal.convolve2d(image, turned(kernel), "same")) == (k % 2 == 1)
    print(f"At stride 1, k = 2, 3 and 4: SAME equals scipy.signal.correlate2d(..., 'same'): {yes(centred)};")
    print(f"convolve2d(..., 'same') with the kernel turned equals it for k = 3 only: {yes(odd_only)}")


def same_in_other_frameworks():
    """README: Conventions and corner cases, "SAME in PyTorch and ONNX, and pooling's rounding"."""
    lessonkit.heading("SAME in PyTorch and ONNX, and pooling's rounding")
    print("   n   k  s  d | SAME_UPPER (TF)  SAME_LOWER  PyTorch 'same'")
    for n, k, stride, dilation in ((10, 3, 1, 1), (10, 4, 1, 1), (10, 3, 1, 2), (10, 3, 2, 1), (9, 4, 2, 1)):
        torch_same = str(torch_same_padding(k, dilation)) if stride == 1 else "refused"
        print(f"  {n:2d} {k:3d} {stride:2d} {dilation:2d} | {str(tensorflow_same_padding(n, k, stride, dilation)):16} "
              f"{str(same_lower_padding(n, k, stride, dilation)):11} {torch_same}")
    rng = np.random.default_rng(10)
    mirrored, sized, torch_agrees = True, True, True
    for n in range(1, 11):
        image = rng.integers(0, 10, size=(n, n)).astype(np.float32)
        for k in range(1, 5):
            kernel = rng.integers(-2, 3, size=(k, k)).astype(np.float32)
            for stride in (1, 2, 3):
                lower = tensorflow_conv2d(image, kernel, same_lower_padding(n, k, stride), stride)
                sized &= lower.shape[0] == -(-n // stride)
                if stride == 1:
                    upper_of_mirror = tensorflow_conv2d(turned(image), turned(kernel), "SAME")
                    mirrored &= np.array_equal(lower, turned(upper_of_mirror))
                    torch_agrees &= torch_same_padding(k) == tensorflow_same_padding(n, k)
    print("n 1-10, k 1-4, s 1-3: SAME_LOWER also gives ceil(n / s):", yes(sized))
    print("at stride 1 SAME_LOWER is SAME_UPPER of the image and kernel turned 180 degrees, turned back:", yes(mirrored))
    print("at stride 1 PyTorch's 'same' split equals TensorFlow's SAME:", yes(torch_agrees))
    print("Pooling, k = 3, s = 2:   n | round down (TF, Keras)  round up (PyTorch ceil_mode, Caffe)")
    for n in (7, 8, 9, 10):
        tf_pooled = tf.nn.max_pool2d(tf.zeros([1, n, n, 1]), 3, 2, "VALID").shape[1]
        print(f"                        {n:2d} | {tf_pooled:21d}  {pooled_output_size(n, 3, 2, ceil_mode=True):2d}")


def padding_modes():
    """README: Conventions and corner cases, "Padding modes: reflect, symmetric, replicate, circular"."""
    lessonkit.heading("Padding modes: reflect, symmetric, replicate, circular")
    row = np.array([1, 2, 3, 4, 5])
    print(f"{row} with 2 values added at each end:")
    print(f"  {'border':25} {'np.pad':10} {'tf.pad':10} {'PyTorch':10} {'SciPy':6} padded")
    agree = True
    for meaning, numpy_mode, tf_mode, torch_mode, scipy_mode in PADDING_MODES:
        padded = np.pad(row, 2, mode=numpy_mode)
        if tf_mode:
            agree &= np.array_equal(tf.pad(row, [[2, 2]], mode=tf_mode).numpy(), padded)
        print(f"  {meaning:25} {numpy_mode:10} {tf_mode or '-':10} {torch_mode or '-':10} {scipy_mode or '-':6} {padded}")
    rng = np.random.default_rng(11)
    for _ in range(20):
        image = rng.integers(0, 10, size=tuple(rng.integers(3, 8, size=2)))
        widths = [[int(rng.integers(0, 3)), int(rng.integers(0, 3))] for _ in range(2)]
        for tf_mode in ("CONSTANT", "REFLECT", "SYMMETRIC"):
            numpy_mode = {"CONSTANT": "constant", "REFLECT": "reflect", "SYMMETRIC": "symmetric"}[tf_mode]
            agree &= np.array_equal(tf.pad(image, widths, mode=tf_mode).numpy(), np.pad(image, widths, mode=numpy_mode))
    print("tf.pad's CONSTANT, REFLECT and SYMMETRIC equal np.pad's constant, reflect and symmetric,")
    print("here and on 20 seeded images with 0-2 values at each end:", yes(agree))


@lessonkit.lesson_main
def main(argv=None):
    args = lessonkit.parse_args(__doc__, argv)
    figures = lessonkit.Figures(args)
    eager_execution_and_tf_function()
    layouts_same_and_valid()
    tensorflow_computes_cross_correlation()
    the_output_size()
    pixels_that_no_window_reads()
    how_same_pads()
    padding_conventions()
    padding_stride_and_dilation_animated(figures)
    channels_and_filters(figures)
    one_by_one_convolutions()
    dense_against_convolutional(figures)
    learning_a_kernel(figures)
    convolution_or_cross_correlation()
    tensorflow_1_and_tracing()
    tensorflows_same_split_in_detail()
    same_in_other_frameworks()
    padding_modes()
    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
