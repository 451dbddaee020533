"""A CNN learns its own kernels.

A small convolutional network (convolutions with ReLU, max pooling, a dense classifier;
at most 10,000 parameters) learns to read 5,000 real handwritten digits from MNIST, shipped
in data/. The lesson counts its shapes and parameters by our own rules, trains it, and
measures what shared weights buy against a dense network of the same size, on digits in
place and shifted. Then it looks inside: the first layer's learned kernels beside the
hand-made edge detectors of 4_digit.py, the first layer and max pooling recomputed from
scratch, the maps of each layer on a digit, the receptive fields by rule and by gradient,
and the network's reading of the digit (yours with --image).
"""

import importlib

import numpy as np
from PIL import Image

import lessonkit

with lessonkit.tensorflow_start_up_quiet():
    import keras
    import tensorflow as tf

    GPUS = tf.config.list_physical_devices("GPU")

correlate2d = importlib.import_module("1_2D").correlate2d
tf_lesson = importlib.import_module("2_TensorFlow")
image_lesson = importlib.import_module("3_image")
digit_lesson = importlib.import_module("4_digit")
max_pool2d = digit_lesson.max_pool2d  # from scratch: the largest value of each size x size block

DIGITS_FILE = "mnist_5k.npz"
SIDE = 28  # MNIST digits are 28 x 28 pixels
BOX = 20  # and each is scaled to fit a 20 x 20 box, then centred by its mass
TRAIN_PER_DIGIT = 400  # of the 500 examples of each digit; the other 100 are for testing
PARAMETER_BUDGET = 10_000
ACCURACY_TARGET = 0.96

SEED = 0
EPOCHS = 10
BATCH_SIZE = 64
LEARNING_RATE = 0.01  # Adam's step size at the start, lowered along a cosine to 0 by the end
DROPOUT = 0.3
DENSE_UNITS = 7  # hidden units of the dense network: 784 * 7 + 7 + 7 * 10 + 10 = 5,575 parameters
SHIFTS = range(5)  # pixels
INK_LEVEL = 64  # after stretching to 0..255, a pixel from this level up is ink
MIN_CONTRAST = 32  # a picture whose ink rises less than this above its ground is blank
GRADIENT_INPUTS = 64  # random pictures whose gradients together trace a receptive field


def load_digits():
    """The 5,000 digits of data/mnist_5k.npz, split the same way on every machine: the first
    400 examples of each digit (in the file's order) for training, the last 100 for testing.

    Returns (train_images, train_labels, test_images, test_labels): uint8 (4000, 28, 28),
    int (4000,), uint8 (1000, 28, 28), int (1000,), ordered by digit.

    >>> train_images, train_labels, test_images, test_labels = load_digits()
    >>> train_images.shape, test_images.shape, np.bincount(test_labels).tolist()
    ((4000, 28, 28), (1000, 28, 28), [100, 100, 100, 100, 100, 100, 100, 100, 100, 100])
    """
    with np.load(lessonkit.data_path(DIGITS_FILE)) as data:
        images, labels = data["images"], data["labels"].astype(int)
    train = np.zeros(len(labels), dtype=bool)
    for digit in range(10):
        train[np.flatnonzero(labels == digit)[:TRAIN_PER_DIGIT]] = True
    return images[train], labels[train], images[~train], labels[~train]


def as_input(images):
    """Grey levels as the networks read them: uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1].

    >>> as_input(np.full((2, 28, 28), 255, dtype=np.uint8)).shape
    (2, 28, 28, 1)
    """
    return (np.asarray(images, dtype=np.float32) / 255)[..., np.newaxis]


def compiled(model, train_size=TRAIN_PER_DIGIT * 10):
    """Compile a model with the lesson's fixed training settings: Adam, its step size falling
    from LEARNING_RATE to 0 along a cosine over the EPOCHS epochs of `train_size` images, and
    cross-entropy on the integer labels. A whole epoch of steps runs in one call of the
    compiled training function, with no Python in between. Returns the model."""
    steps_per_epoch = -(-train_size // BATCH_SIZE)
    schedule = keras.optimizers.schedules.CosineDecay(LEARNING_RATE, decay_steps=EPOCHS * steps_per_epoch)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_epoch,
    )
    return model


def build_cnn():
    """The convolutional network, LeNet-like, with seeded initial weights, compiled.

    Input (N, 28, 28, 1) in [0, 1]; conv1: 8 kernels 3x3 + ReLU; pool1: 2x2 max;
    conv2: 16 kernels 3x3x8 + ReLU; pool2: 2x2 max; flatten; dropout (training only);
    classifier: dense 400 -> 10 with softmax. Output (N, 10) class probabilities.

    >>> build_cnn().count_params()
    5258
    """
    keras.utils.set_random_seed(SEED)
    layers = keras.layers
    return compiled(
        keras.Sequential(
            [
                keras.Input((SIDE, SIDE, 1)),
                layers.Conv2D(8, 3, activation="relu", name="conv1"),
                layers.MaxPooling2D(2, name="pool1"),
                layers.Conv2D(16, 3, activation="relu", name="conv2"),
                layers.MaxPooling2D(2, name="pool2"),
                layers.Flatten(name="flatten"),
                layers.Dropout(DROPOUT, name="dropout"),
                layers.Dense(10, activation="softmax", name="classifier"),
            ],
            name="cnn",
        )
    )


