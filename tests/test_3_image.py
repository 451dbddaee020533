"""Tests for 3_image.py: reading any picture as grey levels, and kernels applied to a photo."""

import importlib
import importlib.util
import struct
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image, ImageFilter, ImageOps
from scipy import ndimage, signal

import lessonkit
from conftest import BAD_INPUTS, Collect, ROOT, make_bad_input, run_script, texts

lesson = importlib.import_module("3_image")
spec = importlib.util.spec_from_file_location("make_bird", ROOT / "data" / "make_bird.py")
make_bird = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_bird)



def colour_bar_of(axes):
    """The colour bar drawn for the first picture on `axes`."""
    return axes.images[0].colorbar


FIGURES = ["image_gray.png", "image_laplacian.png", "image_bias_relu.png", "image_neighbours.png", "image_gallery.png"]


def save(image, folder, name, **options):
    """Save a PIL image into `folder` and return its path."""
    path = folder / name
    image.save(path, **options)
    return path


# The shipped photograph -------------------------------------------------------------------


def test_make_bird_lays_the_cutout_on_a_flat_sky_with_a_margin():
    cutout = Image.new("RGBA", (4, 3), (0, 0, 0, 0))
    cutout.putpixel((1, 2), (255, 0, 0, 255))
    flat = make_bird.flatten(cutout)
    margin = make_bird.MARGIN
    assert flat.mode == "RGB" and flat.size == (4 + 2 * margin, 3 + 2 * margin)
    assert flat.getpixel((0, 0)) == make_bird.BACKGROUND
    assert flat.getpixel((margin + 1, margin + 2)) == (255, 0, 0)
    assert flat.getpixel((margin, margin)) == make_bird.BACKGROUND


def test_make_bird_masks_the_pixels_that_are_at_least_half_opaque():
    cutout = Image.new("RGBA", (3, 1), (0, 0, 0, 0))
    cutout.putpixel((1, 0), (9, 9, 9, 128))
    cutout.putpixel((2, 0), (9, 9, 9, 127))
    mask = np.array(make_bird.opaque_mask(cutout))
    margin = make_bird.MARGIN
    assert mask.shape == (1 + 2 * margin, 3 + 2 * margin) and mask.dtype == bool
    assert np.argwhere(mask).tolist() == [[margin, margin + 1]]


def test_shipped_bird_is_a_cut_out_on_a_flat_ground():
    bird = lesson.load_grayscale(lessonkit.data_path("bird.jpg"))
    assert bird.shape == (367, 363)
    border = np.concatenate([bird[:8].ravel(), bird[-8:].ravel(), bird[:, :8].ravel(), bird[:, -8:].ravel()])
    assert np.abs(border.astype(int) - 217).max() <= 3  # the flat sky blue (206, 220, 232) as luma
    assert bird.min() < 20 and bird.max() > 240  # dark and white feathers
    assert np.mean(bird == 217) > 0.72  # most of the picture is the flat background


def test_shipped_mask_covers_the_bird_and_not_the_background():
    bird = lesson.load_grayscale(lessonkit.data_path("bird.jpg"))
    mask = lesson.bird_mask(lesson.PHOTO, bird.shape)
    assert mask.shape == bird.shape and mask.dtype == bool
    assert np.count_nonzero(mask) == 30322
    margin = make_bird.MARGIN
    assert not mask[:margin].any() and not mask[-margin:].any()
    assert not mask[:, :margin].any() and not mask[:, -margin:].any()
    assert np.mean(bird[mask] == 217) < 0.01  # under the mask, the background's level is rare
    assert np.mean(bird[~mask] == 217) > 0.9  # outside it, it is nearly everything


def test_a_photo_of_your_own_has_no_mask(tmp_path):
    path = save(Image.new("L", (363, 367)), tmp_path, "bird.jpg")
    assert lesson.bird_mask(path, (367, 363)) is None


# Reading pictures ---------------------------------------------------------------------------


def test_pure_red_rgb_gives_luma_76(tmp_path):
    path = save(Image.new("RGB", (3, 2), (255, 0, 0)), tmp_path, "red.png")
    grey = lesson.load_grayscale(path)
    assert grey.shape == (2, 3)
    assert grey.dtype == np.uint8
    assert (grey == 76).all()


def test_pure_green_in_a_jpeg_is_about_150(tmp_path):
    path = save(Image.new("RGB", (8, 8), (0, 255, 0)), tmp_path, "green.jpg", quality=95)
    assert abs(int(lesson.load_grayscale(path).mean()) - 150) <= 2


def test_fully_transparent_rgba_becomes_white_and_opaque_keeps_its_grey(tmp_path):
    picture = Image.new("RGBA", (2, 1), (0, 0, 0, 0))
    picture.putpixel((1, 0), (0, 255, 0, 255))
    assert lesson.load_grayscale(save(picture, tmp_path, "a.png")).tolist() == [[255, 150]]


def test_half_transparent_black_on_white_is_mid_grey(tmp_path):
    path = save(Image.new("RGBA", (1, 1), (0, 0, 0, 128)), tmp_path, "half.png")
    assert lesson.load_grayscale(path).item() in (127, 128)


def test_la_with_transparency_is_laid_on_white(tmp_path):
    picture = Image.new("LA", (2, 1), (0, 0))
    picture.putpixel((1, 0), (40, 255))
    assert lesson.load_grayscale(save(picture, tmp_path, "la.png")).tolist() == [[255, 40]]


def test_palette_with_a_transparent_index_is_laid_on_white(tmp_path):
    picture = Image.new("P", (3, 1), 0)
    picture.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * 759)
    picture.putpixel((1, 0), 1)
    picture.putpixel((2, 0), 2)
    path = save(picture, tmp_path, "p.png", transparency=0)
    assert lesson.load_grayscale(path).tolist() == [[255, 76, 29]]


def test_palette_without_transparency(tmp_path):
    picture = Image.new("P", (2, 1), 0)
    picture.putpalette([255, 255, 255, 255, 0, 0] + [0] * 762)
    picture.putpixel((1, 0), 1)
    assert lesson.load_grayscale(save(picture, tmp_path, "p.gif")).tolist() == [[255, 76]]


def test_cmyk_white_and_black(tmp_path):
    picture = Image.new("CMYK", (2, 1), (0, 0, 0, 0))
    picture.putpixel((1, 0), (0, 0, 0, 255))
    assert lesson.load_grayscale(save(picture, tmp_path, "cmyk.tif")).tolist() == [[255, 0]]


