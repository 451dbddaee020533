"""Tests for 1_2D.py: convolution in two dimensions, from scratch, with SciPy and with the FFT."""

import importlib
import inspect
import re
from unittest import mock

import numpy as np
import pytest
import scipy.signal
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from matplotlib.colors import to_hex
from PIL import Image

from conftest import ROOT, assert_readable

lesson = importlib.import_module("1_2D")

MODES = ["full", "same", "valid"]

I = [[255, 7, 3], [212, 240, 4], [218, 216, 230]]
EDGE = [[-1, 1]]
SQUARE = [[-1, 1], [2, 3]]

shapes = st.tuples(st.integers(1, 12), st.integers(1, 12))
int_matrices = shapes.flatmap(lambda shape: arrays(np.int64, shape, elements=st.integers(-1000, 1000)))
small_int_matrices = shapes.flatmap(lambda shape: arrays(np.int8, shape, elements=st.integers(-128, 127)))
float_matrices = shapes.flatmap(
    lambda shape: arrays(np.float64, shape, elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False))
)
matrices = st.one_of(int_matrices, small_int_matrices, float_matrices)


def scipy_or_error(function, image, kernel, mode):
    """SciPy's result, or the type of the exception it raises."""
    try:
        return function(image, kernel, mode)
    except Exception as error:  # noqa: BLE001 - the type is what we compare
        return type(error)


def assert_same_as_scipy(ours, theirs, image, kernel, mode):
    expected = scipy_or_error(theirs, image, kernel, mode)
    if isinstance(expected, type):
        with pytest.raises(expected):
            ours(image, kernel, mode)
        return
    result = ours(image, kernel, mode)
    assert result.dtype == expected.dtype
    assert result.shape == expected.shape
    if result.dtype.kind in "iu":
        np.testing.assert_array_equal(result, expected)
    else:
        widened = [np.abs(np.asarray(a, dtype=np.result_type(a, np.float64))) for a in (image, kernel)]
        scale = widened[0].sum() * widened[1].max()
        np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12 * scale)


@pytest.mark.parametrize(
    "kernel, mode, expected",
    [
        (EDGE, "valid", [[248, 4], [-28, 236], [2, -14]]),
        (EDGE, "full", [[-255, 248, 4, 3], [-212, -28, 236, 4], [-218, 2, -14, 230]]),
        (SQUARE, "full", [[-255, 248, 4, 3], [298, 751, 263, 13], [206, 1118, 714, 242], [436, 1086, 1108, 690]]),
        (SQUARE, "same", [[-255, 248, 4], [298, 751, 263], [206, 1118, 714]]),
        (SQUARE, "valid", [[751, 263], [1118, 714]]),
    ],
)
def test_seed_example_is_exact_in_integers_for_ours_and_scipy(kernel, mode, expected):
    ours = lesson.convolve2d(I, kernel, mode)
    theirs = scipy.signal.convolve2d(I, kernel, mode)
    assert ours.tolist() == theirs.tolist() == expected
    assert ours.dtype == theirs.dtype == np.array(I).dtype


def test_the_x_kernel_measures_overlap_so_an_all_white_patch_scores_as_high_as_the_x():
    kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    white, black = np.ones((3, 3), dtype=int), np.zeros((3, 3), dtype=int)
    assert lesson.correlate2d(white, kernel, "valid").item() == lesson.correlate2d(kernel, kernel, "valid").item() == 5
    zero_sum = np.where(kernel == 1, 4, -5)
    assert zero_sum.sum() == 0
    scores = [lesson.correlate2d(patch, zero_sum, "valid").item() for patch in (kernel, white, black)]
    assert scores == [20, 0, 0]
    rng = np.random.default_rng(3)
    for _ in range(50):
        patch = rng.integers(0, 2, (3, 3))
        assert lesson.correlate2d(patch, zero_sum, "valid").item() <= 20
        assert lesson.correlate2d(patch, kernel, "valid").item() <= lesson.correlate2d(white, kernel, "valid").item()


def test_binary_image_filter_gives_the_classic_feature_map():
    image = [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]
    kernel = [[1, 0, 1], [0, 1, 0], [1, 0, 1]]
    expected = [[4, 3, 4], [2, 4, 3], [2, 3, 4]]
    assert lesson.convolve2d(image, kernel, "valid").tolist() == expected
    assert lesson.correlate2d(image, kernel, "valid").tolist() == expected


@pytest.mark.parametrize(
    "image_shape, kernel_shape, expected",
    [((3, 3), (1, 2), [(3, 4), (3, 3), (3, 2)]), ((3, 3), (2, 2), [(4, 4), (3, 3), (2, 2)]), ((5, 4), (3, 1), [(7, 4), (5, 4), (3, 4)])],
)
def test_output_shape_of_each_mode(image_shape, kernel_shape, expected):
    assert [lesson.output_shape(image_shape, kernel_shape, mode) for mode in MODES] == expected


