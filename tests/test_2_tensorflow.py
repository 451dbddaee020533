"""Tests for 2_TensorFlow.py: layouts and shapes, the output-size rule against TensorFlow,
TensorFlow against our correlate2d/convolve2d and SciPy, channels, parameter counts,
the learned kernel, and the script run as a learner would."""

import importlib
import itertools

import numpy as np
import pytest
import scipy.signal
from PIL import Image
from hypothesis import given, settings
from hypothesis import strategies as st

lesson = importlib.import_module("2_TensorFlow")
lesson_2d = importlib.import_module("1_2D")
image_lesson = importlib.import_module("3_image")
tf = lesson.tf

SCRIPT = "2_TensorFlow.py"


@st.composite
def image_and_kernel(draw, max_size=7):
    """A small integer-valued image (h, w) and a kernel (kh, kw) that fits inside it."""
    height = draw(st.integers(1, max_size))
    width = draw(st.integers(1, max_size))
    kernel_height = draw(st.integers(1, height))
    kernel_width = draw(st.integers(1, width))
    image = draw(st.lists(st.integers(-9, 9), min_size=height * width, max_size=height * width))
    kernel = draw(
        st.lists(st.integers(-3, 3), min_size=kernel_height * kernel_width, max_size=kernel_height * kernel_width)
    )
    return (
        np.array(image, dtype=np.float32).reshape(height, width),
        np.array(kernel, dtype=np.float32).reshape(kernel_height, kernel_width),
    )


def test_seed_example_keeps_height_before_width_and_gives_10x10_same_and_8x8_valid():
    image = np.zeros((10, 10))
    kernel = np.ones((3, 3))
    assert lesson.as_batch(image).shape == (1, 10, 10, 1)
    assert lesson.as_filter(kernel).shape == (3, 3, 1, 1)
    same = tf.nn.conv2d(lesson.as_batch(image), lesson.as_filter(kernel), strides=1, padding="SAME")
    valid = tf.nn.conv2d(lesson.as_batch(image), lesson.as_filter(kernel), strides=1, padding="VALID")
    assert str(same.shape) == "(1, 10, 10, 1)"
    assert str(valid.shape) == "(1, 8, 8, 1)"


def test_non_square_input_and_filter_keep_height_before_width():
    result = tf.nn.conv2d(lesson.as_batch(np.zeros((6, 9))), lesson.as_filter(np.zeros((2, 4))), 1, "VALID")
    assert result.shape == (1, 5, 6, 1)


PADDINGS = ["VALID", "SAME", 0, 1, 2, 3, (0, 1), (1, 0), (2, 1), (0, 3)]


def grid():
    """(n, k, stride, dilation) over the grid TensorFlow takes: stride > 1 with dilation > 1 is left out."""
    for n, k, stride, dilation in itertools.product(range(1, 13), range(1, 6), range(1, 4), range(1, 4)):
        if stride == 1 or dilation == 1:
            yield n, k, stride, dilation


def test_conv_output_size_matches_traced_tensorflow_on_the_whole_grid():
    mismatches = []
    for (n, k, stride, dilation), padding in itertools.product(grid(), PADDINGS):
        expected = lesson.conv_output_size(n, k, stride, padding, dilation)
        traced = lesson.tensorflow_output_size(n, k, stride, padding, dilation)
        if (traced or 0) != expected:
            mismatches.append((n, k, stride, dilation, padding, expected, traced))
    assert mismatches == []


