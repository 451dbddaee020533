"""Tests for 4_digit.py: the Laplacian, a bank of edge detectors and what a second layer reads,
on a digit drawn in the style of MNIST."""

import importlib
import importlib.util

import numpy as np
import pytest
from PIL import Image

import lessonkit
from conftest import Collect, ROOT, texts

digit = importlib.import_module("4_digit")
image_lesson = importlib.import_module("3_image")



FIGURES = ["digit_gray.png", "digit_edges.png", "digit_bank.png", "digit_relu.png"]


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


def test_vertical_map_is_negative_left_of_a_light_stroke_and_positive_right_of_it():
    bar = np.zeros((7, 9))
    bar[:, 3:6] = 255
    assert digit.detector_bank(bar)["vertical"][3].tolist() == [0, 0, -1020, -1020, 0, 1020, 1020, 0, 0]
    assert digit.detector_bank(bar.T)["horizontal"][:, 3].tolist() == [0, 0, -1020, -1020, 0, 1020, 1020, 0, 0]


def test_laplacian_is_negative_on_a_thin_stroke_and_positive_beside_it():
    line = np.zeros((5, 5))
    line[:, 2] = 255
    laplacian = image_lesson.convolve(line, image_lesson.LAPLACIAN)
    assert laplacian[2].tolist() == [0, 255, -510, 255, 0]


def test_the_digits_stroke_is_3_to_4_pixels_wide_not_a_one_pixel_line(capsys):
    image = image_lesson.load_grayscale(lessonkit.data_path("num3.jpg"))
    runs = digit.ink_runs(image)
    assert sorted(runs, key=runs.get)[-2:] == [4, 3]  # the two commonest run lengths
    assert runs[3] + runs[4] > sum(runs.values()) / 2
    digit.the_laplacian_of_the_digit(image, Collect())
    printed = capsys.readouterr().out
    assert "The commonest run lengths: the stroke is 3 to 4 pixels wide, not a one-pixel line." in printed
    assert "the Laplacian is [   0    0  255 -255    0 -255  255    0    0]:" in printed


def test_on_the_drawn_digit_the_laplacian_is_negative_across_the_stroke_not_0_in_its_middle(capsys):
    image = image_lesson.load_grayscale(lessonkit.data_path("num3.jpg"))
    laplacian = image_lesson.convolve(image, image_lesson.LAPLACIAN)
    regions = digit.stroke_regions(image)
    assert image[regions["middle"]].mean() > image[regions["rims"]].mean()  # brightest along its middle
    assert np.all(laplacian[regions["middle"]] < 0)
    assert np.mean(laplacian[regions["rims"]] < 0) > 0.9
    assert np.mean(laplacian[regions["beside"]] > 0) > 0.8
    digit.the_laplacian_of_the_digit(image, Collect())
    printed = capsys.readouterr().out
    assert "The drawn stroke is not flat: it is brightest along its middle. On the digit:" in printed
    assert "the stroke's middle (4 neighbours ink)       43              249  negative on 100.00%" in printed


def test_stroke_regions_split_the_ink_into_middle_and_rims_and_find_the_ground_beside_it():
    image = np.zeros((5, 5))
    image[1:4, 1:4] = 200
    regions = digit.stroke_regions(image)
    assert np.argwhere(regions["middle"]).tolist() == [[2, 2]]
    assert regions["rims"].sum() == 8 and regions["beside"].sum() == 12
    assert not (regions["beside"] & (image > 0)).any()


def test_the_lesson_checks_each_detector_answers_its_own_direction(capsys):
    assert digit.answers_own_direction()
    turned = {name: np.rot90(kernel) for name, kernel in digit.EDGE_DETECTORS.items()}
    assert not digit.answers_own_direction(turned)
    digit.a_bank_of_edge_detectors(image_lesson.load_grayscale(lessonkit.data_path("num3.jpg")), Collect())
    assert "gives 0 on the edge at right angles to it: True." in capsys.readouterr().out


def test_ink_runs_counts_runs_along_rows_and_columns():
    image = np.zeros((5, 6))
    image[1:4, 2:4] = 200  # a block 3 rows by 2 columns
    assert digit.ink_runs(image) == {2: 3, 3: 2}
    assert digit.ink_runs(np.zeros((2, 2))) == {}


def test_laplacian_of_a_3_pixel_stroke_is_0_in_its_middle():
    laplacian = image_lesson.convolve(digit.light_bar(), image_lesson.LAPLACIAN)
    assert laplacian[3].tolist() == [0, 0, 255, -255, 0, -255, 255, 0, 0]


def test_max_pool_takes_the_largest_of_each_2x2_block_and_drops_a_leftover_row():
    maps = np.arange(5 * 4 * 2).reshape(5, 4, 2)
    pooled = digit.max_pool2d(maps)
    assert pooled.shape == (2, 2, 2)
    assert pooled[..., 0].tolist() == [[10, 14], [26, 30]]
    assert digit.max_pool2d(np.zeros((1, 1, 4))).shape == (0, 0, 4)