@settings(max_examples=200, deadline=None)
@given(image=matrices, kernel=matrices, mode=st.sampled_from(MODES))
def test_convolve2d_matches_scipy_values_dtype_and_errors(image, kernel, mode):
    assert_same_as_scipy(lesson.convolve2d, scipy.signal.convolve2d, image, kernel, mode)


@settings(max_examples=200, deadline=None)
@given(image=matrices, kernel=matrices, mode=st.sampled_from(MODES))
def test_correlate2d_matches_scipy_values_dtype_and_errors(image, kernel, mode):
    assert_same_as_scipy(lesson.correlate2d, scipy.signal.correlate2d, image, kernel, mode)


@settings(max_examples=200, deadline=None)
@given(image=int_matrices, kernel=int_matrices, mode=st.sampled_from(MODES))
def test_kernel_larger_than_image_matches_scipy(image, kernel, mode):
    larger = np.pad(kernel, [(0, image.shape[0]), (0, image.shape[1])])
    for ours, theirs in ((lesson.convolve2d, scipy.signal.convolve2d), (lesson.correlate2d, scipy.signal.correlate2d)):
        assert_same_as_scipy(ours, theirs, image, larger, mode)
        assert_same_as_scipy(ours, theirs, larger, image, mode)


@settings(max_examples=200, deadline=None)
@given(
    image=shapes.flatmap(lambda s: arrays(np.complex128, s, elements=st.complex_numbers(max_magnitude=100, allow_nan=False))),
    kernel=shapes.flatmap(lambda s: arrays(np.complex128, s, elements=st.complex_numbers(max_magnitude=100, allow_nan=False))),
    mode=st.sampled_from(MODES),
)
def test_complex_input_matches_scipy_including_the_conjugate_in_correlation(image, kernel, mode):
    assert_same_as_scipy(lesson.convolve2d, scipy.signal.convolve2d, image, kernel, mode)
    assert_same_as_scipy(lesson.correlate2d, scipy.signal.correlate2d, image, kernel, mode)


@pytest.mark.parametrize(
    "image_dtype, kernel_dtype",
    [
        (np.uint8, np.uint8),
        (np.uint8, np.int16),
        (np.int32, np.float32),
        (np.float32, np.float32),
        (np.bool_, np.int64),
        (np.float16, np.float32),
        (np.uint64, np.int64),
        (np.complex64, np.float32),
        (np.longdouble, np.int8),
    ],
)
def test_output_dtype_is_scipys_for_mixed_types(image_dtype, kernel_dtype):
    rng = np.random.default_rng(7)
    image = rng.integers(0, 2 if image_dtype is np.bool_ else 100, (6, 5)).astype(image_dtype)
    kernel = rng.integers(0, 4, (3, 2)).astype(kernel_dtype)
    for mode in MODES:
        assert_same_as_scipy(lesson.convolve2d, scipy.signal.convolve2d, image, kernel, mode)
        assert_same_as_scipy(lesson.correlate2d, scipy.signal.correlate2d, image, kernel, mode)


def test_integer_overflow_wraps_around_as_in_scipy():
    image = np.full((4, 4), 100, dtype=np.int8)
    kernel = np.full((3, 3), 3, dtype=np.int8)
    for mode in MODES:
        np.testing.assert_array_equal(lesson.convolve2d(image, kernel, mode), scipy.signal.convolve2d(image, kernel, mode))


@pytest.mark.parametrize("dtype", [np.bool_, np.float16, object])
def test_types_scipys_convolve2d_rejects_are_rejected_as_it_rejects_them(dtype):
    image = np.ones((3, 3), dtype=dtype)
    for ours, theirs in ((lesson.convolve2d, scipy.signal.convolve2d), (lesson.correlate2d, scipy.signal.correlate2d)):
        with pytest.raises(ValueError):
            ours(image, image)
        assert_same_as_scipy(ours, theirs, image, image, "full")


@pytest.mark.parametrize("function", [lesson.convolve2d, lesson.correlate2d, lesson.fft_convolve2d])
@pytest.mark.parametrize(
    "image, kernel, mode",
    [
        ([[1, 2], [3, 4]], [[1]], "middle"),
        ([1, 2, 3], [[1]], "full"),
        ([[1, 2]], [1], "full"),
        (np.ones((2, 2, 2)), [[1]], "same"),
        (np.zeros((0, 3)), [[1]], "full"),
        ([[1, 2]], np.zeros((2, 0)), "same"),
        (np.ones((2, 5)), np.ones((3, 2)), "valid"),
        ([["a", "b"]], [[1]], "full"),
    ],
)
def test_bad_input_raises_value_error(function, image, kernel, mode):
    with pytest.raises(ValueError):
        function(image, kernel, mode)


