"""Tests for 0_1D.py: convolution in one dimension, from scratch and with NumPy."""

import importlib
import inspect
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from conftest import ROOT, assert_readable

lesson = importlib.import_module("0_1D")

MODES = ["full", "same", "valid"]

int_signals = arrays(np.int64, st.integers(1, 30), elements=st.integers(-1000, 1000))
float_signals = arrays(
    np.float64, st.integers(1, 30), elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
)


def test_the_moving_sum_of_the_noisy_step_step_by_step():
    y = lesson.convolve1d(lesson.STEP, lesson.MOVING_SUM)
    assert y.tolist() == [2, 2, 3, 9, 15, 21, 13, 7]
    assert y.dtype == np.convolve(lesson.STEP, lesson.MOVING_SUM).dtype


def test_the_moving_average_smooths_the_step_into_a_ramp():
    average = np.convolve(lesson.STEP, lesson.MOVING_SUM / 3, "valid")
    np.testing.assert_allclose(average, [1, 3, 5, 7], rtol=0, atol=1e-12)
    np.testing.assert_allclose(lesson.convolve1d(lesson.STEP, lesson.MOVING_SUM, "valid") / 3, average, atol=1e-12)


def test_the_difference_kernel_is_largest_at_the_step():
    differences = lesson.convolve1d(lesson.STEP, lesson.DIFFERENCE, "valid")
    assert differences.tolist() == (lesson.STEP[1:] - lesson.STEP[:-1]).tolist() == [-2, 1, 7, -2, 1]
    assert int(np.argmax(differences)) + 1 == 3


def test_the_correlation_example_kernel_is_neither_its_flip_nor_minus_it():
    h = lesson.RECENT_FIRST
    assert not np.array_equal(h, h[::-1]) and not np.array_equal(h, -h[::-1])
    x = lesson.STEP
    assert lesson.convolve1d(x, h, "valid").tolist() == [3 * x[i] + 2 * x[i - 1] + x[i - 2] for i in range(2, 6)]
    assert np.correlate(x, h, "valid").tolist() == [3 * x[i] + 2 * x[i + 1] + x[i + 2] for i in range(4)]


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


@pytest.mark.parametrize("N, M, expected", [(6, 3, [8, 6, 4]), (2, 4, [5, 4, 3]), (4, 2, [5, 4, 3]), (5, 3, [7, 5, 3]), (1, 1, [1, 1, 1])])
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
    assert lesson.step_equation(x, np.array([1, -1]), 3, show_terms=False) == "y[3] = 5·(-1) = -5"


def texts_by_id(figure):
    """{gid: text} of every text in `figure` that has an id."""
    return {text.get_gid(): text.get_text() for ax in figure.axes for text in ax.texts if text.get_gid()}


def all_texts(figure):
    return [text.get_text() for ax in figure.axes for text in ax.texts] + [
        figure._suptitle.get_text() if figure._suptitle else ""
    ]


def test_sliding_figure_draws_every_step_once_and_fills_the_output_in_order():
    x, h = lesson.STEP, lesson.MOVING_SUM
    fig = lesson.sliding_figure(x, h)
    texts = all_texts(fig)
    full = np.convolve(x, h)
    steps = len(full)
    for i in range(steps):
        assert texts.count(f"i = {i}:  x") == 1
    by_id = texts_by_id(fig)
    for i in range(steps):
        assert by_id[f"sum{i}"] == lesson.step_equation(x, h, i, show_terms=False)
        assert by_id[f"sum{i}"].endswith(f"= {full[i]}")
        row = [by_id[f"y{i}[{k}]"] for k in range(steps)]
        assert row == [str(v) for v in full[: i + 1]] + [""] * (steps - i - 1)
    assert "x = [2 0 1 8 6 7] ⊛ h = [1 1 1]: the flipped kernel [1 1 1] slides along x" in texts
    assert "y = x ⊛ h, filled in step by step" in texts
    assert_readable(fig, "1d_sliding.png")
    assert round(fig.get_figwidth() * 100) <= 880