def test_one_bit_image_gives_0_and_255(tmp_path):
    picture = Image.new("1", (2, 1), 0)
    picture.putpixel((1, 0), 1)
    assert lesson.load_grayscale(save(picture, tmp_path, "bits.png")).tolist() == [[0, 255]]


def test_grey_l_image_is_read_unchanged(tmp_path):
    levels = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    assert np.array_equal(lesson.load_grayscale(save(Image.fromarray(levels), tmp_path, "l.png")), levels)


def test_16_bit_ramp_is_scaled_to_8_bits_not_clipped(tmp_path):
    ramp = np.array([[0, 257, 1000, 32768, 65535]], dtype=np.uint16)
    path = save(Image.fromarray(ramp), tmp_path, "ramp16.png")
    assert Image.open(path).mode in ("I;16", "I")
    assert lesson.load_grayscale(path).tolist() == [[0, 1, 4, 128, 255]]


def test_32_bit_integer_image_is_read_as_16_bit_samples(tmp_path):
    ramp = np.array([[0, 257, 65535, 70000, -5]], dtype=np.int32)
    path = save(Image.fromarray(ramp), tmp_path, "ramp32.tif")
    assert Image.open(path).mode == "I"
    assert lesson.load_grayscale(path).tolist() == [[0, 1, 255, 255, 0]]


def test_float_image_is_rounded_and_clipped_on_the_0_255_scale(tmp_path):
    values = np.array([[0.4, 100.6, 300.0, -5.0]], dtype=np.float32)
    path = save(Image.fromarray(values), tmp_path, "float.tif")
    assert Image.open(path).mode == "F"
    assert lesson.load_grayscale(path).tolist() == [[0, 101, 255, 0]]


def test_exif_orientation_6_turns_the_picture_upright(tmp_path):
    picture = np.zeros((16, 32, 3), dtype=np.uint8)
    picture[:, :16] = 255  # left half white, as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = save(Image.fromarray(picture), tmp_path, "turned.jpg", exif=exif, quality=95)
    grey = lesson.load_grayscale(path)
    assert grey.shape == (32, 16)
    assert grey[:16].mean() > 240  # the white left half is now on top
    assert grey[16:].mean() < 15


def jpeg_with_exif_block(path, tiff):
    """Write an 8x6 JPEG (stored as 8 wide, 6 high) carrying an APP1 EXIF block made by hand
    from `tiff`, the TIFF structure that follows "Exif\\0\\0"."""
    plain = path.with_suffix(".plain.jpg")
    Image.new("RGB", (8, 6), (200, 30, 30)).save(plain, quality=95)
    jpeg = plain.read_bytes()
    payload = b"Exif\x00\x00" + tiff
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    path.write_bytes(jpeg[:2] + app1 + jpeg[2:])  # right after the start-of-image marker
    return path


def test_exif_block_with_a_bad_entry_count_is_ignored_without_a_warning(tmp_path):
    # A little-endian TIFF header, then an IFD announcing 5 entries of 12 bytes while the
    # block ends after 1: Pillow warns "Corrupt EXIF data" and reads no orientation.
    entry = struct.pack("<HHI4s", 0x010E, 2, 2, b"a\x00\x00\x00")  # ImageDescription "a"
    path = jpeg_with_exif_block(tmp_path / "bad exif.jpg", b"II*\x00" + struct.pack("<IH", 8, 5) + entry)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grey = lesson.load_grayscale(path)
    assert grey.shape == (6, 8)  # as stored
    assert np.abs(grey.astype(int) - 81).max() <= 2  # luma of (200, 30, 30)


def test_exif_block_with_a_bad_count_still_gives_an_empty_stderr(run_lesson, tmp_path):
    entry = struct.pack("<HHI4s", 0x010E, 2, 2, b"a\x00\x00\x00")
    path = jpeg_with_exif_block(tmp_path / "bad exif.jpg", b"II*\x00" + struct.pack("<IH", 8, 5) + entry)
    process, _ = run_lesson("3_image.py", "--image", path)
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    assert "bad exif.jpg: 6 rows x 8 columns" in process.stdout