@pytest.mark.parametrize("h, w", [(1, 2), (2, 2), (4, 3), (3, 4), (2, 6)])
def test_same_window_for_even_kernels_is_scipys_one_pixel_apart(h, w):
    rng = np.random.default_rng(h * 10 + w)
    image = rng.integers(-9, 9, (7, 8))
    kernel = rng.integers(-9, 9, (h, w))
    H, W = image.shape
    conv_full = scipy.signal.convolve2d(image, kernel, "full")
    corr_full = scipy.signal.correlate2d(image, kernel, "full")
    conv_same = lesson.convolve2d(image, kernel, "same")
    corr_same = lesson.correlate2d(image, kernel, "same")
    np.testing.assert_array_equal(conv_same, conv_full[(h - 1) // 2 : (h - 1) // 2 + H, (w - 1) // 2 : (w - 1) // 2 + W])
    np.testing.assert_array_equal(corr_same, corr_full[h // 2 : h // 2 + H, w // 2 : w // 2 + W])
    np.testing.assert_array_equal(conv_same, scipy.signal.convolve2d(image, kernel, "same"))
    np.testing.assert_array_equal(corr_same, scipy.signal.correlate2d(image, kernel, "same"))
    if h % 2 == 0 or w % 2 == 0:
        assert not np.array_equal(corr_same, lesson.convolve2d(image, kernel[::-1, ::-1], "same"))


def test_numpy_same_leans_like_convolve2d_and_one_pixel_left_of_correlate2d():
    x, g = np.array([1, 2, 3, 4, 5]), np.array([1, 10])
    assert np.convolve(x, g, "same").tolist() == lesson.convolve2d([x], [g], "same")[0].tolist() == [1, 12, 23, 34, 45]
    corr_full = lesson.correlate2d([x], [g], "full")[0]
    assert np.correlate(x, g, "same").tolist() == corr_full[0:5].tolist() == [10, 21, 32, 43, 54]
    assert lesson.correlate2d([x], [g], "same")[0].tolist() == corr_full[1:6].tolist() == [21, 32, 43, 54, 5]


signals = arrays(np.int64, st.integers(1, 12), elements=st.integers(-100, 100))


@settings(max_examples=200, deadline=None)
@given(x=signals, h=signals)
def test_where_numpy_and_convolve2d_start_same_for_any_kernel_length(x, h):
    """The rules the lesson prints: np.convolve's 'same' starts at (min(N, M) - 1) // 2 of
    'full', np.correlate's at (M - 1) // 2 for a kernel no longer than the signal and at
    min(N, M) // 2 for a longer one, convolve2d's at (M - 1) // 2 with the signal's length."""
    N, M = len(x), len(h)
    length = max(N, M)
    conv_full = lesson.convolve2d([x], [h], "full")[0]
    corr_full = lesson.correlate2d([x], [h], "full")[0]
    numpy_conv = (min(N, M) - 1) // 2
    numpy_corr = (M - 1) // 2 if M <= N else min(N, M) // 2
    assert np.array_equal(np.convolve(x, h, "same"), conv_full[numpy_conv : numpy_conv + length])
    assert np.array_equal(np.correlate(x, h, "same"), corr_full[numpy_corr : numpy_corr + length])
    assert np.array_equal(lesson.convolve2d([x], [h], "same")[0], conv_full[(M - 1) // 2 : (M - 1) // 2 + N])


def is_smooth(n):
    for prime in (2, 3, 5):
        while n % prime == 0:
            n //= prime
    return n == 1


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 5000))
def test_next_fast_length_is_the_smallest_2_3_5_smooth_number_not_below_n(n):
    m = lesson.next_fast_length(n)
    assert m >= n
    assert is_smooth(m)
    assert not any(is_smooth(k) for k in range(n, m))


def test_next_fast_length_examples():
    assert [lesson.next_fast_length(n) for n in (1, 7, 11, 13, 97, 2062)] == [1, 8, 12, 15, 100, 2160]


@settings(max_examples=200, deadline=None)
@given(image=st.one_of(int_matrices, float_matrices), kernel=st.one_of(int_matrices, float_matrices), mode=st.sampled_from(MODES))
def test_fft_convolve2d_agrees_with_convolve2d_and_scipy_fftconvolve(image, kernel, mode):
    try:
        direct = lesson.convolve2d(image, kernel, mode)
    except ValueError:
        with pytest.raises(ValueError):
            lesson.fft_convolve2d(image, kernel, mode)
        return
    result = lesson.fft_convolve2d(image, kernel, mode)
    theirs = scipy.signal.fftconvolve(image, kernel, mode)
    atol = 1e-7 * max(np.abs(image).sum() * np.abs(kernel).max(), 1e-300)
    assert result.shape == direct.shape == theirs.shape
    np.testing.assert_allclose(result, direct, rtol=1e-7, atol=atol)
    np.testing.assert_allclose(result, theirs, rtol=1e-7, atol=atol)


DTYPES = [np.bool_, np.float16, np.float32, np.float64, np.int8, np.uint8, np.int64, np.complex64, np.complex128,
          np.longdouble]


@pytest.mark.parametrize("image_dtype", DTYPES)
@pytest.mark.parametrize("kernel_dtype", DTYPES)
def test_fft_convolve2d_takes_every_type_fftconvolve_takes_with_its_dtype(image_dtype, kernel_dtype):
    rng = np.random.default_rng(5)
    image = rng.integers(0, 2 if image_dtype is np.bool_ else 9, (6, 7)).astype(image_dtype)
    kernel = rng.integers(0, 2 if kernel_dtype is np.bool_ else 9, (3, 4)).astype(kernel_dtype)
    for mode in MODES:
        ours = lesson.fft_convolve2d(image, kernel, mode)
        theirs = scipy.signal.fftconvolve(image, kernel, mode)
        assert ours.dtype == theirs.dtype
        assert ours.shape == theirs.shape
        exact = lesson.convolve2d(np.real(image).astype(np.int64), np.real(kernel).astype(np.int64), mode)
        single = {image_dtype, kernel_dtype} & {np.float16, np.float32, np.complex64}
        atol = 1e-4 if single else 1e-9
        np.testing.assert_allclose(ours, theirs, atol=atol)
        np.testing.assert_allclose(ours, exact, atol=atol)


def fftconvolve_transforms(image, kernel):
    """Whether scipy.signal.fftconvolve takes a Fourier transform: it skips every axis
    along which an input has length 1, and with no axis left it just multiplies."""
    return any(min(n, k) > 1 for n, k in zip(image.shape, kernel.shape))


def fft_convolve2d_or_the_same_refusal(image, kernel, mode):
    """fft_convolve2d(image, kernel, mode), or None when it refuses the shapes, after
    checking that convolve2d refuses them with the same message."""
    try:
        return lesson.fft_convolve2d(image, kernel, mode)
    except ValueError:
        with pytest.raises(ValueError, match="'valid' needs one input at least as large"):
            lesson.convolve2d(image.astype(np.float32), kernel.astype(np.float32), mode)
        return None


@settings(max_examples=100, deadline=None)
@given(
    image=shapes.flatmap(lambda s: arrays(np.float16, s, elements=st.floats(-100, 100, width=16))),
    kernel=shapes.flatmap(lambda s: arrays(np.float16, s, elements=st.floats(-100, 100, width=16))),
    mode=st.sampled_from(MODES),
)
def test_float16_through_fft_convolve2d_matches_fftconvolve_in_float32(image, kernel, mode):
    assume(fftconvolve_transforms(image, kernel))
    ours = fft_convolve2d_or_the_same_refusal(image, kernel, mode)
    if ours is None:
        return
    theirs = scipy.signal.fftconvolve(image, kernel, mode)
    assert ours.dtype == theirs.dtype == np.float32
    scale = np.abs(image.astype(np.float64)).sum() * np.abs(kernel.astype(np.float64)).max()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5 * max(scale, 1))


@settings(max_examples=100, deadline=None)
@given(
    image=shapes.flatmap(lambda s: arrays(np.bool_, s)),
    kernel=shapes.flatmap(lambda s: arrays(np.bool_, s)),
    mode=st.sampled_from(MODES),
)
def test_bool_through_fft_convolve2d_counts_like_fftconvolve(image, kernel, mode):
    assume(fftconvolve_transforms(image, kernel))
    ours = fft_convolve2d_or_the_same_refusal(image, kernel, mode)
    if ours is None:
        return
    theirs = scipy.signal.fftconvolve(image, kernel, mode)
    assert ours.dtype == theirs.dtype == np.float64
    np.testing.assert_allclose(ours, theirs, atol=1e-9)
    np.testing.assert_array_equal(np.rint(ours), lesson.convolve2d(image.astype(int), kernel.astype(int), mode))


def test_fft_convolve2d_of_the_seed_example_rounds_to_the_integers():
    for mode in MODES:
        result = lesson.fft_convolve2d(I, SQUARE, mode)
        assert result.dtype == np.float64
        np.testing.assert_array_equal(np.rint(result).astype(int), lesson.convolve2d(I, SQUARE, mode))


@settings(max_examples=200, deadline=None)
@given(image=st.one_of(int_matrices, float_matrices), kernel=int_matrices, mode=st.sampled_from(MODES), band_bytes=st.integers(1, 200))
def test_bands_of_a_few_rows_give_the_same_result(image, kernel, mode, band_bytes):
    with mock.patch.object(lesson, "BAND_BYTES", band_bytes):
        assert_same_as_scipy(lesson.convolve2d, scipy.signal.convolve2d, image, kernel, mode)
        assert_same_as_scipy(lesson.correlate2d, scipy.signal.correlate2d, image, kernel, mode)


def test_boundary_options_are_the_image_padded_by_np_pad():
    image = np.array(I)
    kernel = np.arange(6).reshape(2, 3)
    pad = lesson.convolve2d_same_padding(kernel.shape)
    for boundary, numpy_mode in lesson.BOUNDARIES.items():
        padded = np.pad(image, pad, mode=numpy_mode)
        np.testing.assert_array_equal(
            lesson.convolve2d(padded, kernel, "valid"), scipy.signal.convolve2d(image, kernel, "same", boundary=boundary)
        )


def test_sum_lines_brackets_negative_terms():
    assert lesson.sum_lines(np.array([[21, 6], [240, -4]])) == "21 + 6\n+ 240 + (-4)\n= 263"


def test_the_flip_animation_slides_the_flipped_kernel_one_frame_per_output_value():
    frames, states, text_px = lesson.sliding_frames(np.array(I), np.array(SQUARE), flip=True)
    assert len(frames) == 4
    assert {frame.mode for frame in frames} == {"P"}
    assert len({frame.size for frame in frames}) == 1
    assert len({frame.tobytes() for frame in frames}) == 4
    assert frames[0].size[0] <= 880
    assert text_px >= 11 - 0.05
    assert [state["window"] for state in states] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [state["value"] for state in states] == [751, 263, 1118, 714]


def test_the_flip_gives_each_tap_one_tint_wherever_it_goes():
    assert len(set(lesson.TAP_COLOURS)) == 4
    assert not set(lesson.TAP_COLOURS) & set(lesson.lessonkit.COLOURS.values())


def test_the_flip_is_visible_with_the_asymmetric_kernel():
    kernel = np.array(SQUARE)
    assert not np.array_equal(kernel, kernel[::-1, ::-1])
    convolved = lesson.convolve2d(I, kernel, "valid")
    assert np.array_equal(convolved, lesson.correlate2d(I, kernel[::-1, ::-1], "valid"))
    assert lesson.correlate2d(I, kernel, "valid").tolist() == [[896, 488], [1112, 886]] != convolved.tolist()


def test_same_is_the_image_shape_even_for_a_larger_kernel_unlike_numpys_max():
    x, h = np.array([6, 2]), np.array([1, 2, 5, 4])
    assert lesson.convolve2d([x], [h], "same").shape == scipy.signal.convolve2d([x], [h], "same").shape == (1, 2)
    assert np.convolve(x, h, "same").shape == (4,)
    for image_shape, kernel_shape in (((5, 7), (3, 2)), ((4, 4), (4, 1))):
        rows, columns = lesson.output_shape(image_shape, kernel_shape, "same")
        assert (rows, columns) == image_shape
        assert rows == len(np.convolve(np.ones(image_shape[0]), np.ones(kernel_shape[0]), "same"))
        assert columns == len(np.convolve(np.ones(image_shape[1]), np.ones(kernel_shape[1]), "same"))


BINARY = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]])
X_KERNEL = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])


