"""Tests of 7_sequence.py: causal and dilated 1-D convolutions against Keras, the receptive
field by rule and by gradient, what the moving average and [1, -1] keep, the data, the
forecasts, and the learner's own series."""

import hashlib
import importlib
import importlib.util
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lessonkit
from conftest import ROOT, assert_readable, run_script

sequence = importlib.import_module("7_sequence")
_spec = importlib.util.spec_from_file_location("make_co2", ROOT / "data" / "make_co2.py")
make_co2 = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_co2)

SHIPPED_SHA256 = "ca0ec170aedd925388794dd98f538e12ad57cf7fbe8ec85c0090c4569eaeb5f2"


@pytest.fixture(scope="module")
def co2():
    return sequence.read_co2()


# causal_conv1d and receptive_field -------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(
    steps=st.integers(1, 12),
    k=st.integers(1, 4),
    dilation=st.integers(1, 3),
    c_in=st.integers(1, 3),
    c_out=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_causal_conv1d_equals_keras_causal_conv1d_on_random_shapes(steps, k, dilation, c_in, c_out, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((steps, c_in))
    kernel = rng.standard_normal((k, c_in, c_out))
    ours = sequence.causal_conv1d(x, kernel, dilation)
    assert ours.shape == (steps, c_out)
    np.testing.assert_allclose(ours, sequence.keras_conv1d(x, kernel, "causal", dilation), atol=1e-4)


@settings(max_examples=10, deadline=None)
@given(steps=st.integers(1, 12), k=st.integers(1, 4), dilation=st.integers(1, 3),
       padding=st.sampled_from(["valid", "same", "causal"]))
def test_keras_conv1d_output_sizes_follow_the_output_size_rule(steps, k, dilation, padding):
    rule = sequence.lesson_tf.conv_output_size(steps, k, 1, (dilation * (k - 1), 0) if padding == "causal" else padding,
                                               dilation)
    if rule == 0:
        return  # no window fits: Keras refuses to build the layer
    x, kernel = np.ones((steps, 1)), np.ones((k, 1, 1))
    assert sequence.keras_conv1d(x, kernel, padding, dilation).shape == (rule, 1)


def test_causal_conv1d_of_1d_arrays_is_a_correlation_with_zeros_before_the_start():
    x, kernel = np.arange(1.0, 7.0), np.array([2.0, -1.0, 0.5])
    expected = np.correlate(np.r_[np.zeros(2 * 2), x], np.array([2.0, 0, -1.0, 0, 0.5]), "valid")
    np.testing.assert_allclose(sequence.causal_conv1d(x, kernel, dilation=2), expected)


@pytest.mark.parametrize(
    ("x", "kernel", "argument"),
    [(np.zeros((4, 2)), np.zeros((2, 3, 1)), "kernel"), (np.zeros((2, 2, 2)), np.zeros(2), "x"), (np.zeros(0), np.ones(2), "x")],
)
def test_causal_conv1d_names_the_argument_of_a_wrong_shape(x, kernel, argument):
    with pytest.raises(ValueError, match=f"^{argument} must have shape"):
        sequence.causal_conv1d(x, kernel)


def test_a_future_input_never_changes_an_earlier_output():
    rng = np.random.default_rng(1)
    x, kernel = rng.standard_normal((20, 2)), rng.standard_normal((3, 2, 2))
    for t in range(19):
        changed = x.copy()
        changed[t + 1:] += 50
        np.testing.assert_allclose(sequence.causal_conv1d(changed, kernel, 3)[:t + 1], sequence.causal_conv1d(x, kernel, 3)[:t + 1])


def test_wavenets_stack_reads_16_steps_and_an_undilated_one_5():
    assert sequence.receptive_field([2, 2, 2, 2], [1, 2, 4, 8]) == 16
    assert sequence.receptive_field([2, 2, 2, 2], [1, 1, 1, 1]) == 5


@settings(max_examples=6, deadline=None)
@given(layers=st.lists(st.tuples(st.integers(1, 3), st.integers(1, 3)), min_size=1, max_size=3))
def test_the_receptive_field_rule_is_the_span_of_the_gradients_support(layers):
    rule = sequence.receptive_field([k for k, _ in layers], [d for _, d in layers])
    steps = rule + 3
    support = sequence.causal_gradient_support(layers, steps, steps - 1)
    assert (support.min(), support.max()) == (steps - rule, steps - 1)


def test_doubling_dilations_with_two_taps_read_every_step_of_the_span_once():
    gradient = sequence.causal_gradient([(2, 1), (2, 2), (2, 4), (2, 8)], 20, 19)
    np.testing.assert_allclose(gradient, np.r_[np.zeros(4), np.ones(16)])
    assert sequence.causal_gradient_support([(2, 1), (2, 2), (2, 4), (2, 8)], 20, 19).tolist() == list(range(4, 20))


def test_undilated_layers_read_the_middle_steps_along_more_paths():
    gradient = sequence.causal_gradient([(2, 1)] * 4, 8, 7)
    np.testing.assert_allclose(gradient, [0, 0, 0, 1, 4, 6, 4, 1])


def test_receptive_field_refuses_mismatched_or_non_positive_sizes():
    with pytest.raises(ValueError, match="differ in length"):
        sequence.receptive_field([2, 2], [1])
    with pytest.raises(ValueError, match="positive integers"):
        sequence.receptive_field([0], [1])


# What a kernel keeps ----------------------------------------------------------------------------


def test_the_moving_average_of_a_season_stops_the_season_and_its_harmonics_and_keeps_the_mean():
    response = sequence.frequency_response(sequence.moving_average(12), np.arange(0, 7) / 12)
    assert response[0] == pytest.approx(1)
    np.testing.assert_allclose(response[1:], 0, atol=1e-12)


def test_the_difference_kernel_scales_a_wave_by_two_sin_pi_f():
    frequencies = np.linspace(0, 0.5, 11)
    np.testing.assert_allclose(sequence.frequency_response(np.array([1.0, -1.0]), frequencies), 2 * np.sin(np.pi * frequencies), atol=1e-12)


def test_the_fft_samples_the_frequency_response():
    kernel = np.array([0.5, -2.0, 1.0, 3.0])
    np.testing.assert_allclose(np.abs(np.fft.rfft(kernel, 32)), sequence.frequency_response(kernel, np.arange(17) / 32), atol=1e-12)


class _Queue:
    """Stands in for lessonkit.Figures: keeps what a section adds."""

    def __init__(self):
        self.added = {}

    def add(self, name, figure):
        self.added[name] = figure


@pytest.mark.parametrize("season", [2, 3, 7, 12])
def test_the_frequency_section_works_for_any_season(season, capsys):
    queue = _Queue()
    sequence.what_a_kernel_keeps(season, False, queue)
    printed = capsys.readouterr().out
    assert "|ĥ| below 1e-12: True" in printed
    assert "FFT samples equal the formula, for both kernels: True True" in printed
    assert f"{8 * season}/{16 * season}" in printed  # f = 1/2, the fastest wave
    assert "one cycle a season" in queue.added["seq_response"].axes[0].texts[0].get_text()


def test_the_moving_average_removes_all_but_a_percent_of_the_yearly_cycle_of_co2(co2):
    _, values, _, _ = co2
    before = sequence.yearly_cycle_amplitude(values)
    after = sequence.yearly_cycle_amplitude(np.convolve(values, sequence.moving_average(), "valid"))
    assert before == pytest.approx(2.80, abs=0.01)
    assert after < 0.01 * before


# The data -------------------------------------------------------------------------------------


def test_the_record_starts_after_its_last_gap_and_holds_452_months(co2):
    months, values, weeks, gaps = co2
    assert (months[0], months[-1], len(values)) == ("1964-05", "2001-12", 452)
    assert gaps == ["1958-06", "1958-10", "1964-02", "1964-03", "1964-04"]
    assert weeks.min() >= 1
    assert np.all(np.diff([int(m[:4]) * 12 + int(m[5:]) for m in months]) == 1)


def test_the_shipped_file_is_the_one_data_readme_describes():
    assert hashlib.sha256(lessonkit.data_path("co2_monthly.csv").read_bytes()).hexdigest() == SHIPPED_SHA256
    assert SHIPPED_SHA256 in (ROOT / "data" / "README.md").read_text(encoding="utf-8")


@pytest.mark.skipif("CO2_CSV" not in os.environ, reason="set CO2_CSV to statsmodels' co2.csv to check it")
def test_make_co2_makes_the_shipped_file_from_the_source(tmp_path):
    assert make_co2.main(["make_co2.py", os.environ["CO2_CSV"], str(tmp_path / "co2.csv")]) == 0
    assert (tmp_path / "co2.csv").read_bytes() == lessonkit.data_path("co2_monthly.csv").read_bytes()


def test_monthly_means_average_the_measured_weeks_and_keep_empty_months():
    rows = [("20000101", "1"), ("20000108", "3"), ("20000115", ""), ("20000304", "5")]
    assert make_co2.monthly_means(rows) == [("2000-01", 2.0, 2), ("2000-02", None, 0), ("2000-03", 5.0, 1)]


# Forecasts --------------------------------------------------------------------------------------


SEEDS = (0, 1, 2, 3, 4)  # the README's `--seeds 5`


@pytest.fixture(scope="module")
def forecasts(co2):
    _, values, _, _ = co2
    split = len(values) - round(sequence.HELD_OUT * len(values))
    predicted, losses, filter_loss = sequence.forecasts(values, split, seeds=SEEDS)
    errors = {method: sequence.rms_error(forecast, values[split:]) for method, forecast in predicted.items()}
    return errors, losses, filter_loss


def test_every_learned_forecast_beats_the_naive_ones(forecasts):
    errors, _, _ = forecasts
    naive = min(errors["last value"], errors["value a season ago"])
    assert errors["linear filter"] < naive / 3
    assert errors["causal dilated CNN"] < naive / 3


def test_the_cnn_beats_the_linear_filter_for_every_seed(forecasts):
    errors, _, _ = forecasts
    cnn = [error for method, error in errors.items() if method.startswith("causal dilated CNN")]
    assert len(cnn) == len(SEEDS)
    assert max(cnn) < errors["linear filter"]
    assert np.mean(cnn) < 0.95 * errors["linear filter"]


def test_training_lowers_the_loss_below_the_linear_filters(forecasts):
    _, losses, filter_loss = forecasts
    assert len(losses) == sequence.TRAINING_STEPS
    assert losses[-1] < 0.2 * losses[0]
    assert losses[-1] < filter_loss


def test_no_value_from_a_step_on_reaches_its_forecast_or_the_training(co2):
    _, values, _, _ = co2
    split, step = 400, 410
    changed = values.copy()
    changed[step:] += np.random.default_rng(0).normal(0, 5, len(values) - step)
    before, losses, filter_loss = sequence.forecasts(values, split, steps=20)
    after, changed_losses, changed_filter_loss = sequence.forecasts(changed, split, steps=20)
    assert (changed_losses, changed_filter_loss) == (losses, filter_loss)
    for method in before:
        np.testing.assert_allclose(after[method][:step - split + 1], before[method][:step - split + 1], rtol=1e-12,
                                   err_msg=method)
        assert not np.allclose(after[method][step - split + 1:], before[method][step - split + 1:])


def test_a_series_of_constant_changes_is_forecast_exactly():
    values = 3.0 + 0.5 * np.arange(100)
    predicted, _, filter_loss = sequence.forecasts(values, 85, steps=20)
    assert filter_loss == pytest.approx(0, abs=1e-12)
    np.testing.assert_allclose(predicted["linear filter"], values[85:])
    np.testing.assert_allclose(predicted["causal dilated CNN"], values[85:])


# The learner's series -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["value", "1", "x"], "line 3: not a number: 'x'"),
        (["1", "", "2"], "line 2: not a number: an empty line"),
        (["1", "nan"], "line 2: not a finite number"),
        (["1,2"], "line 1: expected one column"),
        ([], "holds no numbers"),
        (["header only"], "holds no numbers"),
    ],
)
def test_a_malformed_series_is_one_clear_error(lines, message):
    with pytest.raises(lessonkit.LessonError, match=message):
        sequence.parse_series(lines)