def test_what_the_next_layer_reads_is_relu_of_map_plus_bias_pooled(capsys):
    image = image_lesson.load_grayscale(lessonkit.data_path("num3.jpg"))
    maps = digit.detector_bank(image)

    figures = Collect()
    digit.what_the_next_layer_sees(maps, figures)
    printed = capsys.readouterr().out
    for name, feature_map in maps.items():
        kept = np.count_nonzero(np.maximum(feature_map + digit.BIAS, 0))
        assert kept == np.count_nonzero(feature_map > -digit.BIAS)
        assert f"{np.count_nonzero(feature_map):>4} in the map, {kept:>4} after ReLU(map + b)" in printed
    assert "ReLU(vertical map + b) = [  0   0   0   0   0 920 920   0   0]: its right side only." in printed
    assert "2x2 max pooling keeps the largest value of each 2x2 block: shape (14, 14, 4)." in printed
    assert "ours == scipy.ndimage.maximum_filter at every second pixel: True" in printed
    assert "A batch of one image is (1, 14, 14, 4)" in printed
    assert list(figures.added) == ["digit_relu"]


def read_hex_rows(text):
    """The grey levels back from rows printed by hex_rows."""
    return [[int(row[i : i + 2].replace("..", "00"), 16) for i in range(0, len(row), 2)] for row in text.splitlines()]


def test_hex_rows_write_every_level_exactly_in_two_characters():
    levels = np.arange(256, dtype=np.uint8).reshape(8, 32)
    text = digit.hex_rows(levels)
    assert text.splitlines()[0][:8] == "..010203"
    assert text.splitlines()[-1][-4:] == "feff"
    assert read_hex_rows(text) == levels.tolist()


def test_a_28_pixel_row_fits_in_80_columns():
    assert len(digit.hex_rows(np.full((1, 28), 200, dtype=np.uint8))) == 56


@pytest.mark.parametrize(
    "values, inverted",
    [([[250, 240, 10]], True), ([[0, 0, 200]], False), ([[127, 127, 255]], False), ([[128, 128, 0]], True)],
)
def test_light_on_dark_inverts_mostly_light_pictures_only(values, inverted):
    image = np.array(values, dtype=np.uint8)
    result, was_inverted = digit.light_on_dark(image)
    assert was_inverted == inverted
    assert result.dtype == np.uint8
    assert result.tolist() == ((255 - image) if inverted else image).tolist()


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
    for heading in ["Convolution applied to a digit", "The Laplacian of the digit", "A bank of edge detectors",
                    "What the next layer sees"]:
        assert f"\n{heading}\n" in process.stdout
    assert "num3.jpg: 28 rows x 28 columns, dtype uint8, values 0..255" in process.stdout
    assert "Dark ink" not in process.stdout  # the shipped digit is light on dark already
    lines = process.stdout.splitlines()
    start = lines.index("00 (shown ..) is 0, black; 7f is 127, mid-grey; ff is 255, white.") + 1
    shipped = image_lesson.load_grayscale(lessonkit.data_path("num3.jpg"))
    assert read_hex_rows("\n".join(lines[start : start + 28])) == shipped.tolist()
    assert max(len(line) for line in lines[start - 2 : start + 28]) <= 80
    assert "feature map: shape (28, 28)" in process.stdout
    assert "NHWC as in 2_TensorFlow.py): shape (28, 28, 4)." in process.stdout
    assert "A batch of one image is (1, 14, 14, 4): the input a second Conv2D layer reads," in process.stdout
    assert "negative on the stroke's left side, positive on its right side." in process.stdout
    assert "positive on its bottom side: True." in process.stdout
    assert sorted(path.name for path in out.iterdir()) == sorted(FIGURES)