def test_sliding_frames_share_one_palette_and_one_size():
    frames, _, text_px = lesson.sliding_frames(BINARY, X_KERNEL)
    assert len(frames) == 9
    assert {frame.mode for frame in frames} == {"P"}
    assert len({frame.size for frame in frames}) == 1
    assert len({bytes(frame.getpalette()) for frame in frames}) == 1
    assert frames[0].tobytes() != frames[-1].tobytes()
    assert frames[0].size[0] <= 880
    assert text_px >= 11 - 0.05


def test_the_sliding_window_visits_each_position_once_and_fills_the_feature_map():
    _, states, _ = lesson.sliding_frames(BINARY, X_KERNEL)
    assert [state["window"] for state in states] == [(r, c) for r in range(3) for c in range(3)]
    assert [state["cell"] for state in states] == [state["window"] for state in states]
    assert [state["value"] for state in states] == [4, 3, 4, 2, 4, 3, 2, 3, 4]


def test_the_first_steps_of_a_sliding_animation_are_slowest():
    durations = lesson.sliding_durations(9)
    assert durations == sorted(durations, reverse=True)
    assert durations[0] >= 3000 and durations[-1] >= 1000
    assert lesson.lessonkit.frame_durations(9, durations)[-1] >= lesson.lessonkit.HOLD_LAST_FRAME_MS


