"""Tests for 6_layer.py: the matrix C, im2col, the backward pass, the transposed convolution
and separable kernels, each against TensorFlow on random shapes, strides, channels and
filters; the error messages; and the script run as a learner would."""

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

lesson = importlib.import_module("6_layer")
lesson_2d = importlib.import_module("1_2D")
tf = lesson.tf

SCRIPT = "6_layer.py"
FEW = settings(max_examples=30, deadline=None)


def tf_conv(images, filters, stride=1, padding="VALID"):
    """tf.nn.conv2d in float64: images (N, H, W, C), filters (k_h, k_w, C, F)."""
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
    for heading in ("Inside a convolution layer", "A convolution is a matrix", "One matrix multiply: im2col",
                    "The backward pass", "With a stride: spread the gradient with zeros", "The transposed convolution",
                    "The output size of a transposed convolution", "Separable kernels"):
        assert f"\n{heading}\n{'-' * len(heading)}\n" in process.stdout
    assert "615,440" in process.stdout and "6,724" in process.stdout and "98.91%" in process.stdout
    for name in ("layer_matrix.png", "layer_separable.png"):
        with Image.open(out / name) as picture:
            assert picture.format == "PNG"
    with Image.open(out / "layer_transposed.gif") as animation:
        assert animation.n_frames == 5
    assert (out / "layer_transposed.gif").stat().st_size < 400_000
