"""Convolution in TensorFlow 2.

TensorFlow's tf.nn.conv2d on a 10x10 image with a 3x3 filter: eager execution and
tf.function, the tensor layouts ([batch, height, width, channels] and [height, width,
in_channels, out_channels]), SAME and VALID padding, a check that what TensorFlow
calls convolution is cross-correlation, then one output-size rule for every framework
(padding, stride and dilation), checked against TensorFlow and animated. Then several
channels and filters, 1x1 convolutions, the parameter counts of dense and
convolutional Keras layers, and kernels learned by gradient descent.
"""

import importlib
import math

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

# The animated cases: (figure name, title, n, k, padding, stride, dilation).
ANIMATIONS = [
    ("tf_padding_valid", "No padding, stride 1 (VALID)", 5, 3, 0, 1, 1),
    ("tf_padding_half", "Half padding, stride 1 (SAME)", 5, 3, 1, 1, 1),
    ("tf_padding_full", "Full padding, stride 1", 5, 3, 2, 1, 1),
    ("tf_stride_2", "No padding, stride 2", 5, 3, 0, 2, 1),
    ("tf_stride_2_same", "TensorFlow's SAME at stride 2: uneven padding", 6, 3, "SAME", 2, 1),
    ("tf_dilation_2", "Dilation 2, no padding", 7, 3, 0, 1, 2),
]
INPUT_COLOUR = "#cfe2f3"
ZERO_COLOUR = "#e6e6e6"
TAP_COLOUR = "#f6b26b"
OUTPUT_COLOUR = "#d9ead3"
WINDOW_COLOUR = "#cc0000"


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


def connections_figure(units=8):
    """Two panels of `units` inputs over `units` outputs: a dense layer joins every pair,
    a 3-wide convolution joins each output to its neighbours with 3 shared weights."""
    import matplotlib.pyplot as plt

    fig, (dense_ax, conv_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    positions = np.arange(units)
    weights = [(-1, "tab:blue", "w0: input i-1"), (0, "tab:orange", "w1: input i"), (1, "tab:green", "w2: input i+1")]
    for out in positions:
        for inp in positions:
            dense_ax.plot([inp, out], [1, 0], color="grey", linewidth=0.8, alpha=0.7)
        for offset, colour, label in weights:
            if 0 <= out + offset < units:
                conv_ax.plot([out + offset, out], [1, 0], color=colour, linewidth=2, label=label if out == 1 else None)
    conv_ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), title="shared weight")
    dense_ax.set_title(f"Dense: every output sees every input\n{units} x {units} = {units * units} weights, each used once")
    conv_ax.set_title("Convolution: output i sees inputs i-1, i, i+1\nonly 3 weights, the same for every output")
    for ax in (dense_ax, conv_ax):
        ax.scatter(positions, np.ones(units), s=160, color="white", edgecolors="black", zorder=3)
        ax.scatter(positions, np.zeros(units), s=160, color="black", zorder=3)
        ax.set_yticks([0, 1], ["outputs", "inputs"])
        ax.set_xticks(positions, [str(i) for i in positions])
        ax.set_ylim(-0.25, 1.25)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    fig.tight_layout()
    return fig


