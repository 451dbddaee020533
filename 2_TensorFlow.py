"""Convolution in TensorFlow 2.

TensorFlow's tf.nn.conv2d on a 10x10 image with a 3x3 filter: the tensor layouts
([batch, height, width, channels] and [height, width, in_channels, out_channels]),
SAME and VALID padding and the output-size rule, a check that what TensorFlow calls
convolution is cross-correlation, several channels and filters, the parameter counts
of a dense and a convolutional Keras layer, and a 3x3 kernel learned by gradient
descent.
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

    kernel: (kh, kw) array. Returns a float32 tensor of shape (kh, kw, 1, 1):
    [height, width, in_channels, out_channels].

    >>> as_filter(np.ones((3, 3))).shape
    TensorShape([3, 3, 1, 1])
    """
    return tf.constant(np.asarray(kernel, dtype=np.float32)[:, :, np.newaxis, np.newaxis])


def tensorflow_conv2d(image, kernel, padding):
    """Filter one greyscale image with one kernel through tf.nn.conv2d (stride 1).

    image: (H, W); kernel: (kh, kw); padding: 'SAME' or 'VALID'.
    Returns the feature map as a float32 array: (H, W) for SAME,
    (H - kh + 1, W - kw + 1) for VALID.

    >>> tensorflow_conv2d(np.arange(9).reshape(3, 3), [[1, -1]], "VALID")
    array([[-1., -1.],
           [-1., -1.],
           [-1., -1.]], dtype=float32)
    """
    result = tf.nn.conv2d(as_batch(image), as_filter(kernel), strides=1, padding=padding)
    return result[0, :, :, 0].numpy()


def tensorflow_same_padding(k, dilation=1):
    """The zeros TensorFlow's SAME padding adds before and after one axis, stride 1.

    k: kernel size along the axis. The total is (k - 1) * dilation, so that the output
    keeps the input's size; when the total is odd the extra zero goes after (bottom or
    right). Returns (before, after).

    >>> tensorflow_same_padding(3), tensorflow_same_padding(4)
    ((1, 1), (1, 2))
    """
    total = (k - 1) * dilation
    return total // 2, total - total // 2