def test_exif_orientation_beside_a_damaged_tag_is_still_applied(tmp_path):
    # Orientation 6 and an ImageDescription whose 1000 bytes lie past the end of the block.
    entries = struct.pack("<HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack("<HHII", 0x010E, 2, 1000, 200)
    path = jpeg_with_exif_block(tmp_path / "turned.jpg", b"II*\x00" + struct.pack("<IH", 8, 2) + entries + b"\0" * 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lesson.load_grayscale(path).shape == (8, 6)


def test_exif_too_damaged_to_turn_gives_the_picture_as_stored(tmp_path, monkeypatch):
    def broken(picture, **options):
        raise struct.error("unpack requires a buffer of 2 bytes")

    monkeypatch.setattr(ImageOps, "exif_transpose", broken)
    path = save(Image.new("L", (5, 2), 33), tmp_path, "plain.png")
    assert lesson.load_grayscale(path).tolist() == [[33] * 5] * 2


def test_animated_gif_gives_its_first_frame(tmp_path):
    frames = [Image.new("L", (4, 3), 200), Image.new("L", (4, 3), 50)]
    path = save(frames[0], tmp_path, "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    assert Image.open(path).n_frames == 2
    grey = lesson.load_grayscale(path)
    assert grey.shape == (3, 4)
    assert (grey == 200).all()


def test_one_pixel_image_works(tmp_path):
    grey = lesson.load_grayscale(save(Image.new("L", (1, 1), 9), tmp_path, "dot.png"))
    assert grey.tolist() == [[9]]
    assert lesson.convolve(grey, lesson.LAPLACIAN).tolist() == [[0.0]]
    assert lesson.convolve(grey, lesson.HORIZONTAL_PAIR).tolist() == [[0.0]]


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_picture_is_refused_with_a_message_naming_it(tmp_path, case):
    path, reason = make_bad_input(case, tmp_path)
    with pytest.raises(lessonkit.LessonError, match=reason) as refused:
        lesson.load_grayscale(path)
    assert str(path) in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("failure", [struct.error("unpack requires a buffer of 4 bytes"), IndexError(), TypeError("x")])
def test_any_decoder_failure_is_a_clean_damaged_file_error(tmp_path, monkeypatch, failure):
    path = save(Image.new("L", (2, 2)), tmp_path, "odd.tif")

    def failing(*args, **kwargs):
        raise failure

    monkeypatch.setattr(Image, "open", failing)
    with pytest.raises(lessonkit.LessonError, match="is damaged or truncated") as refused:
        lesson.load_grayscale(path)
    assert str(path) in str(refused.value) and "\n" not in str(refused.value)


def test_decoder_failure_on_the_command_line_is_one_error_line(tmp_path, monkeypatch, capsys):
    path = save(Image.new("L", (2, 2)), tmp_path, "odd.tif")

    def failing(*args, **kwargs):
        raise struct.error("unpack requires a buffer of 4 bytes")

    monkeypatch.setattr(Image, "open", failing)
    assert lesson.main(["--image", str(path), "--out", str(tmp_path / "out")]) == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err == f"error: {path} is damaged or truncated (unpack requires a buffer of 4 bytes)\n"
    assert not (tmp_path / "out").exists()


def test_running_out_of_memory_while_decoding_says_to_shrink_the_picture(tmp_path, monkeypatch):
    path = save(Image.new("L", (2, 2)), tmp_path, "big.png")

    def exhausted(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(Image, "open", exhausted)
    with pytest.raises(lessonkit.LessonError, match="not enough memory .* shrink it first"):
        lesson.load_grayscale(path)


def test_messages_for_a_huge_or_unreadable_picture_say_what_to_do(tmp_path):
    path, _ = make_bad_input("bomb", tmp_path)
    with pytest.raises(lessonkit.LessonError, match=r"too large: more than 89,478,485 pixels.*4000 pixels on its long"):
        lesson.load_grayscale(path)
    path, _ = make_bad_input("text", tmp_path)
    with pytest.raises(lessonkit.LessonError, match="not an image Pillow can read .*HEIC.*convert it to JPEG or PNG"):
        lesson.load_grayscale(path)


def test_unreadable_file_is_refused(tmp_path, monkeypatch):
    path = save(Image.new("L", (2, 2)), tmp_path, "locked.png")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Image, "open", denied)
    with pytest.raises(lessonkit.LessonError, match="permission denied") as refused:
        lesson.load_grayscale(path)
    assert str(path) in str(refused.value)


@pytest.mark.parametrize("script", ["3_image.py", "4_digit.py"])
@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_picture_on_the_command_line_exits_2_and_writes_nothing(tmp_path, case, script):
    path, reason = make_bad_input(case, tmp_path)
    out = tmp_path / "figures"
    process = run_script(script, "--image", path, "--out", out, cwd=tmp_path)
    assert process.returncode == 2
    assert process.stderr.startswith("error: ")
    assert process.stderr.count("\n") == 1
    assert str(path) in process.stderr and reason in process.stderr
    assert "Traceback" not in process.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "mode, words",
    [
        ("RGB", "converted with Pillow's 'L':\nL = 0.299 R + 0.587 G + 0.114 B (ITU-R 601-2 luma)"),
        ("P", "converted with Pillow's 'L'"),
        ("CMYK", "converted to RGB, then with Pillow's 'L'"),
        ("RGBA", "transparent parts laid on white, then converted with Pillow's 'L'"),
        ("L", "already 8-bit grey levels, used as they are"),
        ("1", "black is 0, white is 255"),
        ("I;16", "divided by 257"),
        ("F", "rounded and clipped to 0..255"),
    ],
)
def test_how_made_grey_names_the_conversion_luma_does(mode, words):
    assert words in lesson.how_made_grey(Image.new(mode, (1, 1)))


def test_read_picture_keeps_the_files_mode_and_closes_it():
    picture = lesson.read_picture(lessonkit.data_path("bird.jpg"))
    assert picture.mode == "RGB" and picture.size == (363, 367)
    assert np.array_equal(lesson.luma(picture, "bird.jpg"), lesson.load_grayscale(lessonkit.data_path("bird.jpg")))


# Kernels and feature maps ------------------------------------------------------------------


def test_laplacian_of_a_bright_dot_matches_the_hand_computation():
    dot = np.zeros((3, 3))
    dot[1, 1] = 10
    expected = [[0, 10, 0], [10, -40, 10], [0, 10, 0]]
    assert lesson.convolve(dot, lesson.LAPLACIAN).tolist() == expected


def test_laplacian_of_a_2x2_image_mirrors_the_border():
    # Mirrored with the edge pixel, the image [[1, 2], [3, 4]] reads, at (0, 0):
    # above 1, below 3, left 1, right 2, centre 1 -> 1 + 3 + 1 + 2 - 4 * 1 = 3.
    image = np.array([[1, 2], [3, 4]])
    assert lesson.convolve(image, lesson.LAPLACIAN).tolist() == [[3, 1], [-1, -3]]


def test_laplacian_answers_most_to_a_spot_then_a_line_then_an_edge():
    maps = {name: lesson.convolve(picture, lesson.LAPLACIAN) for name, picture in lesson.test_pictures().items()}
    assert maps["spot"][3].tolist() == [0, 0, 100, -400, 100, 0, 0]
    assert maps["line"][3].tolist() == [0, 0, 100, -200, 100, 0, 0]
    assert maps["step"][3].tolist() == [0, 0, 100, -100, 0, 0, 0]  # the edge is at the zero crossing


def test_laplacian_is_float32_and_keeps_the_shape():
    image = np.random.default_rng(1).integers(0, 256, (7, 11), dtype=np.uint8)
    laplacian = lesson.convolve(image, lesson.LAPLACIAN)
    assert laplacian.shape == (7, 11) and laplacian.dtype == np.float32
    expected = signal.convolve2d(image.astype(float), lesson.LAPLACIAN, mode="same", boundary="symm")
    assert np.allclose(laplacian, expected)


def test_strongest_laplacian_response_on_the_bird_is_a_dark_speck():
    bird = lesson.load_grayscale(lessonkit.data_path("bird.jpg"))
    laplacian = lesson.convolve(bird, lesson.LAPLACIAN)
    assert lesson.strongest(laplacian) == (36, 41)
    patch, value = lesson.response_at(bird, lesson.LAPLACIAN, 36, 41)
    neighbours = patch[0, 1] + patch[1, 0] + patch[1, 2] + patch[2, 1]
    assert value == 379 == neighbours - 4 * patch[1, 1]
    assert patch[1, 1] < min(patch[0, 1], patch[1, 0], patch[1, 2], patch[2, 1])  # darker than all four


def test_relu_keeps_positive_values_only():
    assert lesson.relu(np.array([-2.0, 0.0, 3.5])).tolist() == [0, 0, 3.5]


def test_a_negative_bias_then_relu_keeps_exactly_the_responses_above_minus_b():
    bird = lesson.load_grayscale(lessonkit.data_path("bird.jpg"))
    laplacian = signal.convolve2d(bird.astype(float), lesson.LAPLACIAN, mode="same", boundary="symm")
    activation = lesson.relu(laplacian + lesson.BIAS)
    assert lesson.BIAS == -50
    assert np.count_nonzero(activation) == np.count_nonzero(laplacian > 50) == 3439
    assert np.count_nonzero(laplacian > 0) == 18868
    assert activation.max() == laplacian.max() - 50


def test_relu_counts_are_taken_on_the_bird_alone(capsys):
    bird = lesson.load_grayscale(lessonkit.data_path("bird.jpg"))
    mask = lesson.bird_mask(lesson.PHOTO, bird.shape)
    laplacian = lesson.convolve(bird, lesson.LAPLACIAN)
    on_bird = laplacian[mask]
    assert np.count_nonzero(on_bird > 0) == 15122 and lesson.share(on_bird > 0) == "49.87%"
    assert np.count_nonzero(on_bird > 50) == 3370 and lesson.share(on_bird > 50) == "11.11%"
    lesson.a_bias_then_relu(laplacian, mask, Collect())
    printed = capsys.readouterr().out
    assert "Non-zero pixels on the bird alone, of 30,322:" in printed
    assert "ReLU(map):        15,122 (49.87%), wherever the map is above 0" in printed
    assert "ReLU(map + b):    3,370 (11.11%), only where the map is above 50" in printed
    assert "(on the whole picture, background included: 14.16% and 2.58%)" in printed
    lesson.a_bias_then_relu(laplacian, None, Collect())
    assert "Non-zero pixels on the whole picture, of 133,221:" in capsys.readouterr().out


def test_pair_kernels_give_the_neighbour_before_minus_the_pixel():
    row = np.array([[255, 7, 3]])
    assert lesson.convolve(row, lesson.HORIZONTAL_PAIR).tolist() == [[0, 248, 4]]
    assert lesson.convolve(row.T, lesson.VERTICAL_PAIR).tolist() == [[0], [248], [4]]


def test_pair_kernels_are_zero_on_flat_regions_and_large_across_an_edge():
    image = np.zeros((6, 6))
    image[:, 3:] = 200  # a vertical edge between columns 2 and 3
    across = np.abs(lesson.convolve(image, lesson.HORIZONTAL_PAIR))
    along = np.abs(lesson.convolve(image, lesson.VERTICAL_PAIR))
    assert across[:, 3].tolist() == [200] * 6
    assert np.delete(across, 3, axis=1).max() == 0
    assert along.max() == 0


def test_bird_only_statistics_use_the_mask():
    bird = lesson.load_grayscale(lessonkit.data_path("bird.jpg"))
    mask = lesson.bird_mask(lesson.PHOTO, bird.shape)
    difference = np.abs(signal.convolve2d(bird.astype(float), [[-1, 1]], mode="same", boundary="symm"))
    assert lesson.share(lesson.on_the_subject(difference, mask) < 5) == "43.84%"
    assert lesson.share(difference < 5) == "84.98%"  # the flat background pushes it up
    assert lesson.on_the_subject(difference, None) is difference


def test_sobel_x_by_convolution_is_minus_the_derivative_on_a_ramp():
    ramp = np.tile(np.arange(8.0) * 10, (8, 1))  # brightens to the right
    by_convolution = lesson.convolve(ramp, lesson.SOBEL_X)
    by_correlation = signal.correlate2d(ramp, lesson.SOBEL_X, mode="same", boundary="symm")
    assert (by_convolution[1:-1, 1:-1] == -80).all()
    assert (by_correlation[1:-1, 1:-1] == 80).all()
    assert (lesson.convolve(ramp.T, lesson.SOBEL_Y)[1:-1, 1:-1] == -80).all()
    assert np.allclose(lesson.convolve(ramp, -lesson.SOBEL_X), by_correlation)


def test_emboss_by_convolution_shades_what_correlation_lights():
    ramp = np.tile(np.arange(8.0) * 10, (8, 1))
    assert lesson.convolve(ramp, lesson.EMBOSS)[3, 3] == 30 - 60
    assert signal.correlate2d(ramp, lesson.EMBOSS, mode="same", boundary="symm")[3, 3] == 30 + 60


def test_gallery_holds_the_classic_kernels():
    expected = {
        "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
        "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
        "box blur": [[1 / 9] * 3] * 3,
        "Gaussian blur": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
        "edge enhance (GIMP)": [[0, 0, 0], [-1, 1, 0], [0, 0, 0]],
        "Laplacian (edge detect)": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
        "emboss": [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
        "Sobel x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
        "Sobel y": [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],
    }
    assert sorted(lesson.GALLERY) == sorted(expected)
    sums = [np.sum(kernel) for kernel in lesson.GALLERY.values()]
    assert sums == sorted(sums, reverse=True)  # the pictures first, then the signed maps
    for name, kernel in expected.items():
        assert np.allclose(lesson.GALLERY[name], kernel), name


def test_gallery_kernels_sum_to_1_or_0_and_act_on_a_flat_image_accordingly():
    flat = np.full((5, 6), 80.0)
    for name, kernel in lesson.GALLERY.items():
        total = np.sum(kernel)
        assert np.isclose(total, 1) or np.isclose(total, 0), name
        assert np.allclose(lesson.convolve_fast(flat, kernel), 80 * total, atol=1e-4), name


def test_gimps_edge_enhance_is_the_neighbour_difference_one_column_over():
    image = np.random.default_rng(5).integers(0, 256, (6, 9)).astype(float)
    enhance = lesson.convolve_fast(image, lesson.GALLERY["edge enhance (GIMP)"])
    pair = lesson.convolve(image, lesson.HORIZONTAL_PAIR)
    assert np.allclose(enhance[:, :-1], pair[:, 1:])


def test_pillows_edge_enhance_is_a_sharpening_kernel_summing_to_1():
    size, scale, offset, weights = ImageFilter.EDGE_ENHANCE.filterargs
    assert size == (3, 3) and offset == 0
    assert np.sum(weights) / scale == 1
    assert weights[4] / scale > 1  # the centre is boosted: sharpening, not a difference


def test_identity_kernel_gives_the_image_back():
    image = np.random.default_rng(2).integers(0, 256, (9, 4), dtype=np.uint8)
    assert np.allclose(lesson.convolve_fast(image, lesson.GALLERY["identity"]), image)


def test_kernel_text_writes_whole_numbers_and_a_fraction():
    assert lesson.kernel_text(lesson.GALLERY["Gaussian blur"]) == (
        "1/16 · [[1 2 1]\n        [2 4 2]\n        [1 2 1]]"
    )
    assert lesson.kernel_text(lesson.LAPLACIAN) == "[[ 0  1  0]\n [ 1 -4  1]\n [ 0  1  0]]"


def test_as_picture_takes_abs_for_kernels_summing_to_0_and_clips():
    values = np.array([-300.0, -20.0, 20.0, 300.0])
    assert lesson.as_picture(values, lesson.LAPLACIAN).tolist() == [255, 20, 20, 255]
    assert lesson.as_picture(values, lesson.GALLERY["sharpen"]).tolist() == [0, 0, 20, 255]
    assert values.tolist() == [-300, -20, 20, 300]
    lesson.as_picture(values, lesson.LAPLACIAN, out=values)
    assert values.tolist() == [255, 20, 20, 255]


def test_for_display_shrinks_big_pictures_only():
    big = np.full((3000, 4000), 100.0, dtype=np.float32)
    small = lesson.for_display(big)
    assert small.shape == (lesson.DRAWN_PIXELS * 3 // 4, lesson.DRAWN_PIXELS)
    assert small.dtype == np.uint8 and (small == 100).all()
    assert lesson.for_display(np.full((2, 3), 7.0)).tolist() == [[7, 7, 7], [7, 7, 7]]


def test_zoom_on_an_edge_finds_the_step_and_stays_in_the_frame():
    image = np.zeros((200, 300))
    image[:, 250:] = 255  # the only edge, near the right border
    rows, columns = lesson.zoom_on_an_edge(image, side=48)
    assert columns.start <= 250 < columns.stop and columns.stop <= 300
    assert rows.stop - rows.start == 48 and columns.stop - columns.start == 48
    assert lesson.zoom_on_an_edge(np.zeros((5, 7)), side=48) == (slice(0, 48), slice(0, 48))


def test_mirror_index_repeats_the_edge_pixel():
    assert [lesson.mirror_index(i, 4) for i in range(-2, 6)] == [1, 0, 0, 1, 2, 3, 3, 2]


images = arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12)))
odd_kernels = arrays(
    np.int64, st.tuples(st.sampled_from([1, 3]), st.sampled_from([1, 3])), elements=st.integers(-9, 9)
)
even_kernels = arrays(
    np.int64, st.tuples(st.sampled_from([2, 4]), st.sampled_from([2, 4])), elements=st.integers(-9, 9)
)


@settings(max_examples=200, deadline=None)
@given(images, odd_kernels)
def test_ndimage_reflect_equals_signal_symm_for_odd_kernels(image, kernel):
    ours = lesson.convolve_fast(image, kernel)
    scipy_map = signal.convolve2d(image.astype(float), kernel, mode="same", boundary="symm")
    assert np.allclose(ours, scipy_map)
    assert np.allclose(lesson.convolve(image, kernel), scipy_map)


@settings(max_examples=100, deadline=None)
@given(images, even_kernels)
def test_ndimage_centres_an_even_kernel_one_row_and_column_away(image, kernel):
    if min(image.shape) < max(kernel.shape):
        return  # signal's symm mirrors once only; ndimage repeats the mirroring
    symm = signal.convolve2d(image.astype(float), kernel, mode="same", boundary="symm")
    shifted = ndimage.convolve(image.astype(float), kernel.astype(float), mode="reflect", origin=-1)
    assert np.allclose(shifted, symm)


@settings(max_examples=200, deadline=None)
@given(images, st.one_of(odd_kernels, even_kernels, arrays(np.int64, (1, 2), elements=st.integers(-9, 9))))
def test_convolve_fast_equals_convolve_for_every_kernel_size(image, kernel):
    assert np.allclose(lesson.convolve_fast(image, kernel), lesson.convolve(image, kernel))


def test_ndimage_reflect_differs_from_signal_symm_for_a_2x2_kernel():
    image = np.arange(12.0).reshape(3, 4) ** 2
    kernel = np.array([[1, 2], [3, 4]])
    symm = signal.convolve2d(image, kernel, mode="same", boundary="symm")
    assert not np.allclose(ndimage.convolve(image, kernel, mode="reflect"), symm)


def test_border_names_ndimage_reflect_is_np_pad_symmetric_and_mirror_is_reflect():
    assert np.pad([1, 2, 3], 2, mode="symmetric").tolist() == [2, 1, 1, 2, 3, 3, 2]
    assert np.pad([1, 2, 3], 2, mode="reflect").tolist() == [3, 2, 1, 2, 3, 2, 1]
    image = np.random.default_rng(6).integers(0, 256, (5, 7)).astype(float)
    for ndimage_mode, pad_mode in (("reflect", "symmetric"), ("mirror", "reflect")):
        padded = signal.convolve2d(np.pad(image, 1, mode=pad_mode), lesson.LAPLACIAN, mode="valid")
        assert np.allclose(ndimage.convolve(image, lesson.LAPLACIAN, mode=ndimage_mode), padded)


def test_ndimage_mirror_is_not_signal_symm():
    image = np.array([[1.0, 5.0, 2.0]])
    kernel = [[1, 0, 0]]
    symm = signal.convolve2d(image, kernel, mode="same", boundary="symm")
    assert np.allclose(ndimage.convolve(image, kernel, mode="reflect"), symm)
    assert not np.allclose(ndimage.convolve(image, kernel, mode="mirror"), symm)


@settings(max_examples=200, deadline=None)
@given(images, st.data())
def test_response_at_by_hand_matches_the_whole_map(image, data):
    row = data.draw(st.integers(0, image.shape[0] - 1))
    column = data.draw(st.integers(0, image.shape[1] - 1))
    kernel = np.array(lesson.SOBEL_X)
    patch, value = lesson.response_at(image, kernel, row, column)
    assert patch.shape == (3, 3)
    assert np.isclose(value, lesson.convolve(image, kernel)[row, column])


# Your own kernel ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0 -1 0; -1 5 -1; 0 -1 0", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
        ("1,2 , 3;4 5,6", [[1, 2, 3], [4, 5, 6]]),
        ("  -1 1  ", [[-1, 1]]),
        ("1/4 1/4; 0.25 2.5e-1", [[0.25, 0.25], [0.25, 0.25]]),
        ("7", [[7]]),
    ],
)
def test_parse_kernel_reads_rows_of_numbers(text, expected):
    kernel = lesson.parse_kernel(text)
    assert kernel.dtype == np.float64
    assert kernel.tolist() == expected