def loss_figure(curves):
    """The mean squared error after each gradient-descent step, log-scale y, one line
    per learned kernel. curves: {name: losses}, each losses (steps + 1,), the first one
    before any step."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, losses in curves.items():
        ax.semilogy(np.arange(len(losses)), losses, label=name)
    ax.set_xlabel("gradient-descent steps taken")
    ax.set_ylabel("mean squared error (log scale)")
    ax.set_title("Learning a 3x3 kernel: the error falls steadily")
    ax.legend()
    ax.grid(True, which="major", alpha=0.4)
    fig.tight_layout()
    return fig


def kernels_figure(rows):
    """3x3 kernels in a grid, each value written in its cell. rows: a list of
    (row title, [(panel title, kernel (k, k)), ...]), one row of panels each."""
    import matplotlib.pyplot as plt

    limit = max(np.abs(kernel).max() for _, panels in rows for _, kernel in panels)
    columns = max(len(panels) for _, panels in rows)
    fig, axes = plt.subplots(len(rows), columns, figsize=(3.3 * columns, 3.4 * len(rows)), layout="constrained", squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for row_axes, (row_title, panels) in zip(axes, rows):
        for ax, (title, kernel) in zip(row_axes, panels):
            ax.set_axis_on()
            ax.imshow(kernel, cmap="coolwarm", vmin=-limit, vmax=limit)
            for (r, c), value in np.ndenumerate(kernel):
                ax.text(c, r, f"{round(float(value), 2) + 0.0:.2f}", ha="center", va="center", fontsize=12)
            ax.set_title(f"{row_title}\n{title}", fontsize=11)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle("Gradient descent turns a random kernel into the one that made the data (flipped, if it was a convolution)")
    return fig


def padding_frames(title, n, k, padding, stride, dilation):
    """An animation of one n x n input, padded, and a k x k kernel sliding over it with
    this stride and dilation, one frame per output cell, as PIL images of one palette:
    the padded input (zeros grey, input blue), the kernel's taps (orange, with gaps
    when dilated) inside the window it spans, and the output filled in up to the cell
    being written. Input, output and the rule with its numbers are written on it."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    before, after = padding_pair(n, k, stride, padding, dilation)
    size = conv_output_size(n, k, stride, padding, dilation)
    padded = n + before + after
    span = dilation * (k - 1) + 1
    out_left = padded + 2
    width, height = max(out_left + max(size, 3) + 0.5, 13.5), padded + 3.2
    fig = plt.figure(figsize=(width * 0.34, height * 0.34), dpi=80)
    ax = lesson_2d.grid_axes(fig, width, height)
    ax.set_xlim(-0.5, width)
    ax.set_ylim(padded + 1.8, -1.4)
    inside = np.zeros((padded, padded), dtype=bool)
    inside[before : before + n, before : before + n] = True
    lesson_2d.draw_grid(ax, np.where(inside, "", "0"), np.where(inside, INPUT_COLOUR, ZERO_COLOUR), text_colours="#888888", fontsize=8)
    out_top = (padded - size) / 2
    out_cells, _ = lesson_2d.draw_grid(ax, np.full((size, size), ""), "white", left=out_left, top=out_top)
    if before == after:
        zeros = {0: "no padding", 1: "1 zero on each side"}.get(before, f"{before} zeros on each side")
    else:
        zeros = f"zeros: {before} before, {after} after"
    lesson_2d.label(ax, padded / 2, -0.55, f"input {n}x{n} (blue), {zeros}", fontsize=9)
    lesson_2d.label(ax, out_left + size / 2, out_top - 0.55, f"output {size}x{size}", fontsize=9)
    lesson_2d.label(ax, width / 2, -1.15, title, fontsize=10, fontweight="bold")
    rule = size_rule_text(n, k, stride, padding, dilation).split(": ")
    lesson_2d.label(ax, width / 2, padded + 0.55, rule[0], fontsize=8)
    lesson_2d.label(ax, width / 2, padded + 1.3, rule[1], fontsize=8)
    taps = [ax.add_patch(Rectangle((0, 0), 1, 1, facecolor=TAP_COLOUR, edgecolor="#555555", alpha=0.85)) for _ in range(k * k)]
    window = ax.add_patch(Rectangle((0, 0), span, span, fill=False, edgecolor=WINDOW_COLOUR, linewidth=2))
    current = ax.add_patch(Rectangle((0, 0), 1, 1, fill=False, edgecolor=WINDOW_COLOUR, linewidth=2))
    moving = [*taps, window, current]
    for artist in moving:
        artist.set_animated(True)
    fig.canvas.draw()
    pictures = []
    for r, c in np.ndindex(size, size):
        out_cells[r, c].set_facecolor(OUTPUT_COLOUR)
        ax.draw_artist(out_cells[r, c])
        background = fig.canvas.copy_from_bbox(fig.bbox)
        top, left = r * stride, c * stride
        for tap, (u, v) in zip(taps, np.ndindex(k, k)):
            tap.set_xy((left + v * dilation, top + u * dilation))
        window.set_xy((left, top))
        current.set_xy((out_left + c, out_top + r))
        for artist in moving:
            ax.draw_artist(artist)
        pictures.append(lesson_2d.rgb_pixels(fig))
        fig.canvas.restore_region(background)
    plt.close(fig)
    return lesson_2d.to_shared_palette(pictures)