def build_dense(units=DENSE_UNITS):
    """A dense network of about the CNN's size, with seeded initial weights, compiled:
    flatten the 784 pixels; hidden: dense 784 -> `units` + ReLU; classifier: dense
    `units` -> 10 with softmax. Input (N, 28, 28, 1), output (N, 10).

    >>> build_dense().count_params()
    5575
    """
    keras.utils.set_random_seed(SEED)
    layers = keras.layers
    return compiled(
        keras.Sequential(
            [
                keras.Input((SIDE, SIDE, 1)),
                layers.Flatten(name="flatten"),
                layers.Dense(units, activation="relu", name="hidden"),
                layers.Dense(10, activation="softmax", name="classifier"),
            ],
            name="dense",
        )
    )


def train(model, images, labels):
    """Train a compiled model with the lesson's fixed settings: EPOCHS passes over the
    images in batches of BATCH_SIZE, reshuffled each epoch by a seeded generator, with
    TensorFlow's deterministic operations, so that every run gives the same weights.

    images: uint8 (N, 28, 28), scaled here; labels: int (N,).
    Returns the Keras History (history['loss'] and history['accuracy'], one per epoch).
    """
    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    batches = (
        tf.data.Dataset.from_tensor_slices((as_input(images), np.asarray(labels)))
        .shuffle(len(labels), seed=SEED)
        .batch(BATCH_SIZE)
    )
    return model.fit(batches, epochs=EPOCHS, shuffle=False, verbose=0)


def probabilities(model, images, chunk=1000):
    """The model's class probabilities, (N, 10), for uint8 images (N, 28, 28), computed
    `chunk` images at a time (dropout off)."""
    parts = [model(as_input(images[start : start + chunk]), training=False) for start in range(0, len(images), chunk)]
    return np.concatenate([np.asarray(part) for part in parts])


def accuracy(model, images, labels):
    """The share of images whose most probable class is the label, 0..1."""
    return float(np.mean(np.argmax(probabilities(model, images), axis=1) == labels))


def shift_images(images, rows, columns):
    """Move every image `rows` pixels down and `columns` pixels right (negative: up, left),
    filling the uncovered border with 0 (black). images: (N, H, W). Returns (N, H, W).

    >>> shift_images(np.arange(1, 5).reshape(1, 2, 2), 0, 1)[0]
    array([[0, 1],
           [0, 3]])
    """
    shifted = np.zeros_like(images)
    height, width = images.shape[1:]
    source = images[:, max(0, -rows) : height - max(0, rows), max(0, -columns) : width - max(0, columns)]
    shifted[:, max(0, rows) : height - max(0, -rows), max(0, columns) : width - max(0, -columns)] = source
    return shifted


def shifted_accuracy(model, images, labels, shift):
    """Accuracy on the images moved `shift` pixels, averaged over the four directions
    (down, up, right, left). images: uint8 (N, 28, 28). Returns 0..1."""
    moves = [(shift, 0), (-shift, 0), (0, shift), (0, -shift)] if shift else [(0, 0)]
    moved = np.concatenate([shift_images(images, rows, columns) for rows, columns in moves])
    return accuracy(model, moved, np.tile(labels, len(moves)))


def first_layer_from_scratch(image, kernels, biases):
    """A Conv2D layer with VALID padding and ReLU, from scratch: for each kernel f,
    a_f = ReLU(image ⋆ w_f + b_f), the cross-correlation by 1_2D.py's correlate2d.

    image: (H, W); kernels: (k_h, k_w, 1, F), as Keras holds them; biases: (F,).
    Returns (H - k_h + 1, W - k_w + 1, F).

    >>> first_layer_from_scratch(np.eye(3), np.ones((2, 2, 1, 1)), np.array([-1.0]))[:, :, 0]
    array([[1., 0.],
           [0., 1.]])
    """
    maps = [correlate2d(image, kernels[:, :, 0, f], "valid") + biases[f] for f in range(kernels.shape[3])]
    return np.maximum(np.stack(maps, axis=-1), 0)


def layer_outputs(model, images):
    """Every layer's output for a batch, layer by layer (dropout off).

    images: float32 (N, 28, 28, 1). Returns a dict layer name -> array (N, ...).
    """
    outputs = {}
    values = tf.constant(images)
    for layer in model.layers:
        values = layer(values, training=False)
        outputs[layer.name] = values.numpy()
    return outputs


