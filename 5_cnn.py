"""A CNN learns its own kernels.

A small convolutional network (convolutions with ReLU, max pooling, a dense classifier;
at most 10,000 parameters) learns to read 5,000 real handwritten digits from MNIST, shipped
in data/. The lesson counts its shapes, parameters and multiply-adds by our own rules, trains
it (settings chosen on a validation split, never on the test digits), and compares it with a
dense network of the same size, on digits in place and shifted, saying everything that differs
between the two. Then it looks inside: the first layer's learned kernels beside the hand-made
edge detectors of 4_digit.py and beside the untrained kernels, the first layer and max pooling
recomputed from scratch, the maps of each layer on a digit, the receptive fields by rule and by
gradient, the border the classifier never sees, and the network's reading of the digit (yours
with --image) and of the test digits. Then it asks what the network looks at: saliency (the
gradient of the class score with respect to the pixels), Grad-CAM on the last convolution
layer, and the sanity check of Adebayo et al. (random weights must change the maps).
--save-model PATH saves the trained network; --model PATH runs the sections that look at a
network on a saved Keras model instead of training. --seeds N repeats the two trainings with
N seeds and reports the mean and spread; --controls trains two variants of the CNN (an
average-pooling head, and training on moved digits) that separate what the convolutions give
from what the classifier does with it.
"""

import importlib
import os
from pathlib import Path

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
COLOURS = lessonkit.COLOURS

DIGITS_FILE = "mnist_5k.npz"
SIDE = 28  # MNIST digits are 28 x 28 pixels
BOX = 20  # and each is scaled to fit a 20 x 20 box, then centred by its mass
TRAIN_PER_DIGIT = 400  # of the 500 examples of each digit; the other 100 are for testing
VALIDATION_PER_DIGIT = 50  # the last 50 of those 400 choose the settings; the first 350 train
PARAMETER_BUDGET = 10_000
ACCURACY_TARGET = 0.96  # one seed; the mean over seeds 0 to 3 reaches 96.5%
CHANCE = 0.1  # one of ten digits, guessed
MATCH_MARGIN = 0.1  # how far a learned kernel's |cos| must rise above the untrained kernels' to be a match

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
BLIND_SHIFT = 4  # pixels: how far the digits move in the largest shift
MAX_SEEDS = 10
SHOWN_DIGITS = (0, 2, 5, 7)  # the test digits whose saliency and Grad-CAM are drawn
SANITY_LIMIT = 0.2  # the sanity check passes when the mean |rank correlation| stays below this
# A small grid of activations, fixed so that the max pooling figure is the same on every machine.
POOL_EXAMPLE = np.array(
    [[1, 3, 0, 2, 6], [4, 2, 5, 1, 0], [0, 7, 1, 1, 3], [2, 1, 3, 8, 9], [5, 0, 2, 4, 7]], dtype=float
)


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


def split_validation(images, labels, per_digit=VALIDATION_PER_DIGIT):
    """Hold out the last `per_digit` examples of each digit as a validation set, the digits on
    which the training settings are chosen, so that the test digits judge the result only.

    images: (N, 28, 28); labels: int (N,). Returns (train_images, train_labels,
    validation_images, validation_labels), each in the original order.

    >>> images, labels = np.arange(8).reshape(8, 1, 1), np.array([0, 0, 0, 1, 1, 1, 1, 0])
    >>> [part.ravel().tolist() for part in split_validation(images, labels, per_digit=1)]
    [[0, 1, 2, 3, 4, 5], [0, 0, 0, 1, 1, 1], [6, 7], [1, 0]]
    """
    held_out = np.zeros(len(labels), dtype=bool)
    for digit in np.unique(labels):
        held_out[np.flatnonzero(labels == digit)[-per_digit:]] = True
    return images[~held_out], labels[~held_out], images[held_out], labels[held_out]


def as_input(images):
    """Grey levels as the networks read them: uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1].

    >>> as_input(np.full((2, 28, 28), 255, dtype=np.uint8)).shape
    (2, 28, 28, 1)
    """
    return (np.asarray(images, dtype=np.float32) / 255)[..., np.newaxis]


def compiled(model, train_size=(TRAIN_PER_DIGIT - VALIDATION_PER_DIGIT) * 10):
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


def build_cnn(seed=SEED):
    """The convolutional network, LeNet-like, with initial weights drawn with `seed`, compiled.

    Input (N, 28, 28, 1) in [0, 1]; conv1: 8 kernels 3x3 + ReLU; pool1: 2x2 max;
    conv2: 16 kernels 3x3x8 + ReLU; pool2: 2x2 max; flatten; dropout (training only);
    classifier: dense 400 -> 10 with softmax. Output (N, 10) class probabilities.

    >>> build_cnn().count_params()
    5258
    """
    keras.utils.set_random_seed(seed)
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


def build_gap_cnn(seed=SEED):
    """A control: the CNN's conv1, pool1 and conv2, then global average pooling (the mean of
    each of conv2's 16 maps, wherever the feature is) and a dense classifier 16 -> 10 with
    softmax, in place of pool2, flatten, dropout and the 400 -> 10 classifier. Compiled.

    >>> build_gap_cnn().count_params()
    1418
    """
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    return compiled(
        keras.Sequential(
            [
                keras.Input((SIDE, SIDE, 1)),
                layers.Conv2D(8, 3, activation="relu", name="conv1"),
                layers.MaxPooling2D(2, name="pool1"),
                layers.Conv2D(16, 3, activation="relu", name="conv2"),
                layers.GlobalAveragePooling2D(name="average"),
                layers.Dense(10, activation="softmax", name="classifier"),
            ],
            name="cnn_average_head",
        )
    )


def with_shifted_copies(images, labels, most=SHIFTS[-1], seed=SEED):
    """The images followed by one copy of each, moved by a random number of pixels from -most to
    most down and right (each drawn by a generator seeded with `seed`), and the labels twice.
    images: (N, 28, 28). Returns ((2N, 28, 28), (2N,)).

    >>> moved, labels = with_shifted_copies(np.ones((3, 28, 28)), np.arange(3))
    >>> moved.shape, labels.tolist()
    ((6, 28, 28), [0, 1, 2, 0, 1, 2])
    """
    moves = np.random.default_rng(seed).integers(-most, most + 1, size=(len(images), 2))
    copies = np.stack([shift_images(image[np.newaxis], *move)[0] for image, move in zip(images, moves)])
    return np.concatenate([images, copies]), np.concatenate([labels, labels])


def build_dense(units=DENSE_UNITS, seed=SEED):
    """A dense network of about the CNN's size, initial weights drawn with `seed`, compiled:
    flatten the 784 pixels; hidden: dense 784 -> `units` + ReLU; classifier: dense
    `units` -> 10 with softmax. Input (N, 28, 28, 1), output (N, 10).

    >>> build_dense().count_params()
    5575
    """
    keras.utils.set_random_seed(seed)
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


def train(model, images, labels, seed=SEED):
    """Train a compiled model with the lesson's fixed settings: EPOCHS passes over the
    images in batches of BATCH_SIZE, reshuffled each epoch by a generator seeded with `seed`
    (which also draws the dropout), with TensorFlow's deterministic operations, so that every
    run gives the same weights.

    images: uint8 (N, 28, 28), scaled here; labels: int (N,).
    Returns the Keras History: history['loss'] and history['accuracy'], one per epoch, each
    the running mean over that epoch's batches while the weights still change (dropout on).
    """
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    batches = (
        tf.data.Dataset.from_tensor_slices((as_input(images), np.asarray(labels)))
        .shuffle(len(labels), seed=seed)
        .batch(BATCH_SIZE)
        .prefetch(tf.data.AUTOTUNE)
    )
    return model.fit(batches, epochs=EPOCHS, shuffle=False, verbose=0)


def probabilities(model, images, chunk=1000):
    """The model's class probabilities, (N, 10), for uint8 images (N, 28, 28), computed
    `chunk` images at a time (dropout off); the softmax of its outputs if it has none of its own."""
    parts = [model(as_input(images[start : start + chunk]), training=False) for start in range(0, len(images), chunk)]
    values = np.concatenate([np.asarray(part) for part in parts])
    return values if ends_in_softmax(model) else np.asarray(tf.nn.softmax(values))


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


def directions(shift):
    """The four moves by `shift` pixels as (rows, columns): down, up, right, left.

    >>> directions(2)
    [(2, 0), (-2, 0), (0, 2), (0, -2)]
    """
    return [(shift, 0), (-shift, 0), (0, shift), (0, -shift)]


def shifted_accuracy(model, images, labels, rows, columns):
    """Accuracy on the images moved `rows` pixels down and `columns` right (negative: up,
    left). images: uint8 (N, 28, 28). Returns 0..1."""
    return accuracy(model, shift_images(images, rows, columns), labels)


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
    if not isinstance(model, keras.Sequential):
        layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
        probe = keras.Model(model.inputs[0], [layer.output for layer in layers])
        values = probe(tf.constant(images), training=False)
        return {layer.name: np.asarray(value) for layer, value in zip(layers, values)}
    outputs = {}
    values = tf.constant(images)
    for layer in model.layers:
        values = layer(values, training=False)
        outputs[layer.name] = values.numpy()
    return outputs


def plain_conv(layer):
    """Whether a layer is what first_layer_from_scratch computes: a Conv2D with stride 1, no
    dilation, no padding, a bias and ReLU.

    >>> plain_conv(build_cnn().layers[0]), plain_conv(build_cnn().layers[1])
    (True, False)
    """
    return (isinstance(layer, keras.layers.Conv2D) and layer.strides == (1, 1) and layer.dilation_rate == (1, 1)
            and layer.padding == "valid" and layer.use_bias and layer.activation is keras.activations.relu
            and layer.groups == 1)


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


def cosine_similarities(learned, reference):
    """Cosine similarity of every learned kernel with every reference kernel: the dot product
    of the two kernels' weights divided by both lengths. Unlike Pearson's r it keeps each
    kernel's mean, so a kernel that mostly adds up the ink under it does not pass for an edge
    detector. learned: (F, k, k); reference: (R, k, k). Returns (F, R), each in -1..1.

    >>> cosine_similarities(np.array([[[1.0, 2.0], [3.0, 4.0]]]), np.array([[[2.0, 4.0], [6.0, 8.0]]]))
    array([[1.]])
    >>> cosine_similarities(np.ones((1, 2, 2)), np.array([[[1.0, -1.0], [1.0, -1.0]]]))
    array([[0.]])
    """
    a = learned.reshape(len(learned), -1)
    b = reference.reshape(len(reference), -1)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return a @ b.T


def mean_energy_share(kernels):
    """The share of each kernel's energy (sum of squared weights) that its mean carries:
    k_h·k_w·mean² / Σ w², 0..1. 1 is a flat kernel (a blur), 0 a kernel whose weights sum to
    0 (every edge detector of the bank). kernels: (F, k, k). Returns (F,).

    >>> mean_energy_share(np.array([np.ones((3, 3)), [[-1, 0, 1]] * 3])).tolist()
    [1.0, 0.0]
    """
    flat = kernels.reshape(len(kernels), -1)
    return flat.shape[1] * flat.mean(axis=1) ** 2 / (flat**2).sum(axis=1)