def channels_figure(images, filters, bias):
    """A convolution layer with several channels, drawn with its numbers: each filter's
    slices correlate with their own input channels ('valid'), and the per-channel maps
    plus the filter's bias add up to one output channel.

    images: (H, W, C_in) integers; filters: (k_h, k_w, C_in, C_out); bias: (C_out,)."""
    import matplotlib.pyplot as plt

    H, W, c_in = images.shape
    k_h, k_w, _, c_out = filters.shape
    o_h, o_w = H - k_h + 1, W - k_w + 1
    column = max(W, k_w + 1 + o_w) + 1.5
    out_left = c_in * column + 1.5
    block = k_h + 1.6
    width, height = out_left + o_w + 0.5, H + 1.2 + c_out * block
    fig = plt.figure(figsize=(width * 0.5, height * 0.5 + 1.45))
    ax = lesson_2d.grid_axes(fig, width, height)
    ax.set_xlim(-0.5, width)
    ax.set_ylim(height, -2.9)
    tints = ["#f4cccc", "#d9ead3", "#cfe2f3"]
    lesson_2d.label(
        ax, width / 2, -2.3,
        f"{c_out} filters of {k_h}x{k_w}x{c_in} on a {H}x{W}x{c_in} input give a {o_h}x{o_w}x{c_out} output ('valid')",
        fontsize=13, fontweight="bold",
    )
    lesson_2d.label(ax, width / 2, -1.5, "each slice is cross-correlated (\u22c6) with its own channel; the layer then applies its activation",
                    fontsize=10)
    for c in range(c_in):
        left = c * column
        lesson_2d.draw_grid(ax, images[:, :, c], tints[c % 3], left=left, fontsize=11)
        lesson_2d.label(ax, left + W / 2, -0.5, f"input channel {c}  ({H}x{W})")
    for f in range(c_out):
        top = H + 1.2 + f * block
        total = np.full((o_h, o_w), bias[f], dtype=images.dtype)
        for c in range(c_in):
            left = c * column
            part = correlate2d(images[:, :, c], filters[:, :, c, f], "valid")
            total = total + part
            lesson_2d.draw_grid(ax, filters[:, :, c, f], tints[c % 3], left=left, top=top, fontsize=11)
            lesson_2d.draw_grid(ax, part, "white", left=left + k_w + 1, top=top + (k_h - o_h) / 2, fontsize=11)
            lesson_2d.label(ax, left + k_w + 0.5, top + k_h / 2, "\u2192", fontsize=14)
            lesson_2d.label(ax, left + k_w / 2, top - 0.4, f"filter {f}, slice {c} ({k_h}x{k_w})", fontsize=9)
            lesson_2d.label(ax, left + k_w + 1 + o_w / 2, top + (k_h - o_h) / 2 - 0.4, f"channel {c} \u22c6 slice", fontsize=9)
            if c:
                lesson_2d.label(ax, left - 0.75, top + k_h / 2, "+", fontsize=16)
        lesson_2d.label(ax, out_left - 0.75, top + k_h / 2, f"+ b{f}\n({bias[f]})\n=", fontsize=10)
        lesson_2d.draw_grid(ax, total, OUTPUT_COLOUR, left=out_left, top=top + (k_h - o_h) / 2, fontsize=11)
        lesson_2d.label(ax, out_left + o_w / 2, top - 0.4, f"output channel {f}", fontsize=9)
    return fig