BAD_KERNELS = [
    ("", "is empty"),
    ("  ;  ", "is empty"),
    ("1 2; 3", "rows of different lengths (1, 2 numbers)"),
    ("1 2;; 3 4", "row 2 is empty"),
    ("1 2;", "row 2 is empty"),
    ("1 x", "'x' is not a finite number"),
    ("1 nan", "'nan' is not a finite number"),
    ("inf 1", "'inf' is not a finite number"),
    ("1e999", "'1e999' is not a finite number"),
    ("1/0", "'1/0' is not a finite number"),
    ("[[1, 2]]", "'[[1' is not a finite number"),
]


@pytest.mark.parametrize("text, reason", BAD_KERNELS)
def test_parse_kernel_refuses_malformed_text_in_one_line(text, reason):
    with pytest.raises(lessonkit.LessonError) as refused:
        lesson.parse_kernel(text)
    assert reason in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("text, reason", BAD_KERNELS + [("1 1 1 1; 1 1 1 1; 1 1 1 1", "larger than tiny.png")])
def test_bad_kernel_on_the_command_line_is_one_error_line_exit_2_and_nothing_written(tmp_path, capsys, text, reason):
    path = save(Image.new("L", (3, 2), 50), tmp_path, "tiny.png")
    out = tmp_path / "out"
    assert lesson.main(["--kernel", text, "--image", str(path), "--out", str(out)]) == 2
    printed = capsys.readouterr()
    assert printed.out == ""
    assert printed.err.startswith("error: --kernel") and printed.err.count("\n") == 1
    assert reason in printed.err
    assert not out.exists()