def layer_geometry(model):
    """The kernel (or pooling window) size and stride of each layer that slides a window.

    Returns a list of (name, k, s) for the Conv2D and MaxPooling2D layers, in order.

    >>> layer_geometry(build_cnn())
    [('conv1', 3, 1), ('pool1', 2, 2), ('conv2', 3, 1), ('pool2', 2, 2)]
    """
    geometry = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            geometry.append((layer.name, layer.kernel_size[0], layer.strides[0]))
        elif isinstance(layer, keras.layers.MaxPooling2D):
            geometry.append((layer.name, layer.pool_size[0], layer.strides[0]))
    return geometry


def receptive_field_rule(geometry):
    """Receptive field r (pixels along one axis) and jump J (input pixels between two
    neighbouring units) after each layer: r_out = r_in + (k - 1) * J_in, J_out = J_in * s,
    starting from a pixel (r = 1, J = 1). geometry: list of (name, k, s).

    Returns a list of (name, r, j).

    >>> receptive_field_rule([("conv", 3, 1), ("pool", 2, 2), ("conv", 3, 1)])
    [('conv', 3, 1), ('pool', 4, 2), ('conv', 8, 2)]
    """
    field, jump, rows = 1, 1, []
    for name, k, stride in geometry:
        field, jump = field + (k - 1) * jump, jump * stride
        rows.append((name, field, jump))
    return rows


def gradient_support(model, layer_name, position, inputs):
    """Where the input can change the units at one position of a layer: the pixels where
    the gradient of their sum (over channels) with respect to the input is non-zero for at
    least one of the inputs. Max pooling passes the gradient only to the largest value of
    each window and ReLU only where it is active, so one input shows part of the field;
    many random inputs together show all of it.

    inputs: float32 (N, 28, 28, 1); position: (row, column) in the layer's output.
    Returns a bool array (28, 28).
    """
    images = tf.constant(inputs)
    with tf.GradientTape() as tape:
        tape.watch(images)
        values = images
        for layer in model.layers:
            values = layer(values, training=False)
            if layer.name == layer_name:
                break
        unit = tf.reduce_sum(values[:, position[0], position[1], :])
    gradient = tape.gradient(unit, images).numpy()
    return np.any(gradient[..., 0] != 0, axis=0)


def bounding_box(mask):
    """(first row, last row, first column, last column) of the True values of a 2-D mask.

    >>> bounding_box(np.array([[0, 0, 0], [0, 1, 1]], dtype=bool))
    (1, 1, 1, 2)
    """
    rows, columns = np.nonzero(mask)
    return int(rows.min()), int(rows.max()), int(columns.min()), int(columns.max())


def prepare_digit(image):
    """Bring a picture of one digit to MNIST's form: a light stroke on black, the ink scaled
    to fit a 20 x 20 box (keeping its proportions) and placed in 28 x 28 so that its centre
    of mass is the centre.

    Steps: invert dark ink on a light ground (4_digit.py's light_on_dark); subtract the
    ground (the median grey level) and stretch the ink to 0..255; crop to the ink (pixels
    of INK_LEVEL or more); resize; place.
    image: uint8 (H, W). Returns (digit, steps): uint8 (28, 28) and the steps in words.
    Raises lessonkit.LessonError if the picture holds no ink (flat or nearly so).

    >>> paper = np.full((50, 40), 230, dtype=np.uint8); paper[10:40, 18:22] = 20
    >>> digit, steps = prepare_digit(paper)
    >>> digit.shape, int(digit.max()), bounding_box(digit > 127)[:2]
    ((28, 28), 255, (4, 23))
    """
    light, inverted = digit_lesson.light_on_dark(image)
    steps = ["dark ink on a light ground: inverted, 255 - image"] if inverted else []
    ground = float(np.median(light))
    rise = float(light.max()) - ground
    if rise < MIN_CONTRAST:
        raise lessonkit.LessonError(
            f"no digit found: the picture is flat (grey levels {image.min()}..{image.max()}); "
            "draw a digit in dark ink on white paper, or light on dark"
        )
    ink = np.clip((light - ground) * (255 / rise), 0, 255)
    steps.append(f"ground (median grey level {ground:g}) subtracted, ink stretched to 0..255")
    top, bottom, left, right = bounding_box(ink >= INK_LEVEL)
    crop = ink[top : bottom + 1, left : right + 1].astype(np.float32)
    scale = BOX / max(crop.shape)
    height, width = (max(1, round(side * scale)) for side in crop.shape)
    fitted = np.clip(np.asarray(Image.fromarray(crop).resize((width, height), Image.Resampling.BILINEAR)), 0, 255)
    steps.append(f"cropped to the ink, {crop.shape[0]} x {crop.shape[1]} pixels, resized to {height} x {width}")
    mass = fitted.sum()
    centre_row = (fitted.sum(axis=1) @ np.arange(height)) / mass
    centre_column = (fitted.sum(axis=0) @ np.arange(width)) / mass
    row = int(np.clip(np.floor((SIDE - 1) / 2 - centre_row + 0.5), 0, SIDE - height))
    column = int(np.clip(np.floor((SIDE - 1) / 2 - centre_column + 0.5), 0, SIDE - width))
    digit = np.zeros((SIDE, SIDE))
    digit[row : row + height, column : column + width] = fitted
    steps.append(f"placed in {SIDE} x {SIDE} at row {row}, column {column}, its centre of mass near the middle")
    return np.round(digit).astype(np.uint8), steps