def eager_execution_and_tf_function():
    """README: Convolution in TensorFlow, "Eager execution and tf.function"."""
    lessonkit.heading("Eager execution and tf.function")
    print(f"TensorFlow {tf.__version__} runs on {device_description(GPUS)}.")
    print("tf.executing_eagerly():", tf.executing_eagerly())
    print("TensorFlow 2 runs each operation as soon as Python reaches it and returns the values.")
    print("A function decorated with @tf.function is traced into a graph, which then runs without")
    print("Python; that pays off for steps repeated many times, such as training steps.")
    traced = []

    @tf.function
    def double(x):
        traced.append(x.dtype.name)  # a Python side effect: it runs only while tracing
        return 2 * x

    for value in (tf.constant([1.0]), tf.constant([5.0]), tf.constant([1])):
        double(value)
    print(f"Called 3 times, with float32, float32 and int32 tensors: traced {len(traced)} times "
          f"({', '.join(traced)}).")
    print("It is traced again for each new input signature (dtype, shape), and reused otherwise.")
    print("TensorFlow 1 built graphs by default and ran them in a session (eager mode was opt-in).")
    print("tf.Session is gone from TensorFlow 2:", yes(not hasattr(tf, "Session")), end="; ")
    print("code written that way needs tf.compat.v1.Session:", yes(hasattr(tf.compat.v1, "Session")))


def layouts_same_and_valid():
    """README: Convolution in TensorFlow, "Layouts, SAME and VALID".
    Returns the 10x10 image and the filter it uses, for the next section."""
    lessonkit.heading("Layouts, SAME and VALID")
    image = np.zeros((10, 10), dtype=np.float32)
    image[2:8, 3:7] = 1
    kernel = np.flip(SOBEL_X).copy()
    print("The image: a bright 6x4 rectangle (1) on a dark background (0).")
    print(image.astype(int))
    print("The filter: the Sobel x kernel of 3_image.py flipped (turned 180 degrees), so it")
    print("is left column minus right column.")
    print(kernel.astype(int))
    print("Input shape [batch, height, width, channels]:", as_batch(image).shape)
    print("Filter shape [height, width, in_channels, out_channels]:", as_filter(kernel).shape)
    same = tf.nn.conv2d(as_batch(image), as_filter(kernel), strides=1, padding="SAME")
    valid = tf.nn.conv2d(as_batch(image), as_filter(kernel), strides=1, padding="VALID")
    print("SAME pads the border with zeros, so the feature map keeps the input's size:")
    print(same.shape)
    print(same[0, :, :, 0].numpy().astype(int))
    print("VALID keeps only the windows that fit inside the image: 10 - 3 + 1 = 8, so 8x8:")
    print(valid.shape)
    print(valid[0, :, :, 0].numpy().astype(int))
    print("Negative on the rectangle's left edge (dark minus bright), positive on its right edge.")
    return image, kernel


def tensorflow_computes_cross_correlation(image, kernel):
    """README: Convolution in TensorFlow, "TensorFlow computes cross-correlation".
    image: (10, 10); kernel: (3, 3), not symmetric under the flip."""
    lessonkit.heading("TensorFlow computes cross-correlation")
    tf_valid = tensorflow_conv2d(image, kernel, "VALID")
    ours = correlate2d(image, kernel, "valid")
    scipys = scipy.signal.correlate2d(image, kernel, "valid")
    print("TensorFlow == our correlate2d (1_2D.py):", yes(np.array_equal(tf_valid, ours)))
    print("TensorFlow == scipy.signal.correlate2d: ", yes(np.array_equal(tf_valid, scipys)))
    as_is = convolve2d(image, kernel, "valid")
    flipped = convolve2d(image, kernel[::-1, ::-1], "valid")
    print("TensorFlow == convolve2d, kernel as is:  ", yes(np.array_equal(tf_valid, as_is)),
          f"(max difference {np.abs(tf_valid - as_is).max():g})")
    print("TensorFlow == convolve2d, kernel flipped:", yes(np.array_equal(tf_valid, flipped)))
    print("tf.nn.conv2d slides the kernel without flipping it: that is cross-correlation.")
    print("Flipped back, our kernel is Sobel x: TensorFlow's map equals the convolution with")
    by_convolution = convolve2d(image, SOBEL_X, "valid")
    print("Sobel x, the operation 3_image.py applies:", yes(np.array_equal(tf_valid, by_convolution)))
    print("To convolve with a kernel in TensorFlow, hand tf.nn.conv2d the kernel flipped.")