def conv_output_size(n, k, stride=1, padding="VALID", dilation=1):
    """TensorFlow's output size along one spatial axis.

    n: input size, k: kernel size, stride and dilation: positive integers; padding:
    'SAME' or 'VALID' (any case). VALID keeps only windows that fit inside the input:
    ceil((n - (k - 1) * dilation) / stride), and 0 when the dilated kernel is larger
    than the input (TensorFlow then refuses to build the layer; see the lesson).
    SAME pads so that every stride-th position gets a window: ceil(n / stride).
    Raises ValueError for any other padding or a size that is not positive.

    >>> conv_output_size(10, 3), conv_output_size(10, 3, padding="same")
    (8, 10)
    >>> conv_output_size(10, 3, stride=2), conv_output_size(10, 3, dilation=2)
    (4, 6)
    >>> conv_output_size(2, 3)
    0
    """
    for name, value in (("n", n), ("k", k), ("stride", stride), ("dilation", dilation)):
        if value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value}")
    mode = padding.upper() if isinstance(padding, str) else padding
    if mode == "VALID":
        fitting = n - (k - 1) * dilation
        return max(0, -(-fitting // stride))
    if mode == "SAME":
        return -(-n // stride)
    raise ValueError(f"padding must be 'SAME' or 'VALID', got {padding!r}")


@tf.function
def _conv2d_graph(images, filters, stride, padding, dilation):
    return tf.nn.conv2d(images, filters, strides=stride, padding=padding, dilations=dilation)


def tensorflow_output_size(n, k, stride=1, padding="VALID", dilation=1):
    """The output size TensorFlow's shape inference gives an n x n input and a k x k
    kernel, found by tracing tf.nn.conv2d in a tf.function (nothing is computed).

    Returns None when TensorFlow refuses the shapes (the kernel does not fit).

    >>> tensorflow_output_size(10, 3), tensorflow_output_size(2, 3)
    (8, None)
    """
    try:
        traced = _conv2d_graph.get_concrete_function(
            tf.TensorSpec([1, n, n, 1]), tf.TensorSpec([k, k, 1, 1]), stride, padding, dilation
        )
    except ValueError:
        return None
    return traced.structured_outputs.shape[1]


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


def sum_over_input_channels(images, filters):
    """Our own multi-channel SAME layer, built from the single-channel correlate2d.

    images: (1, H, W, C); filters: (kh, kw, C, F).
    Output channel f is the sum over input channels c of
    correlate2d(images[0, :, :, c], filters[:, :, c, f], 'same').
    Returns (1, H, W, F).

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


def learn_kernel(image, true_kernel, steps=300, learning_rate=0.3, seed=0):
    """Recover a kernel from an image and its filtered version by gradient descent.

    image: (H, W); true_kernel: (k, k). The target is tf.nn.conv2d(image, true_kernel)
    with VALID padding; a k x k kernel, started from seeded random values, is changed
    step by step against the gradient of the mean squared error, each step a
    tf.function. Returns (start, learned, losses): two (k, k) arrays and the loss
    after 0, 1, ..., steps steps, (steps + 1,).

    >>> start, learned, losses = learn_kernel(np.eye(6), np.ones((2, 2)), steps=2)
    >>> start.shape, learned.shape, losses.shape
    ((2, 2), (2, 2), (3,))
    """
    images = as_batch(image)
    target = tf.nn.conv2d(images, as_filter(true_kernel), strides=1, padding="VALID")
    start = np.random.default_rng(seed).normal(size=np.shape(true_kernel)).astype(np.float32)
    kernel = tf.Variable(start)

    def mean_squared_error():
        prediction = tf.nn.conv2d(images, kernel[:, :, tf.newaxis, tf.newaxis], strides=1, padding="VALID")
        return tf.reduce_mean(tf.square(prediction - target))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = mean_squared_error()
        kernel.assign_sub(learning_rate * tape.gradient(loss, kernel))
        return loss

    losses = [step().numpy() for _ in range(steps)]
    losses.append(mean_squared_error().numpy())
    return start, kernel.numpy(), np.array(losses)


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


def loss_figure(losses):
    """The mean squared error after each gradient-descent step, log-scale y.
    losses: (steps + 1,), the first one before any step."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    ax.semilogy(np.arange(len(losses)), losses)
    ax.set_xlabel("gradient-descent steps taken")
    ax.set_ylabel("mean squared error (log scale)")
    ax.set_title("Learning the Laplacian kernel: the error falls steadily")
    ax.grid(True, which="major", alpha=0.4)
    fig.tight_layout()
    return fig


def kernels_figure(start, learned, true_kernel):
    """Three 3x3 kernels side by side, each value written in its cell: the random start,
    the learned kernel and the true one. All arrays (k, k)."""
    import matplotlib.pyplot as plt

    panels = (("random start", start), ("learned", learned), ("true (Laplacian)", true_kernel))
    limit = max(np.abs(kernel).max() for _, kernel in panels)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.8), layout="constrained")
    for ax, (title, kernel) in zip(axes, panels):
        ax.imshow(kernel, cmap="coolwarm", vmin=-limit, vmax=limit)
        for (row, col), value in np.ndenumerate(kernel):
            ax.text(col, row, f"{round(float(value), 2) + 0.0:.2f}", ha="center", va="center", fontsize=12)
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Gradient descent turns a random 3x3 kernel into the edge detector that made the data")
    return fig


def yes(flag):
    """'True' or 'False', for printed checks (NumPy booleans print the same way).

    >>> yes(np.True_)
    'True'
    """
    return str(bool(flag))


@lessonkit.lesson_main
def main(argv=None):
    args = lessonkit.parse_args(__doc__, argv)
    figures = lessonkit.Figures(args)

    lessonkit.heading("Where TensorFlow runs")
    print(f"TensorFlow {tf.__version__} runs on {device_description(GPUS)}.")

    lessonkit.heading("Eager execution and tf.function")
    print("tf.executing_eagerly():", tf.executing_eagerly())
    print("TensorFlow 2 runs each operation as soon as Python reaches it and returns the values.")
    print("A function decorated with @tf.function is traced into a graph once and then runs as")
    print("that graph, which is faster for steps repeated many times, such as training steps.")
    print("(TensorFlow 1 built a graph for everything and ran it in a session; TensorFlow 2")
    print("builds a graph only inside a tf.function.)")

    lessonkit.heading("A 10x10 image and a 3x3 filter")
    image = np.zeros((10, 10), dtype=np.float32)
    image[2:8, 3:7] = 1
    kernel = np.flip(SOBEL_X).copy()
    print("The image: a bright 6x4 rectangle (1) on a dark background (0).")
    print(image.astype(int))
    print("The filter: the Sobel x kernel of 3_image.py flipped (turned 180 degrees), so it")
    print("is left column minus right column and responds to vertical edges.")
    print(kernel.astype(int))
    print("Input shape [batch, height, width, channels]:", as_batch(image).shape)
    print("Filter shape [height, width, in_channels, out_channels]:", as_filter(kernel).shape)

    lessonkit.heading("SAME and VALID padding")
    same = tf.nn.conv2d(as_batch(image), as_filter(kernel), strides=1, padding="SAME")
    valid = tf.nn.conv2d(as_batch(image), as_filter(kernel), strides=1, padding="VALID")
    print("SAME pads the border with zeros, so the feature map keeps the input's size:")
    print(same.shape)
    print(same[0, :, :, 0].numpy().astype(int))
    print("VALID keeps only the windows that fit inside the image: 10 - 3 + 1 = 8, so 8x8:")
    print(valid.shape)
    print(valid[0, :, :, 0].numpy().astype(int))
    print("Negative on the rectangle's left edge (dark minus bright), positive on its right edge.")

    lessonkit.heading("TensorFlow computes cross-correlation")
    tf_valid = valid[0, :, :, 0].numpy()
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

    lessonkit.heading("How SAME pads")
    print("For stride 1, SAME adds k - 1 zeros per axis: half before (top, left) and, when")
    print("k - 1 is odd, the extra one after (bottom, right). Checks on a seeded 7x7 image:")
    rng = np.random.default_rng(2)
    pad_image = rng.integers(0, 10, size=(7, 7)).astype(np.float32)
    for k in (3, 2, 4):
        pad_kernel = rng.integers(-2, 3, size=(k, k)).astype(np.float32)
        before, after = tensorflow_same_padding(k)
        tf_same = tensorflow_conv2d(pad_image, pad_kernel, "SAME")
        padded = np.pad(pad_image, ((before, after), (before, after)))
        checks = [
            ("our correlate2d 'valid' on the padded image", correlate2d(padded, pad_kernel, "valid")),
            ("scipy.signal.correlate2d 'same'", scipy.signal.correlate2d(pad_image, pad_kernel, "same")),
            ("convolve2d 'same' with the kernel flipped", convolve2d(pad_image, pad_kernel[::-1, ::-1], "same")),
        ]
        print(f"{k}x{k} kernel, zeros (before, after) = ({before}, {after}). TensorFlow SAME equals")
        for label, other in checks:
            print(f"   {label + ':':<44} {yes(np.array_equal(tf_same, other))}")
    print("SciPy's correlate2d 'same' centres its window as TensorFlow does, even for even kernels.")
    print("convolve2d 'same' puts the extra zero on the other side, so for an even kernel it is")
    print("one pixel off even with the flip; for odd kernels both padding sides are equal.")

    lessonkit.heading("The output size, one axis at a time")
    print("VALID: ceil((n - (k - 1) * dilation) / stride), 0 if the kernel does not fit")
    print("SAME:  ceil(n / stride)")
    columns = "{:>4} {:>3} {:>7} {:>9} | {:>11} {:>8} | {:>10} {:>3}"
    print(columns.format("n", "k", "stride", "dilation", "VALID rule", "TF", "SAME rule", "TF"))
    for n in (10, 4):
        for k in (3, 5):
            for stride, dilation in ((1, 1), (2, 1), (1, 2)):
                sizes = []
                for padding in ("VALID", "SAME"):
                    size = tensorflow_output_size(n, k, stride, padding, dilation)
                    sizes += [conv_output_size(n, k, stride, padding, dilation), "refused" if size is None else size]
                print(columns.format(n, k, stride, dilation, *sizes))
    print("'refused': the (dilated) kernel is larger than the input, no window fits; tracing the")
    print("layer raises ValueError. Run eagerly, tf.nn.conv2d is less consistent: it may raise,")
    print("return an empty axis or, with the oneDNN CPU kernels, a wrong size. Check that it fits.")
    print("Stride > 1 together with dilation > 1 is left out, as Keras's Conv2D refuses it:")
    print("  ", keras_refusal(stride=2, dilation=2))

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
    print(f"The filters hold 3 * 3 * 3 * 4 = {filters.size} weights.")

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

    lessonkit.heading("Learning a kernel")
    picture = np.random.default_rng(5).uniform(size=(24, 24)).astype(np.float32)
    start, learned, losses = learn_kernel(picture, LAPLACIAN)
    steps = len(losses) - 1
    print("The gallery of 3_image.py shows kernels a person chose; here the kernel is found")
    print("from data. A seeded random 24x24 image is filtered with the Laplacian; starting from")
    print(f"a random 3x3 kernel, {steps} steps of gradient descent on the mean squared error recover it.")
    print("Random start:")
    print(np.round(start, 2) + 0.0)
    for taken in range(0, steps + 1, 50):
        print(f"loss after {taken:3d} steps: {losses[taken]:.1e}")
    print("Learned (4 decimals):")
    print(np.round(learned, 4) + 0.0)
    print("True (Laplacian):")
    print(LAPLACIAN.astype(int))
    error = np.abs(learned - LAPLACIAN).max()
    print(f"max |learned - true| = {error:.1e}, below 1e-3: {yes(error < 1e-3)}")
    figures.add("tf_learning_loss", loss_figure(losses))
    figures.add("tf_learned_kernels", kernels_figure(start, learned, LAPLACIAN))

    lessonkit.heading("Convolution or cross-correlation?")
    print("In deep learning, a \"convolution\" layer computes cross-correlation: no flip. Had the")
    print("data been made by a true convolution, the learned kernel would simply come out flipped,")
    print("so when the kernel is learned the difference does not matter.")

    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