def test_modes_figure_labels_each_mode_with_its_length():
    fig = lesson.modes_figure(lesson.STEP, lesson.MOVING_SUM)
    texts = all_texts(fig)
    for label in ("'full': 8 values", "'same': 6 values", "'valid': 4 values", "signal x (N = 6)", "kernel h (M = 3)"):
        assert label in texts
    assert_readable(fig, "1d_modes.png")
    assert round(fig.get_figwidth() * 100) <= 880


@pytest.mark.parametrize("i", [0, 3, 7])
def test_sliding_playground_writes_out_step_i(i):
    fig = lesson.sliding_playground("2 0 1 8 6 7", "1 1 1", i)
    by_id = texts_by_id(fig)
    assert by_id[f"sum{i}"] == lesson.step_equation(lesson.STEP, lesson.MOVING_SUM, i)
    assert [by_id[f"y{i}[{k}]"] for k in range(i + 1)] == [str(v) for v in np.convolve(lesson.STEP, [1, 1, 1])[: i + 1]]
    assert f"Step {i} of 8: x = [2 0 1 8 6 7] ⊛ h = [1 1 1]" == fig._suptitle.get_text()
    assert_readable(fig, "playground.png")


def test_sliding_playground_takes_arrays_and_negative_floats():
    fig = lesson.sliding_playground([1.5, -2], np.array([1, -1]), 1)
    assert texts_by_id(fig)["sum1"] == "y[1] = x[0]·h[1] + x[1]·h[0] = 1.5·(-1) + (-2.0)·1 = (-1.5) + (-2.0) = -3.5"


@pytest.mark.parametrize(
    "x, h, i, message",
    [
        ("2 0 one", "1 1", 0, "x: 'one' is not a number (write numbers separated by spaces or commas, such as 1 1 1)"),
        ("2 0 1", "", 0, "h is empty (write numbers separated by spaces or commas, such as 1 1 1)"),
        ("2 0 1", "1 1", 4, "i = 4 is outside 0 to 3, the output indices of 'full' for N = 3 and M = 2"),
        ("2 0 1", "1 1", -1, "i = -1 is outside 0 to 3"),
        ("2 0 1", "1 1", 1.5, "i must be a whole number from 0 to 3, got 1.5"),
        ("2 nan", "1", 0, "x must hold finite numbers"),
        ([[1, 2]], "1", 0, "x must be a 1-D array"),
    ],
)
def test_sliding_playground_refuses_bad_input_with_one_line(x, h, i, message):
    with pytest.raises(ValueError) as error:
        lesson.sliding_playground(x, h, i)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_interactive_playground_drives_the_playground_with_two_text_boxes_and_a_slider(monkeypatch):
    ipywidgets = pytest.importorskip("ipywidgets")
    seen = {}

    def fake_interact(function, **widgets):
        seen.update(widgets, function=function)
        return function

    monkeypatch.setattr(ipywidgets, "interact", fake_interact)
    lesson.interactive_playground()
    assert seen["function"] is lesson.sliding_playground
    assert isinstance(seen["x"], ipywidgets.Text) and isinstance(seen["h"], ipywidgets.Text)
    assert isinstance(seen["i"], ipywidgets.IntSlider)
    assert seen["i"].max == 7
    seen["x"].value = "1 2"
    assert seen["i"].max == 3


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
    """NumPy adds float16 products in float32 and rounds once; so must we, to the last bit.
    (Exact on any CPU: NumPy's float16 dot product is a plain loop in a fixed order, not BLAS.)"""
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
        "x padded: 0 0 2 0 1 8 6 7 0 0",
        "i = 1, h flipped: 1 1 1 y[1] = x[0]·h[1] + x[1]·h[0] = 2·1 + 0·1 = 2 + 0 = 2",
        "ours: [ 2 2 3 9 15 21 13 7]",
        "np.convolve(x, h / 3, 'valid') = [1. 3. 5. 7.]",
        "y / 3 == np.convolve(x, h / 3, 'valid'): True",
        "the largest, 7, is y[3] = x[3] - x[2] = 8 - 1: the step",
        "full: length N + M - 1 = 6 + 3 - 1 = 8",
        "same: length N = 6, the signal's",
        "valid: length N - M + 1 = 6 - 3 + 1 = 4",
        "'same' keeps 6, starting at (8 - 6) // 2 = 1:",
        "full[1:7] == np.convolve(x, h, 'same'): True",
        "full[2:6] == np.convolve(x, h, 'valid'): True",
        "not the first 6 values: full[:6] == np.convolve(x, h, 'same'): False",
        "full: np.correlate(x, h) == convolve1d(x, h[::-1]): True",
        "same: np.correlate(x, h) == convolve1d(x, h[::-1]): True",
        "valid: np.correlate(x, h) == convolve1d(x, h[::-1]): True",
        "full: length N + M - 1 = 2 + 4 - 1 = 5: [ 6 14 34 34 8], ours == np.convolve: True",
        "convolve1d(x, h[::-1], 'same') = [24 38 22 10] = full[0:4], the centre: True",
        "np.correlate(x, h, 'same') = [38 22 10 2] = full[1:5], one place right: True",
        "x = [1.001 1.001 1.001 1.001], h = [0.3333 0.3333 0.3333 0.3333]",
        "np.convolve: [0.3335 0.667 1.001 1.334 1.001 0.667 0.3335]",
        "Rounded to float16 after every product and every addition, y[2] would be 1.0, not 1.001.",
    ]:
        assert line in printed, line
    assert stdout.count("ours == np.convolve: True") == 8
    assert "False" not in stdout.replace("full[:6] == np.convolve(x, h, 'same'): False", "")
    assert " * " not in stdout
    headings = ["1-D convolution with NumPy", "Output size: full, same and valid", "'same' is the centre of 'full'",
                "Convolution and cross-correlation in 1-D", "Kernels longer than the signal",
                "float16: added up in float32"]
    assert [printed.index(title) for title in headings] == sorted(printed.index(title) for title in headings)
    for name in ("1d_modes.png", "1d_sliding.png"):
        assert (out / name).read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert name in stdout
    assert sorted(path.name for path in out.iterdir()) == ["1d_modes.png", "1d_sliding.png"]
    first_run = {path.name: path.read_bytes() for path in out.iterdir()}
    process, out = run_lesson("0_1D.py")
    assert process.returncode == 0, process.stderr
    assert {path.name: path.read_bytes() for path in out.iterdir()} == first_run