def multiply_adds(model):
    """Multiply-adds per image of each layer of a Sequential model: o_h·o_w·k_h·k_w·C_in·C_out
    for a Conv2D layer (one multiply-add per weight, per output position), inputs·units for
    a Dense layer, 0 for the others (pooling compares, it does not multiply).

    Returns a list of (layer name, count).

    >>> multiply_adds(build_cnn())[:3]
    [('conv1', 48672), ('pool1', 0), ('conv2', 139392)]
    """
    counts = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            o_h, o_w, c_out = layer.output.shape[1:]
            k_h, k_w, c_in, _ = layer.kernel.shape
            counts.append((layer.name, o_h * o_w * k_h * k_w * c_in * c_out))
        elif isinstance(layer, keras.layers.Dense):
            counts.append((layer.name, layer.kernel.shape[0] * layer.kernel.shape[1]))
        else:
            counts.append((layer.name, 0))
    return counts


def blind_from(model):
    """The first input row (and column) that never reaches the answer, by last_row_read,
    for a model whose windows are all Conv2D and MaxPooling2D layers without padding;
    None when every row reaches it or the model has other windows.

    >>> blind_from(build_cnn())
    26
    """
    windows = [layer for layer in model.layers if hasattr(layer, "kernel_size") or hasattr(layer, "pool_size")]
    if not windows or not all(isinstance(layer, (keras.layers.Conv2D, keras.layers.MaxPooling2D))
                              and layer.padding == "valid" and getattr(layer, "dilation_rate", (1, 1)) == (1, 1)
                              for layer in windows):
        return None
    first = last_row_read(layer_geometry(model), SIDE)[-1][3] + 1
    return first if first < SIDE else None


def last_row_read(geometry, size):
    """Follow the last row that reaches the top of a stack of VALID windows back to the input.
    A layer with window k and stride s, whose output has o rows, reads its input's rows
    0 .. (o - 1)·s + k - 1; any row after that is never read. geometry: list of (name, k, s)
    from the input up; size: the input's side.

    Returns a list of (name, rows in, rows out, last input row read), from the top layer down.

    >>> last_row_read([("conv", 3, 1), ("pool", 2, 2)], 9)
    [('pool', 7, 3, 5), ('conv', 9, 7, 7)]
    """
    sizes = [size]
    for _, k, stride in geometry:
        sizes.append(tf_lesson.conv_output_size(sizes[-1], k, stride=stride))
    last, rows = sizes[-1] - 1, []
    for (name, k, stride), n, o in reversed(list(zip(geometry, sizes[:-1], sizes[1:]))):
        last = last * stride + k - 1
        rows.append((name, n, o, last))
    return rows


def class_score_gradients(model, inputs):
    """The gradient of each input's predicted class probability with respect to its pixels.

    inputs: float32 (N, 28, 28, 1). Returns float32 (N, 28, 28).
    """
    images = tf.constant(inputs)
    with tf.GradientTape() as tape:
        tape.watch(images)
        probs = model(images, training=False)
        chosen = tf.reduce_max(probs, axis=1)
    return tape.gradient(chosen, images).numpy()[..., 0]


def ends_in_softmax(model):
    """Whether a model's last layer turns its scores into probabilities with a softmax."""
    last = model.layers[-1]
    return isinstance(last, keras.layers.Softmax) or getattr(last, "activation", None) is keras.activations.softmax


def score_head(model, tensors=None):
    """Where a model's class scores before any softmax (the logits z) come from.

    A softmax squashes the scores: once one class is nearly certain, its probability hardly
    moves whatever the pixels do, and its gradient says little. So the explanations use z.
    Returns (tensor, to_scores, words): the Keras tensor that feeds the model's last step
    (in the graph `tensors` of model_tensors, made afresh when None), a function turning its values into the scores (N, 10), and the
    scores in words.
    For the lesson's CNN the last layer is dense with a softmax, so z = a w + b, where a is
    its input (400 values), w its kernel (400, 10) and b its bias (10,).
    """
    last = model.layers[-1]
    tensors = model_tensors(model) if tensors is None else tensors
    if isinstance(last, keras.layers.Softmax) or (
        isinstance(last, keras.layers.Activation) and last.activation is keras.activations.softmax
    ):
        return tensors["input of the last layer"], lambda values: values, \
            f"the logits z that enter the softmax layer {last.name}"
    if isinstance(last, keras.layers.Dense) and last.activation is keras.activations.softmax:
        return (
            tensors["input of the last layer"],
            lambda values: dense_logits(last, values),
            f"the logits z = a w + b of {last.name}, before its softmax",
        )
    return tensors["output"], lambda values: values, "the model's outputs (it has no final softmax)"


def dense_logits(layer, values):
    """What a Dense layer computes before its activation: values W + b (b only if it has one)."""
    logits = tf.matmul(values, layer.kernel)
    return logits + layer.bias if layer.use_bias else logits


def model_tensors(model):
    """The Keras tensors of one pass through a model, from its input: a dict with "input",
    each layer's name (its output), "input of the last layer" and "output". A Sequential
    model is called afresh layer by layer, because one loaded from a file may hold several
    graphs of itself; a functional model's own graph is used."""
    if isinstance(model, keras.Sequential):
        values = keras.Input(model.inputs[0].shape[1:])
        tensors = {"input": values}
        for layer in model.layers:
            tensors["input of the last layer"] = values
            values = layer(values)
            tensors[layer.name] = values
    else:
        tensors = {"input": model.inputs[0], "input of the last layer": model.layers[-1].input}
        tensors.update({layer.name: layer.output for layer in model.layers})
    tensors["output"] = values if isinstance(model, keras.Sequential) else model.outputs[0]
    return tensors


def checked_images(images, classes):
    """Check the shapes of saliency's and grad_cam's arguments; return (float32 (N, 28, 28, 1)
    inputs scaled as the network reads them, int (N,) classes or None)."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (SIDE, SIDE):
        raise ValueError(f"images: expected an array (N, {SIDE}, {SIDE}) of grey levels, got shape {images.shape}")
    if classes is not None:
        classes = np.asarray(classes)
        if classes.shape != (len(images),) or not np.issubdtype(classes.dtype, np.integer):
            raise ValueError(f"classes: expected {len(images)} whole numbers, one per image, got {classes!r}")
        if classes.min(initial=0) < 0 or classes.max(initial=0) > 9:
            raise ValueError(f"classes: expected digits 0..9, got {classes.tolist()}")
    return as_input(images), classes


def chosen_scores(scores, classes):
    """Each image's score of its class: `classes` (N,), or the highest score where it is None."""
    if classes is None:
        classes = tf.argmax(scores, axis=1)
    return tf.gather(scores, tf.cast(classes, tf.int32), batch_dims=1)


def saliency(model, images, classes=None):
    """Saliency: the gradient of each image's class score z_c (the logit, before the softmax;
    see score_head) with respect to its pixels x, read as the network reads them (grey level
    / 255, so x is in 0..1). c is the predicted class when `classes` is None.

    images: (N, 28, 28) grey levels 0..255; classes: int (N,) or None.
    Returns float32 (N, 28, 28): ∂z_c/∂x at every pixel, signed (positive: more ink there
    raises the score).

    >>> model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    >>> saliency(model, np.zeros((2, 28, 28)), classes=np.array([3, 4])).shape
    (2, 28, 28)
    """
    inputs, classes = checked_images(images, classes)
    tensors = model_tensors(model)
    head, to_scores, _ = score_head(model, tensors)
    scorer = keras.Model(tensors["input"], head)
    pixels = tf.constant(inputs)
    with tf.GradientTape() as tape:
        tape.watch(pixels)
        picked = chosen_scores(to_scores(scorer(pixels, training=False)), classes)
    return tape.gradient(picked, pixels).numpy()[..., 0]


