"""Tests for 0_1D.py: convolution in one dimension, from scratch and with NumPy."""

import importlib
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

lesson = importlib.import_module("0_1D")

MODES = ["full", "same", "valid"]

int_signals = arrays(np.int64, st.integers(1, 30), elements=st.integers(-1000, 1000))
float_signals = arrays(
    np.float64, st.integers(1, 30), elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
)


def test_lesson_example_gives_6_11_14_5_0():
    y = lesson.convolve1d([3, 4, 5], [2, 1, 0])
    assert y.tolist() == [6, 11, 14, 5, 0]
    assert y.dtype == np.convolve([3, 4, 5], [2, 1, 0]).dtype


@pytest.mark.parametrize(
    "mode, expected",
    [("full", [6, 14, 34, 34, 8]), ("same", [6, 14, 34, 34]), ("valid", [14, 34, 34])],
)
def test_modes_of_the_lesson_example_with_a_longer_kernel(mode, expected):
    assert lesson.convolve1d([6, 2], [1, 2, 5, 4], mode).tolist() == expected


@pytest.mark.parametrize("N, M, expected", [(2, 4, [5, 4, 3]), (4, 2, [5, 4, 3]), (5, 3, [7, 5, 3]), (1, 1, [1, 1, 1])])
def test_output_length_depends_only_on_the_longer_and_shorter_input(N, M, expected):
    assert [lesson.output_length(N, M, mode) for mode in MODES] == expected


def test_same_and_valid_are_the_centre_of_full_not_its_first_values():
    x, h = [1, 2, 3, 4, 5], [1, 2, 3]
    full = lesson.convolve1d(x, h, "full")
    same = lesson.convolve1d(x, h, "same")
    assert full.tolist() == [1, 4, 10, 16, 22, 22, 15]
    assert same.tolist() == [4, 10, 16, 22, 22]
    assert np.array_equal(same, full[1:6])
    assert not np.array_equal(same, full[:5])
    assert lesson.convolve1d(x, h, "valid").tolist() == full[2:5].tolist() == [10, 16, 22]


def test_the_middle_tap_of_same_sits_on_x_n():
    x, h = np.array([1, 2, 3, 4, 5]), np.array([1, 2, 3])
    padded = np.concatenate([[0], x, [0]])
    expected = [padded[n] * h[2] + padded[n + 1] * h[1] + padded[n + 2] * h[0] for n in range(len(x))]
    assert lesson.convolve1d(x, h, "same").tolist() == expected


def test_step_equation_writes_out_the_sum_for_each_n():
    x, h = np.array([3, 4, 5]), np.array([2, 1, 0])
    assert lesson.step_equation(x, h, 0) == "y[0] = x[0]·h[0] = 3·2 = 6"
    assert lesson.step_equation(x, h, 2) == (
        "y[2] = x[0]·h[2] + x[1]·h[1] + x[2]·h[0] = 3·0 + 4·1 + 5·2 = 0 + 4 + 10 = 14"
    )
    assert lesson.step_equation(x, h, 4, show_terms=False) == "y[4] = 5·0 = 0"


def value_ends(line):
    """The column just after each number that follows the label (up to the first colon)."""
    label_end = line.index(":") + 1
    return [label_end + match.end() for match in re.finditer(r"\d+", line[label_end:])]


def test_sliding_picture_puts_the_flipped_kernel_under_the_padded_signal():
    lines = lesson.sliding_picture(np.array([3, 4, 5]), np.array([2, 1, 0]))
    assert lines[0].split() == ["x", "padded:", "0", "0", "3", "4", "5", "0", "0"]
    assert [line.split()[:5] for line in lines[1:]] == [["i", "=", f"{i},", "h", "flipped:"] for i in range(5)]
    assert [line.split()[5:] for line in lines[1:]] == [["0", "1", "2"]] * 5
    padded_ends = value_ends(lines[0])
    for n, line in enumerate(lines[1:]):
        assert value_ends(line) == padded_ends[n : n + 3]