def figure_texts(figure):
    texts = [text.get_text() for ax in figure.axes for text in ax.texts]
    texts += [ax.get_title() for ax in figure.axes]
    return texts + ([figure._suptitle.get_text()] if figure._suptitle else [])


def test_feature_map_figure_shades_the_kernels_ones_and_writes_every_number():
    feature_map = lesson.correlate2d(BINARY, X_KERNEL, "valid")
    fig = lesson.feature_map_figure(BINARY, X_KERNEL, feature_map)
    texts = figure_texts(fig)
    assert "feature map I ⋆ g" in texts and "kernel g" in texts
    assert texts.count("4") >= 4
    cells, text_colours = lesson.kernel_colours(X_KERNEL)
    assert set(cells[X_KERNEL == 1]) == {lesson.STRONG_KERNEL_COLOUR}
    assert lesson.STRONG_KERNEL_COLOUR not in set(cells[X_KERNEL == 0])
    assert set(text_colours[X_KERNEL == 0]) == {lesson.DIM_TEXT}
    shades = lesson.feature_map_colours(feature_map)
    assert shades[0, 0] == shades[1, 1] != shades[1, 0]
    assert_readable(fig, "2d_feature_map.png")


def test_boundaries_figure_pads_by_two_and_shows_each_rule():
    image = np.arange(1, 37).reshape(6, 6)
    fig = lesson.boundaries_figure(image, pad=2)
    by_id = {text.get_gid(): text.get_text() for ax in fig.axes for text in ax.texts if text.get_gid()}
    assert len([gid for gid in by_id if gid.startswith("fill ")]) == 10 * 10 - 36
    assert by_id["fill 4,0"] == by_id["fill 4,1"] == "0"
    assert (by_id["wrap 4,0"], by_id["wrap 4,1"]) == ("17", "18")
    assert (by_id["symm 4,0"], by_id["symm 4,1"]) == ("14", "13")
    assert [ax.get_title().split(":")[0] for ax in fig.axes] == ["boundary='fill'", "boundary='wrap'", "boundary='symm'"]
    assert len([child for ax in fig.axes for child in ax.texts if not child.get_text()]) == 4
    arrows = {ax.get_title().split(":")[0]: {(child.xyann[0], child.xy[0]) for child in ax.texts if not child.get_text()}
              for ax in fig.axes}
    assert arrows["boundary='wrap'"] == {(6.5, 0.5), (7.5, 1.5)}
    assert arrows["boundary='symm'"] == {(3.5, 0.5), (2.5, 1.5)}
    assert [child.get_text() for ax in fig.axes for child in ax.texts].count("arrow: from a column to its copy") == 2
    outlines = [patch for ax in fig.axes for patch in ax.patches if not patch.get_fill()]
    assert len(outlines) == 3
    assert all(to_hex(patch.get_edgecolor()) == lesson.OUTLINE_COLOUR != lesson.WINDOW_COLOUR for patch in outlines)
    assert_readable(fig, "2d_boundaries.png")