def the_output_size():
    """README: Convolution in TensorFlow, "The output size: one rule for every framework"."""
    lessonkit.heading("The output size: one rule for every framework")
    print("Along one axis: n input pixels, k kernel taps, stride s, dilation d, and p_before,")
    print("p_after zeros added at the two ends. The dilated kernel spans d(k - 1) + 1 pixels, so its")
    print("first window starts at 0 and its last may start at n + p_before + p_after - d(k - 1) - 1;")
    print("windows start every s pixels:")
    print("  o = floor((n + p_before + p_after - d(k - 1) - 1) / s) + 1, and 0 if no window fits")
    print("Our conv_output_size against the size TensorFlow's shape inference gives:")
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
    print("VALID is p = 0; SAME chooses p so that o = ceil(n / s); an int p puts p zeros on both")
    print("sides (PyTorch's padding=p, Keras's ZeroPadding2D); a pair is (p_before, p_after).")
    print("'refused': no window fits, and tracing the layer raises ValueError. Run eagerly,")
    print("tf.nn.conv2d is less consistent: it may raise, return an empty axis or, with the oneDNN")
    print("CPU kernels, a wrong size. Check that the kernel fits.")
    print("Keras's Conv2D refuses stride > 1 together with dilation > 1:")
    print("  ", keras_refusal(stride=2, dilation=2))


def how_same_pads():
    """README: Convolution in TensorFlow, "How SAME pads, at any stride"."""
    lessonkit.heading("How SAME pads, at any stride")
    print("SAME promises o = ceil(n / s). The last window then ends at (o - 1)s + d(k - 1) + 1, so")
    print("  total = max((ceil(n/s) - 1) * s + d(k - 1) + 1 - n, 0), before = total // 2,")
    print("and the extra zero of an odd total goes after (bottom, right).")
    for n, k, stride, dilation in ((10, 3, 1, 1), (10, 4, 1, 1), (10, 3, 2, 1), (9, 3, 2, 1), (10, 3, 1, 2)):
        before, after = tensorflow_same_padding(n, k, stride, dilation)
        print(f"  n = {n:2d}, k = {k}, s = {stride}, d = {dilation}: (p_before, p_after) = ({before}, {after}),"
              f" o = {conv_output_size(n, k, stride, 'SAME', dilation)}")
    print("So with n = 10, k = 3, s = 2 TensorFlow pads (0, 1), not (1, 1).")
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