@settings(max_examples=200, deadline=None)
@given(x=int_signals, h=int_signals, mode=st.sampled_from(MODES))
def test_integer_convolution_matches_numpy_exactly(x, h, mode):
    ours = lesson.convolve1d(x, h, mode)
    theirs = np.convolve(x, h, mode)
    assert ours.dtype == theirs.dtype
    assert np.array_equal(ours, theirs)


@settings(max_examples=200, deadline=None)
@given(x=float_signals, h=float_signals, mode=st.sampled_from(MODES))
def test_float_convolution_matches_numpy(x, h, mode):
    ours = lesson.convolve1d(x, h, mode)
    theirs = np.convolve(x, h, mode)
    assert ours.dtype == theirs.dtype
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-6)


@settings(max_examples=200, deadline=None)
@given(x=int_signals, h=float_signals, mode=st.sampled_from(MODES))
def test_mixed_int_and_float_inputs_give_numpys_dtype_and_values(x, h, mode):
    ours = lesson.convolve1d(x, h, mode)
    theirs = np.convolve(x, h, mode)
    assert ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-3)


@settings(max_examples=300, deadline=None)
@given(
    x=arrays(np.float16, st.integers(1, 40), elements=st.floats(-1000, 1000, width=16)),
    h=arrays(np.float16, st.integers(1, 40), elements=st.floats(-100, 100, width=16)),
    mode=st.sampled_from(MODES),
)
def test_float16_is_added_up_as_numpy_adds_it(x, h, mode):
    """NumPy adds float16 products in float32 and rounds once; so must we, to the last bit."""
    with np.errstate(over="ignore", invalid="ignore"):
        ours = lesson.convolve1d(x, h, mode)
        theirs = np.convolve(x, h, mode)
    assert ours.dtype == theirs.dtype == np.float16
    np.testing.assert_array_equal(ours, theirs)


def test_float16_rounds_once_not_after_every_product():
    """Rounded to float16 after every product and every partial sum, 1.001 drifts to 1.0."""
    x = np.array([1.001, 1.001, 1.001, 1.001], dtype=np.float16)
    h = np.array([0.3333, 0.3333, 0.3333, 0.3333], dtype=np.float16)
    exact = np.convolve(x.astype(np.float64), h.astype(np.float64))
    ours = lesson.convolve1d(x, h)
    assert np.array_equal(ours, np.convolve(x, h))
    assert np.array_equal(ours, exact.astype(np.float32).astype(np.float16))


def test_a_longer_kernel_is_swapped_with_the_signal():
    assert lesson.convolve1d([6, 2], [1, 2, 5, 4]).tolist() == lesson.convolve1d([1, 2, 5, 4], [6, 2]).tolist()


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.uint8, np.float32, np.bool_])
def test_small_dtypes_match_numpy(dtype):
    x = np.array([3, 4, 5, 7], dtype=dtype)
    h = np.array([2, 1, 6], dtype=dtype)
    for mode in MODES:
        ours = lesson.convolve1d(x, h, mode)
        theirs = np.convolve(x, h, mode)
        assert ours.dtype == theirs.dtype
        assert np.array_equal(ours, theirs)


@settings(max_examples=200, deadline=None)
@given(x=int_signals, h=int_signals)
def test_same_and_valid_are_the_centre_of_full(x, h):
    full = np.convolve(x, h, "full")
    for mode in ("same", "valid"):
        part = lesson.convolve1d(x, h, mode)
        start = (len(full) - len(part)) // 2
        assert np.array_equal(part, full[start:start + len(part)])
        assert np.array_equal(part, np.convolve(x, h, mode))


@settings(max_examples=200, deadline=None)
@given(x=int_signals, h=int_signals, mode=st.sampled_from(MODES))
def test_correlate_is_convolution_with_the_flipped_kernel(x, h, mode):
    correlated = np.correlate(x, h, mode)
    flipped = lesson.convolve1d(x, h[::-1], mode)
    if mode == "same" and len(h) > len(x) and len(x) % 2 == 0:
        full = lesson.convolve1d(x, h[::-1], "full")
        start = (len(full) - len(flipped)) // 2
        assert np.array_equal(flipped, full[start:start + len(flipped)])
        assert np.array_equal(correlated, full[start + 1:start + 1 + len(flipped)])
    else:
        assert np.array_equal(correlated, flipped)