def test_bad_kernel_in_a_real_run_exits_2_with_one_line(tmp_path):
    process = run_script("3_image.py", "--kernel", "1 2; 3", "--out", tmp_path / "out", cwd=tmp_path)
    assert process.returncode == 2
    assert process.stdout == ""
    assert process.stderr == "error: --kernel: rows of different lengths (1, 2 numbers); a kernel is a rectangle\n"
    assert list(tmp_path.iterdir()) == []


def test_your_own_kernel_is_applied_to_the_photo_and_only_its_figure_is_written(run_lesson):
    process, out = run_lesson("3_image.py", "--kernel", "0 -1 0; -1 5 -1; 0 -1 0")
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    bird = lesson.load_grayscale(lessonkit.data_path("bird.jpg"))
    expected = signal.convolve2d(bird.astype(float), lesson.GALLERY["sharpen"], mode="same", boundary="symm")
    assert "\nYour own kernel\n" in process.stdout
    assert "kernel (3x3, weights sum to 1) =\n[[ 0 -1  0]\n [-1  5 -1]\n [ 0 -1  0]]\n" in process.stdout
    assert f"feature map: shape (367, 363), min {expected.min():.4g}, max {expected.max():.4g}\n" in process.stdout
    assert "The Laplacian" not in process.stdout  # the rest of the lesson is skipped
    assert sorted(path.name for path in out.iterdir()) == ["image_kernel.png"]