def padding_conventions():
    """README: Convolution in TensorFlow, "Padding conventions: same, full and padding=1"."""
    lessonkit.heading("Padding conventions: same, full and padding=1")
    n = 10
    print(f"For an odd k at stride 1, 'same' padding is p = (k - 1) / 2 on each side and keeps n = {n};")
    print(f"'full' padding is p = k - 1 on each side: every overlap counts, o = n + k - 1.")
    print("   k  same p  o   full p   o")
    for k in (1, 3, 5, 7):
        same_p, full_p = (k - 1) // 2, k - 1
        print(f"  {k:2d}  {same_p:6d} {conv_output_size(n, k, padding=same_p):2d}  {full_p:7d}"
              f" {conv_output_size(n, k, padding=full_p):3d}")
    rng = np.random.default_rng(6)
    image = rng.integers(0, 10, size=(n, n)).astype(np.float32)
    kernel = rng.integers(-2, 3, size=(3, 3)).astype(np.float32)
    full = correlate_padded(image, kernel, (2, 2))
    print("Full padding gives SciPy's correlate2d 'full':",
          yes(np.array_equal(full, scipy.signal.correlate2d(image, kernel, "full"))))
    print("padding=1 with a 3x3 kernel (PyTorch's Conv2d, or ZeroPadding2D(1) before a VALID layer)")
    print("is one zero on each side. At stride 1 that is TensorFlow's SAME:",
          yes(np.array_equal(correlate_padded(image, kernel, (1, 1)), tensorflow_conv2d(image, kernel, "SAME"))))
    torch_style = correlate_padded(image, kernel, (1, 1), stride=2)
    tf_same = tensorflow_conv2d(image, kernel, "SAME", stride=2)
    print(f"At stride 2 both give {torch_style.shape[0]}x{torch_style.shape[1]}, but TensorFlow pads (0, 1), so its windows")
    print("start one pixel later and the numbers differ; equal:", yes(np.array_equal(torch_style, tf_same)))


def padding_stride_and_dilation_animated(figures):
    """README: Convolution in TensorFlow, "Padding, stride and dilation, animated"."""
    lessonkit.heading("Padding, stride and dilation, animated")
    rng = np.random.default_rng(7)
    for name, title, n, k, padding, stride, dilation in ANIMATIONS:
        image = rng.integers(0, 10, size=(n, n)).astype(np.float32)
        kernel = rng.integers(-2, 3, size=(k, k)).astype(np.float32)
        split = padding_pair(n, k, stride, padding, dilation)
        ours = correlate_padded(image, kernel, split, stride, dilation)
        theirs = tensorflow_conv2d(image, kernel, padding, stride, dilation)
        print(f"{name}.gif: {title}")
        print(f"  {size_rule_text(n, k, stride, padding, dilation)}; ours == tf.nn.conv2d: "
              f"{yes(np.array_equal(ours, theirs))}")
        figures.add_animation(name, padding_frames(title, n, k, padding, stride, dilation), frame_ms=600)


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
    bias = np.array([1, -2])
    layer = tf.nn.conv2d(small[np.newaxis].astype(np.float32), small_filters.astype(np.float32), 1, "VALID") + bias
    drawn = np.stack([sum(correlate2d(small[:, :, c], small_filters[:, :, c, f], "valid") for c in range(3)) + bias[f]
                      for f in range(2)], axis=-1)
    print("The figure: two 3x3x3 filters on a 4x4x3 input; per-channel maps + bias == tf.nn.conv2d + bias:",
          yes(np.array_equal(layer[0].numpy(), drawn)))
    figures.add("tf_channels", channels_figure(small, small_filters, bias))
    print("A layer's parameters: k_h * k_w * C_in * C_out weights + C_out biases.")
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
    images = rng.integers(0, 5, size=(2, 5, 5, 16)).astype(np.float32)
    weights = rng.integers(-2, 3, size=(16, 4)).astype(np.float32)
    bias = rng.integers(-2, 3, size=4).astype(np.float32)
    conv = tf.nn.conv2d(images, weights[np.newaxis, np.newaxis], strides=1, padding="VALID") + bias
    matmul = pointwise_as_matmul(images, weights, bias)
    print(f"Images {images.shape}, a 1x1 layer from 16 channels to 4: output {tuple(conv.shape)}.")
    print("A 1x1 kernel never looks at a neighbour: each pixel's 16 channel values are mixed into")
    print("4 by the same (16, 4) matrix. As one matrix multiply, (N*H*W, 16) @ (16, 4) + bias,")
    print("it equals tf.nn.conv2d:", yes(np.array_equal(conv.numpy(), matmul)))
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
    print("Each dense output has its own weight for every input pixel; the convolutional layer")
    print("is 784 copies of one small neuron that sees a 3x3 neighbourhood and shares its weights.")
    figures.add("tf_dense_vs_conv", connections_figure())