def test_the_correlate_corner_shown_in_the_lesson_leans_right_of_the_centre():
    x, h = np.array([6, 2]), np.array([1, 2, 5, 4])
    full = lesson.convolve1d(x, h[::-1], "full")
    assert full.tolist() == np.correlate(x, h, "full").tolist() == [24, 38, 22, 10, 2]
    assert lesson.convolve1d(x, h[::-1], "same").tolist() == full[0:4].tolist() == [24, 38, 22, 10]
    assert np.correlate(x, h, "same").tolist() == full[1:5].tolist()


@pytest.mark.parametrize(
    "x, h, mode, message",
    [
        ([], [1, 2], "full", "x must not be empty"),
        ([1, 2], [], "full", "h must not be empty"),
        ([[1, 2], [3, 4]], [1], "full", "x must be a 1-D array"),
        ([1, 2], [[1, 2]], "same", "h must be a 1-D array"),
        (5, [1, 2], "full", "x must be a 1-D array, got 0 dimensions"),
        ([1, 2], [1], "middle", "unknown mode 'middle'"),
    ],
)
def test_bad_input_raises_value_error_with_a_clear_message(x, h, mode, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[")):
        lesson.convolve1d(x, h, mode)


def test_lesson_runs_as_a_learner_would_and_draws_the_same_figures_every_time(run_lesson):
    process, out = run_lesson("0_1D.py")
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    stdout = process.stdout
    printed = [" ".join(line.split()) for line in stdout.splitlines()]
    for line in [
        "y[i] = Σ_m x[m] · h[i - m]",
        "x padded: 0 0 3 4 5 0 0",
        "i = 1, h flipped: 0 1 2 y[1] = x[0]·h[1] + x[1]·h[0] = 3·1 + 4·2 = 3 + 8 = 11",
        "ours: [ 6 11 14 5 0]",
        "x = [1.001 1.001 1.001 1.001], h = [0.3333 0.3333 0.3333 0.3333]",
        "np.convolve: [0.3335 0.667 1.001 1.334 1.001 0.667 0.3335]",
        "Rounded to float16 after every product and every addition, y[2] would be 1.0, not 1.001.",
        "full: length N + M - 1 = 2 + 4 - 1 = 5",
        "ours: [ 6 14 34 34 8]",
        "same: length max(N, M) = max(2, 4) = 4",
        "np.convolve: [ 6 14 34 34]",
        "valid: length max(N, M) - min(N, M) + 1 = 4 - 2 + 1 = 3",
        "np.convolve: [14 34 34]",
        "'same' keeps 5, starting at (7 - 5) // 2 = 1:",
        "full[1:6] == np.convolve(x, h, 'same'): True",
        "full[2:5] == np.convolve(x, h, 'valid'): True",
        "full[:5] == np.convolve(x, h, 'same'): False",
        "same: np.correlate(x, h) == convolve1d(x, h[::-1]): True",
        "convolve1d(x, h[::-1], 'same') = [24 38 22 10] = full[0:4], the centre: True",
        "np.correlate(x, h, 'same') = [38 22 10 2] = full[1:5], one place right: True",
    ]:
        assert line in printed, line
    assert stdout.count("ours == np.convolve: True") == 5
    assert "False" not in stdout.replace("full[:5] == np.convolve(x, h, 'same'): False", "")
    assert " * " not in stdout
    headings = ["1-D convolution with NumPy", "Output size: full, same and valid", "'same' is the centre of 'full'",
                "Convolution and cross-correlation in 1-D", "Corner case: a kernel longer than the signal"]
    assert [printed.index(title) for title in headings] == sorted(printed.index(title) for title in headings)
    for name in ("1d_modes.png", "1d_sliding.png"):
        assert (out / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert name in stdout
    assert sorted(path.name for path in out.iterdir()) == ["1d_modes.png", "1d_sliding.png"]
    first_run = {path.name: path.read_bytes() for path in out.iterdir()}
    process, out = run_lesson("0_1D.py")
    assert process.returncode == 0, process.stderr
    assert {path.name: path.read_bytes() for path in out.iterdir()} == first_run

