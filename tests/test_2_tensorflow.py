"""Tests for 2_TensorFlow.py: layouts and shapes, the output-size rule against TensorFlow,
unread pixels, SAME in TensorFlow, PyTorch and ONNX, pooling's rounding, padding modes,
TensorFlow against our correlate2d/convolve2d and SciPy, channels, parameter counts, the
fitted kernel, what each figure and animation draws, the playground, and the script run
as a learner would."""

import importlib
import itertools

import matplotlib.pyplot as plt
import numpy as np
import pytest
import scipy.signal
from PIL import Image
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import assert_readable

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


@pytest.mark.parametrize("n", range(5, 14))
def test_padding_1_equals_same_at_stride_2_for_odd_n_only(n):
    rng = np.random.default_rng(n)
    image = rng.integers(0, 10, size=(n, n)).astype(np.float32)
    kernel = rng.integers(-2, 3, size=(3, 3)).astype(np.float32)
    torch_style = lesson.correlate_padded(image, kernel, (1, 1), stride=2)
    tf_same = lesson.tensorflow_conv2d(image, kernel, "SAME", stride=2)
    assert torch_style.shape == tf_same.shape
    np.testing.assert_array_equal(torch_style, lesson.tensorflow_conv2d(image, kernel, 1, stride=2))
    assert lesson.tensorflow_same_padding(n, 3, 2) == ((1, 1) if n % 2 else (0, 1))
    assert np.array_equal(torch_style, tf_same) == bool(n % 2)
    np.testing.assert_array_equal(lesson.correlate_padded(image, kernel, (1, 1)), lesson.tensorflow_conv2d(image, kernel, "SAME"))


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


def test_sobel_x_cannot_show_a_flip_and_g_can():
    assert not lesson.flip_is_visible(lesson.SOBEL_X)
    np.testing.assert_array_equal(lesson.turned(lesson.SOBEL_X), -lesson.SOBEL_X)
    assert not lesson.flip_is_visible(lesson.LAPLACIAN)
    assert lesson.flip_is_visible(lesson.KERNEL_G)
    turned = lesson.turned(lesson.KERNEL_G)
    assert not np.array_equal(turned, lesson.KERNEL_G) and not np.array_equal(turned, -lesson.KERNEL_G)
    np.testing.assert_array_equal(turned, [[3, 2], [1, -1]])


def test_tensorflow_with_g_turned_gives_the_convolution_of_the_2d_lesson():
    np.testing.assert_array_equal(
        lesson.tensorflow_conv2d(lesson.IMAGE_I, lesson.turned(lesson.KERNEL_G), "VALID"), [[751, 263], [1118, 714]]
    )
    correlation = lesson.tensorflow_conv2d(lesson.IMAGE_I, lesson.KERNEL_G, "VALID")
    np.testing.assert_array_equal(correlation, [[896, 488], [1112, 886]])
    assert not np.array_equal(correlation, lesson_2d.convolve2d(lesson.IMAGE_I, lesson.KERNEL_G, "valid"))
    assert not np.array_equal(correlation, -lesson_2d.convolve2d(lesson.IMAGE_I, lesson.KERNEL_G, "valid"))


def test_layouts_example_uses_sobel_x_as_the_image_lesson_writes_it():
    np.testing.assert_array_equal(lesson.SOBEL_X, image_lesson.SOBEL_X)
    image = np.zeros((10, 10), dtype=np.float32)
    image[2:8, 3:7] = 1
    result = lesson.tensorflow_conv2d(image, lesson.SOBEL_X, "VALID")
    np.testing.assert_array_equal(result[2], [0, 4, 4, 0, 0, -4, -4, 0])


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


