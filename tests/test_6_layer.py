"""Tests for 6_layer.py: the matrix K, im2col and its timing, the backward pass of a 2-D
correlation and of a whole layer, max-pool backward, the transposed convolution and its
sizes, separable kernels, depthwise-separable and grouped convolutions, each against
TensorFlow or Keras on random shapes, strides, channels and filters; what each figure
draws; the error messages; and the script run as a learner would."""

import importlib

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from conftest import assert_readable, texts

lesson = importlib.import_module("6_layer")
lesson_2d = importlib.import_module("1_2D")
digit = importlib.import_module("4_digit")
tf = lesson.tf
keras = lesson.keras

SCRIPT = "6_layer.py"
FEW = settings(max_examples=30, deadline=None)
VERY_FEW = settings(max_examples=10, deadline=None)
HEADINGS = (
    "Inside a convolution layer", "A convolution is a matrix", "One matrix multiply: im2col", "The backward pass",
    "With a stride: spread the gradient with zeros", "The backward pass of a whole layer",
    "Backward through max pooling", "The transposed convolution", "The transposed convolution as a convolution",
    "The output size of a transposed convolution", "Uneven overlap makes a checkerboard", "Separable kernels",
    "Depthwise-separable convolutions", "Grouped convolutions",
)
FIGURES = ("layer_matrix.png", "layer_im2col.png", "layer_transposed.gif", "layer_zero_insertion.png",
           "layer_separable.png")



def tf_conv(images, filters, stride=1, padding="VALID"):
    """tf.nn.conv2d in float64: images (B, H, W, C_in), filters (k_h, k_w, C_in, C_out)."""
    return tf.nn.conv2d(np.asarray(images, np.float64), np.asarray(filters, np.float64), stride, padding).numpy()


def tape_gradients(x, w, grad_y, stride):
    """(dL/dx, dL/dw) for L = sum(tf.nn.conv2d(x, w, VALID, stride) * grad_y), 2-D x and w."""
    image = tf.Variable(x[None, :, :, None])
    kernel = tf.Variable(w[:, :, None, None])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.nn.conv2d(image, kernel, stride, "VALID")[0, :, :, 0] * grad_y)
    grad_x, grad_w = tape.gradient(loss, [image, kernel])
    return grad_x.numpy()[0, :, :, 0], grad_w.numpy()[:, :, 0, 0]


@st.composite
def image_kernel_stride(draw, max_size=8):
    """Random float64 image (H, W) and kernel (k_h, k_w) that fits, and a stride 1..3."""
    height, width = draw(st.integers(1, max_size)), draw(st.integers(1, max_size))
    k_h, k_w = draw(st.integers(1, height)), draw(st.integers(1, width))
    stride = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.standard_normal((height, width)), rng.standard_normal((k_h, k_w)), stride


# A convolution is a matrix -------------------------------------------------------------------


@FEW
@given(image_kernel_stride())
def test_correlation_matrix_times_the_image_is_tensorflows_valid_convolution(case):
    image, kernel, stride = case
    matrix = lesson.correlation_matrix(kernel, image.shape, stride)
    expected = tf_conv(image[None, :, :, None], kernel[:, :, None, None], stride)[0, :, :, 0]
    assert matrix.shape == (expected.size, image.size)
    np.testing.assert_allclose(matrix @ image.ravel(), expected.ravel(), atol=1e-12)


@FEW
@given(image_kernel_stride())
def test_same_correlation_matrix_is_tensorflows_same_convolution(case):
    image, kernel, _ = case
    matrix = lesson.same_correlation_matrix(kernel, image.shape)
    expected = tf_conv(image[None, :, :, None], kernel[:, :, None, None], 1, "SAME")[0, :, :, 0]
    assert matrix.shape == (image.size, image.size)
    np.testing.assert_allclose(matrix @ image.ravel(), expected.ravel(), atol=1e-12)


def test_the_4x4_example_is_a_4x16_matrix_of_shifted_weights():
    kernel = np.arange(1, 10).reshape(3, 3)
    matrix = lesson.correlation_matrix(kernel, (4, 4))
    assert matrix.shape == (4, 16)
    assert list(matrix[0]) == [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0]
    assert list(matrix[3]) == [0] * 5 + [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9]


def test_the_28x28_matrix_has_the_dense_layers_shape_and_few_distinct_non_zeros():
    weights = np.random.default_rng(2).standard_normal((3, 3))
    matrix = lesson.same_correlation_matrix(weights, (28, 28))
    assert matrix.shape == (784, 784) and matrix.size + 784 == 615_440
    assert np.count_nonzero(matrix) == (26 * 3 + 2 * 2) ** 2 == 6_724
    assert len(np.unique(matrix[matrix != 0])) == 9
    assert f"{1 - 6_724 / matrix.size:.2%}" == "98.91%"


# im2col ----------------------------------------------------------------------------------------


@st.composite
def layer_case(draw):
    """Random NHWC images, HWIO filters that fit, and a stride."""
    count, channels, filters = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    height, width = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    k_h, k_w = draw(st.integers(1, height)), draw(st.integers(1, width))
    stride = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return (rng.standard_normal((count, height, width, channels)),
            rng.standard_normal((k_h, k_w, channels, filters)), stride)