def test_main_calls_the_sections_in_readme_order():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    source = inspect.getsource(lesson.main)
    functions = re.findall(r"^    (\w+)\(figures\)$", source, flags=re.M)
    titles = [re.search(r'heading\("(.*)"\)', inspect.getsource(getattr(lesson, name)))[1] for name in functions]
    positions = [readme.index(f"\n## {title}\n") if f"\n## {title}\n" in readme else readme.index(f"\n### {title}\n")
                 for title in titles]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    "args, x, h",
    [
        (["--signal", "1 two"], "1 two", "1 1 1"),
        (["--kernel", ""], "2 0 1 8 6 7", ""),
        (["--signal", "1 2 3 4 5 6 7 8 9 10 11", "--kernel", "1 2 3"], "1 2 3 4 5 6 7 8 9 10 11", "1 2 3"),
    ],
)
def test_bad_numbers_on_the_command_line_give_the_playgrounds_message(run_lesson, args, x, h):
    process, out = run_lesson("0_1D.py", *args)
    assert process.returncode == 2
    assert process.stdout == ""
    with pytest.raises(ValueError) as error:
        lesson.sliding_playground(x, h, 0)
    assert process.stderr == f"error: {error.value}\n"
    assert not out.exists()


def test_your_own_signal_and_kernel_drive_the_step_by_step_slide(run_lesson):
    process, out = run_lesson("0_1D.py", "--signal", "1 2 3 4", "--kernel", "1 -1")
    assert process.returncode == 0, process.stderr
    printed = [" ".join(line.split()) for line in process.stdout.splitlines()]
    assert "x = [1 2 3 4] (N = 4), h = [ 1 -1] (M = 2), from the command line" in printed
    assert "i = 4, h flipped: -1 1 y[4] = x[3]·h[1] = 4·(-1) = -4" in printed
    assert "ours: [ 1 1 1 1 -4]" in printed
    assert "the largest, 7, is y[3] = x[3] - x[2] = 8 - 1: the step" in printed
    assert (out / "1d_sliding.png").is_file()