def test_a_kernel_that_made_the_data_by_true_convolution_is_learned_turned():
    picture = np.random.default_rng(5).uniform(size=(24, 24)).astype(np.float32)
    target = lesson_2d.convolve2d(picture, lesson.KERNEL_G, "valid")
    _, learned, _ = lesson.learn_kernel(picture, target, lesson.KERNEL_G.shape, seed=1)
    assert np.abs(learned - lesson.turned(lesson.KERNEL_G)).max() < 1e-3
    assert np.abs(learned - lesson.KERNEL_G).max() > 3.9
    assert np.abs(learned + lesson.KERNEL_G).max() > 2.9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_least_squares_fit_has_one_minimum_which_gradient_descent_finds(seed):
    rng = np.random.default_rng(seed)
    picture = rng.uniform(size=(16, 16)).astype(np.float32)
    kernel = rng.normal(size=(3, 3)).astype(np.float32)
    target = lesson.tensorflow_conv2d(picture, kernel, "VALID")
    solved, rank = lesson.least_squares_kernel(picture, target, (3, 3))
    assert rank == 9
    np.testing.assert_allclose(solved, kernel, atol=1e-4)
    _, learned, losses = lesson.learn_kernel(picture, target, seed=seed)
    np.testing.assert_allclose(learned, solved, atol=1e-3)
    assert np.all(np.diff(losses) <= 1e-7 * losses[0])