def test_a_series_with_a_header_and_a_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("\ufefftemperature\n1.5\n2\n", encoding="utf-8")
    np.testing.assert_array_equal(sequence.read_series(path), [1.5, 2.0])


def test_too_short_a_series_gets_one_error_line_and_writes_nothing(tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("\n".join(map(str, range(30))))
    process = run_script("7_sequence.py", "--series", path, "--out", tmp_path / "out", cwd=tmp_path)
    assert process.returncode == 2
    assert process.stderr.strip() == (
        "error: the series has 30 values; the lesson needs at least 80 (four seasons of 12 steps and twice the "
        "forecaster's receptive field)")
    assert process.stdout == ""
    assert not (tmp_path / "out").exists()


def test_a_bad_season_gets_one_error_line(tmp_path):
    process = run_script("7_sequence.py", "--season", "1", cwd=tmp_path)
    assert (process.returncode, process.stderr.strip()) == (2, "error: --season must be at least 2, got 1")


# Figures -------------------------------------------------------------------------------------------


def test_the_dilation_figure_draws_16_and_5_inputs_read():
    figure, seen = sequence.dilation_figure()
    assert [len(steps) for steps in seen.values()] == [16, 5]
    titles = [axes.get_title() for axes in figure.axes]
    assert titles == ["dilations 1, 2, 4, 8: output t reads 16 inputs", "no dilation: output t reads 5 inputs"]
    assert_readable(figure, "seq_dilation.png")


def test_the_response_figure_marks_the_yearly_frequency(co2):
    figure = sequence.response_figure({"moving average of 12": sequence.moving_average(), "[1, -1]": np.array([1.0, -1.0])})
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert "1/12: one cycle a year" in texts
    assert [line.get_label() for line in figure.axes[0].get_lines()][:2] == ["moving average of 12", "[1, -1]"]
    assert_readable(figure, "seq_response.png")


def test_the_series_and_forecast_figures_label_their_lines(co2):
    months, values, _, _ = co2
    trend = np.convolve(values, sequence.moving_average(), "valid")
    figure = sequence.series_figure(months, values, trend, np.diff(values), "ppm")
    assert [axes.get_title() for axes in figure.axes] == [
        "A moving average over one year removes the yearly cycle",
        "x ⊛ [1, -1]: the change from one month to the next",
    ]
    assert_readable(figure, "seq_co2.png")
    actual = values[-24:]
    predicted = {"last value": values[-25:-1], "linear filter": actual + 0.5, "causal dilated CNN": actual - 0.25}
    figure = sequence.forecast_figure(months[-24:], actual, predicted, "ppm")
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert "linear filter: RMS error 0.50 ppm" in labels
    assert "causal dilated CNN: RMS error 0.25 ppm" in labels
    assert_readable(figure, "seq_forecast.png")


def test_the_series_figure_of_a_learners_series_uses_its_season_and_centres_the_average():
    values = np.sin(2 * np.pi * np.arange(60) / 7) + 0.1 * np.arange(60)
    trend = np.convolve(values, sequence.moving_average(7), "valid")
    figure = sequence.series_figure([], values, trend, np.diff(values), "units", season=7)
    top, bottom = figure.axes
    assert top.get_title() == "A moving average over one season (7 steps) removes the seasonal cycle"
    assert bottom.get_title() == "x ⊛ [1, -1]: the change from one step to the next"
    average = top.get_lines()[1]
    assert average.get_label() == "x ⊛ moving average of 7"
    np.testing.assert_allclose(average.get_xdata(), np.arange(len(trend)) + 3)  # the middle of steps i .. i + 6
    np.testing.assert_allclose(average.get_ydata(), 0.1 * (np.arange(len(trend)) + 3), atol=1e-12)
