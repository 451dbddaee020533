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


@pytest.mark.parametrize("method", bench.METHODS, ids=lambda method: method.label)
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


def test_fastest_direct_picks_the_quickest_measured_method_at_each_point():
    times = {"a": [1.0, None, 5.0], "b": [2.0, 3.0, 4.0]}
    assert bench.fastest_direct(times, ["a", "b"]) == ([1.0, 3.0, 4.0], ["a", "b", "b"])


def test_the_grid_uses_only_odd_kernels_where_every_wrapper_is_exact():
    for grid in (bench.FULL, bench.QUICK, bench.SMOKE):
        assert all(size % 2 == 1 for size in grid.image_sweep_kernels + grid.kernel_sizes)


def test_float32_series_come_in_addition_to_float64_ones():
    labels = [method.label for method in bench.METHODS]
    assert len(labels) == len(set(labels))
    for method in bench.METHODS:
        if method.dtype == np.float32:
            assert method.name in labels


@pytest.mark.parametrize(
    "direct, fft, expected",
    [
        ([1.0, 2.0, 4.0, 8.0], [3.0, 3.0, 3.0, 3.0], 7),
        ([1.0, 1.0, 1.0, 1.0], [3.0, 3.0, 3.0, 3.0], None),
        ([5.0, 6.0, 7.0, 8.0], [3.0, 3.0, 3.0, 3.0], 3),
        ([4.0, 2.0, 2.0, 8.0], [3.0, 3.0, 3.0, 3.0], 11),
        ([1.0, 2.0, None, None], [3.0, 3.0, 3.0, 3.0], 7),
        ([1.0, 2.0, 3.0, 8.0], [3.0, 3.0, 3.0, 3.0], 11),
    ],
    ids=["crosses once", "never", "always", "noisy dip before", "skipped counts as slower", "tie is not faster"],
)
def test_crossover_is_the_first_size_from_which_fft_stays_faster(direct, fft, expected):
    assert bench.crossover([3, 5, 7, 11], direct, fft) == expected


def test_interleaved_timing_alternates_the_order_after_a_warm_up():
    calls = []

    def first():
        calls.append("a")

    def second():
        calls.append("b")

    first_seconds, second_seconds = bench.interleaved_times(first, second, (), repeats=4)
    assert calls == ["a", "b", "a", "b", "b", "a", "a", "b", "b", "a"]
    assert first_seconds >= 0 and second_seconds >= 0


def test_round_robin_timing_warms_up_each_then_runs_them_in_turn():
    calls = []
    times = bench.round_robin_times([(calls.append, ("a",)), (calls.append, ("b",))], rounds=3)
    assert calls == ["a", "b"] * 4
    assert len(times) == 2 and min(times) >= 0


def test_median_time_warms_up_then_repeats_at_least_the_minimum():
    calls = []
    bench.median_time(lambda: calls.append(1), (), seconds=0.0, min_repeats=5)
    assert len(calls) == 1 + 5


def test_a_direct_method_over_the_budget_is_skipped_but_never_the_reference():
    grid = bench.Grid((16,), (3,), (3,), 16, 16, 0.0, 1e-3, 3, 2**20)
    rates = {method.label: 1.0 for method in bench.METHODS if method.direct}
    times = bench.sweep([(16, 3)], grid, rates)
    for method in bench.METHODS:
        skipped = times[method.label] == [None]
        assert skipped == (method.direct and method is not bench.REFERENCE), method.label


def test_a_skipped_point_reads_slow_in_the_table(capsys):
    bench.print_table(["16x16"], {bench.REFERENCE.label: [0.002], "plain Python loop": [None]}, call_budget=0.5)
    printed = capsys.readouterr().out
    assert "slow" in printed and "skipped (slow)" in printed and "500 ms" in printed
    assert "1.00x" in printed and "2 ms" in printed


@pytest.mark.parametrize("module", [bench, bench_lessons], ids=["bench_convolution", "bench_lessons"])
def test_docstring_examples_hold(module):
    assert doctest.testmod(module).failed == 0


def test_benchmark_runs_end_to_end_in_smoke_mode(run_lesson):
    process, out = run_lesson("benchmarks/bench_convolution.py", "--smoke")
    assert process.returncode == 0, process.stderr
    for method in bench.METHODS:
        assert method.label in process.stdout
    for method in bench.LAYER_METHODS + bench.SEPARABLE_METHODS:
        assert method.label in process.stdout
    for heading in ("Where the FFT overtakes the direct method", "The memory-bandwidth floor", "Why float32 is faster",
                    "A convolution layer: 16x16, 4 channels in, 8 filters, 3x3", "Separable kernels: a Gaussian",
                    "Separable target: 15x15 Gaussian"):
        assert heading in process.stdout
    assert "beats the fastest float64 direct method" in process.stdout
    assert "All 5 compute the same layer: True" in process.stdout
    for name in ("bench_image_size.png", "bench_kernel_size.png", "bench_separable.png"):
        with Image.open(out / name) as plot:
            assert plot.format == "PNG" and plot.width > 500


def test_benchmark_rejects_an_unknown_option_in_one_line(run_lesson):
    process, out = run_lesson("benchmarks/bench_convolution.py", "--fast")
    assert process.returncode == 2
    assert process.stderr.strip().splitlines() == [process.stderr.strip()]
    assert process.stderr.startswith("error: ")
    assert not out.exists()


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
        bench_lessons.measure_lesson(script, repeats=1)


def test_the_big_photo_is_seeded_and_the_size_asked_for(tmp_path):
    bench_lessons.make_photo(tmp_path / "one.jpg", size=(400, 300))
    bench_lessons.make_photo(tmp_path / "two.jpg", size=(400, 300))
    with Image.open(tmp_path / "one.jpg") as photo:
        assert photo.size == (400, 300) and photo.mode == "RGB"
    assert (tmp_path / "one.jpg").read_bytes() == (tmp_path / "two.jpg").read_bytes()