def test_patch_matrix_times_the_kernel_is_the_cross_correlation():
    rng = np.random.default_rng(4)
    image, kernel = rng.normal(size=(6, 7)), rng.normal(size=(2, 3))
    product = lesson.patch_matrix(image, kernel.shape) @ kernel.ravel()
    np.testing.assert_allclose(product.reshape(5, 5), scipy.signal.correlate2d(image, kernel, "valid"), atol=1e-12)


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
    np.testing.assert_allclose(
        lesson.pointwise_as_matmul(images[:, :1, :1], weights, bias)[0, 0, 0],
        images[0, 0, 0] @ weights + bias,
        rtol=1e-5, atol=1e-5,
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




# Pixels no window reads ---------------------------------------------------------------------


@pytest.mark.parametrize("padding", ["VALID", "SAME", 1, (0, 1), (2, 1)])
def test_unread_pixels_are_where_tensorflows_gradient_is_zero(padding):
    for n, k, stride, dilation in itertools.product(range(1, 11), range(1, 5), range(1, 4), range(1, 3)):
        if lesson.conv_output_size(n, k, stride, padding, dilation) == 0:
            continue
        ours = lesson.unread_pixels(n, k, stride, padding, dilation)
        assert ours == lesson.tensorflow_unread_pixels(n, k, stride, padding, dilation), (n, k, stride, dilation)
        if dilation == 1 and k >= stride:
            r = lesson.positions_past_the_last_window(n, k, stride, padding, dilation)
            _, after = lesson.padding_pair(n, k, stride, padding, dilation)
            assert ours == list(range(n - max(r - after, 0), n))


def test_the_pooling_of_an_11_wide_map_never_reads_its_last_pixel():
    assert lesson.positions_past_the_last_window(11, 2, 2) == 1
    assert lesson.unread_pixels(11, 2, 2) == [10]
    assert lesson.unread_pixels(10, 3, 2, "SAME") == []
    assert lesson.unread_pixels(12, 2, 3) == [2, 5, 8, 11]


# Pooling, PyTorch, ONNX and padding modes ----------------------------------------------------


@pytest.mark.parametrize("n, k, stride", [(n, k, s) for n in range(1, 14) for k in (2, 3) for s in (1, 2, 3)])
def test_pooling_rounds_down_in_tensorflow_and_up_with_ceil_mode(n, k, stride):
    down = lesson.pooled_output_size(n, k, stride)
    if n >= k:
        assert tf.nn.max_pool2d(tf.zeros([1, n, n, 1]), k, stride, "VALID").shape[1] == down
    assert down == lesson.conv_output_size(n, k, stride)
    up = lesson.pooled_output_size(n, k, stride, ceil_mode=True)
    if n >= k:
        assert up == down + ((n - k) % stride != 0 and down * stride < n)
        assert (up - 1) * stride < n


def test_pooled_output_size_known_values():
    assert lesson.pooled_output_size(11, 2) == 5
    assert lesson.pooled_output_size(11, 2, ceil_mode=True) == 6
    assert lesson.pooled_output_size(8, 3, 2, ceil_mode=True) == 4
    assert lesson.pooled_output_size(5, 1, 3, ceil_mode=True) == 2
    assert lesson.pooled_output_size(1, 2) == 0


def test_same_lower_is_the_mirrored_split_and_keeps_ceil_n_over_s():
    rng = np.random.default_rng(0)
    for n, k, stride in itertools.product(range(1, 11), range(1, 5), range(1, 4)):
        upper = lesson.tensorflow_same_padding(n, k, stride)
        assert lesson.same_lower_padding(n, k, stride) == upper[::-1]
        image = rng.integers(0, 10, size=(n, n)).astype(np.float32)
        kernel = rng.integers(-2, 3, size=(k, k)).astype(np.float32)
        lower = lesson.tensorflow_conv2d(image, kernel, lesson.same_lower_padding(n, k, stride), stride)
        assert lower.shape == (-(-n // stride),) * 2
        if stride == 1:
            mirrored = lesson.tensorflow_conv2d(lesson.turned(image), lesson.turned(kernel), "SAME")
            np.testing.assert_array_equal(lower, lesson.turned(mirrored))


@pytest.mark.parametrize("k, dilation", [(1, 1), (2, 1), (3, 1), (4, 1), (5, 1), (3, 2), (4, 3)])
def test_pytorch_same_at_stride_1_is_tensorflows_split_for_every_n(k, dilation):
    for n in range(1, 15):
        assert lesson.torch_same_padding(k, dilation) == lesson.tensorflow_same_padding(n, k, 1, dilation)


@pytest.mark.parametrize("numpy_mode, tf_mode", [(mode[1], mode[2]) for mode in lesson.PADDING_MODES if mode[2]])
def test_tf_pad_modes_equal_np_pad_modes(numpy_mode, tf_mode):
    rng = np.random.default_rng(1)
    for _ in range(10):
        image = rng.integers(0, 10, size=tuple(rng.integers(3, 7, size=2)))
        widths = [[int(rng.integers(0, 3)), int(rng.integers(0, 3))] for _ in range(2)]
        np.testing.assert_array_equal(tf.pad(image, widths, mode=tf_mode).numpy(), np.pad(image, widths, mode=numpy_mode))


def test_scipy_boundary_names_are_the_np_pad_modes_the_table_gives():
    image = np.arange(12.0).reshape(3, 4)
    kernel = np.arange(9.0).reshape(3, 3) - 4
    for _, numpy_mode, _, _, scipy_mode in lesson.PADDING_MODES:
        if scipy_mode:
            padded = np.pad(image, 1, mode=numpy_mode)
            np.testing.assert_allclose(
                scipy.signal.correlate2d(image, kernel, "same", boundary=scipy_mode),
                scipy.signal.correlate2d(padded, kernel, "valid"),
            )


# Figures: what they draw ------------------------------------------------------------------


def case_values(n, k, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 10, size=(n, n)).astype(np.float32), rng.integers(-2, 3, size=(k, k)).astype(np.float32)


@pytest.mark.parametrize("name, title, n, k, padding, stride, dilation", lesson.ANIMATIONS)
def test_each_animation_visits_every_window_once_and_fills_the_output_with_tensorflows_values(
    name, title, n, k, padding, stride, dilation
):
    image, kernel = case_values(n, k)
    frames, states = lesson.padding_frames(title, image, kernel, padding, stride, dilation, lesson.animation_canvas())
    size = lesson.conv_output_size(n, k, stride, padding, dilation)
    assert len(frames) == len(states) == size * size
    assert [state["output"] for state in states] == [(r, c) for r in range(size) for c in range(size)]
    assert [state["window"] for state in states] == [(r * stride, c * stride) for r in range(size) for c in range(size)]
    values = np.array([state["value"] for state in states]).reshape(size, size)
    np.testing.assert_array_equal(values, lesson.tensorflow_conv2d(image, kernel, padding, stride, dilation))
    assert {frame.size for frame in frames} == {(lesson.ANIMATION_PX, frames[0].size[1])}


def test_the_six_animations_share_one_canvas_and_are_readable_at_half_the_column():
    canvas = lesson.animation_canvas()
    sizes = set()
    for name, title, n, k, padding, stride, dilation in lesson.ANIMATIONS:
        image, kernel = case_values(n, k)
        figure, _ = lesson.arithmetic_picture(title, image, kernel, padding, stride, dilation, canvas)
        sizes.add(tuple(figure.get_size_inches().round(3)))
        assert_readable(figure, f"{name}.gif")
        texts = lesson.figure_texts(figure)
        assert title in texts
        assert lesson.size_rule_text(n, k, stride, padding, dilation).split(": ")[1] in texts
        plt.close(figure)
    assert len(sizes) == 1
    assert round(sizes.pop()[0] * 100) == lesson.ANIMATION_PX


def test_animation_durations_hold_the_first_row_and_keep_a_large_output_short():
    assert lesson.animation_durations(3)[:3] == [800] * 3
    durations = lesson.lessonkit.frame_durations(49, lesson.animation_durations(7))
    assert sum(durations) < 16_000
    assert durations[-1] >= lesson.lessonkit.HOLD_LAST_FRAME_MS


def test_stride_2_frames_say_how_far_the_window_moved():
    image, kernel = case_values(5, 3)
    figure, parts = lesson.arithmetic_picture("No padding, stride 2", image, kernel, 0, 2, 1)
    lesson.place_window(parts, 1)
    assert parts["previous"].get_visible() and parts["previous"].get_xy() == (0, 0)
    assert parts["window"].get_xy() == (2, 0)
    assert parts["where"].get_text().startswith("window at rows 0-2, columns 2-4, 2 to the right")
    plt.close(figure)


def test_channels_figure_draws_each_channel_its_partial_maps_and_the_relu_output():
    rng = np.random.default_rng(8)
    images, filters = rng.integers(0, 3, (4, 4, 3)), rng.integers(-1, 2, (3, 3, 3, 2))
    bias = np.array([1, 5])
    figure = lesson.channels_figure(images, filters, bias)
    assert_readable(figure, "tf_channels.png")
    texts = lesson.figure_texts(figure)
    for c in range(3):
        assert f"input channel {c}" in texts
        assert texts.count(f"channel {c}") == 2
    assert texts.count("\u22c6") == 6
    assert texts.count("before ReLU") == 2
    assert "output 0" in texts and "output 1" in texts
    assert any("then ReLU" in text for text in texts)
    assert "sum of\nthe 3\n+ b1 (5)\n=" in texts
    assert any(text.startswith("each output = ReLU(channel 0 \u22c6 slice 0") for text in texts)
    assert lesson.lessonkit.COLOURS["window"] not in lesson.CHANNEL_EDGES
    layer = np.maximum(sum(scipy.signal.correlate2d(images[:, :, c], filters[:, :, c, 1], "valid") for c in range(3)) + 5, 0)
    assert set(f"{v:g}" for v in layer.ravel()) <= set(texts)
    plt.close(figure)


def test_dense_against_conv_figure_names_weights_styles_and_the_padding_zeros():
    figure = lesson.connections_figure()
    assert_readable(figure, "tf_dense_vs_conv.png")
    texts = lesson.figure_texts(figure)
    for label in ("w0: input i-1", "w1: input i", "w2: input i+1", "padding zero"):
        assert label in texts
    assert any("64 weights" in text for text in texts)
    conv_ax = figure.axes[1]
    styles = {line.get_linestyle() for line in conv_ax.get_lines()}
    assert styles == {"-", "--", ":"}
    assert len(conv_ax.get_lines()) == 3 * 8
    plt.close(figure)


def test_learned_kernels_and_loss_figures_are_readable_and_titled_by_what_they_show():
    picture = np.random.default_rng(1).uniform(size=(8, 8)).astype(np.float32)
    target = lesson.tensorflow_conv2d(picture, lesson.LAPLACIAN, "VALID")
    start, learned, losses = lesson.learn_kernel(picture, target, steps=20)
    figure = lesson.kernels_figure([("Laplacian data", [("random start", start), ("learned", learned)]),
                                    ("g data", [("g turned 180\u00b0", lesson.turned(lesson.KERNEL_G))])], "a title")
    assert_readable(figure, "tf_learned_kernels.png")
    texts = lesson.figure_texts(figure)
    assert {"random start", "learned", "g turned 180\u00b0", "a title", "3.00", "-1.00"} <= set(texts)
    (bar,) = [ax for ax in figure.axes if ax.get_ylabel().startswith("weight")]
    assert bar.get_ylim() == pytest.approx((-3, 3))
    plt.close(figure)
    figure = lesson.loss_figure({"Laplacian": losses})
    assert_readable(figure, "tf_learning_loss.png")
    assert any("convex" in text for text in lesson.figure_texts(figure))
    plt.close(figure)


def test_figures_are_byte_identical_every_time():
    import io

    rng = np.random.default_rng(8)
    images, filters = rng.integers(0, 3, (4, 4, 3)), rng.integers(-1, 2, (3, 3, 3, 2))
    makers = [
        lesson.connections_figure,
        lambda: lesson.loss_figure({"Laplacian": np.geomspace(1, 1e-9, 30)}),
        lambda: lesson.kernels_figure([("Laplacian data", [("Laplacian", lesson.LAPLACIAN)])], "title"),
        lambda: lesson.channels_figure(images, filters, np.array([1, -2])),
        lambda: lesson.arithmetic_playground(6, 3, 2, "SAME"),
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


# The playground ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, k, stride, padding, dilation",
    [(5, 3, 1, "VALID", 1), (5, 3, 1, "SAME", 1), (6, 3, 2, "SAME", 1), (7, 3, 1, 0, 2), (10, 4, 3, (1, 2), 1),
     (12, 5, 2, 2, 2), (3, 1, 1, "valid", 1)],
)
def test_playground_writes_out_the_rule_equal_to_conv_output_size_and_fills_every_output(n, k, stride, padding, dilation):
    figure = lesson.arithmetic_playground(n, k, stride, padding, dilation)
    size = lesson.conv_output_size(n, k, stride, padding, dilation)
    before, after = lesson.padding_pair(n, k, stride, padding, dilation)
    texts = lesson.figure_texts(figure)
    rule = (f"o = floor(({n} + {before} + {after} - {dilation}*({k} - 1) - 1) / {stride}) + 1 = {size}")
    assert rule in texts
    assert f"output {size}x{size}" in texts
    assert f"n = {n}, k = {k}, p = ({before}, {after}), s = {stride}, d = {dilation}" in texts
    rng = np.random.default_rng(0)
    image = rng.integers(0, 10, size=(n, n)).astype(np.float32)
    kernel = rng.integers(-2, 3, size=(k, k)).astype(np.float32)
    expected = lesson.tensorflow_conv2d(image, kernel, padding, stride, dilation)
    out_texts = [text for text in figure.axes[0].texts]
    assert any(text.get_text().endswith(f"output ({size - 1}, {size - 1}) = {expected[-1, -1]:g}") for text in out_texts)
    drawn = sorted(text for text in texts if text.lstrip("-").isdigit())
    for value in expected.ravel():
        assert f"{value:g}" in drawn
    assert_readable(figure, "playground.png")
    plt.close(figure)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ((0, 3), "n must be a positive integer, got 0"),
        ((5, 0), "k must be a positive integer, got 0"),
        ((5, 3, 0), "stride must be a positive integer, got 0"),
        ((5, 3, 1, "FULL"), "padding must be 'SAME', 'VALID', an int or a pair (before, after), got 'FULL'"),
        ((5, 3, 1, -1), "padding must not be negative, got -1"),
        ((5, 3, 1, "VALID", 0), "dilation must be a positive integer, got 0"),
        ((2, 3), "no window fits: the kernel spans 3 pixels, the padded input has 2"),
        ((20, 3, 1, 3), "n + p_before + p_after must be at most 24 to be drawn, got 26"),
    ],
)
def test_playground_refuses_bad_input_with_the_conv_output_size_message(arguments, message):
    with pytest.raises(ValueError) as refusal:
        lesson.arithmetic_playground(*arguments)
    assert str(refusal.value) == message
    if not message.startswith(("no window", "n + p_before")):
        with pytest.raises(ValueError) as same_refusal:
            lesson.conv_output_size(*arguments)
        assert str(same_refusal.value) == message


def test_playground_padding_menu_values():
    assert lesson.playground_padding("VALID") == "VALID"
    assert lesson.playground_padding("1") == 1
    assert lesson.playground_padding("(1, 2)") == (1, 2)


def test_interactive_playground_builds_sliders_that_draw(monkeypatch):
    import ipywidgets

    calls = {}

    def fake_interact(function, **widgets):
        calls["function"], calls["widgets"] = function, widgets
        return "widget"

    shown = []
    monkeypatch.setattr(ipywidgets, "interact", fake_interact)
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    assert lesson.interactive_playground() == "widget"
    assert set(calls["widgets"]) == {"n", "k", "stride", "dilation", "padding"}
    assert {"VALID", "SAME", "(0, 1)"} <= set(calls["widgets"]["padding"].options)
    calls["function"](n=6, k=3, stride=2, dilation=1, padding="SAME")
    assert len(shown) == 1
    assert "o = floor((6 + 0 + 1 - 1*(3 - 1) - 1) / 2) + 1 = 3" in lesson.figure_texts(shown[0])
    plt.close("all")


def test_interactive_playground_prints_the_error_of_a_bad_case(monkeypatch, capsys):
    import ipywidgets

    calls = {}
    monkeypatch.setattr(ipywidgets, "interact", lambda function, **widgets: calls.setdefault("function", function))
    lesson.interactive_playground()
    calls["function"](n=2, k=5, stride=1, dilation=1, padding="VALID")
    assert capsys.readouterr().out == "error: no window fits: the kernel spans 5 pixels, the padded input has 2\n"


# The script as a learner runs it ------------------------------------------------------------


def test_lesson_runs_as_a_learner_would(run_lesson):
    process, out = run_lesson(SCRIPT)
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    for expected in [
        "(1, 10, 10, 1)",
        "(1, 8, 8, 1)",
        "(3, 3, 1, 1)",
        "10 - 3 + 1 = 8",
        "The turned g is neither g nor -g, so a map shows whether the kernel was turned: True",
        "TensorFlow == our correlate2d (1_2D.py):  True",
        "TensorFlow == convolve2d with g:          False",
        "TensorFlow == convolve2d with g turned:   True",
        "equal to convolve2d(I, g): True",
        "The rule and TensorFlow agree on every row: True",
        "tf.nn.max_pool2d follows the rule: True",
        "The unread pixels are the last r - p_after, as TensorFlow's gradient says: True",
        "never reads [2, 5, 8, 11]; TensorFlow agrees: True",
        "The last covers pixels 8, 9 and 10; the image ends at pixel 9, so 10 is padding:",
        "n 5-12: equal at stride 1 and, at stride 2, for odd n: True",
        "n 5-12: different at stride 2 for even n: True",
        "(1, 6, 6, 4)",
        "ReLU(tf.nn.conv2d + bias): True",
        "The rule and Keras agree: True",
        "rounding (the two sum in different orders): True",
        "615,440 = 784 * 784 weights + 784 biases",
        "10 = 3 * 3 weights + 1 bias",
        "below 1e-3: True",
        "The patch matrix has rank 9 of 9: the error is a convex quadratic with one minimum.",
        "gives the same kernel (to 1e-3): True",
        "The learned kernel is g turned 180 degrees, to within 1e-3: True",
        "traced 2 times (float32, int32)",
        "traced for shapes [(3,), (4,), (5,)]",
        "and VALID equals p = 0: True",
        "SAME_LOWER also gives ceil(n / s): True",
        "turned back: True",
        "at stride 1 PyTorch's 'same' split equals TensorFlow's SAME: True",
        "here and on 20 seeded images with 0-2 values at each end: True",
    ]:
        assert expected in process.stdout, expected
    assert process.stdout.count("drawn == tf.nn.conv2d: True") == len(lesson.ANIMATIONS)
    headings = [line for line, underline in zip(process.stdout.splitlines(), process.stdout.splitlines()[1:])
                if underline and set(underline) == {"-"} and len(underline) == len(line)]
    assert headings.index("Convolution or cross-correlation?") < headings.index("TensorFlow 1, sessions and retracing")
    for name in ("tf_dense_vs_conv.png", "tf_learning_loss.png", "tf_learned_kernels.png", "tf_channels.png"):
        with Image.open(out / name) as picture:
            assert picture.width <= 880
    for name, *_ in lesson.ANIMATIONS:
        with Image.open(out / f"{name}.gif") as gif:
            assert gif.n_frames > 1
            assert gif.size[0] == lesson.ANIMATION_PX
            sizes = set()
            for index in range(gif.n_frames):
                gif.seek(index)
                sizes.add(gif.size)
            assert len(sizes) == 1
        assert (out / f"{name}.gif").stat().st_size < 300_000