def test_the_boundary_example_gives_three_different_borders():
    image, kernel = np.arange(1, 37).reshape(6, 6), np.ones((5, 5), dtype=int)
    results = {b: scipy.signal.convolve2d(image, kernel, "same", boundary=b) for b in lesson.BOUNDARIES}
    corners = {b: result[0, 0] for b, result in results.items()}
    assert corners == {"fill": 72, "wrap": 445, "symm": 165}
    for b, result in results.items():
        np.testing.assert_array_equal(result[2:4, 2:4], results["fill"][2:4, 2:4])


def test_theorem_figure_draws_each_step_and_the_wrap_around():
    image, kernel = lesson.theorem_example()
    fig = lesson.theorem_figure(image, kernel)
    titles = [ax.get_title() for ax in fig.axes]
    for title in ("I, padded to (32, 40)", "|F(I)|, log scale", "|F(g)|, log scale", "|F(I) ⊙ F(g)|",
                  "inverse: I ⊛ g", "circular - true:\nthe wrap-around"):
        assert title in titles
    kernel_panel = next(ax for ax in fig.axes if ax.get_title() == "g (1x9), padded")
    (outline,) = kernel_panel.patches
    assert to_hex(outline.get_edgecolor()) == lesson.STRONG_KERNEL_COLOUR
    assert (outline.get_width(), outline.get_height()) == (9, 1)
    assert_readable(fig, "2d_theorem.png")