def last_conv_layer(model):
    """The name of a model's last Conv2D layer. Raises ValueError if it has none.

    >>> last_conv_layer(build_cnn())
    'conv2'
    """
    names = [layer.name for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if not names:
        raise ValueError("model: it has no Conv2D layer for Grad-CAM to look at")
    return names[-1]


def unit_centres(model, layer_name, size=SIDE):
    """Where on the input each row (and column) of a layer's grid is centred: the middle of
    its receptive field, following every window (Conv2D, pooling) from the input up, with the
    rules of "Receptive fields" plus 'same' padding, which moves the fields back by the
    padding before them times the jump.

    Returns (row centres, column centres), float arrays as long as the grid's sides.

    >>> rows, _ = unit_centres(build_cnn(), "conv2")
    >>> rows[:3].tolist(), rows[-1].item(), len(rows)
    ([3.5, 5.5, 7.5], 23.5, 11)
    """
    centres = []
    for axis in (0, 1):
        n, start, field, jump = size, 0, 1, 1
        for layer in model.layers:
            window = getattr(layer, "kernel_size", None) or getattr(layer, "pool_size", None)
            if window is not None:
                k = (window[axis] - 1) * getattr(layer, "dilation_rate", (1, 1))[axis] + 1
                stride = layer.strides[axis]
                if layer.padding == "same":
                    out = -(-n // stride)
                    start -= max((out - 1) * stride + k - n, 0) // 2 * jump
                else:
                    out = (n - k) // stride + 1
                field, jump, n = field + (k - 1) * jump, jump * stride, out
            if layer.name == layer_name:
                break
        centres.append(start + (field - 1) / 2 + jump * np.arange(n))
    return tuple(centres)


def interpolation_matrix(centres, size=SIDE):
    """The (size, len(centres)) matrix that spreads values known at `centres` over pixels
    0..size-1: linear between two centres, the nearest value beyond the outermost ones.

    >>> interpolation_matrix(np.array([0.5, 2.5]), 4).tolist()
    [[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]]
    """
    pixels = np.arange(size)
    return np.stack([np.interp(pixels, centres, column) for column in np.eye(len(centres))], axis=1)


def upsample(grids, centres, size=SIDE):
    """Bilinear upsampling of (N, o_h, o_w) grids to (N, size, size), each cell placed at
    the centre of its receptive field (unit_centres' (row centres, column centres))."""
    rows, columns = (interpolation_matrix(centre, size) for centre in centres)
    return np.einsum("ri,nij,cj->nrc", rows, grids, columns)


def grad_cam_grid(model, images, classes=None, layer_name=None):
    """Grad-CAM on the layer's own grid, before upsampling, and what it is made of.

    Returns (heat (N, o_h, o_w), maps A (N, o_h, o_w, C_out), gradients ∂z_c/∂A (same),
    weights α (N, C_out)), NumPy arrays; the layer has C_out maps A_f of o_h x o_w.
    """
    inputs, classes = checked_images(images, classes)
    name = layer_name or last_conv_layer(model)
    tensors = model_tensors(model)
    if name not in tensors or len(tensors[name].shape) != 4:
        raise ValueError(f"layer_name: the model has no layer {name!r} with maps (N, H, W, K)")
    head, to_scores, _ = score_head(model, tensors)
    split = keras.Model(tensors["input"], [tensors[name], head])
    with tf.GradientTape() as tape:
        maps, features = split(tf.constant(inputs), training=False)
        picked = chosen_scores(to_scores(features), classes)
    gradients = tape.gradient(picked, maps)
    weights = tf.reduce_mean(gradients, axis=(1, 2))
    heat = tf.nn.relu(tf.einsum("nijk,nk->nij", maps, weights))
    return heat.numpy(), maps.numpy(), gradients.numpy(), weights.numpy()


def grad_cam(model, images, classes=None, layer_name=None):
    """Grad-CAM (Selvaraju et al., 2017): which places of a convolution layer's maps A_f the
    class score z_c (the logit, see score_head) leans on. Each map's weight is the mean of
    the score's gradient over the map, α_f = (1 / (o_h·o_w)) Σ_ij ∂z_c/∂A_f[i, j]; the heat map
    is ReLU(Σ_f α_f A_f), upsampled bilinearly from the layer's grid to 28 x 28 with each cell
    at the centre of its receptive field (unit_centres). c is the predicted class when
    `classes` is None; `layer_name` defaults to the last Conv2D layer.

    images: (N, 28, 28) grey levels 0..255. Returns float (N, 28, 28), all >= 0.

    >>> grad_cam(build_cnn(), np.zeros((1, 28, 28))).shape
    (1, 28, 28)
    """
    name = layer_name or last_conv_layer(model)
    heat = grad_cam_grid(model, images, classes, name)[0]
    return upsample(heat, unit_centres(model, name))


def grad_cam_by_tape(model, image, layer_name):
    """Grad-CAM for one image of a Sequential model, step by step: run the layers one by one,
    watch the chosen layer's maps with tf.GradientTape, finish the forward pass to the
    predicted class's logit, then average the gradient of each map and add up the weighted maps
    one by one. image: (28, 28) grey levels. Returns the heat on the layer's grid (o_h, o_w)."""
    values = tf.constant(as_input(image[np.newaxis]))
    *body, last = model.layers
    with tf.GradientTape() as tape:
        for layer in body:
            values = layer(values, training=False)
            if layer.name == layer_name:
                maps = values
                tape.watch(maps)
        if isinstance(last, keras.layers.Dense) and ends_in_softmax(model):
            values = dense_logits(last, values)  # the logits, without the softmax
        elif not ends_in_softmax(model):
            values = last(values, training=False)
        score = values[0, int(np.argmax(values[0]))]
    gradient = tape.gradient(score, maps).numpy()[0]
    maps = maps.numpy()[0]
    total = np.zeros(maps.shape[:2])
    for k in range(maps.shape[2]):
        total += gradient[:, :, k].mean() * maps[:, :, k]
    return np.maximum(total, 0)


def reinitialised(model, seed=SEED):
    """A copy of a model with every weight drawn again by its layer's initialiser (seeded),
    so that nothing it learned is left: the randomised network of Adebayo et al.'s check."""
    keras.utils.set_random_seed(seed)
    return keras.models.clone_model(model)


def rank_correlations(first, second):
    """Spearman's rank correlation of each pair of maps, over the pixels where either is not 0
    (so that a border both leave at 0 does not count as agreement).
    first, second: (N, H, W). Returns (N,), each in -1..1.

    >>> a = np.array([[[0.0, 1.0], [2.0, 3.0]]])
    >>> rank_correlations(a, a ** 2).tolist(), rank_correlations(a, -a).tolist()
    ([1.0], [-1.0])
    """
    from scipy.stats import spearmanr

    values = []
    for one, two in zip(first, second):
        used = (one != 0) | (two != 0)
        values.append(float(spearmanr(one[used], two[used]).statistic))
    return np.array(values)


def check_save_path(path):
    """Refuse, before anything is trained, a --save-model path that cannot be written: one
    not ending in .keras (the format Keras saves a whole model in), a folder, or one whose
    folder is missing or read-only. Creates nothing.

    >>> check_save_path(Path("cnn.h5"))
    Traceback (most recent call last):
    ...
    lessonkit.LessonError: --save-model cnn.h5: the name must end in .keras
    """
    if path.suffix != ".keras":
        raise lessonkit.LessonError(f"--save-model {path}: the name must end in .keras")
    if path.is_dir():
        raise lessonkit.LessonError(f"--save-model {path}: is a folder")
    folder = path.parent
    if not folder.is_dir():
        raise lessonkit.LessonError(f"--save-model {path}: no folder {folder} to write it into")
    if not os.access(folder, os.W_OK):
        raise lessonkit.LessonError(f"--save-model {path}: cannot write into {folder}")


def save_model(model, path):
    """Save a model as a .keras file, first under a temporary name, then renamed, so that a
    failure leaves no partial file. Any failure is a lessonkit.LessonError."""
    partial = path.with_name(f".{path.stem}.{os.getpid()}.tmp.keras")
    try:
        model.save(partial)
        os.replace(partial, path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise lessonkit.LessonError(f"--save-model {path}: cannot write it: {error.strerror}") from None


def load_saved_model(path):
    """Load a saved Keras model for --model and check that the lesson's picture sections can
    run on it: one input of 28 x 28 x 1, one output of 10 classes, at least one Conv2D layer
    for Grad-CAM. Anything else is a lessonkit.LessonError naming the path."""
    import warnings

    if not path.exists():
        raise lessonkit.LessonError(f"--model {path}: no such file")
    if path.is_dir():
        raise lessonkit.LessonError(f"--model {path}: is a folder, not a saved model")
    try:
        with warnings.catch_warnings(), lessonkit.tensorflow_start_up_quiet():
            warnings.simplefilter("ignore")
            model = keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises many kinds for a file it cannot read
        reason = str(error).strip().splitlines()[0][:120] if str(error).strip() else type(error).__name__
        raise lessonkit.LessonError(f"--model {path}: not a Keras model file Keras can load ({reason})") from None
    inputs, outputs = getattr(model, "inputs", None) or [], getattr(model, "outputs", None) or []
    taken = [tuple(tensor.shape[1:]) for tensor in inputs]
    given = [tuple(tensor.shape[1:]) for tensor in outputs]
    if taken != [(SIDE, SIDE, 1)]:
        raise lessonkit.LessonError(f"--model {path}: it takes {taken or 'no known input'}, not one (28, 28, 1) input")
    if given != [(10,)]:
        raise lessonkit.LessonError(f"--model {path}: it gives {given or 'no known output'}, not one (10,) output")
    try:
        last_conv_layer(model)
    except ValueError:
        raise lessonkit.LessonError(f"--model {path}: it has no Conv2D layer for Grad-CAM to look at") from None
    return model


def has_ink_from(images, first):
    """Which images have ink (any grey level above 0) in a row or a column from `first` on.
    images: (N, H, W). Returns bool (N,).

    >>> has_ink_from(np.array([[[0, 0], [0, 9]], [[9, 0], [0, 0]]]), 1).tolist()
    [True, False]
    """
    images = np.asarray(images)
    return (images[:, first:, :] > 0).any(axis=(1, 2)) | (images[:, :, first:] > 0).any(axis=(1, 2))


def confusion_matrix(labels, predicted, classes=10):
    """Counts of each (label, answer) pair: row = the true digit, column = the network's answer.
    labels, predicted: int (N,). Returns int (classes, classes), summing to N.

    >>> confusion_matrix(np.array([0, 1, 1]), np.array([0, 1, 0]), classes=2).tolist()
    [[1, 0], [1, 1]]
    """
    table = np.zeros((classes, classes), dtype=int)
    np.add.at(table, (labels, predicted), 1)
    return table


def parse_seeds(text):
    """--seeds N as an int 1..MAX_SEEDS (None: 1). Anything else is a lessonkit.LessonError.

    >>> parse_seeds(None), parse_seeds("4")
    (1, 4)
    """
    if text is None:
        return 1
    try:
        seeds = int(text)
    except ValueError:
        seeds = 0
    if not 1 <= seeds <= MAX_SEEDS:
        raise lessonkit.LessonError(f"--seeds: expected a whole number from 1 to {MAX_SEEDS}, got {text!r}")
    return seeds


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


def volumes_figure(volumes, operations):
    """The whole network as a chain of volumes, as CNN Explainer draws it: each layer's output
    as a box (height: its side, depth: its channels; a vector as a bar), and on each arrow the
    operation with its weights and multiply-adds per image.

    volumes: list of shapes, e.g. [(28, 28, 1), ..., (400,), (10,)]; operations: one list of
    text lines per arrow (len(volumes) - 1 of them).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, Polygon

    figure, ax = plt.subplots(figsize=(8.8, 4.6), layout="constrained")
    slot = 10.0
    ax.set_xlim(-1, slot * len(volumes) - 2)
    ax.set_ylim(-20, 38)
    ax.set_axis_off()
    right_edges = []
    for index, shape in enumerate(volumes):
        left = index * slot
        if len(shape) == 3:
            height, _, channels = shape
            side, depth = 0.9 * height, 0.28 * channels
            colour = COLOURS["input"] if index == 0 else COLOURS["output"]
        else:
            side, depth, colour = min(30.0, 4 + shape[0] / 15), 0.0, COLOURS["output"]
        width = 1.2 if len(shape) == 1 else 0.12 * side
        bottom = -side / 2
        corners = [(left, bottom), (left + width, bottom), (left + width, bottom + side), (left, bottom + side)]
        ax.add_patch(Polygon(corners,
                             facecolor=colour, edgecolor="black", linewidth=1))
        if depth:
            ax.add_patch(Polygon([(left + width, bottom), (left + width + depth, bottom + depth),
                                  (left + width + depth, bottom + side + depth), (left + width, bottom + side)],
                                 facecolor=colour, edgecolor="black", linewidth=1, alpha=0.7))
        right_edges.append(left + width + depth)
        label = " x ".join(str(n) for n in shape)
        ax.text(left + (width + depth) / 2, -16, label, ha="center", va="top", fontsize=9, fontweight="bold")
    for index, lines in enumerate(operations):
        start, end = right_edges[index] + 0.4, (index + 1) * slot - 0.4
        ax.add_patch(FancyArrowPatch((start, 0), (end, 0), arrowstyle="-|>", mutation_scale=12, color="black"))
        middle, height = (start + end) / 2, 17 if index % 2 == 0 else 28
        ax.plot([middle, middle], [0.8, height - 0.5], color="grey", linewidth=0.8, linestyle=":")
        ax.text(middle, height, "\n".join(lines), ha="center", va="bottom", fontsize=8, linespacing=1.25,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
    figure.suptitle("The whole CNN: each layer's output, and the operation between them\n"
                    "(parameters: weights and biases, learned; multiply-adds for one image)")
    return figure


def max_pool_figure(maps):
    """Max pooling step by step on a small grid: each 2 x 2 block outlined in its own colour,
    its largest value marked and lifted into the output; rows and columns left over at the
    end (an odd side) are never read. maps: (H, W) numbers.

    Returns the Figure; its texts hold every value, each block's max(...) and the dropped row.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    pooled = max_pool2d(maps[:, :, np.newaxis])[:, :, 0]
    height, width = maps.shape
    out_h, out_w = pooled.shape
    tints = ["#e69138", "#6aa84f", "#3d85c6", "#a64d79", "#bf9000", "#45818e"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(8.8, 4.6), layout="constrained")
    for ax in (left, right):
        ax.set_xlim(-0.5, width - 0.5)
        ax.set_ylim(height - 0.5, -0.5)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
    for spine in right.spines.values():
        spine.set_visible(False)
    for (row, column), value in np.ndenumerate(maps):
        read = row < 2 * out_h and column < 2 * out_w
        left.add_patch(Rectangle((column - 0.5, row - 0.5), 1, 1, edgecolor="white",
                                 facecolor=COLOURS["input"] if read else COLOURS["padding"]))
        left.text(column, row, f"{value:g}", ha="center", va="center", fontsize=12,
                  color="black" if read else "grey")
    lines = []
    for (row, column), best in np.ndenumerate(pooled):
        tint = tints[(row * out_w + column) % len(tints)]
        block = maps[2 * row : 2 * row + 2, 2 * column : 2 * column + 2]
        left.add_patch(
            Rectangle((2 * column - 0.45, 2 * row - 0.45), 1.9, 1.9, fill=False, edgecolor=tint, linewidth=3)
        )
        r, c = np.unravel_index(np.argmax(block), block.shape)
        left.add_patch(Rectangle((2 * column + c - 0.3, 2 * row + r - 0.3), 0.6, 0.6, fill=False,
                                 edgecolor=COLOURS["window"], linewidth=2))
        right.add_patch(
            Rectangle((column - 0.45, row - 0.45), 0.9, 0.9, facecolor=COLOURS["output"], edgecolor=tint, linewidth=3)
        )
        right.annotate("", xy=(column - 0.5, row), xytext=(2 * column + c + 0.3, 2 * row + r), xycoords=right.transData,
                       textcoords=left.transData, arrowprops={"arrowstyle": "->", "color": tint, "linewidth": 1.5})
        right.text(column, row, f"{best:g}", ha="center", va="center", fontsize=14, fontweight="bold")
        lines.append(f"max({', '.join(f'{v:g}' for v in block.ravel())}) = {best:g}")
    left.set_title(f"input: {height} x {width}, 2 x 2 blocks, stride 2")
    right.set_title(f"output: {out_h} x {out_w}", loc="left")
    left.set_xlabel(f"grey: row {height - 1} and column {width - 1}\nare in no block, never read")
    right.text(-0.4, out_h + 0.1, "\n".join(lines), ha="left", va="top", fontsize=11)
    figure.suptitle(f"Max pooling: the largest value of each block (red square) is lifted into the output\n"
                    f"floor(({height} - 2) / 2) + 1 = {out_h}: an odd side loses its last row and column")
    return figure


def shift_figure(shifts, cnn_accuracies, dense_accuracies, by_direction, cnn_parameters, dense_parameters):
    """Left: test accuracy against the shift of the digits (mean over four directions), one line
    per network, with the chance level. Right: at the largest shift, each direction apart.
    Accuracies are shares 0..1 rounded to 0.1% as printed; by_direction: dict network ->
    list of 4 accuracies (down, up, right, left)."""
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(8.8, 4.3), layout="constrained",
                                         gridspec_kw={"width_ratios": [3, 2]})
    left.plot(shifts, 100 * np.array(cnn_accuracies), "o-", color="tab:blue",
              label=f"CNN, {cnn_parameters:,} parameters")
    left.plot(shifts, 100 * np.array(dense_accuracies), "s--", color="tab:orange",
              label=f"dense, {dense_parameters:,} parameters")
    left.axhline(100 * CHANCE, color="grey", linestyle=":", label="chance, 10%")
    left.set_xticks(list(shifts))
    left.set_xlabel("shift, pixels (mean of 4 directions)")
    left.set_ylabel("test accuracy, %")
    left.set_ylim(0, 100)
    left.grid(True, alpha=0.4)
    left.legend(loc="lower left")
    directions = ["down", "up", "right", "left"]
    positions = np.arange(len(directions))
    for offset, (name, colour) in zip((-0.2, 0.2), (("CNN", "tab:blue"), ("dense", "tab:orange"))):
        values = 100 * np.array(by_direction[name])
        right.bar(positions + offset, values, width=0.4, color=colour, label=name)
    right.axhline(100 * CHANCE, color="grey", linestyle=":")
    right.set_xticks(positions, directions)
    right.set_ylim(0, 100)
    right.set_title(f"moved {shifts[-1]} pixels")
    right.legend(loc="upper left")
    figure.suptitle("Test digits moved: both networks lose accuracy, the CNN a smaller share of it,\n"
                    "and how much depends on the direction")
    return figure


def kernels_figure(hand_made, learned, matches):
    """The hand-made detectors (as a Conv2D layer would hold them) above the learned kernels,
    each drawn on one colour scale from -1 to 1 after dividing by its largest |weight|, with
    its weights written in. hand_made: dict name -> (3, 3), or empty to draw the learned
    kernels alone; learned: (F, k, k), two rows of them; matches: list of F titles."""
    import matplotlib.pyplot as plt

    columns = max(len(hand_made), -(-len(learned) // 2))
    rows = 3 if hand_made else 2
    figure, axes = plt.subplots(rows, columns, figsize=(2.1 * columns, 7.4 if hand_made else 5.0),
                                layout="constrained", squeeze=False)
    panels = [(kernel, f"{name}\n(turned 180°)", "d") for name, kernel in hand_made.items()]
    panels += [(None, None, None)] * ((columns - len(hand_made)) if hand_made else 0)
    panels += [(kernel, title, ".2f") for kernel, title in zip(learned, matches)]
    for ax, (kernel, title, style) in zip(axes.flat, panels):
        ax.set_axis_off()
        if kernel is None:
            continue
        scaled = kernel / (np.abs(kernel).max() or 1)
        shown = ax.imshow(scaled, cmap=lessonkit.SIGNED_COLOURMAP, vmin=-1, vmax=1)
        for (row, column), value in np.ndenumerate(kernel):
            ax.text(column, row, format(value, style), ha="center", va="center", fontsize=9,
                    color="white" if abs(scaled[row, column]) > 0.6 else "black")
        ax.set_title(title, fontsize=9)
    figure.colorbar(shown, ax=axes, shrink=0.5, label="weight / its kernel's largest |weight|")
    if hand_made:
        figure.suptitle(
            "Top: the hand-made edge detectors of 4_digit.py. Below: the 8 kernels the CNN's first layer learned\n"
            "(numbers: the weights; colours: each kernel divided by its largest |weight|, red > 0, blue < 0;\n"
            "mean: the share of the kernel's energy in its mean)"
        )
    else:
        figure.suptitle(f"The first {len(learned)} kernels of the first layer\n"
                        "(numbers: the weights; colours: each kernel divided by its largest |weight|, red > 0, blue < 0)")
    return figure


def maps_figure(digit, outputs, layers=None):
    """The digit and the maps after three layers (by default conv1 + ReLU, pool1 and
    conv2 + ReLU), one panel per layer, each on its own grey scale (white = its largest value,
    printed rounded), at most 16 maps of each. digit: (28, 28); outputs: dict name -> (H, W, C);
    layers: up to three Keras Conv2D or MaxPooling2D layers, or None."""
    import matplotlib.pyplot as plt

    if layers is None:
        panels = [("conv1", "conv1 + ReLU"), ("pool1", "max pool 2 x 2"), ("conv2", "conv2 + ReLU")]
    else:
        panels = [(layer.name, f"max pool {layer.pool_size[0]} x {layer.pool_size[1]}"
                   if isinstance(layer, keras.layers.MaxPooling2D)
                   else layer.name + (" + ReLU" if layer.activation is keras.activations.relu else ""))
                  for layer in layers]
    figure, axes = plt.subplots(2, 2, figsize=(8.8, 7.4), layout="constrained")
    axes = axes.ravel()
    axes[0].imshow(digit, cmap="gray", vmin=0, vmax=255)
    axes[0].set_title("the digit, 28 x 28")
    axes[0].set_axis_off()
    for ax in axes[1:]:
        ax.set_axis_off()
    for ax, (name, label) in zip(axes[1:], panels):
        maps = outputs[name]
        largest = round(float(maps.max()), 1) or 1.0
        ax.imshow(montage(np.moveaxis(maps[:, :, :16], -1, 0) * (255 / largest), 4), cmap="gray", vmin=0, vmax=255)
        height, width, channels = maps.shape
        count = f"{channels} maps" if channels <= 16 else f"16 of {channels} maps"
        ax.set_title(f"{label}: {count} of {height} x {width}\n(black 0, white {largest:.1f} or more)")
    figure.suptitle("What each layer sees: the digit, then the feature maps layer by layer")
    return figure


def receptive_fields_figure(rows, supports, boxes):
    """For each layer, the input pixels where the gradient of one position's units is
    non-zero (white) and the square the rule predicts (red). rows: list of (name, r, j);
    supports: list of bool (28, 28); boxes: list of (top, left)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    figure, axes = plt.subplots(1, len(rows), figsize=(8.8, 3.1), layout="constrained")
    for ax, (name, field, _), support, (top, left) in zip(axes, rows, supports, boxes):
        ax.imshow(support, cmap="gray", vmin=0, vmax=1)
        ax.add_patch(
            Rectangle((left - 0.5, top - 0.5), field, field, fill=False, edgecolor=COLOURS["window"], linewidth=2)
        )
        ax.set_title(f"{name}: {field} x {field}")
        ax.set_xticks([0, SIDE - 1])
        ax.set_yticks([0, SIDE - 1])
    figure.suptitle(
        "Receptive fields: input pixels with a non-zero gradient (white)\nfill the square the rule predicts (red)"
    )
    return figure


def blind_border_figure(support, digit, shift, blind):
    """Left: where the gradient of the predicted class is non-zero for at least one input
    (white); the rows and columns from `blind` on are never read (red outline). Right: a test
    digit moved `shift` pixels down, its ink in the blind rows.
    support: bool (28, 28); digit: uint8 (28, 28) already moved."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    figure, axes = plt.subplots(1, 2, figsize=(8.8, 4.6), layout="constrained")
    axes[0].imshow(support, cmap="gray", vmin=0, vmax=1)
    axes[0].set_title(f"gradient non-zero (white):\nrows and columns 0..{blind - 1}")
    axes[1].imshow(digit, cmap="gray", vmin=0, vmax=255)
    axes[1].set_title(f"a test digit moved {shift} pixels down:\npart of it falls where no unit looks")
    for ax in axes:
        ax.add_patch(Rectangle((-0.5, blind - 0.5), SIDE, SIDE - blind, fill=False, edgecolor=COLOURS["window"],
                               linewidth=2, hatch="//"))
        ax.add_patch(Rectangle((blind - 0.5, -0.5), SIDE - blind, SIDE, fill=False, edgecolor=COLOURS["window"],
                               linewidth=2, hatch="//"))
        ax.set_xticks([0, blind])
        ax.set_yticks([0, blind])
    figure.suptitle(f"The blind border: rows and columns {blind} to {SIDE - 1} (red) never reach the answer")
    return figure


def prediction_figure(digit, probs, title):
    """The digit beside a bar chart of the network's 10 class probabilities, each rounded to
    two decimals as printed. digit: (28, 28); probs: (10,)."""
    import matplotlib.pyplot as plt

    probs = np.round(probs, 2)
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(8.8, 3.8), layout="constrained", gridspec_kw={"width_ratios": [1, 2]}
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
    """Test digits the CNN reads wrongly, five to a row, each titled with its label and the
    CNN's answer. images: (N, 28, 28); labels, predicted: (N,)."""
    import matplotlib.pyplot as plt

    rows = -(-len(images) // 5)
    figure, axes = plt.subplots(rows, 5, figsize=(8.8, 2.1 * rows + 0.5), layout="constrained", squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, image, label, guess in zip(axes.flat, images, labels, predicted):
        ax.imshow(image, cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"is {label}, read {guess}")
    figure.suptitle("Some test digits the CNN gets wrong")
    return figure


def confusion_figure(table):
    """The confusion matrix of the test digits: row = the true digit, column = the CNN's
    answer, each cell its count (empty when 0), shaded by count on a log scale."""
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    figure, ax = plt.subplots(figsize=(6.4, 5.8), layout="constrained")
    image = ax.imshow(np.where(table > 0, table, np.nan), cmap="Greens", norm=LogNorm(0.5, table.max()))
    for (row, column), count in np.ndenumerate(table):
        if count:
            ax.text(column, row, str(count), ha="center", va="center", fontsize=9,
                    color="white" if count > np.sqrt(table.max()) else "black")
    ax.set_xticks(range(len(table)))
    ax.set_yticks(range(len(table)))
    ax.set_xlabel("the CNN's answer")
    ax.set_ylabel("the true digit")
    figure.colorbar(image, ax=ax, label="test digits (log scale)")
    right = int(np.trace(table))
    ax.set_title(f"Confusion matrix: {right} of {table.sum():,} test digits on the diagonal")
    return figure


def outline(ax, digit):
    """Draw a digit's outline (grey level 128) in black over whatever the axes show."""
    ax.contour(digit, levels=[128], colors="black", linewidths=1)


def saliency_figure(images, maps, titles):
    """Each digit's saliency ∂z_c/∂x in signed red-blue, divided by its largest |value| so that
    every panel spans -1..1 on one symmetric colour bar, under the digit's outline.
    images: (N, 28, 28) grey levels; maps: (N, 28, 28); titles: N strings."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(images), figsize=(8.8, 3.0), layout="constrained", squeeze=False)
    for ax, digit, values, title in zip(axes[0], images, maps, titles):
        scaled = np.round(values / (np.abs(values).max() or 1), 2)
        picture = ax.imshow(scaled, cmap=lessonkit.SIGNED_COLOURMAP, vmin=-1, vmax=1)
        outline(ax, digit)
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
    figure.colorbar(picture, ax=axes[0].tolist(), label="∂z_c/∂x ÷ its largest |value|", shrink=0.8)
    figure.suptitle("Saliency: red pixels raise the score of the class read, blue lower it (black: the digit's outline)")
    return figure


def grad_cam_figure(images, grids, heats, titles, layer, blind):
    """Top: Grad-CAM on the layer's own grid; below: upsampled to 28 x 28 under the digit's
    outline, the rows and columns from `blind` on (which never reach the answer) hatched red.
    Each panel runs from 0 to its own largest value. images: (N, 28, 28) grey levels;
    grids: (N, o_h, o_w); heats: (N, 28, 28); titles: N strings; layer: its name;
    blind: the first row and column that never reach the answer, or None."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    count = len(images)
    figure, axes = plt.subplots(2, count, figsize=(8.8, 4.9), layout="constrained", squeeze=False)
    for column, (digit, grid, heat, title) in enumerate(zip(images, grids, heats, titles)):
        top, bottom = axes[0, column], axes[1, column]
        top.imshow(np.round(grid / (grid.max() or 1), 2), cmap="Greens", vmin=0, vmax=1)
        top.set_title(title)
        bottom.imshow(np.round(heat / (heat.max() or 1), 2), cmap="Greens", vmin=0, vmax=1)
        outline(bottom, digit)
        for patch in ((-0.5, blind - 0.5, SIDE, SIDE - blind), (blind - 0.5, -0.5, SIDE - blind, SIDE)) if blind else ():
            bottom.add_patch(Rectangle(patch[:2], *patch[2:], fill=False, edgecolor=COLOURS["window"], hatch="//"))
        for ax in (top, bottom):
            ax.set_xticks([])
            ax.set_yticks([])
    height, width = grids.shape[1:]
    axes[0, 0].set_ylabel(f"{layer}, {height} x {width}")
    axes[1, 0].set_ylabel("upsampled, 28 x 28")
    title = f"Grad-CAM on {layer}: ReLU(Σ_f α_f A_f), white 0, dark green the largest"
    if blind:
        title += f";\nhatched red: rows and columns {blind} to {SIDE - 1}, which never reach the answer"
    figure.suptitle(title)
    return figure


def sanity_figure(images, labels, trained, randomised, correlations):
    """Top: saliency of the trained network; below: of the same network with its weights drawn
    again, each panel divided by its largest |value|, titled with the digit's label and the rank
    correlation of the two (signed maps). images: (N, 28, 28); labels: N digits;
    trained, randomised: (N, 28, 28); correlations: (N,)."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, len(images), figsize=(8.8, 4.6), layout="constrained", squeeze=False)
    for column, digit in enumerate(images):
        for row, maps in enumerate((trained, randomised)):
            ax = axes[row, column]
            values = maps[column]
            picture = ax.imshow(np.round(values / (np.abs(values).max() or 1), 2),
                                cmap=lessonkit.SIGNED_COLOURMAP, vmin=-1, vmax=1)
            outline(ax, digit)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[0, column].set_title(f"test {labels[column]}: ρ = {correlations[column]:.2f}")
    axes[0, 0].set_ylabel("trained")
    axes[1, 0].set_ylabel("weights redrawn")
    figure.colorbar(picture, ax=axes.ravel().tolist(), label="∂z_c/∂x ÷ its largest |value|", shrink=0.8)
    figure.suptitle("The sanity check: with its learned weights replaced by random ones, the saliency maps\n"
                    "change (ρ: Spearman's rank correlation of the two maps of a digit)")
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


def the_network(figures):
    """README: "### The network, layer by layer". Build the CNN; compute each layer's output
    shape with conv_output_size, its parameters with k_h·k_w·C_in·C_out + C_out and its
    multiply-adds with o_h·o_w·k_h·k_w·C_in·C_out, and check shapes and parameters against
    Keras; draw the chain of volumes and max pooling. Returns the compiled, untrained CNN."""
    lessonkit.heading("The network, layer by layer")
    cnn = build_cnn()
    windows = {name: (k, stride) for name, k, stride in layer_geometry(cnn)}
    macs = dict(multiply_adds(cnn))
    shape, total, agree, sizes, volumes, operations = (SIDE, SIDE, 1), 0, True, [], [(SIDE, SIDE, 1)], []
    print(f"input: {shape}, grey levels / 255")
    print(f"{'layer':<11} {'output (ours)':<14} {'parameters (ours)':<28} {'Keras':>5} {'multiply-adds':>14}")
    for layer in cnn.layers:
        if layer.name in windows:
            k, stride = windows[layer.name]
            size = tf_lesson.conv_output_size(shape[0], k, stride=stride)
            sizes.append((layer.name, shape[0], k, stride, size))
            if isinstance(layer, keras.layers.Conv2D):
                channels = layer.filters
                count = k * k * shape[2] * channels + channels
                rule = f"{k}*{k}*{shape[2]}*{channels} + {channels} = {count}"
                step = [f"{layer.name}: {channels} kernels", f"{k} x {k} x {shape[2]}, + ReLU"]
            else:
                channels, count, rule = shape[2], 0, f"0 (max of each {k}x{k} block)"
                step = [f"{layer.name}: max of", f"each {k} x {k} block"]
            shape = (size, size, channels)
        elif isinstance(layer, keras.layers.Dense):
            count = shape[0] * layer.units + layer.units
            rule = f"{shape[0]}*{layer.units} + {layer.units} = {count}"
            shape = (layer.units,)
            step = [f"{layer.name}: dense", "+ softmax"]
        elif isinstance(layer, keras.layers.Flatten):
            step = [f"{layer.name}: the", f"{' x '.join(map(str, shape))} values in a row"]
            shape, count, rule = (int(np.prod(shape)),), 0, "0"
        else:
            count, rule, step = 0, "0", None
        keras_shape = tuple(layer.output.shape[1:])
        agree = agree and keras_shape == shape and layer.count_params() == count
        total += count
        print(f"{layer.name:<11} {str(shape):<14} {rule:<28} {layer.count_params():>5} {macs[layer.name]:>14,}")
        if step is not None:
            volumes.append(shape)
            work = [] if isinstance(layer, keras.layers.Flatten) else [f"{macs[layer.name]:,} multiply-adds"]
            operations.append(step + [f"{count:,} parameters"] + work)
    total_macs = sum(macs.values())
    print(f"total: {total:,} parameters (Keras count_params: {cnn.count_params():,}), "
          f"{total_macs:,} multiply-adds per image")
    print(f"our shapes and counts == Keras's: {agree}")
    print(f"at most {PARAMETER_BUDGET:,} parameters: {total <= PARAMETER_BUDGET}")
    conv_weights = sum(layer.count_params() for layer in cnn.layers if isinstance(layer, keras.layers.Conv2D))
    conv_macs = sum(count for name, count in macs.items() if isinstance(cnn.get_layer(name), keras.layers.Conv2D))
    uses = [f"each {layer.name} weight {layer.output.shape[1] * layer.output.shape[2]} times"
            for layer in cnn.layers if isinstance(layer, keras.layers.Conv2D)]
    print(f"the two convolutions: {conv_weights:,} parameters, {conv_macs:,} multiply-adds per image; "
          f"{' and '.join(uses)} (once per output pixel)")
    print("Output size along each axis, VALID padding (no zeros added): o = floor((n - k) / s) + 1")
    by_hand = True
    for name, n, k, stride, size in sizes:
        print(f"  {name}: floor(({n} - {k}) / {stride}) + 1 = {(n - k) // stride + 1}")
        by_hand = by_hand and (n - k) // stride + 1 == size
    print(f"  == conv_output_size (2_TensorFlow.py) for every layer: {by_hand}")
    figures.add("cnn_volumes", volumes_figure(volumes, operations))
    pooled = max_pool2d(POOL_EXAMPLE[:, :, np.newaxis])[:, :, 0]
    print(f"Max pooling, 2 x 2 blocks with stride 2, on a {POOL_EXAMPLE.shape[0]} x {POOL_EXAMPLE.shape[1]} grid "
          f"(max_pool2d from 4_digit.py): {pooled.astype(int).tolist()}")
    figures.add("cnn_max_pool", max_pool_figure(POOL_EXAMPLE))
    return cnn


def training(cnn, digits):
    """README: "### Training". Split off the validation digits, train the CNN with the fixed
    settings, print each epoch's running loss and accuracy, then evaluate the trained network
    once on the training, validation and test digits.
    Returns (test accuracy, the split digits: train, train labels, validation, its labels)."""
    lessonkit.heading("Training")
    images, labels, test_images, test_labels = digits
    split = split_validation(images, labels)
    train_images, train_labels, validation_images, validation_labels = split
    print(f"TensorFlow runs on {tf_lesson.device_description(GPUS)}.")
    print(f"validation: the last {VALIDATION_PER_DIGIT} of each digit's {TRAIN_PER_DIGIT} training examples, "
          f"{len(validation_labels):,} digits;")
    print(f"the settings below were chosen on them; the network trains on the other {len(train_labels):,}.")
    print(f"{EPOCHS} epochs, batches of {BATCH_SIZE}, Adam with step size {LEARNING_RATE} falling to 0 along")
    print(f"a cosine, dropout {DROPOUT} before the classifier, seed {SEED}, deterministic operations.")
    history = train(cnn, train_images, train_labels)
    print("During training (a running mean over each epoch's batches, with dropout on):")
    for epoch, (loss, share) in enumerate(zip(history.history["loss"], history.history["accuracy"]), start=1):
        print(f"epoch {epoch:2d}: loss {loss:.4f}, accuracy {percent(share)}")
    print("The trained network, evaluated once (dropout off):")
    print(f"  training digits:   {percent(accuracy(cnn, train_images, train_labels))}")
    print(f"  validation digits: {percent(accuracy(cnn, validation_images, validation_labels))}")
    test_accuracy = accuracy(cnn, test_images, test_labels)
    print(f"test accuracy on the {len(test_labels):,} held-out digits: {percent(test_accuracy)}")
    print(f"test accuracy at least {percent(ACCURACY_TARGET)}: {test_accuracy >= ACCURACY_TARGET}")
    return test_accuracy, split


def seed_spread(values):
    """'mean 96.7%, from 96.3% to 97.1%' for a list of shares 0..1 (one value: just that one)."""
    if len(values) == 1:
        return percent(values[0])
    return f"mean {percent(np.mean(values))}, from {percent(min(values))} to {percent(max(values))}"


def cnn_against_dense(cnn, cnn_accuracy, split, digits, seeds, figures, controls=False):
    """README: "### A CNN against a dense network". Train a dense network of about the CNN's
    size with the same optimiser, batches, steps and seed; say everything else that differs;
    compare parameters, multiply-adds and accuracy (over `seeds` seeds), then on test digits
    shifted 0 to 4 pixels in each direction; with `controls`, also shift_controls."""
    lessonkit.heading("A CNN against a dense network")
    train_images, train_labels, _, _ = split
    _, _, test_images, test_labels = digits
    dense = build_dense()
    train(dense, train_images, train_labels)
    dense_accuracy = accuracy(dense, test_images, test_labels)
    cnn_parameters, dense_parameters = cnn.count_params(), dense.count_params()
    cnn_macs, dense_macs = sum(dict(multiply_adds(cnn)).values()), sum(dict(multiply_adds(dense)).values())
    print(f"dense network: flatten 784 -> dense {DENSE_UNITS} + ReLU -> dense 10 + softmax,")
    print("trained with the same optimiser, step sizes, batches, epochs and seed as the CNN:")
    count = f"784*{DENSE_UNITS} + {DENSE_UNITS} + {DENSE_UNITS}*10 + 10 = {dense.count_params():,}"
    print(f"  {count} parameters, each weight used once per image")
    print("What differs between the two, besides sharing one kernel across positions:")
    print("  locality: each CNN unit sees a 3 x 3 window, each dense unit all 784 pixels;")
    print("  depth and pooling: two convolutions with max pooling, against one hidden layer;")
    print(f"  dropout: the CNN's only; the dense network's {DENSE_UNITS} hidden units are a narrow bottleneck.")
    print(f"{'network':<10} {'parameters':>10} {'multiply-adds':>14} {'training':>9} {'test':>7}")
    for name, model, share in (("CNN", cnn, cnn_accuracy), ("dense", dense, dense_accuracy)):
        fitted = accuracy(model, train_images, train_labels)
        macs = cnn_macs if name == "CNN" else dense_macs
        print(f"{name:<10} {model.count_params():>10,} {macs:>14,} {percent(fitted):>9} {percent(share):>7}")
    ratio = dense_parameters / cnn_parameters
    print(f"dense / CNN parameters = {ratio:.2f}, within 10%: {abs(ratio - 1) <= 0.1}")
    print(f"CNN / dense multiply-adds per image = {cnn_macs / dense_macs:.1f}: sharing lets few weights do much work")
    print(f"CNN more accurate than the dense network: {cnn_accuracy > dense_accuracy}")
    cnn_runs, dense_runs = [cnn_accuracy], [dense_accuracy]
    for seed in range(SEED + 1, SEED + seeds):
        for runs, build in ((cnn_runs, build_cnn), (dense_runs, build_dense)):
            model = build(seed=seed)
            train(model, train_images, train_labels, seed=seed)
            runs.append(accuracy(model, test_images, test_labels))
    if seeds > 1:
        print(f"Test accuracy over seeds {SEED} to {SEED + seeds - 1} (weights, batch order and dropout):")
        print(f"  CNN:   {'  '.join(percent(value) for value in cnn_runs)}; {seed_spread(cnn_runs)}")
        print(f"  dense: {'  '.join(percent(value) for value in dense_runs)}; {seed_spread(dense_runs)}")
        print(f"CNN's mean test accuracy at least 96.5%: {np.mean(cnn_runs) >= 0.965}")
        print(f"CNN ahead of the dense network with every seed: {min(cnn_runs) > max(dense_runs)}")
    else:
        print(f"One seed ({SEED}); --seeds 4 repeats both trainings with seeds 0 to 3 for the mean and spread.")
    print()
    print("The test digits moved by 0 to 4 pixels, each direction apart, then the mean of the four:")
    print(f"{'shift':>5} {'network':<7} {'down':>7} {'up':>7} {'right':>7} {'left':>7} {'mean':>7}")
    means, every = {"CNN": [], "dense": []}, {"CNN": [], "dense": []}
    at_largest = {}
    for shift in SHIFTS:
        for name, model in (("CNN", cnn), ("dense", dense)):
            if shift:
                values = [shifted_accuracy(model, test_images, test_labels, *move) for move in directions(shift)]
            else:
                values = [accuracy(model, test_images, test_labels)] * 4
            means[name].append(float(np.mean(values)))
            every[name] += values
            at_largest[name] = values
            print(f"{shift:>5} {name:<7} " + " ".join(f"{percent(value):>7}" for value in values)
                  + f" {percent(np.mean(values)):>7}")
    cnn_shifted, dense_shifted = means["CNN"], means["dense"]
    ahead = all(c > d for c, d in zip(cnn_shifted, dense_shifted))
    print(f"CNN ahead of the dense network at every shift: {ahead}")
    keeps_more = all(c / cnn_shifted[0] > d / dense_shifted[0] for c, d in zip(cnn_shifted[1:], dense_shifted[1:]))
    print(f"CNN keeps a larger share of its unshifted accuracy at every shift: {keeps_more}")
    down, up, right, left = at_largest["CNN"]
    print(f"at {SHIFTS[-1]} pixels the CNN reads digits moved sideways better than moved up or down: "
          f"{min(right, left) > max(down, up)}")
    print(f"CNN above chance ({percent(CHANCE)}) at every shift and direction: {min(every['CNN']) > CHANCE}")
    lowest = int(np.argmin(at_largest["dense"]))
    print(f"the dense network's lowest, {SHIFTS[-1]} pixels {['down', 'up', 'right', 'left'][lowest]}: "
          f"{percent(at_largest['dense'][lowest])} (chance: {percent(CHANCE)})")
    # Drawn to 0.1%, as printed, so that the picture is the same on machines that round differently.
    drawn = {name: np.round(values, 3) for name, values in at_largest.items()}
    figures.add(
        "cnn_shift",
        shift_figure(SHIFTS, np.round(cnn_shifted, 3), np.round(dense_shifted, 3), drawn, cnn_parameters,
                     dense_parameters),
    )
    if controls:
        shift_controls(split, digits, {"CNN": cnn_shifted, "dense": dense_shifted})


def shift_controls(split, digits, measured):
    """With --controls: two variants of the CNN that each change one thing, trained with the
    same settings, and their test accuracy on moved digits beside the CNN's and the dense
    network's (`measured`: name -> mean accuracy at each shift)."""
    train_images, train_labels, _, _ = split
    _, _, test_images, test_labels = digits
    print()
    print("Controls, trained with the same settings and seed:")
    print("  average head: pool2, flatten, dropout and the 400 -> 10 classifier replaced by the mean")
    print("    of each conv2 map and a 16 -> 10 classifier, so no weight is tied to a position;")
    print("  shifted training: the same CNN, trained on the digits plus a copy of each moved by up to")
    print(f"    {SHIFTS[-1]} pixels in each axis (twice the digits per epoch).")
    average = build_gap_cnn()
    train(average, train_images, train_labels)
    moved_images, moved_labels = with_shifted_copies(train_images, train_labels)
    shifted = compiled(build_cnn(), train_size=len(moved_labels))
    train(shifted, moved_images, moved_labels)
    rows = dict(measured)
    for name, model in (("average head", average), ("shifted training", shifted)):
        rows[name] = [
            float(np.mean([shifted_accuracy(model, test_images, test_labels, *move) for move in directions(shift)]))
            if shift else accuracy(model, test_images, test_labels)
            for shift in SHIFTS
        ]
    parameters = {"CNN": build_cnn().count_params(), "dense": build_dense().count_params(),
                  "average head": average.count_params(), "shifted training": shifted.count_params()}
    print(f"{'mean over 4 directions':<22} {'parameters':>10} " + " ".join(f"{f'{shift} px':>7}" for shift in SHIFTS))
    for name, values in rows.items():
        print(f"{name:<22} {parameters[name]:>10,} " + " ".join(f"{percent(value):>7}" for value in values))
    cnn, average, shifted = rows["CNN"], rows["average head"], rows["shifted training"]
    print(f"at {SHIFTS[-1]} pixels, both controls ahead of the CNN: {min(average[-1], shifted[-1]) > cnn[-1]}")
    print(f"unmoved, the average head behind the CNN: {average[0] < cnn[0]}")
    return rows


def what_the_first_layer_learned(cnn, figures, untrained=None):
    """README: "### What the first layer learned". Compare the learned first-layer kernels
    with 4_digit.py's hand-made edge detectors by cosine similarity, with the share of each
    kernel's energy in its mean, and with the untrained kernels (of `untrained`, by default
    the lesson's CNN before training) as a control. A first layer that is no 3x3 Conv2D is
    drawn without the comparison, or not at all if it is no Conv2D."""
    lessonkit.heading("What the first layer learned")
    first = cnn.layers[0]
    if not isinstance(first, keras.layers.Conv2D):
        print(f"the first layer, {first.name}, is a {type(first).__name__}, not a Conv2D: no kernels to show")
        return
    kernels = first.kernel.numpy()
    learned = np.moveaxis(kernels[:, :, 0, :], -1, 0)
    if kernels.shape[:2] != (3, 3):
        k_h, k_w, _, count = kernels.shape
        print(f"{first.name}: {count} kernels of {k_h} x {k_w}; the hand-made detectors are 3 x 3, so the first")
        print(f"{min(count, 8)} are drawn alone, without the comparison.")
        titles = [f"kernel {index}" for index in range(1, min(count, 8) + 1)]
        figures.add("cnn_kernels", kernels_figure({}, learned[:8], titles))
        return
    untrained = build_cnn() if untrained is None else untrained
    untrained = np.moveaxis(untrained.layers[0].kernel.numpy()[:, :, 0, :], -1, 0)
    # 4_digit.py convolves; a Conv2D layer cross-correlates, so it would hold each detector turned 180°.
    hand_made = {name: np.flip(kernel) for name, kernel in digit_lesson.EDGE_DETECTORS.items()}
    bank = np.array(list(hand_made.values()), dtype=np.float64)
    names = list(hand_made)
    control = cosine_similarities(untrained, bank)
    bar = float(np.abs(control).max())
    print("4_digit.py applies its detectors by convolution; a Conv2D layer cross-correlates, so the")
    print("layer would hold each detector turned 180°. Cosine similarity of each 3x3 kernel with each")
    print("detector so turned (1: the same pattern, -1: the same edge with the sign reversed), and the")
    print("share of the kernel's energy in its mean (the detectors have none: their weights sum to 0):")
    print(f"{'kernel':<10}" + "".join(f"{name:>12}" for name in names) + f"{'mean':>7}   most alike")
    titles = []
    groups = (("untrained", untrained, control), ("learned", learned, cosine_similarities(learned, bank)))
    for label, group, table in groups:
        shares = mean_energy_share(group)
        for index, (row, share) in enumerate(zip(table, shares), start=1):
            best = int(np.argmax(np.abs(row)))
            verdict = f"{names[best]}, cos {row[best]:.2f}" if abs(row[best]) > bar + MATCH_MARGIN else "no clear match"
            if label == "untrained":
                verdict = f"(control) {names[best]}, cos {row[best]:.2f}"
            cells = "".join(f"{value:>12.2f}" for value in row)
            print(f"{label[0]}{index:<9}{cells}{percent(share):>7}   {verdict}")
            if label == "learned":
                titles.append(f"learned {index}, mean {100 * share:.0f}%\n{verdict}")
    overlap = np.abs(cosine_similarities(bank, bank)[np.triu_indices(len(bank), 1)]).max()
    print(f"the detectors overlap: the largest |cos| between two of them is {overlap:.2f}, so a kernel")
    print("can be nearly as alike to two of them.")
    print(f"untrained kernels (u): their largest |cos| is {bar:.2f}; a learned kernel (l) is called a match")
    print(f"only when its |cos| exceeds that by more than {MATCH_MARGIN}, and \"no clear match\" otherwise.")
    print("Nobody told the network about edges. Where it found a detector like these, it did so because")
    print("it helps to tell the digits apart. A negative cos is the same edge with dark and light")
    print("swapped; after the ReLU that is a different feature, so a network often learns both signs.")
    figures.add("cnn_kernels", kernels_figure(hand_made, learned[:8], titles[:8]))


def what_the_layers_see(cnn, digit, steps, name, figures):
    """README: "### What the layers see". Pass the digit through the network, recompute the
    first layer (correlate2d + bias + ReLU) and max pooling from scratch, and check them
    against Keras; draw the maps layer by layer."""
    lessonkit.heading("What the layers see")
    print(f"{name}, prepared as MNIST's digits were:")
    for step in steps:
        print(f"  {step}")
    outputs = {key: value[0] for key, value in layer_outputs(cnn, as_input(digit[np.newaxis])).items()}
    windows = [layer for layer in cnn.layers if isinstance(layer, (keras.layers.Conv2D, keras.layers.MaxPooling2D))]
    for layer in windows:
        print(f"{layer.name}: {outputs[layer.name].shape}")
    first, second = (cnn.layers + [None])[:2]
    if plain_conv(first):
        ours = first_layer_from_scratch(digit / 255, first.kernel.numpy(), first.bias.numpy())
        difference = float(np.abs(ours - outputs[first.name]).max())
        print("first layer from scratch, a_f = ReLU(I ⋆ w_f + b_f) with correlate2d (1_2D.py):")
        print(f"  max |ours - Keras| = {difference:.1e} (float32 rounding)")
        print(f"  ours == Keras to within 1e-5: {difference < 1e-5}")
        if isinstance(second, keras.layers.MaxPooling2D) and second.pool_size == second.strides == (2, 2) \
                and second.padding == "valid":
            pooled = max_pool2d(outputs[first.name])
            print(f"max pooling from scratch, max_pool2d({first.name}'s maps):")
            print(f"  == Keras's MaxPooling2D: {np.array_equal(pooled, outputs[second.name])}")
    else:
        print(f"the first layer, {first.name}, is no Conv2D with stride 1, no padding, a bias and ReLU:")
        print("  not recomputed from scratch")
    rectified = [layer.name for layer in windows if getattr(layer, "activation", None) is keras.activations.relu]
    if rectified:
        print("share of values above 0 after the ReLU: "
              + ", ".join(f"{name} {percent(float(np.mean(outputs[name] > 0)))}" for name in rectified))
    figures.add("cnn_maps", maps_figure(digit, outputs, windows[:3]))


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
    print("Where a field starts: no layer pads, so unit i of a layer sees input pixels from i * J on.")
    print("A layer that pads p pixels would move every start after it back by p * J_in.")
    print(f"One unit of pool2 sees {rows[-1][1]} x {rows[-1][1]} pixels.")
    figures.add("cnn_receptive_fields", receptive_fields_figure(rows, supports, boxes))


def the_blind_border(cnn, digits, figures):
    """README: "### The blind border". Which input rows and columns can reach the answer, by
    the rule that follows the last row read back through the layers and by the gradient of
    the predicted class over random inputs; how many test digits have ink beyond them."""
    lessonkit.heading("The blind border")
    geometry = layer_geometry(cnn)
    print("Follow the last row that reaches the answer down through the layers: a layer whose rows")
    print("0..last are read from above reads its own input's rows 0..last * s + k - 1.")
    for name, n, o, last in last_row_read(geometry, SIDE):
        unread = f"row {n - 1} never reaches" if last == n - 2 else f"rows {last + 1}..{n - 1} never reach"
        rest = f"; {unread} the answer" if last < n - 1 else ""
        print(f"  {name}: reads rows 0..{last} of its {n}{rest}")
    blind = last_row_read(geometry, SIDE)[-1][3] + 1
    print("A window reads all its input only when (n + p_before + p_after - d(k - 1) - 1) is a multiple")
    print("of s (2_TensorFlow.py's output-size rule); otherwise the last rows are left over:")
    size = SIDE
    for name, k, stride in geometry:
        left_over = (size - (k - 1) - 1) % stride
        print(f"  {name}: ({size} + 0 + 0 - 1*({k} - 1) - 1) = {size - k}, "
              + (f"{left_over} left over after steps of {stride}" if left_over else f"a multiple of {stride}"))
        size = tf_lesson.conv_output_size(size, k, stride=stride)
    inputs = np.random.default_rng(SEED).uniform(size=(GRADIENT_INPUTS, SIDE, SIDE, 1)).astype(np.float32)
    support = np.any(class_score_gradients(cnn, inputs) != 0, axis=0)
    top, bottom, left, right = bounding_box(support)
    print(f"gradient of the predicted class, {GRADIENT_INPUTS} random inputs: non-zero on rows {top}..{bottom}, "
          f"columns {left}..{right}")
    zero = not support[blind:].any() and not support[:, blind:].any()
    print(f"zero on every row and column from {blind} on, for every input: {zero}")
    print(f"non-zero somewhere on every pixel before them: {bool(support[:blind, :blind].all())}")
    _, _, test_images, _ = digits
    moved = shift_images(test_images, BLIND_SHIFT, 0)
    print(f"test digits with ink in rows or columns {blind}..{SIDE - 1}: {percent(has_ink_from(test_images, blind).mean())}, "
          f"moved {BLIND_SHIFT} pixels down: {percent(has_ink_from(moved, blind).mean())}")
    example = int(np.argmax(has_ink_from(moved, blind) & ~has_ink_from(test_images, blind)))
    figures.add("cnn_blind_border", blind_border_figure(support, moved[example], BLIND_SHIFT, blind))


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
    table = confusion_matrix(test_labels, predicted)
    print("Confusion matrix of the test digits (row: the true digit, column: the CNN's answer):")
    print("     " + "".join(f"{digit:>4}" for digit in range(10)))
    for digit, row in enumerate(table):
        print(f"  {digit}: " + "".join(f"{count:>4}" for count in row))
    off = table - np.diag(np.diag(table))
    pairs = [f"{true} read as {answer}" for true, answer in zip(*np.nonzero(off == off.max()))]
    print(f"the most frequent mistake{'s' if len(pairs) > 1 else ''}, {off.max()} times each: {', '.join(pairs)}")
    right = int(np.trace(table))
    print(f"the diagonal holds the {right} digits read right: {right == len(test_labels) - len(wrong)}")
    figures.add("cnn_confusion", confusion_figure(table))


def shown_digits(digits, digit, name):
    """The digits the explanation sections draw: the first test example of each of
    SHOWN_DIGITS, then the learner's digit. Returns ((N, 28, 28) uint8, N labels for titles)."""
    _, _, test_images, test_labels = digits
    chosen = [int(np.flatnonzero(test_labels == label)[0]) for label in SHOWN_DIGITS]
    images = np.concatenate([test_images[chosen], digit[np.newaxis]])
    return images, [f"test {label}" for label in SHOWN_DIGITS] + [name]


def saliency_maps(cnn, digit, name, digits, figures):
    """README: "### Saliency: which pixels move the score". The gradient of the class read's
    logit with respect to the pixels, for a few test digits and the learner's digit."""
    lessonkit.heading("Saliency: which pixels move the score")
    images, names = shown_digits(digits, digit, name)
    _, _, words = score_head(cnn)
    print(f"score z_c: {words};")
    print("c is the class the network reads, x a pixel's grey level / 255 as the network reads it.")
    inputs = as_input(images)
    maps = saliency(cnn, images)
    read = np.argmax(probabilities(cnn, images), axis=1)
    squashed = np.abs(class_score_gradients(cnn, inputs)).max(axis=(1, 2))
    print(f"{'digit':<12} {'read':>4} {'max |∂z_c/∂x|':>14} {'max |∂p_c/∂x|':>14} {'on ink':>7} {'off ink':>8}")
    for label, answer, values, image, flat in zip(names, read, maps, images, squashed):
        ink = image > 0
        share = np.abs(values)[ink].sum() / np.abs(values).sum()
        print(f"{label:<12} {answer:>4} {np.abs(values).max():>14.3f} {flat:>14.3f} {percent(share):>7} "
              f"{percent(1 - share):>8}")
    print("on ink / off ink: the shares of Σ|∂z_c/∂x| on pixels with ink (grey level above 0) and without.")
    print("p_c = softmax(z)_c, the probability: where it is near 1 its gradient is squashed towards 0.")
    blind = blind_from(cnn)
    if blind is not None:
        zero = not maps[:, blind:, :].any() and not maps[:, :, blind:].any()
        print(f"saliency 0 on rows and columns {blind}..{SIDE - 1} of every digit: {zero}")
    titles = [f"{label}, read {answer}" for label, answer in zip(names, read)]
    figures.add("cnn_saliency", saliency_figure(images, maps, titles))


def grad_cam_maps(cnn, digit, name, digits, figures):
    """README: "### Grad-CAM: where the last convolution looks". Grad-CAM on the last Conv2D
    layer, its cells placed on the input, checked against the same computation done step by
    step with tf.GradientTape; the blind border."""
    lessonkit.heading("Grad-CAM: where the last convolution looks")
    images, names = shown_digits(digits, digit, name)
    layer = last_conv_layer(cnn)
    grids, maps, gradients, _ = grad_cam_grid(cnn, images, layer_name=layer)
    heats = grad_cam(cnn, images, layer_name=layer)
    height, width, count = maps.shape[1:]
    print(f"layer: {layer}, the last Conv2D layer: {count} maps A_f of {height} x {width}")
    print(f"α_f = mean over the {height * width} cells of ∂z_c/∂A_f; heat = ReLU(Σ_f α_f A_f)")
    rows, _ = unit_centres(cnn, layer)
    steps = np.unique(np.diff(rows))
    if len(steps) == 1 and len(rows) > 1:
        print(f"cell i of {layer} sits at the centre of its receptive field: input row {rows[0]:g} + {steps[0]:g}·i, "
              f"from {rows[0]:g} to {rows[-1]:g}")
    print(f"upsampled to {SIDE} x {SIDE} bilinearly between those centres, each edge cell's value carried out to the border")
    stretched = (np.arange(len(rows)) + 0.5) * SIDE / len(rows) - 0.5
    print(f"(stretching the grid over {SIDE} x {SIDE}, as tf.image.resize does, would centre cell 0 at {stretched[0]:.2f} "
          f"and cell {len(rows) - 1} at {stretched[-1]:.2f}: up to {np.abs(stretched - rows).max():.2f} pixels off)")
    if isinstance(cnn, keras.Sequential):
        by_tape = np.stack([grad_cam_by_tape(cnn, image, layer) for image in images])
        difference = float(np.abs(by_tape - grids).max())
        largest = float(grids.max())
        print(f"step by step, one digit at a time with tf.GradientTape: max |difference| = {difference:.1e} "
              f"(largest heat {largest:.3f})")
        print(f"  grad_cam == step by step to within 1e-5 of the largest heat: {difference <= 1e-5 * max(largest, 1e-12)}")
    print(f"every heat map >= 0: {bool((heats >= 0).all())}")
    geometry = layer_geometry(cnn) if blind_from(cnn) is not None else []
    after = [index + 1 for index, (window, _, _) in enumerate(geometry) if window == layer and index + 1 < len(geometry)]
    if after:
        reader, size, _, last = {row[0]: row for row in last_row_read(geometry, SIDE)}[geometry[after[0]][0]]
        if last + 1 < size:
            beyond = slice(last + 1, None)
            zero = not gradients[:, beyond].any() and not gradients[:, :, beyond].any()
            lit = int(np.sum((grids[:, beyond].max(axis=(1, 2)) > 0) | (grids[:, :, beyond].max(axis=(1, 2)) > 0)))
            where = f"row and column {last + 1}" if last + 2 == size else f"rows and columns {last + 1}..{size - 1}"
            print(f"{reader} never reads {layer}'s {where}: ∂z_c/∂A_f is 0 there for every map: {zero}")
            print(f"yet the heat there is above 0 for {lit} of the {len(images)} digits: Grad-CAM weighs a map's values")
            print("by its mean gradient, so it can light up cells that never reach the answer.")
    titles = [f"{label}, read {answer}" for label, answer in zip(names, np.argmax(probabilities(cnn, images), axis=1))]
    blind = blind_from(cnn)
    figures.add("cnn_grad_cam", grad_cam_figure(images, grids, heats, titles, layer, blind))


def sanity_check(cnn, digits, figures):
    """README: "### A sanity check: random weights". Saliency of the trained network against
    the same network with its weights drawn again (Adebayo et al., 2018), by Spearman's rank
    correlation, on the first test example of each digit."""
    lessonkit.heading("A sanity check: random weights")
    _, _, test_images, test_labels = digits
    chosen = [int(np.flatnonzero(test_labels == label)[0]) for label in range(10)]
    images = test_images[chosen]
    randomised = reinitialised(cnn)
    trained_maps = saliency(cnn, images)
    read = np.argmax(probabilities(cnn, images), axis=1)
    random_maps = saliency(randomised, images, classes=read)
    signed = rank_correlations(trained_maps, random_maps)
    magnitude = rank_correlations(np.abs(trained_maps), np.abs(random_maps))
    print(f"the same network, every weight drawn again by its initialiser (seed {SEED}); both maps for")
    print("the class the trained network reads. Spearman's ρ of the two maps, over the pixels where")
    print("either is not 0, for the first test example of each digit:")
    print(f"{'digit':>5} {'signed':>7} {'|map|':>7}")
    for label, one, two in zip(range(10), signed, magnitude):
        print(f"{label:>5} {one:>7.2f} {two:>7.2f}")
    print(f"{'mean |ρ|':>8} {np.abs(signed).mean():>4.2f} {np.abs(magnitude).mean():>7.2f}")
    print(f"signed maps: mean |ρ| below {SANITY_LIMIT}, the map depends on what the network learned: "
          f"{bool(np.abs(signed).mean() < SANITY_LIMIT)}")
    ink = rank_correlations(np.abs(trained_maps), images.astype(float)), rank_correlations(
        np.abs(random_maps), images.astype(float))
    print(f"|map| against the digit's own grey levels, mean ρ: trained {ink[0].mean():.2f}, "
          f"weights redrawn {ink[1].mean():.2f}")
    shown = list(SHOWN_DIGITS)
    figures.add("cnn_sanity", sanity_figure(images[shown], shown, trained_maps[shown], random_maps[shown],
                                            np.round(signed[shown], 2)))


def bring_your_own_model(cnn, digits, save_path=None):
    """README: "### Bring your own model". What --model asks of a saved model, checked on
    this CNN; with --save-model, save the trained CNN and check that it loads back the same."""
    lessonkit.heading("Bring your own model")
    taken, given = tuple(cnn.inputs[0].shape[1:]), tuple(cnn.outputs[0].shape[1:])
    print("--model PATH loads a saved Keras model instead of training this one, and runs on it the")
    print("sections that look at a network: its first layer, its maps, prediction, saliency, Grad-CAM")
    print("and the sanity check.")
    print(f"It must take (28, 28, 1), give (10,) and hold a Conv2D layer. This CNN takes {taken}, gives {given},")
    print(f"  and its last Conv2D layer is {last_conv_layer(cnn)}: {taken == (SIDE, SIDE, 1) and given == (10,)}")
    if save_path is None:
        print("--save-model PATH (a name ending in .keras) saves it; not asked for in this run.")
        return
    save_model(cnn, save_path)
    _, _, test_images, _ = digits
    again = load_saved_model(save_path)
    same = np.allclose(probabilities(again, test_images), probabilities(cnn, test_images), atol=1e-6)
    print(f"saved to {save_path}; loaded again, the same probabilities for the {len(test_images):,} test digits: {same}")


def look_at_a_saved_model(model, path, digit, steps, args):
    """With --model: the picture sections of the lesson on a saved model, instead of training."""
    figures = lessonkit.Figures(args)
    digits = load_digits()
    print(f"{path}: {model.name}, {model.count_params():,} parameters; the lesson's picture sections run on it.")
    what_the_first_layer_learned(model, figures, untrained=reinitialised(model))
    what_the_layers_see(model, digit, steps, args.image.name, figures)
    prediction(model, digit, args.image.name, digits, figures)
    saliency_maps(model, digit, args.image.name, digits, figures)
    grad_cam_maps(model, digit, args.image.name, digits, figures)
    sanity_check(model, digits, figures)
    return figures.write()


def model_paths(args):
    """--model and --save-model as Paths (None when not given); an empty path, or both at
    once, is a lessonkit.LessonError."""
    paths = []
    for option, text in (("--model", args.model), ("--save-model", args.save_model)):
        if text is not None and not text:
            raise lessonkit.LessonError(f"{option}: an empty path")
        paths.append(None if text is None else Path(text))
    if all(paths):
        raise lessonkit.LessonError("--model and --save-model: with --model nothing is trained, so nothing to save")
    return paths


@lessonkit.lesson_main
def main(argv=None):
    args = lessonkit.parse_args(
        __doc__,
        argv,
        image=lessonkit.data_path("num3.jpg"),
        flags={"--controls": "also train two controls: an average-pooling head, and training on moved digits"},
        options={
            "--seeds": ("N", f"train both networks with seeds 0 to N - 1, 1 to {MAX_SEEDS} (default: 1)"),
            "--model": ("PATH", "run the picture sections on a saved Keras model (28x28x1 in, 10 classes out)"),
            "--save-model": ("PATH", "save the trained CNN as a .keras file"),
        },
    )
    seeds = parse_seeds(args.seeds)
    model_path, save_path = model_paths(args)
    digit, steps = read_digit(args.image)
    if args.save_model is not None:
        check_save_path(save_path)
    if args.model is not None:
        return look_at_a_saved_model(load_saved_model(model_path), model_path, digit, steps, args)
    figures = lessonkit.Figures(args)
    digits = the_digits(figures)
    cnn = the_network(figures)
    cnn_accuracy, split = training(cnn, digits)
    cnn_against_dense(cnn, cnn_accuracy, split, digits, seeds, figures, controls=args.controls)
    what_the_first_layer_learned(cnn, figures)
    what_the_layers_see(cnn, digit, steps, args.image.name, figures)
    receptive_fields(cnn, figures)
    the_blind_border(cnn, digits, figures)
    prediction(cnn, digit, args.image.name, digits, figures)
    saliency_maps(cnn, digit, args.image.name, digits, figures)
    grad_cam_maps(cnn, digit, args.image.name, digits, figures)
    sanity_check(cnn, digits, figures)
    bring_your_own_model(cnn, digits, save_path)
    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