@FEW
@given(layer_case())
def test_conv2d_im2col_equals_tensorflow_for_channels_filters_and_strides(case):
    images, filters, stride = case
    np.testing.assert_allclose(lesson.conv2d_im2col(images, filters, stride), tf_conv(images, filters, stride),
                               atol=1e-12)


@FEW
@given(layer_case())
def test_each_im2col_row_is_the_window_raveled_as_a_filter_ravels(case):
    images, filters, stride = case
    k_h, k_w = filters.shape[:2]
    patches = lesson.im2col(images[0], (k_h, k_w), stride)
    out_w = (images.shape[2] - k_w) // stride + 1
    for row, patch in enumerate(patches):
        i, j = divmod(row, out_w)
        window = images[0, stride * i : stride * i + k_h, stride * j : stride * j + k_w, :]
        np.testing.assert_array_equal(patch, window.ravel())
    assert patches.shape[1] == k_h * k_w * images.shape[3]


# The backward pass -----------------------------------------------------------------------------


@FEW
@given(image_kernel_stride())
def test_conv2d_backward_equals_gradient_tape(case):
    x, w, _ = case
    grad_y = np.random.default_rng(x.size).standard_normal((x.shape[0] - w.shape[0] + 1, x.shape[1] - w.shape[1] + 1))
    grad_x, grad_w = lesson.conv2d_backward(x, w, grad_y)
    tape_x, tape_w = tape_gradients(x, w, grad_y, 1)
    np.testing.assert_allclose(grad_x, tape_x, atol=1e-12)
    np.testing.assert_allclose(grad_w, tape_w, atol=1e-12)


@FEW
@given(image_kernel_stride())
def test_strided_backward_with_the_gradient_spread_by_zeros_equals_gradient_tape(case):
    x, w, stride = case
    shape = tuple((n - k) // stride + 1 for n, k in zip(x.shape, w.shape))
    grad_y = np.random.default_rng(x.size).standard_normal(shape)
    grad_x, grad_w = lesson.conv2d_backward_strided(x, w, grad_y, stride)
    tape_x, tape_w = tape_gradients(x, w, grad_y, stride)
    np.testing.assert_allclose(grad_x, tape_x, atol=1e-12)
    np.testing.assert_allclose(grad_w, tape_w, atol=1e-12)


def test_the_input_gradient_is_the_full_correlation_with_the_kernel_flipped():
    rng = np.random.default_rng(1)
    x, w, grad_y = rng.standard_normal((6, 5)), rng.standard_normal((3, 2)), rng.standard_normal((4, 4))
    grad_x, _ = lesson.conv2d_backward(x, w, grad_y)
    np.testing.assert_allclose(grad_x, lesson_2d.correlate2d(grad_y, w[::-1, ::-1], "full"), atol=1e-12)


@pytest.mark.parametrize("which", ["x", "w"])
def test_one_gradient_entry_matches_a_finite_difference(which):
    rng = np.random.default_rng(8)
    x, w, grad_y = rng.standard_normal((6, 7)), rng.standard_normal((3, 2)), rng.standard_normal((4, 6))
    grad_x, grad_w = lesson.conv2d_backward(x, w, grad_y)

    def loss(x, w):
        return np.sum(lesson_2d.correlate2d(x, w, "valid") * grad_y)

    step = 1e-6
    if which == "x":
        nudge = np.zeros_like(x)
        nudge[3, 4] = step
        finite, exact = (loss(x + nudge, w) - loss(x - nudge, w)) / (2 * step), grad_x[3, 4]
    else:
        nudge = np.zeros_like(w)
        nudge[1, 0] = step
        finite, exact = (loss(x, w + nudge) - loss(x, w - nudge)) / (2 * step), grad_w[1, 0]
    assert finite == pytest.approx(exact, rel=1e-7, abs=1e-9)


def test_the_worked_example_of_the_readme():
    x = np.array([[1, 2, 0], [3, 1, 2], [0, 1, 4]])
    w = np.array([[1, 2], [3, 4]])
    grad_y = np.array([[1, 0], [2, -1]])
    grad_x, grad_w = lesson.conv2d_backward(x, w, grad_y)
    assert grad_w.tolist() == [[6, 2], [2, -1]]
    assert grad_x.tolist() == [[1, 2, 0], [5, 7, -2], [6, 5, -4]]


def test_dilate_spreads_the_gradient_and_pads_after():
    spread = lesson.dilate(np.array([[1, 2], [3, 4]]), 2, (4, 4))
    assert spread.tolist() == [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]


# The transposed convolution --------------------------------------------------------------------


@FEW
@given(image_kernel_stride(max_size=5))
def test_conv_transpose2d_equals_tensorflow_c_transposed_and_the_input_gradient(case):
    x, kernel, stride = case
    out = lesson.conv_transpose2d(x, kernel, stride)
    assert out.shape == tuple((n - 1) * stride + k for n, k in zip(x.shape, kernel.shape))
    theirs = tf.nn.conv2d_transpose(x[None, :, :, None], kernel[:, :, None, None], (1, *out.shape, 1), stride,
                                    "VALID").numpy()[0, :, :, 0]
    np.testing.assert_allclose(out, theirs, atol=1e-12)
    matrix = lesson.correlation_matrix(kernel, out.shape, stride)
    np.testing.assert_allclose(out, (matrix.T @ x.ravel()).reshape(out.shape), atol=1e-12)
    gradient, _ = lesson.conv2d_backward_strided(np.zeros(out.shape), kernel, x, stride)
    np.testing.assert_allclose(out, gradient, atol=1e-12)


def test_transposed_output_sizes_are_the_ones_tensorflow_accepts_over_a_small_grid():
    for n in (1, 2, 3, 4):
        for k in (1, 2, 3, 4):
            for stride in (1, 2, 3):
                for padding in ("VALID", "SAME"):
                    assert list(lesson.transposed_sizes(n, k, stride, padding)) == lesson.tf_accepted_sizes(
                        n, k, stride, padding
                    ), (n, k, stride, padding)
                assert lesson.keras_transposed_size(n, k, stride, "valid") == (n - 1) * stride + max(k, stride)
                assert lesson.keras_transposed_size(n, k, stride, "same") == n * stride
                for output_padding in range(stride):
                    assert lesson.keras_transposed_size(n, k, stride, "valid", output_padding) == (
                        (n - 1) * stride + k + output_padding
                    )


# Separable kernels -------------------------------------------------------------------------------


@FEW
@given(
    st.integers(1, 7),
    st.integers(1, 7),
    st.sampled_from(["full", "same", "valid"]),
    st.integers(0, 2**32 - 1),
)
def test_two_1d_passes_equal_the_2d_convolution(k_h, k_w, mode, seed):
    rng = np.random.default_rng(seed)
    image = rng.standard_normal((k_h + 5, k_w + 4))
    column, row = rng.standard_normal(k_h), rng.standard_normal(k_w)
    np.testing.assert_allclose(
        lesson.separable_convolve2d(image, column, row, mode),
        lesson_2d.convolve2d(image, np.outer(column, row), mode),
        atol=1e-10,
    )


@FEW
@given(st.integers(1, 7), st.integers(1, 7), st.integers(0, 2**32 - 1))
def test_the_svd_finds_the_factors_of_a_rank_1_kernel(k_h, k_w, seed):
    rng = np.random.default_rng(seed)
    kernel = np.outer(rng.uniform(0.5, 2, k_h), rng.uniform(-2, 2, k_w))
    column, row = lesson.separable_factors(kernel)
    np.testing.assert_allclose(np.outer(column, row), kernel, atol=1e-9)


def test_sobel_and_the_binomial_gaussian_split_into_integer_factors():
    column, row = lesson.separable_factors(np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]))
    assert column.tolist() == [1, 2, 1] and row.tolist() == [-1, 0, 1]
    binomial = np.array([1, 4, 6, 4, 1])
    column, row = lesson.separable_factors(np.outer(binomial, binomial))
    assert column.tolist() == row.tolist() == binomial.tolist()