def test_without_padding_the_fft_wraps_the_blur_round_onto_the_left_columns():
    image, kernel = lesson.theorem_example()
    true = lesson.convolve2d(image, kernel)
    circular = np.real(np.fft.ifft2(np.fft.fft2(image) * np.fft.fft2(kernel, image.shape)))
    differs = np.abs(circular - true[:32, :32]).max(axis=0) > 1e-9
    assert np.flatnonzero(differs).tolist() == list(range(7))
    assert np.abs(circular - true[:32, :32]).max() == pytest.approx(3 / 9, abs=1e-9)
    padded = np.real(np.fft.ifft2(np.fft.fft2(image, true.shape) * np.fft.fft2(kernel, true.shape)))
    np.testing.assert_allclose(padded, true, rtol=0, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(image=st.one_of(int_matrices, small_int_matrices), kernel=int_matrices)
def test_the_four_line_loop_is_the_fast_convolution(image, kernel):
    assume(image.size * kernel.size <= 4000)
    loop = lesson.convolve2d_loop(image, kernel)
    np.testing.assert_array_equal(loop, lesson.convolve2d(image, kernel))
    np.testing.assert_array_equal(loop, scipy.signal.convolve2d(image, kernel))


def test_the_readme_shows_the_loop_as_the_code_runs_it():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    source = inspect.getsource(lesson.convolve2d_loop)
    block = readme[readme.index("```python\nfor i, j in np.ndindex") + len("```python\n") :]
    block = block[: block.index("```")]
    assert block.strip().splitlines() and all(line.strip() in source for line in block.strip().splitlines())


def test_valid_starts_k_h_minus_1_rows_and_k_w_minus_1_columns_into_full():
    for kernel in (EDGE, SQUARE):
        k_h, k_w = np.shape(kernel)
        full = lesson.convolve2d(I, kernel)
        np.testing.assert_array_equal(lesson.convolve2d(I, kernel, "valid"), full[k_h - 1 : 3, k_w - 1 : 3])
    assert lesson.convolve2d(I, EDGE)[0, 0] == -255
    assert lesson.convolve2d(I, EDGE, "valid")[0, 0] == 248


@settings(max_examples=100, deadline=None)
@given(
    image=st.tuples(st.integers(3, 10), st.integers(3, 10)).flatmap(
        lambda shape: arrays(np.int64, shape, elements=st.integers(-50, 50))),
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)).flatmap(
        lambda shape: arrays(np.int64, shape, elements=st.integers(-5, 5))),
    a=st.integers(0, 2),
    b=st.integers(0, 2),
)
def test_shifting_the_image_shifts_the_map_away_from_the_seam(image, kernel, a, b):
    assume(image.shape[0] - kernel.shape[0] >= a and image.shape[1] - kernel.shape[1] >= b)
    away, _ = lesson.shifted_map_check(image, kernel, (a, b))
    assert away
    padded = np.pad(image, ((a, 0), (b, 0)))
    np.testing.assert_array_equal(lesson.convolve2d(padded, kernel)[a:, b:], lesson.convolve2d(image, kernel))


def test_the_x_kernel_is_its_own_turn_and_its_best_window_holds_4_of_5():
    assert np.array_equal(X_KERNEL[::-1, ::-1], X_KERNEL)
    np.testing.assert_array_equal(lesson.convolve2d(BINARY, X_KERNEL, "valid"), lesson.correlate2d(BINARY, X_KERNEL, "valid"))
    zero_sum = np.where(X_KERNEL == 1, 4, -5)
    matches = lesson.correlate2d(BINARY, zero_sum, "valid")
    best = [tuple(p) for p in np.argwhere(matches == matches.max())]
    assert matches.max() == 6 and best == [(0, 0), (0, 2), (2, 2)]
    for r, c in best:
        window = BINARY[r : r + 3, c : c + 3]
        assert (np.sum(window * X_KERNEL), np.sum(window * (1 - X_KERNEL))) == (4, 2)


@pytest.mark.parametrize("M", [1, 2, 3, 4, 5])
def test_np_correlate_same_sits_left_of_correlate2d_only_for_even_kernels(M):
    x = np.arange(1, 9)
    h = np.arange(1, M + 1) ** 2
    same_place = np.array_equal(np.correlate(x, h, "same"), scipy.signal.correlate2d([x], [h], "same")[0])
    assert same_place == (M % 2 == 1)


@pytest.mark.parametrize(
    "first, second, transforms",
    [((4, 5), (1, 1), False), ((2, 1), (1, 3), False), ((1, 3), (1, 3), True), ((4, 5), (1, 3), True)],
)
def test_fftconvolve_multiplies_in_the_inputs_dtype_only_when_every_axis_has_a_length_1_input(first, second, transforms):
    a, b = np.ones(first, dtype=np.int64), np.ones(second, dtype=np.int64)
    theirs = scipy.signal.fftconvolve(a, b)
    assert theirs.dtype == (np.float64 if transforms else np.int64)
    ours = lesson.fft_convolve2d(a, b)
    assert ours.dtype == np.float64
    np.testing.assert_allclose(ours, theirs, atol=1e-9)


def test_main_calls_the_sections_in_readme_order():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    functions = re.findall(r"^    (\w+)\(figures\)$", inspect.getsource(lesson.main), flags=re.M)
    titles = [re.search(r'heading\("(.*)"\)', inspect.getsource(getattr(lesson, name)))[1] for name in functions]
    positions = [readme.index(f"\n## {t}\n") if f"\n## {t}\n" in readme else readme.index(f"\n### {t}\n")
                 for t in titles]
    assert positions == sorted(positions)
    assert len(titles) == 7


FIGURES = ["2d_boundaries.png", "2d_feature_map.png", "2d_flip.gif", "2d_sliding.gif", "2d_theorem.png"]