def learning_a_kernel(figures):
    """README: Convolution in TensorFlow, "Learning a kernel"."""
    lessonkit.heading("Learning a kernel")
    picture = np.random.default_rng(5).uniform(size=(24, 24)).astype(np.float32)
    laplacian_data = tensorflow_conv2d(picture, LAPLACIAN, "VALID")
    start, learned, losses = learn_kernel(picture, laplacian_data)
    steps = len(losses) - 1
    print("The gallery of 3_image.py shows kernels a person chose; here the kernel is found")
    print("from data. A seeded random 24x24 image is filtered with the Laplacian; starting from")
    print(f"a random 3x3 kernel, {steps} steps of gradient descent on the mean squared error recover it.")
    print("Random start:")
    print(decimals(start, 2))
    for taken in range(0, steps + 1, 50):
        print(f"loss after {taken:3d} steps: {losses[taken]:.1e}")
    print("Learned (4 decimals):")
    print(decimals(learned))
    print("True (Laplacian):")
    print(LAPLACIAN.astype(int))
    error = np.abs(learned - LAPLACIAN).max()
    print(f"max |learned - true| = {error:.1e}, below 1e-3: {yes(error < 1e-3)}")
    print()
    print("The Laplacian is the same flipped, so it cannot show what the flip does. Now the data")
    print("is made by a true convolution with Sobel x (convolve2d of 1_2D.py), and the model is")
    print("again tf.nn.conv2d, a cross-correlation:")
    sobel_data = convolve2d(picture, SOBEL_X, "valid")
    sobel_start, sobel_learned, sobel_losses = learn_kernel(picture, sobel_data, seed=1)
    print("Learned (4 decimals):")
    print(decimals(sobel_learned))
    flipped = np.flip(SOBEL_X)
    print("Sobel x flipped:")
    print(flipped.astype(int))
    flip_error = np.abs(sobel_learned - flipped).max()
    print(f"max |learned - Sobel x flipped| = {flip_error:.1e}")
    print(f"max |learned - Sobel x|         = {np.abs(sobel_learned - SOBEL_X).max():.1f}")
    print("The learned kernel is Sobel x flipped, to within 1e-3:", yes(flip_error < 1e-3))
    print("The network learned the kernel that its own operation needs: Sobel x turned 180 degrees.")
    figures.add("tf_learning_loss", loss_figure({"Laplacian": losses, "Sobel x, made by convolution": sobel_losses}))
    figures.add("tf_learned_kernels", kernels_figure([
        ("Laplacian data", [("random start", start), ("learned", learned), ("true (Laplacian)", LAPLACIAN)]),
        ("Sobel x data, made by convolution", [("random start", sobel_start), ("learned", sobel_learned),
                                               ("Sobel x flipped", flipped), ("Sobel x, as convolved", SOBEL_X)]),
    ]))


def convolution_or_cross_correlation():
    """README: "Convolution or cross-correlation?"."""
    lessonkit.heading("Convolution or cross-correlation?")
    print("In deep learning, a \"convolution\" layer computes cross-correlation: no flip. As the")
    print("Sobel x example shows, data made by a true convolution gives a learned kernel that is")
    print("simply flipped, so when the kernel is learned the difference does not matter.")


@lessonkit.lesson_main
def main(argv=None):
    args = lessonkit.parse_args(__doc__, argv)
    figures = lessonkit.Figures(args)
    eager_execution_and_tf_function()
    image, kernel = layouts_same_and_valid()
    tensorflow_computes_cross_correlation(image, kernel)
    the_output_size()
    how_same_pads()
    padding_conventions()
    padding_stride_and_dilation_animated(figures)
    channels_and_filters(figures)
    one_by_one_convolutions()
    dense_against_convolutional(figures)
    learning_a_kernel(figures)
    convolution_or_cross_correlation()
    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