def test_same_equals_explicit_padding_with_tensorflows_split_on_the_whole_grid():
    rng = np.random.default_rng(0)
    for n, k, stride, dilation in grid():
        image = rng.integers(-9, 10, size=(n, n)).astype(np.float32)
        kernel = rng.integers(-3, 4, size=(k, k)).astype(np.float32)
        split = lesson.tensorflow_same_padding(n, k, stride, dilation)
        same = lesson.tensorflow_conv2d(image, kernel, "SAME", stride, dilation)
        assert same.shape == (-(-n // stride),) * 2
        np.testing.assert_array_equal(same, lesson.tensorflow_conv2d(image, kernel, split, stride, dilation))
        np.testing.assert_array_equal(same, lesson.correlate_padded(image, kernel, split, stride, dilation))


@settings(max_examples=60, deadline=None)
@given(image_and_kernel(), st.integers(0, 3), st.integers(0, 3), st.integers(1, 3), st.integers(1, 2))
def test_our_padded_strided_dilated_correlation_equals_tensorflow(case, before, after, stride, dilation):
    image, kernel = case
    if stride > 1 and dilation > 1:
        dilation = 1
    size = lesson.conv_output_size(image.shape[0], kernel.shape[0], stride, (before, after), dilation)
    width = lesson.conv_output_size(image.shape[1], kernel.shape[1], stride, (before, after), dilation)
    if size == 0 or width == 0:
        return
    ours = lesson.correlate_padded(image, kernel, (before, after), stride, dilation)
    theirs = lesson.tensorflow_conv2d(image, kernel, (before, after), stride, dilation)
    assert ours.shape == (size, width)
    np.testing.assert_array_equal(ours, theirs)


def test_valid_is_no_padding():
    for n, k in [(10, 3), (7, 2), (5, 5)]:
        assert lesson.conv_output_size(n, k, padding="VALID") == lesson.conv_output_size(n, k, padding=0) == n - k + 1
        assert lesson.padding_pair(n, k, padding="valid") == (0, 0)


def test_int_padding_is_the_same_on_both_sides_and_a_pair_is_before_after():
    assert lesson.conv_output_size(5, 3, stride=2, padding=1) == 3
    assert lesson.conv_output_size(10, 3, padding=1) == 10
    assert lesson.conv_output_size(10, 3, padding=2) == 12
    assert lesson.conv_output_size(10, 3, padding=(0, 1)) == 9
    assert lesson.conv_output_size(10, 3, padding=[2, 0]) == 10


def test_tensorflow_pads_zero_before_and_one_after_for_n_10_k_3_stride_2():
    assert lesson.tensorflow_same_padding(10, 3, stride=2) == (0, 1)
    assert lesson.tensorflow_same_padding(9, 3, stride=2) == (1, 1)


def test_half_and_full_padding_conventions():
    for k in (1, 3, 5, 7):
        assert lesson.conv_output_size(10, k, padding=(k - 1) // 2) == 10
        assert lesson.conv_output_size(10, k, padding=k - 1) == 10 + k - 1
    image = np.arange(30, dtype=np.float32).reshape(5, 6)
    kernel = np.array([[1, 2, 0], [0, -1, 3]], dtype=np.float32)
    np.testing.assert_array_equal(
        lesson.correlate_padded(image[:, :5], kernel[:, :2], (1, 1)),
        scipy.signal.correlate2d(image[:, :5], kernel[:, :2], "full"),
    )


def test_padding_1_at_stride_2_is_not_tensorflows_same():
    image = np.random.default_rng(6).integers(0, 10, size=(10, 10)).astype(np.float32)
    kernel = np.random.default_rng(7).integers(-2, 3, size=(3, 3)).astype(np.float32)
    torch_style = lesson.correlate_padded(image, kernel, (1, 1), stride=2)
    tf_same = lesson.tensorflow_conv2d(image, kernel, "SAME", stride=2)
    assert torch_style.shape == tf_same.shape == (5, 5)
    assert not np.array_equal(torch_style, tf_same)
    np.testing.assert_array_equal(torch_style, lesson.tensorflow_conv2d(image, kernel, 1, stride=2))


def test_rule_gives_zero_exactly_when_tensorflow_refuses_to_trace_the_layer():
    assert lesson.conv_output_size(4, 5) == 0
    assert lesson.tensorflow_output_size(4, 5) is None
    assert lesson.conv_output_size(4, 3, dilation=2) == 0
    assert lesson.tensorflow_output_size(4, 3, dilation=2) is None
    assert lesson.conv_output_size(4, 5, padding="SAME") == 4
    assert lesson.tensorflow_output_size(4, 5, padding="SAME") == 4


@pytest.mark.parametrize("n, k, stride, dilation", [(7, 2, 2, 2), (9, 3, 2, 2), (9, 3, 3, 2), (12, 2, 2, 3)])
def test_tf_nn_conv2d_on_the_cpu_takes_stride_with_dilation_and_follows_the_rule(n, k, stride, dilation):
    with tf.device("/CPU:0"):
        result = tf.nn.conv2d(tf.zeros([1, n, n, 1]), tf.zeros([k, k, 1, 1]), stride, "VALID", dilations=dilation)
    assert result.shape[1] == lesson.conv_output_size(n, k, stride, "VALID", dilation)


def test_keras_refuses_stride_with_dilation_but_accepts_either_alone():
    assert lesson.keras_refusal(stride=2, dilation=2).startswith("ValueError: ")
    assert lesson.keras_refusal(stride=2, dilation=1) == "accepted"
    assert lesson.keras_refusal(stride=1, dilation=2) == "accepted"


def test_conv_output_size_known_values_and_case_insensitive_padding():
    assert lesson.conv_output_size(10, 3) == 8
    assert lesson.conv_output_size(10, 3, padding="valid") == 8
    assert lesson.conv_output_size(10, 3, padding="Same") == 10
    assert lesson.conv_output_size(10, 3, stride=2) == 4
    assert lesson.conv_output_size(10, 3, stride=3, padding="SAME") == 4
    assert lesson.conv_output_size(10, 3, dilation=2) == 6
    assert lesson.conv_output_size(3, 3) == 1


@pytest.mark.parametrize("padding", ["FULL", "", "SAMEX", None, 1.5, True, "1", (1,), (1, 2, 3), (1.0, 0), {1: 2}])
def test_conv_output_size_rejects_malformed_padding(padding):
    with pytest.raises(ValueError, match="^padding must be 'SAME', 'VALID', an int or a pair"):
        lesson.conv_output_size(10, 3, padding=padding)


@pytest.mark.parametrize("padding", [-1, (-1, 0), (0, -2)])
def test_conv_output_size_rejects_negative_padding(padding):
    with pytest.raises(ValueError, match="^padding must not be negative"):
        lesson.conv_output_size(10, 3, padding=padding)


@pytest.mark.parametrize(
    "arguments, name",
    [((0, 3), "n"), ((-1, 3), "n"), ((10, 0), "k"), ((10, -2), "k")],
)
def test_conv_output_size_rejects_non_positive_sizes(arguments, name):
    with pytest.raises(ValueError, match=f"^{name} must be a positive integer"):
        lesson.conv_output_size(*arguments)


@pytest.mark.parametrize("keyword", ["stride", "dilation"])
@pytest.mark.parametrize("value", [0, -1])
def test_conv_output_size_rejects_non_positive_stride_and_dilation(keyword, value):
    with pytest.raises(ValueError, match=f"^{keyword} must be a positive integer"):
        lesson.conv_output_size(10, 3, **{keyword: value})


def test_same_padding_puts_the_odd_zero_after():
    assert lesson.tensorflow_same_padding(7, 1) == (0, 0)
    assert lesson.tensorflow_same_padding(7, 2) == (0, 1)
    assert lesson.tensorflow_same_padding(7, 3) == (1, 1)
    assert lesson.tensorflow_same_padding(7, 4) == (1, 2)
    assert lesson.tensorflow_same_padding(7, 3, dilation=2) == (2, 2)
    assert lesson.tensorflow_same_padding(2, 5, stride=3) == (1, 2)


@pytest.mark.parametrize("keyword", ["n", "k", "stride", "dilation"])
def test_same_padding_rejects_non_positive_arguments(keyword):
    arguments = {"n": 10, "k": 3, "stride": 1, "dilation": 1, keyword: 0}
    with pytest.raises(ValueError, match=f"^{keyword} must be a positive integer"):
        lesson.tensorflow_same_padding(**arguments)


@settings(max_examples=200, deadline=None)
@given(image_and_kernel())
def test_tensorflow_valid_is_correlate2d_and_convolve2d_with_the_flipped_kernel(case):
    image, kernel = case
    result = lesson.tensorflow_conv2d(image, kernel, "VALID")
    np.testing.assert_array_equal(result, lesson_2d.correlate2d(image, kernel, "valid"))
    np.testing.assert_array_equal(result, scipy.signal.correlate2d(image, kernel, "valid"))
    np.testing.assert_array_equal(result, lesson_2d.convolve2d(image, kernel[::-1, ::-1], "valid"))


@settings(max_examples=200, deadline=None)
@given(image_and_kernel())
def test_tensorflow_same_pads_the_odd_zero_after_and_matches_scipy_correlate2d_same(case):
    image, kernel = case
    top, bottom = lesson.tensorflow_same_padding(image.shape[0], kernel.shape[0])
    left, right = lesson.tensorflow_same_padding(image.shape[1], kernel.shape[1])
    result = lesson.tensorflow_conv2d(image, kernel, "SAME")
    padded = np.pad(image, ((top, bottom), (left, right)))
    np.testing.assert_array_equal(result, lesson_2d.correlate2d(padded, kernel, "valid"))
    np.testing.assert_array_equal(result, scipy.signal.correlate2d(image, kernel, "same"))
    np.testing.assert_array_equal(result, lesson_2d.correlate2d(image, kernel, "same"))
    # convolve2d 'same' with the flipped kernel pads the odd zero before instead.
    padded_before = np.pad(image, ((bottom, top), (right, left)))
    np.testing.assert_array_equal(
        lesson_2d.convolve2d(image, kernel[::-1, ::-1], "same"),
        lesson_2d.correlate2d(padded_before, kernel, "valid"),
    )


def test_convolve2d_same_is_one_pixel_off_for_an_even_kernel():
    image = np.arange(36, dtype=np.float32).reshape(6, 6) ** 2
    kernel = np.array([[1, 2], [3, 5]], dtype=np.float32)
    result = lesson.tensorflow_conv2d(image, kernel, "SAME")
    assert not np.array_equal(result, lesson_2d.convolve2d(image, kernel[::-1, ::-1], "same"))
    np.testing.assert_array_equal(result, scipy.signal.correlate2d(image, kernel, "same"))


def test_tensorflow_with_sobel_x_flipped_gives_the_convolution_with_sobel_x_of_the_image_lesson():
    np.testing.assert_array_equal(lesson.SOBEL_X, image_lesson.SOBEL_X)
    image = np.zeros((10, 10), dtype=np.float32)
    image[2:8, 3:7] = 1
    result = lesson.tensorflow_conv2d(image, np.flip(lesson.SOBEL_X), "VALID")
    np.testing.assert_array_equal(result, lesson_2d.convolve2d(image, image_lesson.SOBEL_X, "valid"))
    np.testing.assert_array_equal(result[2], [0, -4, -4, 0, 0, 4, 4, 0])


def test_each_output_channel_sums_correlate2d_over_all_input_channels():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 4, size=(1, 5, 7, 3)).astype(np.float32)
    filters = rng.integers(-1, 2, size=(3, 3, 3, 4)).astype(np.float32)
    result = tf.nn.conv2d(images, filters, strides=1, padding="SAME")
    assert result.shape == (1, 5, 7, 4)
    np.testing.assert_array_equal(result.numpy(), lesson.sum_over_input_channels(images, filters))


def test_dense_and_conv_parameter_counts():
    dense, conv = lesson.dense_and_conv_layers(28)
    assert dense.count_params() == 784 * 784 + 784 == 615_440
    assert conv.count_params() == 3 * 3 + 1 == 10
    assert conv(tf.zeros([1, 28, 28, 1])).shape == (1, 28, 28, 1)
    assert dense(tf.zeros([1, 784])).shape == (1, 784)


def test_learned_kernel_is_within_1e_3_of_the_laplacian():
    picture = np.random.default_rng(5).uniform(size=(24, 24)).astype(np.float32)
    target = lesson.tensorflow_conv2d(picture, lesson.LAPLACIAN, "VALID")
    start, learned, losses = lesson.learn_kernel(picture, target)
    assert np.abs(start - lesson.LAPLACIAN).max() > 1
    assert np.abs(learned - lesson.LAPLACIAN).max() < 1e-3
    assert losses.shape == (301,)
    assert losses[-1] < 1e-9 * losses[0]


def test_a_kernel_that_made_the_data_by_true_convolution_is_learned_flipped():
    picture = np.random.default_rng(5).uniform(size=(24, 24)).astype(np.float32)
    target = lesson_2d.convolve2d(picture, lesson.SOBEL_X, "valid")
    _, learned, _ = lesson.learn_kernel(picture, target, seed=1)
    assert np.abs(learned - np.flip(lesson.SOBEL_X)).max() < 1e-3
    assert np.abs(learned - lesson.SOBEL_X).max() > 3.9


def test_learning_is_repeatable():
    picture = np.random.default_rng(1).uniform(size=(8, 8)).astype(np.float32)
    target = lesson.tensorflow_conv2d(picture, lesson.LAPLACIAN, "VALID")
    first = lesson.learn_kernel(picture, target, steps=20)
    second = lesson.learn_kernel(picture, target, steps=20)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_a_1x1_convolution_is_a_matrix_multiply_of_each_pixels_channels():
    rng = np.random.default_rng(3)
    images = rng.normal(size=(2, 4, 5, 6)).astype(np.float32)
    weights = rng.normal(size=(6, 3)).astype(np.float32)
    bias = rng.normal(size=3).astype(np.float32)
    conv = tf.nn.conv2d(images, weights[np.newaxis, np.newaxis], strides=1, padding="VALID") + bias
    np.testing.assert_allclose(lesson.pointwise_as_matmul(images, weights, bias), conv.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(
        lesson.pointwise_as_matmul(images[:, :1, :1], weights, bias)[0, 0, 0],
        images[0, 0, 0] @ weights + bias,
    )


@pytest.mark.parametrize("k_h, k_w, c_in, c_out", [(3, 3, 1, 1), (3, 3, 1, 8), (3, 3, 8, 16), (5, 5, 3, 32), (1, 1, 16, 4), (2, 4, 3, 5)])
def test_parameter_count_rule_matches_keras(k_h, k_w, c_in, c_out):
    conv = lesson.keras.layers.Conv2D(c_out, (k_h, k_w))
    conv.build((None, 12, 12, c_in))
    assert lesson.conv_parameter_count(k_h, k_w, c_in, c_out) == conv.count_params()


def test_dilate_spreads_the_taps():
    spread = lesson.dilate(np.array([[1, 2], [3, 4]]), 3)
    assert spread.shape == (4, 4)
    np.testing.assert_array_equal(spread[::3, ::3], [[1, 2], [3, 4]])
    assert spread.sum() == 10


def test_lesson_runs_as_a_learner_would(run_lesson):
    process, out = run_lesson(SCRIPT)
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    for expected in [
        "(1, 10, 10, 1)",
        "(1, 8, 8, 1)",
        "(3, 3, 1, 1)",
        "10 - 3 + 1 = 8",
        "TensorFlow == our correlate2d (1_2D.py): True",
        "TensorFlow == scipy.signal.correlate2d:  True",
        "TensorFlow == convolve2d, kernel flipped: True",
        "(1, 6, 6, 4)",
        "615,440 = 784 * 784 weights + 784 biases",
        "10 = 3 * 3 weights + 1 bias",
        "Sobel x, the operation 3_image.py applies: True",
        "below 1e-3: True",
    ]:
        assert expected in process.stdout
    loss_lines = [line for line in process.stdout.splitlines() if line.startswith("loss after")]
    assert [line.split(":")[0] for line in loss_lines] == [f"loss after {n:3d} steps" for n in range(0, 301, 50)]
    assert "False (max difference 8)" in process.stdout
    assert "[[ 1.0000  0.0000 -1.0000]" in process.stdout
    assert "max |learned - Sobel x flipped|" in process.stdout
    assert "So with n = 10, k = 3, s = 2 TensorFlow pads (0, 1), not (1, 1)." in process.stdout
    assert "The rule and TensorFlow agree on every row: True" in process.stdout
    assert "and VALID equals p = 0: True" in process.stdout
    assert "it equals tf.nn.conv2d: True" in process.stdout
    assert "The rule and Keras agree: True" in process.stdout
    assert process.stdout.count("ours == tf.nn.conv2d: True") == len(lesson.ANIMATIONS)
    assert "traced 2 times" in process.stdout
    for name in ("tf_dense_vs_conv.png", "tf_learning_loss.png", "tf_learned_kernels.png", "tf_channels.png"):
        assert (out / name).stat().st_size > 0
    for name, *_ in lesson.ANIMATIONS:
        with Image.open(out / f"{name}.gif") as gif:
            assert gif.n_frames > 1
            sizes = set()
            for index in range(gif.n_frames):
                gif.seek(index)
                sizes.add(gif.size)
            assert len(sizes) == 1
        assert (out / f"{name}.gif").stat().st_size < 400_000


def test_each_animation_has_one_frame_per_output_cell():
    for name, title, n, k, padding, stride, dilation in lesson.ANIMATIONS:
        frames = lesson.padding_frames(title, n, k, padding, stride, dilation)
        assert len(frames) == lesson.conv_output_size(n, k, stride, padding, dilation) ** 2
        assert len({frame.size for frame in frames}) == 1


def test_figures_are_byte_identical_every_time():
    import io

    import matplotlib.pyplot as plt

    picture = np.random.default_rng(1).uniform(size=(8, 8)).astype(np.float32)
    target = lesson.tensorflow_conv2d(picture, lesson.LAPLACIAN, "VALID")
    start, learned, losses = lesson.learn_kernel(picture, target, steps=20)
    rng = np.random.default_rng(8)
    images, filters = rng.integers(0, 3, (4, 4, 3)), rng.integers(-1, 2, (3, 3, 3, 2))
    makers = [
        lesson.connections_figure,
        lambda: lesson.loss_figure({"Laplacian": losses}),
        lambda: lesson.kernels_figure([("Laplacian data", [("start", start), ("learned", learned)])]),
        lambda: lesson.channels_figure(images, filters, np.array([1, -2])),
    ]
    for make in makers:
        renders = []
        for _ in range(2):
            fig = make()
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png")
            plt.close(fig)
            renders.append(buffer.getvalue())
        assert renders[0] == renders[1]
