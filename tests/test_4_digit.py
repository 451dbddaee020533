"""Tests for 4_digit.py: the edge kernel and a bank of edge detectors on a handwritten digit."""

import importlib
import importlib.util

import numpy as np
import pytest
from PIL import Image

import lessonkit
from conftest import ROOT, run_script
from test_3_image import BAD_INPUTS, make_bad_input

digit = importlib.import_module("4_digit")
image_lesson = importlib.import_module("3_image")

FIGURES = ["digit_gray.png", "digit_edges.png", "digit_bank.png"]


def edge_image(bright):
    """A 9x9 image, 200 where `bright(row, column)` holds and 0 elsewhere."""
    rows, columns = np.indices((9, 9))
    return np.where(bright(rows, columns), 200.0, 0.0)


def strongest_inside(feature_map):
    """The largest |value| away from the border (where mirroring adds edges of its own)."""
    return float(np.abs(feature_map[2:-2, 2:-2]).max())


def test_the_lesson_reuses_3_image_rather_than_copying_it():
    assert digit.image_lesson is image_lesson
    for name in ["load_grayscale", "convolve", "convolve_fast", "for_display", "grey_figure", "kernel_text"]:
        assert not hasattr(digit, name), name
    assert digit.EDGE_DETECTORS["vertical"] is image_lesson.SOBEL_X
    assert digit.EDGE_DETECTORS["horizontal"] is image_lesson.SOBEL_Y


def test_bank_holds_four_3x3_detectors_whose_weights_sum_to_0():
    assert list(digit.EDGE_DETECTORS) == ["vertical", "horizontal", "diagonal \\", "diagonal /"]
    assert digit.EDGE_DETECTORS["diagonal \\"].tolist() == [[0, 1, 2], [-1, 0, 1], [-2, -1, 0]]
    assert digit.EDGE_DETECTORS["diagonal /"].tolist() == [[-2, -1, 0], [-1, 0, 1], [0, 1, 2]]
    for kernel in digit.EDGE_DETECTORS.values():
        assert np.shape(kernel) == (3, 3) and np.sum(kernel) == 0


@pytest.mark.parametrize(
    "edge, bright",
    [
        ("vertical", lambda r, c: c >= 4),
        ("horizontal", lambda r, c: r >= 4),
        ("diagonal \\", lambda r, c: c > r),
        ("diagonal /", lambda r, c: r + c > 8),
    ],
)
def test_each_detector_answers_its_own_edge_and_not_the_perpendicular_one(edge, bright):
    maps = digit.detector_bank(edge_image(bright))
    perpendicular = {"vertical": "horizontal", "horizontal": "vertical",
                     "diagonal \\": "diagonal /", "diagonal /": "diagonal \\"}[edge]
    assert strongest_inside(maps[edge]) >= 600
    assert strongest_inside(maps[perpendicular]) == 0
    assert strongest_inside(maps[edge]) == max(strongest_inside(m) for m in maps.values())


def test_vertical_detector_value_across_a_vertical_edge():
    # Sobel x flipped by the convolution: (left column - right column) weighted 1, 2, 1.
    maps = digit.detector_bank(edge_image(lambda r, c: c >= 4))
    assert maps["vertical"][4, 3:5].tolist() == [-800, -800]
    assert maps["vertical"][4, 0:3].tolist() == [0, 0, 0]


def test_edge_kernel_is_negative_on_a_thin_stroke_and_positive_beside_it():
    line = np.zeros((5, 5))
    line[:, 2] = 255
    edges = image_lesson.convolve(line, image_lesson.EDGE_KERNEL)
    assert edges[2].tolist() == [0, 255, -510, 255, 0]


def test_printable_keeps_a_28x28_digit_and_shrinks_bigger_pictures():
    small = np.arange(28 * 28, dtype=np.uint16).reshape(28, 28).astype(np.uint8)
    levels, shrunk = digit.printable(small)
    assert levels is small and not shrunk
    big = np.kron(np.eye(2, dtype=np.uint8) * 200, np.ones((28, 28), dtype=np.uint8))  # 56x56, 2x2 blocks
    levels, shrunk = digit.printable(big)
    assert shrunk and levels.shape == (28, 28)
    assert levels[0, 0] == 200 and levels[0, 27] == 0


def test_shipped_digit_is_a_28x28_light_stroke_on_black():
    image = image_lesson.load_grayscale(lessonkit.data_path("num3.jpg"))
    assert image.shape == (28, 28) and image.dtype == np.uint8
    assert image.max() >= 250
    assert np.median(image) <= 2  # mostly black ground
    assert image[:2].max() <= 5 and image[-2:].max() <= 5  # a dark margin, as in MNIST


def test_shipped_digit_is_what_its_script_draws(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("make_num3", ROOT / "data" / "make_num3.py")
    make_num3 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_num3)
    assert make_num3.main([str(tmp_path / "num3.jpg")]) == 0
    remade = image_lesson.load_grayscale(tmp_path / "num3.jpg").astype(int)
    shipped = image_lesson.load_grayscale(lessonkit.data_path("num3.jpg")).astype(int)
    assert np.abs(remade - shipped).max() <= 2  # the same drawing; JPEG encoders may differ a little


def test_lesson_runs_from_another_folder_and_writes_its_figures(run_lesson):
    process, out = run_lesson("4_digit.py")
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    for heading in ["The digit in grey", "Edge kernel", "A bank of edge detectors"]:
        assert f"\n{heading}\n" in process.stdout
    assert "num3.jpg: 28 rows x 28 columns, dtype uint8, values 0..255" in process.stdout
    matrix_rows = [line for line in process.stdout.splitlines() if line.lstrip("[ ").split(" ")[0].isdigit()]
    assert len(matrix_rows) >= 28
    assert "feature map: shape (28, 28)" in process.stdout
    assert "an array of shape (4, 28, 28)" in process.stdout
    assert sorted(path.name for path in out.iterdir()) == sorted(FIGURES)


def test_big_picture_prints_a_shrunk_view(tmp_path, capsys):
    path = tmp_path / "big.png"
    Image.new("L", (112, 56), 90).save(path)
    assert digit.main(["--image", str(path), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "Shrunk to 14 x 28 by averaging blocks of pixels" in printed
    assert "an array of shape (4, 56, 112)" in printed


def test_one_pixel_picture_runs_through(tmp_path, capsys):
    path = tmp_path / "dot.png"
    Image.new("L", (1, 1), 255).save(path)
    assert digit.main(["--image", str(path), "--out", str(tmp_path / "out")]) == 0
    assert "[[255]]" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(FIGURES)


def test_figures_are_identical_from_one_run_to_the_next(tmp_path, capsys):
    for out in ("first", "second"):
        assert digit.main(["--out", str(tmp_path / out)]) == 0
    for name in FIGURES:
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes(), name


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_picture_on_the_command_line_exits_2_and_writes_nothing(tmp_path, case):
    path, reason = make_bad_input(case, tmp_path)
    out = tmp_path / "figures"
    process = run_script("4_digit.py", "--image", path, "--out", out, cwd=tmp_path)
    assert process.returncode == 2
    assert process.stderr.startswith("error: ") and process.stderr.count("\n") == 1
    assert str(path) in process.stderr and reason in process.stderr
    assert "Traceback" not in process.stderr
    assert not out.exists()


def test_out_folder_under_a_regular_file_is_refused(tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    process = run_script("4_digit.py", "--out", blocker / "figs", cwd=tmp_path)
    assert process.returncode == 2
    assert process.stderr.startswith("error: cannot create the output folder")
    assert str(blocker / "figs") in process.stderr and "Traceback" not in process.stderr