def read_digit(path):
    """Read a picture file and prepare it as prepare_digit does.

    Returns (digit, steps): uint8 (28, 28) and a list of str. Any problem with the file,
    or a picture without ink, is a lessonkit.LessonError naming the path.
    """
    picture = image_lesson.load_grayscale(path)
    try:
        digit, steps = prepare_digit(picture)
    except lessonkit.LessonError as error:
        raise lessonkit.LessonError(f"{path}: {error}") from None
    return digit, steps


def correlations(learned, reference):
    """Pearson correlation of every learned kernel with every reference kernel.

    learned: (F, k, k); reference: (R, k, k). Returns (F, R), each value in -1..1.

    >>> correlations(np.array([[[1.0, 2.0], [3.0, 4.0]]]), np.array([[[2.0, 4.0], [6.0, 8.0]]]))
    array([[1.]])
    """
    a = learned.reshape(len(learned), -1)
    b = reference.reshape(len(reference), -1)
    a = (a - a.mean(axis=1, keepdims=True)) / np.linalg.norm(a - a.mean(axis=1, keepdims=True), axis=1, keepdims=True)
    b = (b - b.mean(axis=1, keepdims=True)) / np.linalg.norm(b - b.mean(axis=1, keepdims=True), axis=1, keepdims=True)
    return a @ b.T


def percent(share):
    """A share 0..1 as a percentage with one decimal.

    >>> percent(0.9695)
    '97.0%'
    """
    return f"{100 * share:.1f}%"