def test_big_picture_prints_a_shrunk_view(tmp_path, capsys):
    path = tmp_path / "big.png"
    Image.new("L", (112, 56), 90).save(path)
    assert digit.main(["--image", str(path), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "Shrunk to 14 x 28 by averaging blocks of pixels" in printed
    assert "\n" + ("5a" * 28 + "\n") * 14 + "\n" in printed
    assert "shape (56, 112, 4)" in printed and "shape (28, 56, 4)" in printed


def test_one_pixel_picture_runs_through(tmp_path, capsys):
    path = tmp_path / "dot.png"
    Image.new("L", (1, 1), 90).save(path)
    assert digit.main(["--image", str(path), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "\n5a\n" in printed
    assert printed.count("0 everywhere: no such edge") == 4
    assert "length: count\n  none\n" in printed and "The commonest run lengths" not in printed
    assert "strongest at" not in printed
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(FIGURES)


def test_dark_pen_on_white_paper_is_inverted_to_a_light_stroke_on_black(tmp_path, capsys):
    paper = np.full((28, 28), 240, dtype=np.uint8)
    paper[4:24, 12:15] = 20  # a dark vertical stroke, 3 pixels wide
    path = tmp_path / "pen.png"
    Image.fromarray(paper).save(path)
    assert digit.main(["--image", str(path), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "pen.png: 28 rows x 28 columns, dtype uint8, values 20..240" in printed
    assert "Dark ink on a light ground (median grey level above 127), so inverted, image = 255 - image," in printed
    assert "to make ink the high value as in MNIST: a light stroke on a dark ground, values 15..235." in printed
    assert "0f" * 12 + "ebebeb" + "0f" * 13 in printed  # a stroke row: 255 - 240 = 15, 255 - 20 = 235
    # The stroke is now the bright part: the Laplacian is negative on it, as the lesson says.
    edges = image_lesson.convolve(255 - paper, image_lesson.LAPLACIAN)
    assert edges[10, 12] < 0 and edges[10, 11] > 0
    assert f"min {edges.min():.4g}, max {edges.max():.4g}" in printed


def test_light_digit_on_a_dark_ground_is_not_inverted(tmp_path, capsys):
    ground = np.full((28, 28), 10, dtype=np.uint8)
    ground[4:24, 12:15] = 230
    path = tmp_path / "chalk.png"
    Image.fromarray(ground).save(path)
    assert digit.main(["--image", str(path), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "Dark ink" not in printed
    assert "0a" * 12 + "e6e6e6" + "0a" * 13 in printed


def test_figures_are_identical_from_one_run_to_the_next(tmp_path, capsys):
    for out in ("first", "second"):
        assert digit.main(["--out", str(tmp_path / out)]) == 0
    for name in FIGURES:
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes(), name


# What the figures draw ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def digit_figures():
    """The figures of the four sections on the shipped digit: {name: Figure}."""
    import contextlib
    import io

    import matplotlib.pyplot as plt

    figures = Collect()
    with contextlib.redirect_stdout(io.StringIO()):
        image = digit.convolution_applied_to_a_digit(lessonkit.data_path("num3.jpg"), figures)
        digit.the_laplacian_of_the_digit(image, figures)
        maps = digit.a_bank_of_edge_detectors(image, figures)
        digit.what_the_next_layer_sees(maps, figures)
    yield figures.added
    for figure in figures.added.values():
        plt.close(figure)


def test_every_figure_fits_the_readme_column_with_readable_text(digit_figures):
    from conftest import assert_readable

    assert sorted(f"{name}.png" for name in digit_figures) == sorted(FIGURES)
    for name, figure in digit_figures.items():
        assert figure.get_figwidth() * 100 <= lessonkit.README_WIDTH + 0.5, name
        assert_readable(figure, f"{name}.png")


def test_bank_is_drawn_signed_on_one_shared_symmetric_scale(digit_figures):
    figure = digit_figures["digit_bank"]
    pictures = [ax for ax in figure.axes if ax.images]
    assert [ax.get_title().split("\n")[0] for ax in pictures] == list(digit.EDGE_DETECTORS)
    image = image_lesson.load_grayscale(lessonkit.data_path("num3.jpg"))
    limit = digit.largest_value(digit.detector_bank(image))
    for ax in pictures:
        assert ax.images[0].get_cmap().name == lessonkit.SIGNED_COLOURMAP
        assert ax.images[0].get_clim() == (-limit, limit)
    bars = {id(ax.images[0].colorbar) for ax in pictures if ax.images[0].colorbar is not None}
    assert len(bars) == 1  # one colour bar for the four maps
    assert pictures[-1].images[0].colorbar.ax.get_ylabel() == "map value"
    assert "red > 0, blue < 0" in figure.get_suptitle()
    assert "titled as written; the convolution turns it by 180°" in figure.get_suptitle()


def test_relu_figure_uses_the_banks_scale_and_keeps_no_negative_value(digit_figures):
    bank, relu = digit_figures["digit_bank"], digit_figures["digit_relu"]
    for before, after in zip([ax for ax in bank.axes if ax.images], [ax for ax in relu.axes if ax.images]):
        assert after.images[0].get_clim() == before.images[0].get_clim()
        assert after.images[0].get_array().min() == 0
    assert relu.get_suptitle().startswith("ReLU(map + b), b = -100")


def test_laplacian_and_digit_figures_have_labelled_colour_bars(digit_figures):
    edges = digit_figures["digit_edges"]
    assert edges.get_suptitle() == "The Laplacian of the digit: negative on the stroke, positive on the ground beside it"
    signed = edges.axes[1].images[0]
    assert signed.get_clim() == (-245, 245) and signed.colorbar.ax.get_ylabel() == "Laplacian value"
    grey = digit_figures["digit_gray"]
    assert "28 x 28 pixels" in texts(grey)
    assert grey.axes[0].images[0].colorbar.ax.get_ylabel() == "grey level (ink is high)"
