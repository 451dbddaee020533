"""The benchmarks time the right computation and report it faithfully.

Timings themselves are never asserted: they depend on the machine.
"""

import doctest
import importlib
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy import signal

import lessonkit
from conftest import assert_readable

bench = importlib.import_module("benchmarks.bench_convolution")
bench_lessons = importlib.import_module("benchmarks.bench_lessons")


@settings(max_examples=200, deadline=None)
@given(
    image_shape=st.tuples(st.integers(1, 10), st.integers(1, 10)),
    kernel_shape=st.tuples(st.integers(1, 6), st.integers(1, 6)),
    seed=st.integers(0, 2**32 - 1),
)
def test_plain_python_loop_matches_scipy_same(image_shape, kernel_shape, seed):
    rng = np.random.default_rng(seed)
    image = rng.uniform(-5, 5, image_shape)
    kernel = rng.uniform(-5, 5, kernel_shape)
    expected = signal.convolve2d(image, kernel, mode="same")
    np.testing.assert_allclose(bench.naive_convolve2d(image, kernel), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method", bench.KERNEL_METHODS, ids=lambda method: method.label)
@pytest.mark.parametrize("image_shape", [(9, 12), (16, 16)])
@pytest.mark.parametrize("kernel_size", [1, 3, 5, 7])
def test_every_timed_method_computes_scipy_convolve2d_same(method, image_shape, kernel_size):
    rng = np.random.default_rng(kernel_size)
    image = rng.random(image_shape).astype(method.dtype)
    kernel = rng.standard_normal((kernel_size, kernel_size)).astype(method.dtype)
    expected = signal.convolve2d(image.astype(np.float64), kernel.astype(np.float64), mode="same")
    result = method.convolve(image, kernel)
    assert result.shape == image_shape
    assert result.dtype == method.dtype
    tolerance = 1e-10 if method.dtype == np.float64 else 1e-4
    np.testing.assert_allclose(result, expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("method", bench.SEPARABLE_METHODS, ids=lambda method: method.label)
@pytest.mark.parametrize("kernel_size", [1, 3, 5, 7])
def test_every_separable_sweep_method_computes_scipy_convolve2d_same_with_a_gaussian(method, kernel_size):
    image, kernel = bench.make_gaussian_inputs(13, kernel_size)
    expected = signal.convolve2d(image, kernel, mode="same")
    np.testing.assert_allclose(method.convolve(image, kernel), expected, rtol=1e-10, atol=1e-12)


def test_the_gaussian_kernel_is_rank_1_symmetric_and_sums_to_1():
    for kernel_size in (1, 3, 15, 31):
        kernel = bench.gaussian_kernel(kernel_size)
        assert kernel.shape == (kernel_size, kernel_size)
        assert np.linalg.matrix_rank(kernel) == 1
        np.testing.assert_allclose(kernel, kernel[::-1, ::-1], atol=1e-15)
        assert kernel.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("method", bench.LAYER_METHODS, ids=lambda method: method.label)
def test_every_layer_method_computes_tensorflows_valid_layer(method):
    images, filters = bench.layer_inputs(9, 3, 4, 3, method.dtype)
    expected = bench.tensorflow().nn.conv2d(images.astype(np.float64), filters.astype(np.float64), 1, "VALID")
    result = method.convolve(images, filters)
    assert result.shape == (1, 7, 7, 4)
    tolerance = 1e-10 if method.dtype == np.float64 else 1e-4
    np.testing.assert_allclose(result, expected.numpy(), rtol=tolerance, atol=tolerance)


def test_the_three_layer_kinds_compute_what_6_layer_py_computes_and_count_its_work():
    import importlib

    layer = importlib.import_module("6_layer")
    kinds = bench.layer_kind_calls(6, 8, 4, 3, 2)
    rng = np.random.default_rng([bench.SEED, 6, 8, 4, 3, 2])

    def draw(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    # The same weights, drawn in the order layer_kind_calls draws them.
    images, standard, grouped = draw(1, 6, 6, 8), draw(3, 3, 8, 4), draw(3, 3, 4, 4)
    depthwise, pointwise = draw(3, 3, 8, 1), draw(1, 1, 8, 4)
    padded = np.pad(images[0], ((1, 1), (1, 1), (0, 0))).astype(np.float64)
    expected = [
        layer.grouped_conv2d(padded, standard, 1),
        layer.grouped_conv2d(padded, grouped, 2),
        layer.separable_conv2d(padded, depthwise[:, :, :, 0], pointwise[0, 0]),
    ]
    for (label, work, call), want in zip(kinds, expected):
        np.testing.assert_allclose(call()[0], want, rtol=1e-4, atol=1e-4, err_msg=label)
    assert [work for _, work, _ in kinds] == [36 * 9 * 8 * 4, 36 * 9 * 8 * 4 // 2, 36 * (9 * 8 + 8 * 4)]


def test_the_grid_uses_only_odd_kernels_where_every_wrapper_is_exact():
    for grid in (bench.FULL, bench.QUICK, bench.SMOKE):
        assert all(size % 2 == 1 for size in grid.image_sweep_kernels + grid.kernel_sizes)


def test_every_sweep_is_made_at_least_three_times():
    for grid in (bench.FULL, bench.QUICK, bench.SMOKE):
        assert grid.passes >= 3


def test_float32_series_come_in_addition_to_float64_ones():
    labels = [method.label for method in bench.KERNEL_METHODS]
    assert len(labels) == len(set(labels))
    for method in bench.METHODS:
        if method.dtype == np.float32:
            assert method.name in labels


@pytest.mark.parametrize(
    "states, expected",
    [
        (["direct", "direct", "fft", "fft"], (5, 7)),
        (["direct", None, "fft", "fft"], (3, 7)),
        (["direct", "direct", "direct", "direct"], (11, None)),
        (["fft", "fft", "fft", "fft"], (None, 3)),
        (["direct", "fft", "direct", "fft"], (3, 11)),
        ([None, None, None, None], (None, None)),
    ],
    ids=["crosses once", "too close between", "never", "always", "noisy dip", "nothing told apart"],
)
def test_crossover_counts_only_verdicts_that_clear_the_spread(states, expected):
    assert bench.crossover([3, 5, 7, 11], states) == expected


def test_a_ratio_is_called_only_where_its_margin_clears_its_spread():
    assert bench.verdict(bench.Timing([0.40, 0.45, 0.50])) == "faster (margin 7.2x the spread)"
    assert bench.verdict(bench.Timing([1.9, 2.0, 2.1])).startswith("slower")
    assert bench.verdict(bench.Timing([0.7, 0.95, 1.2])).startswith("too close to call")
    assert bench.fft_state(bench.Timing([0.7, 0.95, 1.2])) is None
    assert bench.format_ratio_cell(bench.Timing([0.7, 0.95, 1.2])) == "0.95x~"


def test_ratios_pair_the_samples_of_the_same_round():
    # one slow round of the reference moves one ratio, not the median
    ours = bench.Timing([1.0, 1.0, 1.0, 1.0, 1.0])
    reference = bench.Timing([2.0, 2.0, 9.0, 2.0, 2.0])
    ratio = bench.paired_ratio(ours, reference)
    assert ratio.samples[2] == pytest.approx(1 / 9)
    assert ratio.median == pytest.approx(0.5)


def test_quartiles_and_iqr_of_a_timing():
    timing = bench.Timing([5.0, 1.0, 4.0, 2.0, 3.0])
    assert timing.quartiles() == (2.0, 3.0, 4.0)
    assert timing.iqr == 2.0
    assert bench.Timing([7.0]).iqr == 0


def test_time_in_turn_warms_up_each_then_rotates_the_order_every_round():
    calls = []
    timings = bench.time_in_turn([(calls.append, ("a",)), (calls.append, ("b",)), (calls.append, ("c",))], 3, 3, 0.0)
    assert calls[:3] == ["a", "b", "c"]
    # a sample of a quick call loops over many calls: keep the first call of each sample
    samples = [calls[3]] + [current for previous, current in zip(calls[3:], calls[4:]) if current != previous]
    assert samples == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert [len(timing.samples) for timing in timings] == [3, 3, 3]


def test_a_direct_method_over_the_budget_is_skipped_in_every_pass_but_never_the_reference():
    grid = bench.SMOKE
    rates = {method.label: 1.0 for method in bench.METHODS if method.direct}
    result = bench.sweep([(16, 3)], grid, rates)
    for method in bench.METHODS:
        skipped = result.timings[method.label] == [None]
        assert skipped == (method.direct and method is not bench.REFERENCE), method.label
    counts = {len(timings[0].samples) for timings in result.timings.values() if timings[0]}
    assert counts == {grid.passes * grid.min_rounds}


def test_the_tables_show_the_spread_and_mark_what_is_too_close_to_call(capsys):
    timings = {
        bench.REFERENCE.label: [bench.Timing([0.002, 0.002, 0.002])],
        "quick": [bench.Timing([0.001, 0.0011, 0.0012])],
        "noisy": [bench.Timing([0.001, 0.002, 0.004])],
        "plain Python loop": [None],
    }
    peak = {np.float64: 1e10, np.float32: 2e10}
    bench.print_sweep(bench.Sweep([(16, 3)], timings), ["16x16"], [16 * 16 * 9], bench.REFERENCE.label, peak)
    printed = capsys.readouterr().out
    assert "1.1 ms 9%" in printed
    assert "0.55x" in printed and "1.00x~" in printed and "slow" in printed
    assert "10 float64, 20 float32" in printed


def fake_sweep(sizes, labels, kernel_size=3):
    """A Sweep whose every method takes size² x K² ns, with a small spread."""
    timings = {label: [bench.Timing([n * n * kernel_size**2 * 1e-9 * f for f in (0.95, 1.0, 1.05)]) for n in sizes]
               for label in labels}
    return bench.Sweep([(n, kernel_size) for n in sizes], timings)


def texts_of(figure):
    return {text.get_text() for text in figure.findobj(lambda artist: hasattr(artist, "get_text"))}


def test_the_image_size_plot_is_readable_and_draws_the_series_and_the_slope_2_guide():
    grid = bench.FULL
    results = {k: fake_sweep(grid.image_sizes, [m.label for m in bench.METHODS], k)
               for k in grid.image_sweep_kernels}
    figure = bench.plot_image_sweeps(grid, results)
    assert_readable(figure, "bench_image_size.png")
    assert round(figure.get_figwidth() * 100) <= lessonkit.README_WIDTH
    texts = texts_of(figure)
    assert {"3x3 kernel", "7x7 kernel", "slope 2: time ∝ N²", *bench.PLOTTED} <= texts
    for axis in figure.axes:
        guide = next(line for line in axis.get_lines() if line.get_label().startswith("slope 2"))
        xs, ys = guide.get_data()
        assert np.log(ys[1] / ys[0]) / np.log(xs[1] / xs[0]) == pytest.approx(2.0)
        assert [container.get_label() for container in axis.containers] == bench.PLOTTED


def test_the_kernel_size_plot_is_readable_and_marks_the_crossover_told_apart():
    grid = bench.FULL
    result = bench.Sweep([(grid.kernel_sweep_image, k) for k in grid.kernel_sizes],
                         {label: [bench.Timing([k * 1e-3, k * 1.1e-3, k * 1.2e-3]) for k in grid.kernel_sizes]
                          for label in bench.PLOTTED})
    figure = bench.plot_kernel_sweep(grid, result, {"scipy": 11})
    assert_readable(figure, "bench_kernel_size.png")
    assert round(figure.get_figwidth() * 100) <= lessonkit.README_WIDTH
    texts = texts_of(figure)
    assert "fftconvolve faster than\nconvolve2d from 11x11" in texts and "slope 2: time ∝ K²" in texts
    assert set(bench.PLOTTED) <= texts
    unmarked = bench.plot_kernel_sweep(grid, result, {"scipy": None})
    assert not any("faster than" in text for text in texts_of(unmarked))


def test_the_separable_plot_is_readable_and_draws_every_separable_method():
    grid = bench.FULL
    labels = [method.label for method in bench.SEPARABLE_METHODS]
    result = bench.Sweep([], {label: [bench.Timing([k * 1e-3, k * 1.1e-3, k * 1.2e-3]) for k in grid.kernel_sizes]
                                  for label in labels})
    figure = bench.plot_separable_sweep(grid, result, {labels[0]: 31})
    assert_readable(figure, "bench_separable.png")
    assert round(figure.get_figwidth() * 100) <= lessonkit.README_WIDTH
    texts = texts_of(figure)
    assert set(labels) <= texts and "FFT faster than the\nseparable path from 31x31" in texts


@pytest.mark.parametrize("module", [bench, bench_lessons], ids=["bench_convolution", "bench_lessons"])
def test_docstring_examples_hold(module):
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


def test_benchmark_runs_end_to_end_in_smoke_mode(run_lesson):
    process, out = run_lesson("benchmarks/bench_convolution.py", "--smoke")
    assert process.returncode == 0, process.stderr
    for method in bench.KERNEL_METHODS + bench.LAYER_METHODS + bench.SEPARABLE_METHODS:
        assert method.label in process.stdout
    for heading in ("What the numbers depend on", "Where the FFT overtakes the direct method",
                    "The memory-bandwidth floor", "float32 against float64",
                    "A convolution layer: 16x16, 4 channels in, 8 filters, 3x3", "Separable kernels: a Gaussian",
                    "Separable target: 15x15 Gaussian", "Cores kept busy",
                    "Standard, grouped and depthwise-separable layers: 8x8, 8 -> 8 channels, 3x3"):
        assert heading in process.stdout
    for words in ("CPU: ", "oneDNN ", "OPENBLAS_NUM_THREADS=1", "TensorFlow intra-op 1, inter-op 1", "GMAC/s",
                  "scipy.signal.choose_conv_method", "agrees with the measurement at",
                  "scipy.signal.fftconvolve against the fastest direct method", "All 5 compute the same layer: True"):
        assert words in process.stdout
    for name in ("bench_image_size.png", "bench_kernel_size.png", "bench_separable.png"):
        with Image.open(out / name) as plot:
            assert plot.format == "PNG" and plot.width <= lessonkit.README_WIDTH


def test_benchmark_rejects_an_unknown_option_in_one_line(run_lesson):
    process, out = run_lesson("benchmarks/bench_convolution.py", "--fast")
    assert process.returncode == 2
    assert process.stderr.strip().splitlines() == [process.stderr.strip()]
    assert process.stderr.startswith("error: ")
    assert not out.exists()


def test_the_lessons_are_every_numbered_script_in_order(tmp_path):
    for name in ("1_b.py", "0_a.py", "7_sequence.py", "lessonkit.py", "10notes.py", "x_1.py"):
        (tmp_path / name).touch()
    assert bench_lessons.lessons(tmp_path) == ["0_a.py", "1_b.py", "7_sequence.py"]
    assert bench_lessons.lessons()[:2] == ["0_1D.py", "1_2D.py"]


def test_rounds_run_every_command_in_turn_and_drop_one_that_fails():
    commands = {"fine": ("pass", ()), "broken": ("import sys; sys.exit(3)", ())}
    runs, references, failed = bench_lessons.run_rounds(commands, 2, reference=lambda: 1.0)
    assert len(runs["fine"]) == 2 and runs["broken"] == []
    assert references == [1.0, 1.0]
    assert failed == {"broken": "exit status 3: (no message)"}


def test_targets_are_met_or_missed_by_how_much():
    assert bench_lessons.target_words(1.9, 1.8, 2.0, 2.0) == "met"
    assert bench_lessons.target_words(3.4, 3.3, 3.6, 2.0) == "missed by 1.70x"
    assert bench_lessons.ratio_range([6.0, 9.0, 7.0], [3.0, 3.0, 3.5]) == (2.0, 2.0, 3.0)


def test_peak_memory_of_a_run_is_its_own_and_in_bytes():
    allocate = "import numpy as np; a = np.ones(25_000_000); print(a.sum())"  # 200 MB
    big = bench_lessons.measure([sys.executable, "-c", allocate], cwd=".")
    small = bench_lessons.measure([sys.executable, "-c", "pass"], cwd=".")
    assert big["returncode"] == 0
    assert 200e6 <= big["peak_bytes"] < 1e9
    assert small["peak_bytes"] < 100e6


def test_a_failing_lesson_is_reported_with_its_last_error_line(tmp_path):
    script = tmp_path / "broken.py"
    script.write_text("import sys\nprint('error: no such picture', file=sys.stderr)\nsys.exit(2)\n")
    with pytest.raises(RuntimeError, match="exit status 2: error: no such picture"):
        bench_lessons.run_once(script)


def test_the_big_photo_is_seeded_and_the_size_asked_for(tmp_path):
    bench_lessons.make_photo(tmp_path / "one.jpg", size=(400, 300))
    bench_lessons.make_photo(tmp_path / "two.jpg", size=(400, 300))
    with Image.open(tmp_path / "one.jpg") as photo:
        assert photo.size == (400, 300) and photo.mode == "RGB"
    assert (tmp_path / "one.jpg").read_bytes() == (tmp_path / "two.jpg").read_bytes()