def test_the_laplacian_is_not_separable():
    with pytest.raises(ValueError, match="kernel is not separable"):
        lesson.separable_factors(np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]]))


# im2col: col2im, the timing ------------------------------------------------------------------


@FEW
@given(layer_case())
def test_col2im_is_im2col_transposed(case):
    images, filters, stride = case
    k_h, k_w = filters.shape[:2]
    patches = lesson.im2col(images[0], (k_h, k_w), stride)
    other = np.random.default_rng(images.size).standard_normal(patches.shape)
    back = lesson.col2im(other, images[0].shape, (k_h, k_w), stride)
    assert back.shape == images[0].shape
    assert np.sum(patches * other) == pytest.approx(np.sum(images[0] * back), rel=1e-10, abs=1e-10)


@pytest.mark.parametrize("rows", [1, 3, 62, 1000])
def test_every_split_of_the_multiply_gives_the_same_product(rows):
    rng = np.random.default_rng(rows)
    patches, matrix = rng.standard_normal((100, 18)), rng.standard_normal((18, 5))
    np.testing.assert_allclose(lesson.matmul_in_calls(patches, matrix, rows), patches @ matrix, rtol=1e-12)
    np.testing.assert_allclose(lesson.matmul_per_channel_and_filter(patches, matrix, 9), patches @ matrix, rtol=1e-12)


# The backward pass of a whole layer, max pooling ------------------------------------------------


def tape_layer_gradients(x, w, b, grad_y, stride):
    """(dL/dx, dL/dw, dL/db) for L = sum((tf.nn.conv2d(x, w, VALID, stride) + b) * grad_y)."""
    x, w, b = tf.Variable(x), tf.Variable(w), tf.Variable(b)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum((tf.nn.conv2d(x, w, stride, "VALID") + b) * grad_y)
    return [gradient.numpy() for gradient in tape.gradient(loss, [x, w, b])]


