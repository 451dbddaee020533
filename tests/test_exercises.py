"""The self-checking exercises: selfcheck.check accepts every correct answer, whatever its style,
refuses the classic wrong ones and names the mistake, and each exercise file runs as a script."""

import doctest
import importlib.util
import inspect
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import signal

import selfcheck
from conftest import ROOT, headless_env

LESSON_ORDER = ["0_1D", "1_2D", "2_TensorFlow", "3_image", "4_digit", "5_cnn", "6_layer"]
TABLE = ["convolve_full", "convolve_same", "correlate2d_valid", "output_size", "same_padding", "relu_with_bias",
         "max_pool2d", "conv_param_count", "receptive_field", "conv2d_backward"]


def load_stub(name):
    """The untouched function in exercises/NAME.py."""
    spec = importlib.util.spec_from_file_location(f"stub_{name}", ROOT / "exercises" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def run_exercise(path, *args, cwd):
    return subprocess.run([sys.executable, str(path), *args], cwd=cwd, env=headless_env(),
                          capture_output=True, text=True, timeout=60)


# Second correct answers, written differently: NumPy and SciPy calls instead of loops -----------


def pads(padding):
    return (padding, padding) if np.ndim(padding) == 0 else padding


def same_padding_by_ceil(n, k, stride=1, dilation=1):
    total = max((np.ceil(n / stride) - 1) * stride + dilation * (k - 1) + 1 - n, 0)
    return np.array([np.floor(total / 2), np.ceil(total / 2)])


OTHER_CORRECT = {
    "convolve_full": lambda x, h, verbose=False: list(np.convolve(x, h).astype(np.float32)),
    "convolve_same": lambda x, h: np.convolve(x, h, mode="same"),
    "correlate2d_valid": lambda image, kernel: signal.correlate2d(image, kernel, mode="valid").tolist(),
    "output_size": lambda n, k, stride=1, padding=0, dilation=1: float(
        np.floor((n + sum(pads(padding)) - dilation * (k - 1) - 1) / stride) + 1),
    "same_padding": same_padding_by_ceil,
    "relu_with_bias": lambda feature_map, bias: np.clip(feature_map + bias, 0, None).astype(np.float32),
    "edge_kernel": lambda: [[1, -1]],
    "max_pool2d": lambda x, size=2: x[: len(x) // size * size, : x.shape[1] // size * size]
    .reshape(len(x) // size, size, x.shape[1] // size, size).max(axis=(1, 3)),
    "conv_param_count": lambda k_h, k_w, c_in, c_out, bias=True, name="conv": np.int64(
        np.prod([k_h, k_w, c_in, c_out]) + bias * c_out),
    "receptive_field": lambda layers: 1 + sum((k - 1) * int(np.prod([s for _, s in layers[:i]]))
                                             for i, (k, _) in enumerate(layers)),
    "im2col": lambda image, kernel_shape, stride=1: np.lib.stride_tricks.sliding_window_view(
        image, kernel_shape)[::stride, ::stride].reshape(-1, kernel_shape[0] * kernel_shape[1]),
    "conv2d_backward": lambda x, w, grad_y: (signal.convolve2d(grad_y, w, mode="full"),
                                             signal.correlate2d(x, grad_y, mode="valid")),
    "transposed_output_size": lambda n, k, stride=1: n * stride - stride + k,
}

# Wrong answers, each with words the verdict must use to name its mistake --------------------

WRONG = {
    "convolve_full": [
        (lambda x, h: np.correlate(x, h, mode="full"), "not flipped"),
        (lambda x, h: np.convolve(x, h)[: max(len(x), len(h))], "N + M - 1"),
        (lambda x, h: np.convolve(x, h).astype(x.dtype), "fractions were cut off"),
    ],
    "convolve_same": [
        (lambda x, h: np.convolve(x, h)[min(len(x), len(h)) // 2:][: max(len(x), len(h))], "one place off"),
        (lambda x, h: np.convolve(x, h)[(len(h) - 1) // 2:][: len(x)], "max(N, M)"),
        (lambda x, h: np.correlate(x, h, mode="same"), "not flipped"),
    ],
    "correlate2d_valid": [
        (lambda image, kernel: signal.convolve2d(image, kernel, mode="valid"), "kernel was flipped"),
        (lambda image, kernel: signal.correlate2d(image, kernel, mode="same"), "(H - k_h + 1, W - k_w + 1)"),
        (lambda image, kernel: signal.correlate2d(image, kernel, mode="valid")[:-1, :-1], "last row or column"),
    ],
    "output_size": [
        (lambda n, k, stride=1, padding=0, dilation=1: -(-(n + sum(pads(padding)) - dilation * (k - 1) - 1)
                                                        // stride) + 1, "Ceil instead of floor"),
        (lambda n, k, stride=1, padding=0, dilation=1: (n + sum(pads(padding)) - k) // stride + 1,
         "Dilation ignored"),
        (lambda n, k, stride=1, padding=0, dilation=1: (n + pads(padding)[0] - dilation * (k - 1) - 1)
         // stride + 1, "one side only"),
    ],
    "same_padding": [
        (lambda n, k, stride=1, dilation=1: tuple(reversed(selfcheck.solution("same_padding")(n, k, stride, dilation))),
         "extra zero is on the wrong side"),
        (lambda n, k, stride=1, dilation=1: (dilation * (k - 1) // 2, dilation * (k - 1) - dilation * (k - 1) // 2),
         "stride was ignored"),
    ],
    "relu_with_bias": [
        (lambda feature_map, bias: np.maximum(feature_map, 0) + bias, "added after ReLU"),
        (lambda feature_map, bias: feature_map + bias, "ReLU is missing"),
    ],
    "edge_kernel": [
        (lambda: np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]), "not flipped"),
        (lambda: np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]), "horizontal edges"),
        (lambda: np.array([[0, 1]]), "add up to 0"),
    ],
    "max_pool2d": [
        (lambda x, size=2: x[: len(x) // size * size, : x.shape[1] // size * size]
         .reshape(len(x) // size, size, x.shape[1] // size, size).mean(axis=(1, 3)), "Average pooling"),
        (lambda x, size=2: np.lib.stride_tricks.sliding_window_view(x, (size, size)).max(axis=(2, 3)),
         "Overlapping windows"),
    ],
    "conv_param_count": [
        (lambda k_h, k_w, c_in, c_out, bias=True: k_h * k_w * c_out + c_out * bias, "input channels"),
        (lambda k_h, k_w, c_in, c_out, bias=True: k_h * k_w * c_in * c_out, "bias was left out"),
    ],
    "receptive_field": [
        (lambda layers: 1 + sum(k - 1 for k, _ in layers), "without the stride's jump"),
        (lambda layers: sum(k for k, _ in layers), "kernel sizes were added up"),
    ],
    "im2col": [
        (lambda image, kernel_shape, stride=1: selfcheck.solution("im2col")(image, kernel_shape, stride).T,
         "transposed"),
        (lambda image, kernel_shape, stride=1: selfcheck.solution("im2col")(image, kernel_shape, 1),
         "stride was ignored"),
        (lambda image, kernel_shape, stride=1: selfcheck.solution("im2col")(image.T, kernel_shape[::-1], stride),
         "column by column"),
    ],
    "conv2d_backward": [
        (lambda x, w, grad_y: (signal.correlate2d(grad_y, w, mode="full"),
                               signal.correlate2d(x, grad_y, mode="valid")), "unflipped"),
        (lambda x, w, grad_y: (signal.correlate2d(grad_y, np.flip(w), mode="valid"),
                               signal.correlate2d(x, grad_y, mode="valid")), "'valid' correlation"),
        (lambda x, w, grad_y: (signal.convolve2d(grad_y, w, mode="full"),
                               signal.convolve2d(x, grad_y, mode="valid")), "grad_w was computed with a flip"),
    ],
    "transposed_output_size": [
        (lambda n, k, stride=1: n * stride, "SAME's size"),
        (lambda n, k, stride=1: n + k - 1, "stride was ignored"),
    ],
}


def lesson(name):
    return importlib.import_module(name)


def lesson_answer(name, args, kwargs):
    """The answer the lesson's own functions (and TensorFlow, where the lesson uses it) give."""
    if name == "convolve_full":
        return lesson("0_1D").convolve1d(*args)
    if name == "convolve_same":
        return lesson("0_1D").convolve1d(*args, mode="same")
    if name == "correlate2d_valid":
        return lesson("1_2D").correlate2d(*args, mode="valid")
    if name == "output_size":
        return lesson("2_TensorFlow").conv_output_size(*args, **kwargs)
    if name == "same_padding":
        return lesson("2_TensorFlow").tensorflow_same_padding(*args, **kwargs)
    if name == "relu_with_bias":
        return lesson("3_image").relu(args[0] + args[1])
    if name == "max_pool2d":
        return lesson("4_digit").max_pool2d(args[0][..., np.newaxis], kwargs["size"])[..., 0]
    if name == "conv_param_count":
        return lesson("2_TensorFlow").conv_parameter_count(*args) - (0 if kwargs["bias"] else args[3])
    if name == "receptive_field":
        return lesson("5_cnn").receptive_field_rule([("layer", k, s) for k, s in args[0]])[-1][1]
    if name == "im2col":
        return lesson("6_layer").im2col(args[0][..., np.newaxis], *args[1:], **kwargs)
    if name == "conv2d_backward":
        return lesson("6_layer").tf_gradients(*args)
    if name == "transposed_output_size":
        n, k = args
        return lesson("6_layer").tf_conv_transpose(np.ones((1, n)), np.ones((1, k)), kwargs["stride"]).shape[1]
    raise AssertionError(name)


@pytest.mark.parametrize("name", [name for name in selfcheck.EXERCISES if name != "edge_kernel"])
def test_every_expected_answer_is_the_lessons(name):
    """The reference solutions give, on every case checked, what the lessons compute (the
    gradients and the transposed size by TensorFlow)."""
    exercise = selfcheck.BY_NAME[name]
    for args, kwargs in exercise.cases:
        assert exercise.compare(lesson_answer(name, args, kwargs), exercise.reference(*args, **kwargs), args,
                                kwargs) is None, (args, kwargs)


def test_expected_sizes_and_pooling_are_tensorflows():
    import keras
    import tensorflow as tf

    for args, kwargs in selfcheck.BY_NAME["output_size"].cases:
        (n, k), before_after = args, pads(kwargs["padding"])
        image = tf.zeros((1, n + sum(before_after), 1, 1))
        kernel = tf.zeros((k, 1, 1, 1))
        out = tf.nn.conv2d(image, kernel, strides=kwargs["stride"], padding="VALID", dilations=kwargs["dilation"])
        assert out.shape[1] == selfcheck.output_size(*args, **kwargs)
    for args, kwargs in selfcheck.BY_NAME["same_padding"].cases:
        (n, k), stride = args, kwargs["stride"]
        if kwargs["dilation"] > 1 and stride > 1:
            continue  # TensorFlow refuses a stride and a dilation together
        image = tf.constant(np.arange(1.0, n + 1)[np.newaxis, :, np.newaxis, np.newaxis])
        kernel = tf.constant(np.arange(1.0, k + 1)[:, np.newaxis, np.newaxis, np.newaxis])
        before, after = selfcheck.same_padding(n, k, stride, kwargs["dilation"])
        padded = tf.pad(image, [[0, 0], [before, after], [0, 0], [0, 0]])
        same = tf.nn.conv2d(image, kernel, stride, "SAME", dilations=kwargs["dilation"])
        valid = tf.nn.conv2d(padded, kernel, stride, "VALID", dilations=kwargs["dilation"])
        np.testing.assert_allclose(same.numpy(), valid.numpy())
    for args, kwargs in selfcheck.BY_NAME["conv_param_count"].cases:
        k_h, k_w, c_in, c_out = args
        layer = keras.layers.Conv2D(c_out, (k_h, k_w), use_bias=kwargs["bias"])
        layer.build((None, 8, 8, c_in))
        assert layer.count_params() == selfcheck.conv_param_count(*args, **kwargs)
    for (x,), kwargs in selfcheck.BY_NAME["max_pool2d"].cases:
        pooled = tf.nn.max_pool2d(tf.constant(x[np.newaxis, :, :, np.newaxis], tf.float64), kwargs["size"],
                                  kwargs["size"], "VALID")
        np.testing.assert_array_equal(pooled.numpy()[0, :, :, 0], selfcheck.max_pool2d(x, **kwargs))


def test_the_edge_kernel_is_checked_by_what_its_convolution_does():
    for kernel, status in [([[1, 0, -1], [2, 0, -2], [1, 0, -1]], "correct"), ([[1, -1]], "correct"),
                           ([[1, 0, 0, -1]], "correct"), ([[-1, 1]], "not yet"), ([[1], [-1]], "not yet")]:
        assert selfcheck.check("edge_kernel", lambda: kernel).status == status, kernel
    picture = np.zeros((9, 9))
    picture[:, 3:6] = 200  # a light stroke on black, as 4_digit.py draws one
    response = signal.convolve2d(picture, selfcheck.edge_kernel(), mode="valid")
    assert response.max() > 0 and (response[:, :3] >= 0).all() and (response[:, 4:] <= 0).all()


def test_the_exercises_cover_every_lesson_in_lesson_order():
    assert set(TABLE) <= set(selfcheck.EXERCISES)
    assert len(selfcheck.EXERCISES) >= 10
    assert list(selfcheck.LESSON) == selfcheck.EXERCISES
    lessons = [selfcheck.LESSON[name] for name in selfcheck.EXERCISES]
    assert lessons == sorted(lessons, key=LESSON_ORDER.index)
    assert set(lessons) == set(LESSON_ORDER)
    assert sorted(path.stem for path in (ROOT / "exercises").glob("*.py")) == sorted(selfcheck.EXERCISES)
    assert set(WRONG) == set(OTHER_CORRECT) == set(selfcheck.EXERCISES)


def test_selfcheck_does_not_need_tensorflow():
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import selfcheck; print('tensorflow' in sys.modules)"
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert process.stdout.strip() == "False", process.stderr


def test_selfcheck_docstring_examples_hold():
    result = doctest.testmod(selfcheck)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("name", selfcheck.EXERCISES)
def test_the_stubs_example_is_what_the_reference_solution_gives(name):
    stub = load_stub(name)
    tests = doctest.DocTestFinder().find(stub, name, globs={name: selfcheck.solution(name), "np": np})
    runner = doctest.DocTestRunner()
    for test in tests:
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
    assert name == "edge_kernel" or runner.summarize(verbose=False).attempted > 0


@pytest.mark.parametrize("name", selfcheck.EXERCISES)
def test_the_reference_solution_is_correct(name):
    verdict = selfcheck.check(name, selfcheck.solution(name))
    assert verdict.status == "correct", verdict.message
    assert bool(verdict)


@pytest.mark.parametrize("name", selfcheck.EXERCISES)
def test_an_untouched_stub_is_not_attempted(name):
    verdict = selfcheck.check(name, load_stub(name))
    assert verdict.status == "not attempted"
    assert "NotImplementedError" in verdict.message
    assert str(verdict).startswith(f"{name}: not attempted. ")


@pytest.mark.parametrize("name", selfcheck.EXERCISES)
def test_a_correct_answer_written_differently_is_correct(name):
    verdict = selfcheck.check(name, OTHER_CORRECT[name])
    assert verdict.status == "correct", verdict.message


@pytest.mark.parametrize("name, wrong, words", [(name, *case) for name, cases in WRONG.items() for case in cases],
                         ids=lambda value: value if isinstance(value, str) else "")
def test_a_classic_mistake_is_not_yet_and_named(name, wrong, words):
    verdict = selfcheck.check(name, wrong)
    assert verdict.status == "not yet"
    assert words in verdict.message, verdict.message


def test_the_verdict_gives_the_smallest_failing_case_expected_and_got():
    verdict = selfcheck.check("convolve_full", lambda x, h: np.correlate(x, h, mode="full"))
    assert verdict.message.startswith(
        "For x = [3], h = [4, 2, 2], the answer should be [12, 6, 6], but your function returned [6, 6, 12]. "
        "This is the cross-correlation: the kernel was not flipped.")


def test_a_large_array_is_never_printed_whole():
    verdict = selfcheck.check("im2col", lambda image, kernel_shape, stride=1: np.zeros((100, 100)))
    assert "shape (100, 100)" in verdict.message
    assert "0, 0, 0, 0" not in verdict.message
    verdict = selfcheck.check("relu_with_bias", lambda feature_map, bias: np.maximum(feature_map + bias, 0)
                              + (feature_map.size > 16))
    assert verdict.message.startswith("For feature_map of shape (")
    assert "at index" in verdict.message


def test_gradients_are_judged_by_their_relative_error():
    verdict = selfcheck.check("conv2d_backward", OTHER_CORRECT["conv2d_backward"])
    assert "Relative error " in verdict.message and ": correct; above 1e-6 would mean a bug." in verdict.message
    error = float(verdict.message.split("Relative error ")[1].split(" ")[0])
    assert error < 1e-12
    nudged = selfcheck.check("conv2d_backward", lambda x, w, g: tuple(a * (1 + 1e-4) for a in
                                                                    OTHER_CORRECT["conv2d_backward"](x, w, g)))
    assert nudged.status == "not yet"
    assert "relative error 5e-5, and above 1e-6 means a bug" in nudged.message


def test_answers_within_the_stated_tolerance_pass():
    nudged = selfcheck.check("conv2d_backward", lambda x, w, g: tuple(a * (1 + 1e-8) for a in
                                                                     OTHER_CORRECT["conv2d_backward"](x, w, g)))
    assert nudged.status == "correct"
    assert "Relative error 5e-9 " in nudged.message
    shifted = selfcheck.check("convolve_full", lambda x, h: np.convolve(x, h) + 0.9e-6)
    assert shifted.status == "correct"
    shifted = selfcheck.check("convolve_full", lambda x, h: np.convolve(x, h) + 2e-6 * (1 + np.abs(np.convolve(x, h))))
    assert shifted.status == "not yet"


def test_any_number_type_passes():
    assert selfcheck.check("output_size", lambda *a, **k: np.int32(selfcheck.output_size(*a, **k))).status == "correct"
    assert selfcheck.check("same_padding", lambda *a, **k: list(selfcheck.same_padding(*a, **k))).status == "correct"
    assert selfcheck.check("relu_with_bias", lambda m, b: np.maximum(m + b, 0).astype(np.float32)).status == (
        "correct")
    assert selfcheck.check("max_pool2d", lambda x, size=2: np.float32(selfcheck.max_pool2d(x, size))).status == (
        "correct")


def test_the_kernel_length_alone_does_not_centre_same():
    verdict = selfcheck.check("convolve_same",
                              lambda x, h: np.convolve(x, h)[(len(h) - 1) // 2:][: max(len(x), len(h))])
    assert "kernel's length alone" in verdict.message


def test_a_learners_exception_is_reported_by_its_last_line():
    def broken(x, h):
        return x[len(x)]

    verdict = selfcheck.check("convolve_full", broken)
    assert verdict.status == "not yet"
    assert "your function raised IndexError: index 1 is out of bounds" in verdict.message
    assert "Traceback" not in verdict.message
    assert "line " in verdict.message


def test_changing_an_input_in_place_is_not_yet():
    def in_place(feature_map, bias):
        feature_map += bias
        return np.maximum(feature_map, 0)

    verdict = selfcheck.check("relu_with_bias", in_place)
    assert verdict.status == "not yet"
    assert "changed its input feature_map in place" in verdict.message


def test_a_missing_return_is_named():
    verdict = selfcheck.check("max_pool2d", lambda x, size=2: None)
    assert "returned None: is a return statement missing?" in verdict.message


def test_hints_and_solutions_are_there_for_every_exercise():
    for name in selfcheck.EXERCISES:
        assert len(selfcheck.hints(name)) >= 2
        assert selfcheck.hint(name, 99).startswith(f"Hint {len(selfcheck.hints(name))} of ")
        assert inspect.getsource(selfcheck.solution(name)).startswith(f"def {name}(")
        assert selfcheck.stub_source(name).rstrip().endswith("raise NotImplementedError")
    with pytest.raises(ValueError, match="convolve_full"):
        selfcheck.check("no_such_exercise", print)


@pytest.mark.parametrize("name", selfcheck.EXERCISES)
def test_a_notebook_cell_with_the_stub_runs_and_is_checked(name):
    """What a notebook does: run the stub's cell, then the check's; then the same with the
    learner's (here the reference) code in the cell."""
    cell = selfcheck.stub_source(name)
    assert "__main__" not in cell and not cell.startswith('"""')
    namespace = {}
    exec(cell, namespace)
    assert selfcheck.check(name, namespace[name]).status == "not attempted"
    exec(cell.split(f"def {name}(")[0] + inspect.getsource(selfcheck.solution(name)), namespace)
    assert selfcheck.check(name, namespace[name]).status == "correct"


def solved_copy(name, folder):
    """exercises/NAME.py with the reference solution pasted in place of the stub, in folder/exercises/,
    with selfcheck.py beside it as in the repository."""
    (folder / "exercises").mkdir(exist_ok=True)
    shutil.copy(ROOT / "selfcheck.py", folder)
    head, main = (ROOT / "exercises" / f"{name}.py").read_text(encoding="utf-8").split('\nif __name__ == "__main__":')
    head = head[: head.index(f"def {name}(")] + inspect.getsource(selfcheck.solution(name))
    path = folder / "exercises" / f"{name}.py"
    path.write_text(head + '\n\nif __name__ == "__main__":' + main, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def script_runs(tmp_path_factory):
    """Every command-line run these tests look at, started together to save time:
    {key: finished process}. Each runs from a folder that is not the repository's."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    solved = tmp_path_factory.mktemp("solved")
    broken = tmp_path_factory.mktemp("broken")
    (broken / "exercises").mkdir()
    shutil.copy(ROOT / "selfcheck.py", broken)
    text = (ROOT / "exercises" / "receptive_field.py").read_text(encoding="utf-8")
    (broken / "exercises" / "receptive_field.py").write_text(
        text.replace("    raise NotImplementedError", "    return layers[0][0] / 0"), encoding="utf-8")
    output_size = ROOT / "exercises" / "output_size.py"
    runs = {("overview",): (ROOT / "selfcheck.py",), ("hint", 1): (output_size, "--hint"),
            ("hint", 2): (output_size, "--hint", "2"), ("solution",): (output_size, "--solution"),
            ("broken",): (broken / "exercises" / "receptive_field.py",)}
    for name in selfcheck.EXERCISES:
        runs["stub", name] = (ROOT / "exercises" / f"{name}.py",)
        runs["solved", name] = (solved_copy(name, solved),)
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = {key: pool.submit(run_exercise, *command, cwd=elsewhere) for key, command in runs.items()}
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize("name", selfcheck.EXERCISES)
def test_running_an_exercise_checks_it_from_any_folder(name, script_runs):
    """The stub exits 1; a copy with the reference solution pasted in exits 0."""
    process = script_runs["stub", name]
    assert process.returncode == 1
    assert process.stdout.startswith(f"{name}: not attempted.")
    assert process.stderr == ""
    process = script_runs["solved", name]
    assert process.returncode == 0, process.stdout + process.stderr
    assert process.stdout.startswith(f"{name}: correct.")


def test_hint_and_solution_on_the_command_line(script_runs):
    first, second, solution = script_runs["hint", 1], script_runs["hint", 2], script_runs["solution",]
    assert (first.returncode, second.returncode, solution.returncode) == (0, 0, 0)
    assert first.stdout.startswith("Hint 1 of 2 (--hint 2 for the next): ")
    assert second.stdout.startswith("Hint 2 of 2: ")
    assert solution.stdout == inspect.getsource(selfcheck.solution("output_size"))


def test_a_learners_exception_in_a_script_gives_no_traceback_of_ours(script_runs):
    process = script_runs["broken",]
    assert process.returncode == 1
    assert "your function raised ZeroDivisionError: division by zero (line 18 of receptive_field.py)" in " ".join(
        process.stdout.split())
    assert "Traceback" not in process.stdout + process.stderr


def test_the_overview_lists_every_exercise(script_runs):
    process = script_runs["overview",]
    assert process.returncode == 1
    lines = process.stdout.splitlines()
    assert [line.split()[1] for line in lines[:-1]] == selfcheck.EXERCISES
    assert all(line.endswith("not attempted") for line in lines[:-1])
    assert lines[-1].startswith(f"0 of {len(selfcheck.EXERCISES)} correct.")


def test_two_mistakes_at_once_are_named_one_at_a_time():
    def centred_by_kernel_and_as_long_as_x(x, h):
        return np.convolve(x, h)[len(h) // 2:][: len(x)]

    verdict = selfcheck.check("convolve_same", centred_by_kernel_and_as_long_as_x)
    assert verdict.message.startswith("For x = [1, 2, 3], h = [1, -1], the answer should be [1, 1, 1], but your "
                                      "function returned [1, 1, -3]. Centred one place off")
    assert "Other cases fail another way: mend this one first" in verdict.message