def test_lesson_runs_as_a_learner_would_and_draws_the_same_figures_every_time(run_lesson):
    process, out = run_lesson("1_2D.py")
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    printed = [" ".join(line.split()) for line in process.stdout.splitlines()]
    for line in [
        "(I ⊛ g)[i, j] = Σ_u Σ_v I[i - u, j - v] · g[u, v]",
        "valid: (H - k_h + 1, W - k_w + 1) = (3 - 1 + 1, 3 - 2 + 1) = (3, 2)",
        "[[248 4]",
        "[ 2 -14]]",
        "full: (H + k_h - 1, W + k_w - 1) = (3 + 1 - 1, 3 + 2 - 1) = (3, 4)",
        "[[-255 248 4 3]",
        "[-218 2 -14 230]]",
        "[ 436 1086 1108 690]]",
        "same: (H, W) = (3, 3)",
        "[ 206 1118 714]]",
        "[[ 751 263]",
        "[1118 714]]",
        "ours == scipy: True",
        "scipy correlate2d same: [21 32 43 54 5] = full[1:6]: True",
        "np.correlate same: [10 21 32 43 54] = full[0:5]: True",
        "x = [6 2] (N = 2), h = [1 2 5 4] (M = 4)",
        "np.convolve same: [ 6 14 34 34] = full[0:4]: True; start (min(N, M) - 1) // 2 = (2 - 1) // 2 = 0",
        "np.correlate same: [38 22 10 2] = full[1:5]: True; start min(N, M) // 2 = 2 // 2 = 1",
        "scipy convolve2d same: [14 34] = full[1:3]: True; start (M - 1) // 2 = (4 - 1) // 2 = 1",
        "g turned 180° is g: True, so the convolution I ⊛ g, which turns g first, is the same map: True",
        "The best window, at row 0, column 0, scores 6 = 4·4 - 5·2: 4 of the X's 5 pixels are white, and 2 of the 4 around them.",
        "g = [[-1, 1], [2, 3]]: convolve2d_loop(I, g) == convolve2d(I, g, 'full') == scipy: True",
        "and on 20 random integer images and kernels of random shapes: True",
        "The formula counts i and j in 'full': at i = j = 0 it is I[0, 0]·g[0, 0] = 255·(-1) = -255.",
        "map of the shifted image, from row 2 and column 3 on, == the map moved by (2, 3): True",
        "and for 20 random images, kernels and shifts: True",
        "The corner differs: fill 72, wrap 445, symm 165",
        "not padded: columns 0 to 6 differ, by up to 0.333: the blur that leaves the right edge lands on the left",
        "x = [1 2 3 4 5], h = [ 1 10 100]",
        "I and a 1x1 kernel [[2]]: fftconvolve gives int64, fft_convolve2d float64; values equal: True",
        "[[4 3 4]",
        "[2 4 3]",
        "[2 3 4]]",
        "Scores: the X itself 5, an all-white patch 5, an all-black patch 0.",
        "Scores: the X itself 20, an all-white patch 0, an all-black patch 0. Its feature map:",
        "so the flip shows: convolve2d(I, g, 'valid') == correlate2d(I, g[::-1, ::-1], 'valid'): True",
        "The Fourier transform F turns convolution into multiplication: F(I ⊛ g) = F(I) ⊙ F(g),",
        "bool, I > 100 and g > 0: result float64, the dtype and values of fftconvolve's: True",
        "float16, I / 255 and g: result float32, the dtype and values of fftconvolve's: True",
        "5 written to " + str(out) + ":",
    ]:
        assert line in printed, line
    assert "False" not in process.stdout.replace("the whole map == the map moved by (2, 3): False", "")
    assert " * " not in process.stdout
    assert "older course" not in process.stdout
    assert "i and j are the row and column of the output pixel" in process.stdout
    sections = ["Image filter", "2-D convolution with SciPy", "Shift the image, and the map shifts",
                "Boundaries: fill, wrap and symm", "The convolution theorem", "Where 'same' starts",
                "fftconvolve: dtypes and length-1 axes"]
    assert [printed.index(section) for section in sections] == sorted(printed.index(section) for section in sections)
    assert sorted(path.name for path in out.iterdir()) == FIGURES
    with Image.open(out / "2d_sliding.gif") as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == 9
    with Image.open(out / "2d_flip.gif") as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == 4
    for name in ("2d_flip.gif", "2d_sliding.gif"):
        assert (out / name).stat().st_size < 400_000
    for name in ("2d_flip.gif", "2d_sliding.gif"):
        with Image.open(out / name) as gif:
            gif.seek(gif.n_frames - 1)
            assert gif.info["duration"] >= 2500
    for name in ("2d_boundaries.png", "2d_feature_map.png", "2d_theorem.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    first_run = {name: (out / name).read_bytes() for name in FIGURES}
    process, out = run_lesson("1_2D.py")
    assert process.returncode == 0, process.stderr
    assert {name: (out / name).read_bytes() for name in FIGURES} == first_run



def test_help_speaks_of_the_lesson_alone(run_lesson):
    process, _ = run_lesson("1_2D.py", "--help")
    assert process.returncode == 0, process.stderr
    assert "Convolution in two dimensions, with SciPy." in process.stdout
    assert "(I ⊛ g)[i, j] = Σ_u Σ_v I[i - u, j - v] · g[u, v]" in process.stdout
    assert "course" not in process.stdout