@FEW
@given(layer_case())
def test_the_whole_layers_backward_pass_equals_gradient_tape(case):
    x, w, stride = case
    shape = (x.shape[0], *[(n - k) // stride + 1 for n, k in zip(x.shape[1:3], w.shape[:2])], w.shape[3])
    rng = np.random.default_rng(x.size)
    grad_y, b = rng.standard_normal(shape), rng.standard_normal(w.shape[3])
    ours = lesson.conv2d_layer_backward(x, w, grad_y, stride)
    loops = lesson.conv2d_layer_backward_by_channels(x, w, grad_y, stride)
    for mine, by_loops, theirs in zip(ours, loops, tape_layer_gradients(x, w, b, grad_y, stride)):
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine, theirs, atol=1e-10)
        np.testing.assert_allclose(by_loops, theirs, atol=1e-10)


def test_the_bias_gradient_is_the_sum_of_grad_y_over_batch_and_positions():
    grad_y = np.arange(24.0).reshape(2, 2, 3, 2)
    _, _, grad_b = lesson.conv2d_layer_backward(np.ones((2, 3, 4, 1)), np.ones((2, 2, 1, 2)), grad_y)
    assert grad_b.tolist() == [grad_y[..., 0].sum(), grad_y[..., 1].sum()] == [132.0, 144.0]


@st.composite
def maps_case(draw):
    """Random integer maps (H, W, C) with many ties, a pooling size that fits, grad_out."""
    size = draw(st.integers(1, 3))
    height, width, channels = draw(st.integers(size, 8)), draw(st.integers(size, 8)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    maps = rng.integers(0, 3, size=(height, width, channels))
    return maps, rng.standard_normal((height // size, width // size, channels)), size


def tape_max_pool_gradient(maps, grad_out, size):
    variable = tf.Variable(maps[None].astype(np.float64))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.nn.max_pool2d(variable, size, size, "VALID")[0] * grad_out)
    return tape.gradient(loss, variable).numpy()[0]


@FEW
@given(maps_case())
def test_max_pool_backward_equals_gradient_tape_ties_included(case):
    maps, grad_out, size = case
    assert digit.max_pool2d(maps, size).shape == grad_out.shape
    np.testing.assert_allclose(lesson.max_pool2d_backward(maps, grad_out, size),
                               tape_max_pool_gradient(maps, grad_out, size), atol=1e-12)


def test_max_pool_backward_routes_each_gradient_to_its_maximum_and_leaves_dropped_cells_at_zero():
    maps = np.array([[1, 5, 2, 0, 3], [4, 2, 7, 7, 1], [0, 3, 1, 2, 6], [3, 3, 0, 5, 2], [9, 1, 1, 4, 8]])
    grad = lesson.max_pool2d_backward(maps[:, :, None], np.array([[10, 20], [30, 40]])[:, :, None])[:, :, 0]
    assert grad.tolist() == [[0, 10, 0, 0, 0], [0, 0, 20, 0, 0], [0, 30, 0, 0, 0], [0, 0, 0, 40, 0], [0] * 5]


# The transposed convolution as a convolution, its sizes, the checkerboard ------------------------


@FEW
@given(image_kernel_stride(max_size=5))
def test_zero_insertion_equals_the_stamps_and_tensorflow(case):
    x, kernel, stride = case
    out = lesson.conv_transpose2d_by_zero_insertion(x, kernel, stride)
    np.testing.assert_allclose(out, lesson.conv_transpose2d(x, kernel, stride), atol=1e-12)
    np.testing.assert_allclose(out, lesson.tf_conv_transpose(x, kernel, stride), atol=1e-12)


def test_tensorflows_transposed_convolution_is_the_convolutions_input_gradient_operation():
    assert lesson.tf_transposed_ops() - {"Placeholder", "Const", "Identity"} == {"Conv2DBackpropInput"}


def test_the_general_size_rule_gives_the_sizes_tensorflow_accepts():
    for n in (1, 2, 3):
        for k in (1, 2, 3, 4):
            for stride in (1, 2, 3):
                sizes = [lesson.transposed_output_size(n, k, stride, 0, p) for p in range(stride)]
                assert sizes == lesson.tf_accepted_sizes(n, k, stride, "VALID")
                cut = ((k - 1) // 2, k - 1 - (k - 1) // 2)
                sizes = [lesson.transposed_output_size(n, k, stride, cut, p) for p in range(stride)]
                assert sizes == lesson.tf_accepted_sizes(n, k, stride, "SAME")


def test_keras_same_with_output_padding_follows_the_rule():
    for n in (2, 3, 5):
        for k in (1, 2, 3, 4, 5):
            for stride in (1, 2, 3):
                for dilation in ((1, 2) if stride == 1 else (1,)):
                    for p in range(stride):
                        cut = (dilation * (k - 1) + 1) // 2
                        assert lesson.keras_transposed_size(n, k, stride, "same", p, dilation) == (
                            lesson.transposed_output_size(n, k, stride, cut, p, dilation)), (n, k, stride, dilation, p)


def test_keras_same_with_output_padding_0_gives_5_not_6_for_n3_k3_s2():
    layer = keras.layers.Conv2DTranspose(1, 3, strides=2, padding="same", output_padding=0)
    assert keras.ops.shape(layer(np.ones((1, 3, 3, 1), np.float32)))[1] == 5
    assert lesson.transposed_output_size(3, 3, 2, 1, 0) == 5
    assert lesson.keras_transposed_size(3, 3, 2, "same") == 6


def test_the_keras_same_layer_runs_to_the_rule_unless_k_is_even_and_output_padding_is_0():
    for n in (2, 3):
        for k in (1, 2, 3, 4):
            for stride in (1, 2, 3):
                for p in range(stride):
                    ran = lesson.keras_transposed_run(n, k, stride, p)
                    if k % 2 == 0 and p == 0:
                        assert ran is None, (n, k, stride)
                        assert lesson.keras_transposed_size(n, k, stride, "same", p) == (n - 1) * stride
                        assert (n - 1) * stride not in lesson.tf_accepted_sizes(n, k, stride, "SAME")
                    else:
                        assert ran == lesson.transposed_output_size(n, k, stride, k // 2, p), (n, k, stride, p)


def test_tensorflows_cpu_kernel_refuses_a_dilated_transposed_convolution():
    assert lesson.tf_cpu_refuses_dilated_transpose()


def test_the_size_rule_with_dilation_and_uneven_padding():
    assert lesson.transposed_output_size(4, 3, 2, (1, 0), 1, 2) == (4 - 1) * 2 - 1 + 2 * 2 + 1 + 1 == 11


@given(st.integers(1, 6), st.integers(1, 3))
def test_overlap_is_even_away_from_the_ends_exactly_when_the_stride_divides_k(k, stride):
    counts = lesson.overlap_counts(k + 3, k, stride)
    inner = counts[k - 1 : len(counts) - k + 1]
    assert (np.ptp(inner) == 0) == (k % stride == 0)


def test_the_2d_checkerboard_of_k3_s2():
    counts = lesson.conv_transpose2d(np.ones((4, 4), dtype=int), np.ones((3, 3), dtype=int), 2)
    assert counts[2:7, 2:7].tolist() == [[4, 2, 4, 2, 4], [2, 1, 2, 1, 2]] * 2 + [[4, 2, 4, 2, 4]]


# Separable kernels in float32 and float64 -------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_sampled_gaussian_is_separable_in_float32_and_float64(dtype):
    taps = np.arange(-3, 4)
    bell = np.exp(-(taps**2) / 2.0)
    kernel = np.outer(bell, bell / bell.sum()).astype(dtype)
    column, row = lesson.separable_factors(kernel)
    np.testing.assert_allclose(np.outer(column, row), kernel, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@FEW
@given(st.integers(1, 7), st.integers(1, 7), st.integers(0, 2**32 - 1))
def test_rank_1_kernels_rounded_to_their_type_are_separable(dtype, k_h, k_w, seed):
    rng = np.random.default_rng(seed)
    kernel = np.outer(rng.uniform(0.5, 2, k_h), rng.uniform(-2, 2, k_w)).astype(dtype)
    column, row = lesson.separable_factors(kernel)
    np.testing.assert_allclose(np.outer(column, row), kernel, rtol=1e-4 if dtype == np.float32 else 1e-10, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_rank_2_kernel_is_refused_in_either_type(dtype):
    kernel = (np.outer([1, 2, 3], [1, 0, 1]) + 1e-3 * np.outer([1, -1, 0], [0, 1, 0])).astype(dtype)
    with pytest.raises(ValueError, match="kernel is not separable"):
        lesson.separable_factors(kernel)


def test_the_rank_tolerance_grows_with_the_types_eps_and_the_size():
    singular = np.array([2.0, 0.0])
    assert lesson.rank_tolerance(singular, (3, 5), np.float32) == 2.0 * 5 * np.finfo(np.float32).eps
    assert lesson.rank_tolerance(singular, (3, 5), np.float64) == 2.0 * 5 * np.finfo(np.float64).eps
    assert lesson.rank_tolerance(singular, (3, 5), np.int64) == 2.0 * 5 * np.finfo(np.float64).eps


# Depthwise-separable and grouped convolutions ------------------------------------------------------


@st.composite
def channels_case(draw, groups=False):
    """Random x (H, W, C_in), a kernel size that fits, a stride; with groups, g and C_out."""
    g = draw(st.integers(1, 3)) if groups else 1
    channels = g * draw(st.integers(1, 2))
    height, width = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    k_h, k_w = draw(st.integers(1, height)), draw(st.integers(1, width))
    stride, filters = draw(st.integers(1, 3)), g * draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng, rng.standard_normal((height, width, channels)), (k_h, k_w), stride, g, filters


@VERY_FEW
@given(channels_case())
def test_depthwise_and_separable_convolutions_equal_keras(case):
    rng, x, (k_h, k_w), stride, _, filters = case
    depthwise, pointwise = rng.standard_normal((k_h, k_w, x.shape[2])), rng.standard_normal((x.shape[2], filters))
    theirs = lesson.keras_layer(keras.layers.DepthwiseConv2D((k_h, k_w), stride, use_bias=False, dtype="float64"),
                                [depthwise[..., None]], x)
    np.testing.assert_allclose(lesson.depthwise_conv2d(x, depthwise, stride), theirs, atol=1e-12)
    theirs = lesson.keras_layer(keras.layers.SeparableConv2D(filters, (k_h, k_w), stride, use_bias=False, dtype="float64"),
                                [depthwise[..., None], pointwise[None, None]], x)
    np.testing.assert_allclose(lesson.separable_conv2d(x, depthwise, pointwise, stride), theirs, atol=1e-12)


@VERY_FEW
@given(channels_case(groups=True))
def test_grouped_convolution_equals_keras_conv2d_with_groups(case):
    rng, x, (k_h, k_w), stride, groups, filters = case
    w = rng.standard_normal((k_h, k_w, x.shape[2] // groups, filters))
    theirs = lesson.keras_layer(keras.layers.Conv2D(filters, (k_h, k_w), stride, groups=groups, use_bias=False,
                                                    dtype="float64"), [w], x)
    np.testing.assert_allclose(lesson.grouped_conv2d(x, w, groups, stride), theirs, atol=1e-12)


def test_one_group_is_the_standard_layer_and_one_per_channel_is_depthwise():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 5, 4))
    w = rng.standard_normal((3, 2, 4, 6))
    np.testing.assert_allclose(lesson.grouped_conv2d(x, w, 1, 2), lesson.conv2d_im2col(x[None], w, 2)[0], atol=1e-12)
    kernels = rng.standard_normal((3, 2, 4))
    np.testing.assert_allclose(lesson.grouped_conv2d(x, kernels[:, :, None, :], 4), lesson.depthwise_conv2d(x, kernels),
                               atol=1e-12)


def test_a_depthwise_separable_layer_is_a_standard_layer_with_tied_weights_not_a_separable_kernel():
    rng = np.random.default_rng(4)
    x, depthwise, pointwise = rng.standard_normal((6, 6, 3)), rng.standard_normal((3, 3, 3)), rng.standard_normal((3, 2))
    standard = depthwise[:, :, :, None] * pointwise[None, None]
    np.testing.assert_allclose(lesson.conv2d_im2col(x[None], standard)[0], lesson.separable_conv2d(x, depthwise, pointwise),
                               atol=1e-12)
    for c in range(3):
        with pytest.raises(ValueError, match="not separable"):
            lesson.separable_factors(depthwise[:, :, c])


@pytest.mark.parametrize("kind, groups", [("standard", 1), ("grouped", 4), ("grouped", 32), ("separable", 1)])
def test_weight_counts_equal_keras_and_multiply_adds_are_weights_times_pixels(kind, groups):
    weights, macs = lesson.layer_costs(3, 64, 128, 56 * 56, kind, groups)
    if kind == "separable":
        layer = keras.layers.SeparableConv2D(128, 3, padding="same", use_bias=False)
    else:
        layer = keras.layers.Conv2D(128, 3, padding="same", groups=groups, use_bias=False)
    layer.build((None, 56, 56, 64))
    assert layer.count_params() == weights
    assert layer.compute_output_shape((None, 56, 56, 64))[1:3] == (56, 56)
    assert macs == weights * 56 * 56


def test_the_ratios_of_the_printed_table():
    standard = lesson.layer_costs(3, 64, 128, 56 * 56)[1]
    separable = lesson.layer_costs(3, 64, 128, 56 * 56, "separable")[1]
    assert f"{standard / separable:.2f}" == f"{1 / (1 / 128 + 1 / 9):.2f}" == "8.41"
    assert standard / lesson.layer_costs(3, 64, 128, 56 * 56, "grouped", 4)[1] == 4


# What the figures draw --------------------------------------------------------------------------


def test_the_matrix_figure_draws_every_weight_in_its_place_and_is_readable():
    figure = lesson.matrix_figure(np.arange(1, 10).reshape(3, 3), (6, 6))
    drawn = texts(figure)
    assert drawn.count("5") == 16 + 1 and drawn.count("1") == 16 + 1
    assert any("16x36 matrix K" in text for text in drawn)
    assert_readable(figure, "layer_matrix.png")
    plt.close(figure)


def test_the_im2col_figure_draws_the_patches_filters_output_and_copies():
    image = np.random.default_rng(9).integers(0, 10, size=(4, 4))
    filters = np.random.default_rng(10).integers(-1, 3, size=(3, 3, 2))
    figure = lesson.im2col_figure(image, filters)
    drawn = texts(figure)
    for label in ("image, 4x4", "patch matrix, 4x9: row r = window r", "filters, 9x2", "output, 4x2", "@", "="):
        assert label in drawn
    output = lesson.im2col(image[:, :, None], (3, 3)) @ filters.reshape(9, 2)
    assert all(str(value) in drawn for value in output.ravel())
    assert any("16 pixels fill 36 cells" in text for text in drawn)
    assert any("2.25 times as many" in text for text in drawn)
    assert any("column q of the output is filter q's 2x2 map" in text for text in drawn)
    assert_readable(figure, "layer_im2col.png")
    plt.close(figure)


def test_the_zero_insertion_figure_draws_the_padded_input_and_the_7_and_8_cell_strips():
    figure = lesson.zero_insertion_figure(np.array([[1, 2], [3, 1]]), np.array([[1, 2, 0], [0, 1, 0], [2, 0, 1]]), 2)
    drawn = texts(figure)
    assert "x spread out and padded, 7x7" in drawn and "output, 5x5" in drawn and "kernel turned" in drawn
    assert "out[2, 2] = 6: the red window times" in drawn
    assert "7 cells: 3 windows, 3 outputs" in drawn and "8 cells: 3 windows, 3 outputs" in drawn
    assert drawn.count("0") >= 7 * 7 - 4
    assert_readable(figure, "layer_zero_insertion.png")
    plt.close(figure)


def test_the_separable_figure_draws_the_factors_and_their_product_in_the_kernels_colour():
    binomial = np.array([1, 4, 6, 4, 1])
    figure = lesson.separable_figure(binomial, binomial)
    drawn = texts(figure)
    assert "36" in drawn and drawn.count("16") == 4
    assert any("5 + 5 = 10 multiply-adds per pixel" in text for text in drawn)
    faces = {tuple(np.round(patch.get_facecolor()[:3], 3)) for patch in figure.axes[0].patches}
    peach = tuple(np.round(plt.matplotlib.colors.to_rgb(lesson.lessonkit.COLOURS["kernel"]), 3))
    blue = tuple(np.round(plt.matplotlib.colors.to_rgb(lesson.lessonkit.COLOURS["input"]), 3))
    assert peach in faces and blue not in faces
    assert_readable(figure, "layer_separable.png")
    plt.close(figure)


def test_the_transposed_animation_stamps_each_input_once_and_ends_with_the_result():
    x, kernel = np.array([[1, 2], [3, 1]]), np.array([[1, 2, 0], [0, 1, 0], [2, 0, 1]])
    frames, states = lesson.transposed_frames(x, kernel, 2)
    assert len(frames) == len(states) == 5
    assert [state["input"] for state in states] == [(0, 0), (0, 1), (1, 0), (1, 1), None]
    assert [state["value"] for state in states[:4]] == [1, 2, 3, 1]
    assert [state["rows"] for state in states[:4]] == [(0, 2), (0, 2), (2, 4), (2, 4)]
    assert [state["columns"] for state in states[:4]] == [(0, 2), (2, 4), (0, 2), (2, 4)]
    np.testing.assert_array_equal(states[0]["output"][:3, :3], kernel)
    np.testing.assert_array_equal(states[-1]["output"], lesson.conv_transpose2d(x, kernel, 2))
    assert states[-1]["title"].startswith("Done: the 5x5 output is the sum of the 4 stamps")
    assert {frame.size for frame in frames} == {(828, 331)}


# Wrong shapes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: lesson.correlation_matrix(np.ones(3), (4, 4)), "kernel must have 2 dimensions"),
        (lambda: lesson.correlation_matrix(np.ones((3, 3)), (4,)), "image_shape must be 2 positive integers"),
        (lambda: lesson.correlation_matrix(np.ones((5, 3)), (4, 4)), "kernel of shape (5, 3) does not fit inside image_shape"),
        (lambda: lesson.correlation_matrix(np.ones((3, 3)), (4, 4), 0), "stride must be a positive integer"),
        (lambda: lesson.im2col(np.ones((4, 4)), (3, 3)), "image must have 3 dimensions"),
        (lambda: lesson.im2col(np.ones((4, 4, 1)), (3, 0)), "kernel_shape must be 2 positive integers"),
        (lambda: lesson.im2col(np.ones((4, 4, 1)), (5, 3)), "kernel_shape of shape (5, 3) does not fit inside image"),
        (lambda: lesson.conv2d_im2col(np.ones((4, 4, 1)), np.ones((3, 3, 1, 1))), "images must have 4 dimensions"),
        (lambda: lesson.conv2d_im2col(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1))), "filters must have 4 dimensions"),
        (lambda: lesson.conv2d_im2col(np.ones((1, 4, 4, 2)), np.ones((3, 3, 3, 1))),
         "filters has 3 input channels but images has 2 channels"),
        (lambda: lesson.conv2d_im2col(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 1)), 1.5), "stride must be a positive"),
        (lambda: lesson.conv2d_backward(np.ones(4), np.ones((2, 2)), np.ones((3, 3))), "x must have 2 dimensions"),
        (lambda: lesson.conv2d_backward(np.ones((4, 4)), np.ones((2, 2)), np.ones((2, 2))),
         "grad_y must have the shape of y, (3, 3), got (2, 2)"),
        (lambda: lesson.conv2d_backward(np.ones((4, 4)), np.ones((5, 2)), np.ones((2, 2))),
         "w of shape (5, 2) does not fit inside x"),
        (lambda: lesson.conv2d_backward_strided(np.ones((5, 5)), np.ones((3, 3)), np.ones((3, 3)), 2),
         "grad_y must have the shape of y, (2, 2), got (3, 3)"),
        (lambda: lesson.conv_transpose2d(np.ones((2, 2)), np.ones(3)), "kernel must have 2 dimensions"),
        (lambda: lesson.conv_transpose2d(np.ones((0, 2)), np.ones((3, 3))), "x must not be empty"),
        (lambda: lesson.conv_transpose2d(np.ones((2, 2)), np.ones((3, 3)), -1), "stride must be a positive integer"),
        (lambda: lesson.separable_convolve2d(np.ones((4, 4)), np.ones((2, 2)), np.ones(2)), "column must have 1"),
        (lambda: lesson.col2im(np.ones((4, 9)), (4, 4, 2), (3, 3)), "columns must have shape (4, 18), got (4, 9)"),
        (lambda: lesson.conv2d_layer_backward(np.ones((4, 4, 1)), np.ones((3, 3, 1, 1)), np.ones((1, 2, 2, 1))),
         "x must have 4 dimensions"),
        (lambda: lesson.conv2d_layer_backward(np.ones((1, 4, 4, 2)), np.ones((3, 3, 1, 1)), np.ones((1, 2, 2, 1))),
         "w has 1 input channels but x has 2 channels"),
        (lambda: lesson.conv2d_layer_backward(np.ones((1, 4, 4, 1)), np.ones((3, 3, 1, 2)), np.ones((1, 2, 2, 1))),
         "grad_y must have the shape of y, (1, 2, 2, 2), got (1, 2, 2, 1)"),
        (lambda: lesson.max_pool2d_backward(np.ones((4, 4)), np.ones((2, 2, 1))), "maps must have 3 dimensions"),
        (lambda: lesson.max_pool2d_backward(np.ones((4, 4, 1)), np.ones((3, 2, 1))),
         "grad_out must have the shape of the pooled maps, (2, 2, 1), got (3, 2, 1)"),
        (lambda: lesson.max_pool2d_backward(np.ones((4, 4, 1)), np.ones((1, 1, 1)), 5), "size 5 is larger than maps"),
        (lambda: lesson.max_pool2d_backward(np.ones((4, 4, 1)), np.ones((1, 1, 1)), 0), "size must be a positive"),
        (lambda: lesson.conv_transpose2d_by_zero_insertion(np.ones(2), np.ones((3, 3))), "x must have 2 dimensions"),
        (lambda: lesson.conv_transpose2d_by_zero_insertion(np.ones((2, 2)), np.ones((3, 3)), 0), "stride must be"),
        (lambda: lesson.transposed_output_size(0, 3), "n must be a positive integer"),
        (lambda: lesson.transposed_output_size(3, 3, 2, output_padding=2), "output_padding must be an integer from 0"),
        (lambda: lesson.transposed_output_size(3, 3, 2, padding=(1, 2, 3)), "padding must be an integer >= 0"),
        (lambda: lesson.transposed_output_size(1, 1, padding=1), "cuts away the whole output"),
        (lambda: lesson.depthwise_conv2d(np.ones((4, 4, 2)), np.ones((3, 3, 3))), "kernels has 3 channels but x has 2"),
        (lambda: lesson.depthwise_conv2d(np.ones((4, 4, 2)), np.ones((5, 3, 2))), "kernels of shape (5, 3) does not fit"),
        (lambda: lesson.pointwise_conv2d(np.ones((4, 4, 2)), np.ones((3, 1))), "weights has 3 input channels"),
        (lambda: lesson.separable_conv2d(np.ones((4, 4, 2)), np.ones((3, 3, 2)), np.ones(2)), "pointwise must have 2"),
        (lambda: lesson.grouped_conv2d(np.ones((4, 4, 4)), np.ones((3, 3, 2, 3)), 2), "groups = 2 must divide"),
        (lambda: lesson.grouped_conv2d(np.ones((4, 4, 4)), np.ones((3, 3, 4, 4)), 2), "w must have C_in / groups = 2"),
        (lambda: lesson.grouped_conv2d(np.ones((4, 4, 4)), np.ones((3, 3, 4, 4)), 0), "groups must be a positive"),
        (lambda: lesson.layer_costs(3, 64, 128, 1, "grouped", 3), "groups = 3 must divide c_in = 64"),
        (lambda: lesson.layer_costs(3, 64, 128, 1, "dilated"), "kind must be 'standard', 'grouped' or 'separable'"),
    ],
)
def test_a_wrong_shape_raises_value_error_naming_the_argument(call, words):
    with pytest.raises(ValueError) as raised:
        call()
    assert words in str(raised.value)


# The script ----------------------------------------------------------------------------------------


def test_the_lesson_runs_as_a_learner_would_and_every_check_holds(run_lesson):
    process, out = run_lesson(SCRIPT)
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    assert "False" not in process.stdout
    positions = [process.stdout.index(f"\n{heading}\n{'-' * len(heading)}\n") for heading in HEADINGS]
    assert positions == sorted(positions)
    assert "615,440" in process.stdout and "6,724" in process.stdout and "98.91%" in process.stdout
    assert "8.41x" in process.stdout and "231,211,008" in process.stdout
    assert "slides over 49 values here, and 45 of them are zeros" in process.stdout
    assert "553,536 values; the multiply does 32 multiply-adds with each\nof them, one per filter." in process.stdout
    for name in FIGURES:
        with Image.open(out / name) as picture:
            assert picture.format == ("GIF" if name.endswith(".gif") else "PNG")
            assert picture.width <= 880
    with Image.open(out / "layer_transposed.gif") as animation:
        assert animation.n_frames == 5
    assert (out / "layer_transposed.gif").stat().st_size < 400_000