def test_your_own_kernel_on_your_own_photo(tmp_path, capsys):
    photo = np.random.default_rng(7).integers(0, 256, (20, 30), dtype=np.uint8)
    path = save(Image.fromarray(photo), tmp_path, "mine.png")
    assert lesson.main(["--image", str(path), "--kernel=-1,1", "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "mine.png: 20 rows x 30 columns" in printed
    expected = np.abs(lesson.convolve(photo, lesson.HORIZONTAL_PAIR))
    assert "The weights sum to 0, so flat regions give 0: the figure shows |feature map|." in printed
    assert f"max {lesson.convolve(photo, lesson.HORIZONTAL_PAIR).max():.4g}" in printed
    assert expected.shape == (20, 30)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["image_kernel.png"]


# Running the lesson --------------------------------------------------------------------------


def test_lesson_runs_from_another_folder_and_writes_its_figures(run_lesson):
    process, out = run_lesson("3_image.py")
    assert process.returncode == 0, process.stderr
    assert process.stderr == ""
    for heading in ["Convolution applied to an image", "The Laplacian: spots, lines and edges", "A bias, then ReLU",
                    "Subtracting neighbours", "The sign of Sobel and emboss", "A gallery of classic kernels",
                    "Border names and even kernels in scipy.ndimage"]:
        assert f"\n{heading}\n{'-' * len(heading)}\n" in process.stdout
    printed = process.stdout
    assert "bird.jpg: 367 rows x 363 columns, dtype uint8" in printed
    assert "The file stores 'RGB' pixels (Pillow's mode); converted with Pillow's 'L':\n" in printed
    assert "L = 0.299 R + 0.587 G + 0.114 B (ITU-R 601-2 luma), rounded to a whole level." in printed
    assert "The most common grey level is 217, on 72.30% of the pixels." in printed
    assert "This is a cut-out photograph on a flat background" in printed
    assert "feature map: shape (367, 363)" in printed
    assert "By hand at the strongest response, row 36, column 41" in printed
    assert "ours == scipy: True" in printed
    assert "4 · (160.75 - 66) = 379. It is darker than each of them: a dark speck, not an edge." in printed
    assert "At the step, + on the dark side and - on the bright side: True." in printed
    assert "ReLU(map + b):    3,370 (11.11%), only where the map is above 50" in printed
    assert "ReLU(map + b) > 0 exactly where map > 50: True" in printed
    assert ("on the bird alone, 43.84% of pixels differ from their left neighbour by less than 5\n"
            "  (on the whole picture, background included: 84.98%)") in printed
    assert "correlation (scipy.signal.correlate2d): +80 away from the border" in printed
    assert "convolution (this lesson's convolve):   -80 away from the border" in printed
    assert "convolution == -correlation: True" in printed
    assert "which gives the same map for a kernel of odd size (both on the photo's top-left 200x200 pixels: True)" in (
        printed)
    assert ("  3x3 Laplacian, ndimage.convolve(mode='reflect'), equal: True\n"
            "  2x2 kernel [[1 2] [3 4]], equal: False\n") in printed
    assert "  the same with ndimage's origin=-1, equal: True\n" in printed
    assert "ndimage 'reflect' == np.pad 'symmetric': True; ndimage 'mirror' == np.pad 'reflect': True" in printed
    assert "one column over: True." in printed
    assert "Pillow's ImageFilter.EDGE_ENHANCE is another kernel, whose weights sum to 1" in printed
    assert ": False" not in printed.replace("[[1 2] [3 4]], equal: False", "")
    assert sorted(path.name for path in out.iterdir()) == sorted(FIGURES)


def test_photo_in_a_folder_with_spaces_and_accents(run_lesson, tmp_path):
    folder = tmp_path / "mes photos" / "été 2026"
    folder.mkdir(parents=True)
    photo = np.random.default_rng(3).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    path = save(Image.fromarray(photo), folder, "oiseau.jpg")
    process, out = run_lesson("3_image.py", "--image", path)
    assert process.returncode == 0, process.stderr
    assert "oiseau.jpg: 30 rows x 40 columns" in process.stdout
    assert "Statistics below are taken on the whole picture (a photo of your own has no mask)." in process.stdout
    assert "  on the whole picture, " in process.stdout and "on the bird" not in process.stdout
    assert sorted(path.name for path in out.iterdir()) == sorted(FIGURES)


def test_one_pixel_photo_runs_through(tmp_path, capsys):
    path = save(Image.new("RGB", (1, 1), (255, 0, 0)), tmp_path, "dot.png")
    assert lesson.main(["--image", str(path), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "dot.png: 1 rows x 1 columns, dtype uint8, values 76..76" in printed
    assert "The feature map is 0 everywhere: the picture is flat." in printed
    assert "By hand" not in printed
    assert len(list((tmp_path / "out").iterdir())) == len(FIGURES)


def test_strongest_response_on_a_dark_line_is_not_called_a_speck(tmp_path, capsys):
    picture = np.full((9, 9), 200, dtype=np.uint8)
    picture[:, 4] = 0  # a dark line, one pixel wide
    path = save(Image.fromarray(picture), tmp_path, "line.png")
    assert lesson.main(["--image", str(path), "--out", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "By hand at the strongest response, row 0, column 4" in printed
    assert "4 · (100 - 0) = 400. It is not darker than each of them, so it is not a lone speck." in printed


def test_figures_are_identical_from_one_run_to_the_next(tmp_path, capsys):
    photo = np.random.default_rng(4).integers(0, 256, (24, 32), dtype=np.uint8)
    path = save(Image.fromarray(photo), tmp_path, "small.png")
    for out in ("first", "second"):
        assert lesson.main(["--image", str(path), "--out", str(tmp_path / out)]) == 0
    for name in FIGURES:
        assert (tmp_path / "first" / name).read_bytes() == (tmp_path / "second" / name).read_bytes(), name


# What the figures draw ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bird_run():
    """The lesson's sections on the shipped photo, once: (Collect of figures, printed text)."""
    import contextlib
    import io

    figures = Collect()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        pixels, mask = lesson.convolution_applied_to_an_image(lesson.PHOTO, figures)
        laplacian = lesson.the_laplacian(pixels, figures)
        lesson.a_bias_then_relu(laplacian, mask, figures)
        lesson.subtracting_neighbours(pixels, mask, figures)
        lesson.a_gallery_of_classic_kernels(pixels, figures)
    yield figures.added, printed.getvalue()
    import matplotlib.pyplot as plt

    for figure in figures.added.values():
        plt.close(figure)


def test_every_figure_fits_the_readme_column_with_readable_text(bird_run):
    from conftest import assert_readable

    added, _ = bird_run
    assert sorted(f"{name}.png" for name in added) == sorted(FIGURES)
    for name, figure in added.items():
        assert figure.get_figwidth() * 100 <= lessonkit.README_WIDTH + 0.5, name
        assert_readable(figure, f"{name}.png")


def test_photo_figure_has_a_grey_level_colour_bar(bird_run):
    figure = bird_run[0]["image_gray"]
    assert "367 x 363 pixels, uint8" in texts(figure)
    bar = colour_bar_of(figure.axes[0])
    assert bar.ax.get_ylabel() == "grey level" and figure.axes[0].images[0].get_clim() == (0, 255)


def test_laplacian_figure_names_its_crop_and_extends_its_colour_bar(bird_run):
    figure, printed = bird_run[0]["image_laplacian"], bird_run[1]
    drawn = "\n".join(texts(figure))
    assert "the photo, rows 32..79, columns 10..57\n(largest Sobel gradient), enlarged" in drawn
    assert "its feature map there, -318 .. 379" in drawn
    assert "The figure enlarges rows 32..79, columns 10..57: the 48x48 crop centred on the largest Sobel" in printed
    signed = figure.axes[1].images[0]
    assert signed.get_cmap().name == lessonkit.SIGNED_COLOURMAP and signed.get_clim() == (-100, 100)
    bar = colour_bar_of(figure.axes[1])
    assert bar.extend == "both" and bar.ax.get_ylabel() == "Laplacian value"


def test_bias_relu_figure_draws_three_panels_on_one_signed_scale(bird_run):
    figure = bird_run[0]["image_bias_relu"]
    pictures = [ax for ax in figure.axes if ax.images]
    assert [ax.get_title() for ax in pictures] == ["feature map", "map + b, b = -50", "ReLU(map + b)"]
    assert figure.get_suptitle() == "A neuron with b = -50: ReLU(map + b) keeps only the responses above 50"
    assert all(ax.images[0].get_clim() == (-100, 100) for ax in pictures)
    assert pictures[2].images[0].get_array().min() == 0  # ReLU leaves no negative value
    assert colour_bar_of(pictures[2]).extend == "both"


def test_neighbours_figure_is_signed_and_not_dim(bird_run):
    figure = bird_run[0]["image_neighbours"]
    pictures = [ax for ax in figure.axes if ax.images]
    assert len(pictures) == 2
    for ax in pictures:
        values = ax.images[0].get_array()
        assert ax.images[0].get_clim() == (-lesson.NEIGHBOUR_SCALE, lesson.NEIGHBOUR_SCALE)
        assert values.min() < -100 and values.max() > 100  # both signs are drawn
    assert colour_bar_of(pictures[1]).ax.get_ylabel() == "neighbour - pixel (grey levels)"


def test_gallery_says_the_kernels_are_turned_and_draws_the_edge_maps_signed(bird_run):
    figure = bird_run[0]["image_gallery"]
    assert "turns each by 180°" in figure.get_suptitle() and "emboss's light comes from the other side" in (
        figure.get_suptitle())
    pictures = [ax for ax in figure.axes if ax.images]
    signed = [ax.get_title().split("\n")[0] for ax in pictures if ax.images[0].get_cmap().name == "RdBu_r"]
    assert signed == ["edge enhance (GIMP)", "Laplacian (edge detect)", "Sobel x", "Sobel y"]
    assert pictures[0].get_title() == "identity\n[[0 0 0]\n [0 1 0]\n [0 0 0]]"
    assert colour_bar_of(pictures[-1]).ax.get_ylabel() == "map value (kernels summing to 0)"
    assert pictures[-1].images[0].get_clim() == (-lesson.GALLERY_LIMIT, lesson.GALLERY_LIMIT)


# The playground -------------------------------------------------------------------------------


def close(figure):
    import matplotlib.pyplot as plt

    plt.close(figure)


def test_kernel_playground_draws_the_photo_the_kernel_and_the_map_with_its_range():
    from conftest import assert_readable

    figure = lesson.kernel_playground("0 1 0; 1 -4 1; 0 1 0")
    drawn = texts(figure)
    assert "feature map\nmin -350, max 379" in drawn
    assert "the photo, 367 x 363" in drawn
    assert [text for text in drawn if text in ("0", "1", "-4")] == ["0", "1", "0", "1", "-4", "1", "0", "1", "0"]
    map_axes = figure.axes[2]
    assert map_axes.images[0].get_clim() == (-379, 379)  # symmetric
    assert map_axes.images[0].get_cmap().name == lessonkit.SIGNED_COLOURMAP
    assert figure.get_figwidth() * 100 <= lessonkit.README_WIDTH + 0.5
    assert_readable(figure, "playground.png")
    close(figure)


@pytest.mark.parametrize(
    "display, low, high, drawn",
    [("signed", -248, 248, [0, 248, -23]), ("abs", 0, 248, [0, 248, 23]), ("relu", 0, 248, [0, 248, 0])],
)
def test_kernel_playground_displays_the_map_signed_as_abs_or_after_relu(tmp_path, display, low, high, drawn):
    path = save(Image.fromarray(np.array([[255, 7, 30]], dtype=np.uint8)), tmp_path, "row.png")
    figure = lesson.kernel_playground("-1 1", image=path, display=display)
    assert "feature map\nmin -23, max 248" in texts(figure)
    assert "row.png, 1 x 3" in texts(figure)
    shown = figure.axes[2].images[0]
    assert shown.get_clim() == (low, high)
    assert np.allclose(shown.get_array(), [drawn])
    close(figure)


def test_kernel_as_text_reads_back_as_the_same_kernel():
    for name, kernel in lesson.GALLERY.items():
        assert np.allclose(lesson.parse_kernel(lesson.kernel_as_text(kernel)), kernel), name
    assert lesson.kernel_as_text(lesson.GALLERY["Gaussian blur"]).startswith("1/16 1/8 1/16;")


@pytest.mark.parametrize("text, reason", BAD_KERNELS)
def test_kernel_playground_refuses_a_bad_kernel_with_the_command_lines_message(tmp_path, capsys, text, reason):
    with pytest.raises(ValueError) as refused:
        lesson.kernel_playground(text)
    assert lesson.main(["--kernel", text, "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == f"error: {refused.value}\n"
    assert reason in str(refused.value)


def test_kernel_playground_refuses_a_kernel_larger_than_the_picture_and_a_bad_picture(tmp_path):
    path = save(Image.new("L", (3, 2), 50), tmp_path, "tiny.png")
    with pytest.raises(ValueError, match=r"^--kernel is 3x4, larger than tiny.png \(2x3 pixels\)$"):
        lesson.kernel_playground("1 1 1 1; 1 1 1 1; 1 1 1 1", image=path)
    with pytest.raises(ValueError, match="no such file"):
        lesson.kernel_playground("1", image=tmp_path / "nowhere.jpg")
    with pytest.raises(ValueError, match="display must be one of 'signed', 'abs', 'relu', not 'grey'"):
        lesson.kernel_playground("1", display="grey")


def test_interactive_playground_offers_a_text_box_the_gallery_and_the_display(monkeypatch):
    import ipywidgets
    from matplotlib.figure import Figure

    calls = []
    monkeypatch.setattr(lesson, "kernel_playground", lambda *args: calls.append(args) or Figure())
    widget = lesson.interactive_playground()
    assert isinstance(widget, ipywidgets.interactive)
    controls = {child.description: child for child in widget.children if hasattr(child, "description")}
    assert list(controls)[:3] == ["kernel", "gallery", "display"]
    assert isinstance(controls["kernel"], ipywidgets.Text)
    assert list(controls["gallery"].options) == list(lesson.GALLERY)
    assert list(controls["display"].options) == ["signed", "abs", "relu"]
    controls["gallery"].value = "Sobel x"
    assert controls["kernel"].value == "-1 0 1; -2 0 2; -1 0 1"
    assert calls[-1] == ("-1 0 1; -2 0 2; -1 0 1", None, "signed")


def test_interactive_playground_prints_the_message_of_a_bad_kernel(capsys):
    widget = lesson.interactive_playground()
    controls = {child.description: child for child in widget.children if hasattr(child, "description")}
    controls["kernel"].value = "1 2; 3"
    assert "error: --kernel: rows of different lengths (1, 2 numbers); a kernel is a rectangle" in capsys.readouterr().out