def montage(images, columns):
    """Tile equal-sized images into one picture, row by row, one pixel of grey between them.

    images: (N, H, W), values 0..255. Returns (rows * (H + 1) - 1, columns * (W + 1) - 1).

    >>> montage(np.zeros((3, 2, 2)), columns=2).shape
    (5, 5)
    """
    count, height, width = images.shape
    rows = -(-count // columns)
    sheet = np.full((rows * (height + 1) - 1, columns * (width + 1) - 1), 128.0)
    for index, picture in enumerate(images):
        top, left = (index // columns) * (height + 1), (index % columns) * (width + 1)
        sheet[top : top + height, left : left + width] = picture
    return sheet


# Figures --------------------------------------------------------------------------------


def digits_figure(images, labels, per_digit=12):
    """The first `per_digit` training examples of each digit, one row per digit, in one picture."""
    import matplotlib.pyplot as plt

    chosen = np.concatenate([images[labels == digit][:per_digit] for digit in range(10)])
    figure, ax = plt.subplots(figsize=(7.5, 6.6), layout="constrained")
    ax.imshow(montage(chosen, per_digit), cmap="gray", vmin=0, vmax=255)
    ax.set_yticks([(SIDE + 1) * digit + SIDE / 2 for digit in range(10)], [str(digit) for digit in range(10)])
    ax.set_xticks([])
    ax.set_ylabel("label")
    ax.set_title(f"MNIST: {per_digit} of the 400 training examples of each digit, 28 x 28 grey levels")
    return figure


def shift_figure(shifts, cnn_accuracies, dense_accuracies, cnn_parameters, dense_parameters):
    """Test accuracy against the shift of the digits, one line per network."""
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    ax.plot(shifts, 100 * np.array(cnn_accuracies), "o-", label=f"CNN, {cnn_parameters:,} parameters")
    ax.plot(shifts, 100 * np.array(dense_accuracies), "s--", label=f"dense network, {dense_parameters:,} parameters")
    ax.set_xticks(list(shifts))
    ax.set_xlabel("shift of the test digits, pixels (mean over up, down, left and right)")
    ax.set_ylabel("test accuracy, %")
    ax.set_ylim(0, 100)
    ax.grid(True, alpha=0.4)
    ax.legend(loc="lower left")
    ax.set_title("Shared weights and pooling: the CNN still reads digits that have moved")
    return figure


def kernels_figure(hand_made, learned, matches):
    """The hand-made detectors (as a Conv2D layer would hold them) above the learned kernels,
    each drawn on one colour scale from -1 to 1 after dividing by its largest |weight|, with
    its weights written in. hand_made: dict name -> (3, 3); learned: (F, 3, 3);
    matches: list of F titles."""
    import matplotlib.pyplot as plt

    columns = max(len(hand_made), len(learned) // 2)
    figure, axes = plt.subplots(3, columns, figsize=(2.1 * columns, 7.4), layout="constrained")
    panels = [(kernel, f"{name}\n(turned 180°)", "d") for name, kernel in hand_made.items()]
    panels += [(None, None, None)] * (columns - len(hand_made))
    panels += [(kernel, title, ".2f") for kernel, title in zip(learned, matches)]
    for ax, (kernel, title, style) in zip(axes.flat, panels):
        ax.set_axis_off()
        if kernel is None:
            continue
        scaled = kernel / (np.abs(kernel).max() or 1)
        ax.imshow(scaled, cmap="coolwarm", vmin=-1, vmax=1)
        for (row, column), value in np.ndenumerate(kernel):
            ax.text(column, row, format(value, style), ha="center", va="center", fontsize=9)
        ax.set_title(title, fontsize=9)
    figure.suptitle(
        "Top: the hand-made edge detectors of 4_digit.py. Below: the 8 kernels the CNN's first layer learned\n"
        "(each divided by its largest |weight|: red positive, blue negative)"
    )
    return figure


def maps_figure(digit, outputs):
    """The digit and the maps after conv1 (+ ReLU), pool1 and conv2 (+ ReLU), one row of
    pictures per layer, each layer on its own grey scale (white = its largest value).
    digit: (28, 28); outputs: dict name -> (H, W, C)."""
    import matplotlib.pyplot as plt

    rows = [("conv1", "conv1 + ReLU"), ("pool1", "max pool"), ("conv2", "conv2 + ReLU")]
    figure, axes = plt.subplots(
        1, 4, figsize=(15, 5.2), layout="constrained", gridspec_kw={"width_ratios": [1.2, 2.2, 2.2, 2.2]}
    )
    axes[0].imshow(digit, cmap="gray", vmin=0, vmax=255)
    axes[0].set_title("the digit, 28 x 28")
    axes[0].set_axis_off()
    for ax, (name, label) in zip(axes[1:], rows):
        maps = outputs[name]
        largest = float(maps.max()) or 1.0
        columns = 4
        ax.imshow(montage(np.moveaxis(maps, -1, 0) * (255 / largest), columns), cmap="gray", vmin=0, vmax=255)
        height, width, channels = maps.shape
        ax.set_title(f"{label}: {channels} maps of {height} x {width}\n(white = {largest:.2f})")
        ax.set_axis_off()
    figure.suptitle("What each layer sees: the digit, then the feature maps layer by layer")
    return figure


def receptive_fields_figure(rows, supports, boxes):
    """For each layer, the input pixels where the gradient of one position's units is
    non-zero (white) and the square the rule predicts (red). rows: list of (name, r, j);
    supports: list of bool (28, 28); boxes: list of (top, left)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    figure, axes = plt.subplots(1, len(rows), figsize=(3.2 * len(rows), 3.8), layout="constrained")
    for ax, (name, field, _), support, (top, left) in zip(axes, rows, supports, boxes):
        ax.imshow(support, cmap="gray", vmin=0, vmax=1)
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), field, field, fill=False, edgecolor="red", linewidth=2))
        ax.set_title(f"{name}: {field} x {field} pixels")
        ax.set_xticks([0, 27])
        ax.set_yticks([0, 27])
    figure.suptitle("Receptive fields: input pixels with a non-zero gradient (white) fill the rule's square (red)")
    return figure


def prediction_figure(digit, probs, title):
    """The digit beside a bar chart of the network's 10 class probabilities.
    digit: (28, 28); probs: (10,)."""
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(
        1, 2, figsize=(9, 3.8), layout="constrained", gridspec_kw={"width_ratios": [1, 2]}
    )
    left.imshow(digit, cmap="gray", vmin=0, vmax=255)
    left.set_title(title)
    left.set_axis_off()
    bars = right.bar(range(10), probs, color="tab:grey")
    bars[int(np.argmax(probs))].set_color("tab:blue")
    right.set_xticks(range(10))
    right.set_xlabel("digit")
    right.set_ylabel("probability")
    right.set_ylim(0, 1)
    right.set_title(f"The CNN's answer: {int(np.argmax(probs))}, probability {probs.max():.2f}")
    return figure


def mistakes_figure(images, labels, predicted):
    """Test digits the CNN reads wrongly, each titled with its label and the CNN's answer.
    images: (N, 28, 28); labels, predicted: (N,)."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(images), figsize=(1.45 * len(images), 2.2), layout="constrained")
    for ax, image, label, guess in zip(np.atleast_1d(axes), images, labels, predicted):
        ax.imshow(image, cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"is {label}\nread {guess}")
        ax.set_axis_off()
    figure.suptitle("Some test digits the CNN gets wrong")
    return figure


# Sections -------------------------------------------------------------------------------


def the_digits(figures):
    """README: "### 5,000 handwritten digits". Load the data, print the split, draw examples.

    Returns (train_images, train_labels, test_images, test_labels)."""
    lessonkit.heading("5,000 handwritten digits")
    digits = load_digits()
    train_images, train_labels, test_images, test_labels = digits
    print(f"{DIGITS_FILE}: 5,000 MNIST digits, 28 x 28 grey levels (0 black .. 255 white), 500 of each")
    print(f"training: {train_images.shape} {train_images.dtype}, {np.bincount(train_labels)[0]} of each digit")
    print(f"testing:  {test_images.shape} {test_images.dtype}, {np.bincount(test_labels)[0]} of each digit,"
          " never seen in training")
    overlap = {image.tobytes() for image in train_images} & {image.tobytes() for image in test_images}
    print(f"test digits that also appear in training: {len(overlap)}")
    figures.add("cnn_digits", digits_figure(train_images, train_labels))
    return digits


def the_network():
    """README: "### The network, layer by layer". Build the CNN; compute each layer's output
    shape with conv_output_size and its parameters with k_h·k_w·C_in·C_out + C_out, and
    check both against Keras. Returns the compiled, untrained CNN."""
    lessonkit.heading("The network, layer by layer")
    cnn = build_cnn()
    windows = {name: (k, stride) for name, k, stride in layer_geometry(cnn)}
    shape, total, agree, sizes = (SIDE, SIDE, 1), 0, True, []
    print(f"input: {shape}, grey levels / 255")
    print(f"{'layer':<11} {'output (ours)':<14} {'parameters (ours)':<30} Keras: output, parameters")
    for layer in cnn.layers:
        if layer.name in windows:
            k, stride = windows[layer.name]
            size = tf_lesson.conv_output_size(shape[0], k, stride=stride)
            sizes.append((layer.name, shape[0], k, stride, size))
            if isinstance(layer, keras.layers.Conv2D):
                channels = layer.filters
                count = k * k * shape[2] * channels + channels
                rule = f"{k}*{k}*{shape[2]}*{channels} + {channels} = {count}"
            else:
                channels, count, rule = shape[2], 0, f"0 (max of each {k}x{k} block)"
            shape = (size, size, channels)
        elif isinstance(layer, keras.layers.Dense):
            count = shape[0] * layer.units + layer.units
            rule = f"{shape[0]}*{layer.units} + {layer.units} = {count}"
            shape = (layer.units,)
        else:
            shape, count, rule = (int(np.prod(shape)),), 0, "0"
        keras_shape = tuple(layer.output.shape[1:])
        agree = agree and keras_shape == shape and layer.count_params() == count
        total += count
        print(f"{layer.name:<11} {str(shape):<14} {rule:<30} {str(keras_shape):<14} {layer.count_params():>6}")
    print(f"total: {total:,} parameters (Keras count_params: {cnn.count_params():,})")
    print(f"our shapes and counts == Keras's: {agree}")
    print(f"at most {PARAMETER_BUDGET:,} parameters: {total <= PARAMETER_BUDGET}")
    print("Output size along each axis, VALID padding (no zeros added): o = floor((n - k) / s) + 1")
    by_hand = True
    for name, n, k, stride, size in sizes:
        print(f"  {name}: floor(({n} - {k}) / {stride}) + 1 = {(n - k) // stride + 1}")
        by_hand = by_hand and (n - k) // stride + 1 == size
    print(f"  == conv_output_size (2_TensorFlow.py) for every layer: {by_hand}")
    return cnn


def training(cnn, digits):
    """README: "### Training". Train the CNN with the fixed settings, print each epoch and
    the test accuracy, and check it against the target. Returns the test accuracy."""
    lessonkit.heading("Training")
    train_images, train_labels, test_images, test_labels = digits
    print(f"TensorFlow runs on {tf_lesson.device_description(GPUS)}.")
    print(f"{EPOCHS} epochs, batches of {BATCH_SIZE}, Adam with step size {LEARNING_RATE} falling to 0 along")
    print(f"a cosine, dropout {DROPOUT} before the classifier, seed {SEED}, deterministic operations.")
    history = train(cnn, train_images, train_labels)
    for epoch, (loss, share) in enumerate(zip(history.history["loss"], history.history["accuracy"]), start=1):
        print(f"epoch {epoch:2d}: loss {loss:.4f}, training accuracy {percent(share)}")
    test_accuracy = accuracy(cnn, test_images, test_labels)
    print(f"test accuracy on the {len(test_labels):,} held-out digits: {percent(test_accuracy)}")
    print(f"test accuracy at least {percent(ACCURACY_TARGET)}: {test_accuracy >= ACCURACY_TARGET}")
    return test_accuracy


def shared_weights_measured(cnn, cnn_accuracy, digits, figures):
    """README: "### Shared weights, measured". Train a dense network of about the CNN's size
    the same way; compare their test accuracy, then on test digits shifted 0 to 4 pixels."""
    lessonkit.heading("Shared weights, measured")
    train_images, train_labels, test_images, test_labels = digits
    dense = build_dense()
    train(dense, train_images, train_labels)
    dense_accuracy = accuracy(dense, test_images, test_labels)
    cnn_parameters, dense_parameters = cnn.count_params(), dense.count_params()
    print(f"dense network: flatten 784 -> dense {DENSE_UNITS} + ReLU -> dense 10, trained the same way:")
    count = f"784*{DENSE_UNITS} + {DENSE_UNITS} + {DENSE_UNITS}*10 + 10 = {dense.count_params():,}"
    print(f"  {count} parameters, each weight used once")
    print(f"{'network':<10} {'parameters':>10} {'test accuracy':>14}")
    print(f"{'CNN':<10} {cnn_parameters:>10,} {percent(cnn_accuracy):>14}")
    print(f"{'dense':<10} {dense_parameters:>10,} {percent(dense_accuracy):>14}")
    ratio = dense_parameters / cnn_parameters
    print(f"dense / CNN parameters = {ratio:.2f}, within 10%: {abs(ratio - 1) <= 0.1}")
    print(f"CNN more accurate than the dense network: {cnn_accuracy > dense_accuracy}")
    print()
    print("The test digits moved by 0 to 4 pixels (mean over up, down, left and right):")
    print(f"{'shift':>5} {'CNN':>7} {'dense':>7}")
    cnn_shifted, dense_shifted = [], []
    for shift in SHIFTS:
        cnn_shifted.append(shifted_accuracy(cnn, test_images, test_labels, shift))
        dense_shifted.append(shifted_accuracy(dense, test_images, test_labels, shift))
        print(f"{shift:>5} {percent(cnn_shifted[-1]):>7} {percent(dense_shifted[-1]):>7}")
    ahead = all(c > d for c, d in zip(cnn_shifted, dense_shifted))
    print(f"CNN ahead of the dense network at every shift: {ahead}")
    keeps_more = all(c / cnn_shifted[0] > d / dense_shifted[0] for c, d in zip(cnn_shifted[1:], dense_shifted[1:]))
    print(f"CNN keeps a larger share of its unshifted accuracy at every shift: {keeps_more}")
    figures.add("cnn_shift", shift_figure(SHIFTS, cnn_shifted, dense_shifted, cnn_parameters, dense_parameters))


def what_the_first_layer_learned(cnn, figures):
    """README: "### What the first layer learned". Compare the learned first-layer kernels
    with 4_digit.py's hand-made edge detectors by their correlation."""
    lessonkit.heading("What the first layer learned")
    kernels = cnn.get_layer("conv1").kernel.numpy()
    learned = np.moveaxis(kernels[:, :, 0, :], -1, 0)
    # 4_digit.py convolves; a Conv2D layer cross-correlates, so it would hold each detector turned 180°.
    hand_made = {name: np.flip(kernel) for name, kernel in digit_lesson.EDGE_DETECTORS.items()}
    table = correlations(learned, np.array(list(hand_made.values()), dtype=np.float64))
    names = list(hand_made)
    print("4_digit.py applies its detectors by convolution; a Conv2D layer cross-correlates, so the")
    print("layer would hold each detector turned 180°. Correlation r of each learned 3x3 kernel with")
    print("each detector so turned (1: the same pattern, -1: the same edge with the sign reversed):")
    print(f"{'kernel':<7}" + "".join(f"{name:>12}" for name in names) + "   most alike")
    titles = []
    for index, row in enumerate(table, start=1):
        best = int(np.argmax(np.abs(row)))
        print(f"{index:<7}" + "".join(f"{value:>12.2f}" for value in row) + f"   {names[best]}, r = {row[best]:.2f}")
        titles.append(f"learned {index}\n{names[best]}, r = {row[best]:.2f}")
    print("Nobody told the network about edges: it found detectors like these because they help it")
    print("tell the digits apart. A negative r is the same edge with dark and light swapped; after the")
    print("ReLU that is a different feature, so a network often learns both signs.")
    figures.add("cnn_kernels", kernels_figure(hand_made, learned, titles))


def what_the_layers_see(cnn, digit, steps, name, figures):
    """README: "### What the layers see". Pass the digit through the network, recompute the
    first layer (correlate2d + bias + ReLU) and max pooling from scratch, and check them
    against Keras; draw the maps layer by layer."""
    lessonkit.heading("What the layers see")
    print(f"{name}, prepared as MNIST's digits were:")
    for step in steps:
        print(f"  {step}")
    outputs = {key: value[0] for key, value in layer_outputs(cnn, as_input(digit[np.newaxis])).items()}
    for layer in ("conv1", "pool1", "conv2", "pool2"):
        print(f"{layer}: {outputs[layer].shape}")
    conv1 = cnn.get_layer("conv1")
    ours = first_layer_from_scratch(digit / 255, conv1.kernel.numpy(), conv1.bias.numpy())
    difference = float(np.abs(ours - outputs["conv1"]).max())
    print("first layer from scratch, a_f = ReLU(I ⋆ w_f + b_f) with correlate2d (1_2D.py):")
    print(f"  max |ours - Keras| = {difference:.1e} (float32 rounding)")
    print(f"  ours == Keras to within 1e-5: {difference < 1e-5}")
    pooled = max_pool2d(outputs["conv1"])
    print("max pooling from scratch, max_pool2d(conv1's maps):")
    print(f"  == Keras's MaxPooling2D: {np.array_equal(pooled, outputs['pool1'])}")
    active = [float(np.mean(outputs[layer] > 0)) for layer in ("conv1", "conv2")]
    print(f"share of values above 0 after the ReLU: conv1 {percent(active[0])}, conv2 {percent(active[1])}")
    figures.add("cnn_maps", maps_figure(digit, outputs))


def receptive_fields(cnn, figures):
    """README: "### Receptive fields". The input patch one unit of each layer sees, by the
    rule and by where the gradient of that unit with respect to the input is non-zero."""
    lessonkit.heading("Receptive fields")
    rows = receptive_field_rule(layer_geometry(cnn))
    inputs = np.random.default_rng(SEED).uniform(size=(GRADIENT_INPUTS, SIDE, SIDE, 1)).astype(np.float32)
    print("r_out = r_in + (k - 1) * J_in, J_out = J_in * s, from r = 1, J = 1 (one pixel).")
    print(f"Check: the gradient of the units at the middle position, over {GRADIENT_INPUTS} random inputs.")
    print(f"{'layer':<7} {'k':>2} {'s':>2} {'r':>3} {'J':>3}   {'position':<10} {'rule: rows, columns':<21} gradient non-zero")
    supports, boxes, agree = [], [], True
    for (name, k, stride), (_, field, jump) in zip(layer_geometry(cnn), rows):
        size = cnn.get_layer(name).output.shape[1]
        middle = (size - 1) // 2
        first = middle * jump
        support = gradient_support(cnn, name, (middle, middle), inputs)
        top, bottom, left, right = bounding_box(support)
        last = first + field - 1
        exact = (top, bottom, left, right) == (first, last, first, last) and support.sum() == field**2
        agree = agree and exact
        print(f"{name:<7} {k:>2} {stride:>2} {field:>3} {jump:>3}   {str((middle, middle)):<10} "
              f"{f'{first}..{last}, {first}..{last}':<21} "
              f"{top}..{bottom}, {left}..{right} ({support.sum()} pixels), as the rule: {exact}")
        supports.append(support)
        boxes.append((first, first))
    print(f"rule == gradient for every layer: {agree}")
    print(f"The classifier sees all {SIDE} x {SIDE} pixels; one unit of pool2 sees {rows[-1][1]} x {rows[-1][1]} pixels.")
    figures.add("cnn_receptive_fields", receptive_fields_figure(rows, supports, boxes))


def prediction(cnn, digit, name, digits, figures):
    """README: "### Prediction". The CNN's class probabilities for the digit, and a few
    test digits it gets wrong."""
    lessonkit.heading("Prediction")
    probs = probabilities(cnn, digit[np.newaxis])[0]
    print(f"The CNN's output for {name}: one probability per digit (softmax, they sum to 1):")
    for label, value in enumerate(probs):
        print(f"  {label}: {value:.3f} {'#' * round(40 * value)}".rstrip())
    print(f"The CNN reads {name} as a {int(np.argmax(probs))}.")
    figures.add("cnn_prediction", prediction_figure(digit, probs, f"{name}, prepared"))
    _, _, test_images, test_labels = digits
    predicted = np.argmax(probabilities(cnn, test_images), axis=1)
    wrong = np.flatnonzero(predicted != test_labels)
    print(f"Test digits read wrongly: {len(wrong)} of {len(test_labels):,}; ten of them:")
    shown = wrong[:: max(1, len(wrong) // 10)][:10]
    print("  is:   " + " ".join(str(test_labels[index]) for index in shown))
    print("  read: " + " ".join(str(predicted[index]) for index in shown))
    figures.add("cnn_mistakes", mistakes_figure(test_images[shown], test_labels[shown], predicted[shown]))


@lessonkit.lesson_main
def main(argv=None):
    args = lessonkit.parse_args(__doc__, argv, image=lessonkit.data_path("num3.jpg"))
    digit, steps = read_digit(args.image)
    figures = lessonkit.Figures(args)
    digits = the_digits(figures)
    cnn = the_network()
    cnn_accuracy = training(cnn, digits)
    shared_weights_measured(cnn, cnn_accuracy, digits, figures)
    what_the_first_layer_learned(cnn, figures)
    what_the_layers_see(cnn, digit, steps, args.image.name, figures)
    receptive_fields(cnn, figures)
    prediction(cnn, digit, args.image.name, digits, figures)
    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
