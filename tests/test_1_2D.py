"""Tests for 1_2D.py: convolution in two dimensions, from scratch, with SciPy and with the FFT."""

import importlib
from unittest import mock

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

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
        scale = np.abs(image).sum() * np.abs(kernel).max()
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
def test_types_scipy_rejects_are_rejected_as_scipy_rejects_them(dtype):
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


def test_sliding_frames_share_one_palette_and_one_size():
    image = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]])
    kernel = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    frames = lesson.sliding_frames(image, kernel)
    assert len(frames) == 9
    assert {frame.mode for frame in frames} == {"P"}
    assert len({frame.size for frame in frames}) == 1
    assert len({bytes(frame.getpalette()) for frame in frames}) == 1
    assert frames[0].tobytes() != frames[-1].tobytes()


FIGURES = ["2d_boundaries.png", "2d_feature_map.png", "2d_sliding.gif"]


def test_lesson_runs_as_a_learner_would_and_draws_the_same_figures_every_time(run_lesson):
    process, out = run_lesson("1_2D.py")
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    printed = [" ".join(line.split()) for line in process.stdout.splitlines()]
    for line in [
        "I'(x, y) = sum over u, v of I(x - u, y - v) * g(u, v)",
        "valid: (H - h + 1, W - w + 1) = (3 - 1 + 1, 3 - 2 + 1) = (3, 2)",
        "[[248 4]",
        "[ 2 -14]]",
        "full: (H + h - 1, W + w - 1) = (3 + 1 - 1, 3 + 2 - 1) = (3, 4)",
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
        "[[4 3 4]",
        "[2 4 3]",
        "[2 3 4]]",
        "3 written to " + str(out) + ":",
    ]:
        assert line in printed, line
    assert "False" not in process.stdout
    assert "x is its row and y its column" in process.stdout
    sections = ["An image filter", "The formula", "The example, with SciPy and with our convolve2d",
                "Where 'same' centres an even kernel", "Boundaries: fill, wrap and symm", "The convolution theorem"]
    assert [printed.index(section) for section in sections] == sorted(printed.index(section) for section in sections)
    assert sorted(path.name for path in out.iterdir()) == FIGURES
    with Image.open(out / "2d_sliding.gif") as gif:
        assert gif.format == "GIF"
        assert gif.n_frames == 9
    for name in FIGURES[:2]:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    first_run = {name: (out / name).read_bytes() for name in FIGURES}
    process, out = run_lesson("1_2D.py")
    assert process.returncode == 0, process.stderr
    assert {name: (out / name).read_bytes() for name in FIGURES} == first_run

