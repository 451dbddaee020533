"""Convolution applied to a digit.

A 3 drawn by a script (data/make_num3.py) in the style of MNIST: 28x28 grey levels in which
ink is the high value (0 the ground, 255 full ink), so a light stroke 3 to 4 pixels wide on a
black ground, the input of a digit-reading network. A digit of your own in dark ink on light
paper is inverted, so that its ink is the high value too. The lesson prints the digit's
pixels, applies the Laplacian, then runs a bank of four edge detectors
(vertical, horizontal and the two diagonals): the kind of feature maps a CNN's first layer
computes. Last, what a second layer would read: bias, ReLU and 2x2 max pooling, stacked
channels-last as TensorFlow reads them. It reuses 3_image.py's pieces.
"""

import importlib

import numpy as np
from scipy import ndimage

import lessonkit

image_lesson = importlib.import_module("3_image")

INK = 127  # grey levels above this count as ink when the stroke's width is measured
PRINTED_SIDE = 28  # pictures up to 28x28 are printed whole, larger ones shrunk to this
BIAS = -100  # the bias of every channel in "What the next layer sees"

EDGE_DETECTORS = {
    "vertical": image_lesson.SOBEL_X,
    "horizontal": image_lesson.SOBEL_Y,
    "diagonal \\": np.array([[0, 1, 2], [-1, 0, 1], [-2, -1, 0]]),
    "diagonal /": np.array([[-2, -1, 0], [-1, 0, 1], [0, 1, 2]]),
}


def light_on_dark(image):
    """The image with its ink as the high value, as in MNIST (0 the ground, 255 full ink): a
    picture whose median grey level is above 127 (mostly light, so dark ink on light paper)
    is inverted, 255 - image.

    image: uint8 array (height, width).
    Returns (image, inverted): a uint8 array (height, width), and whether it was inverted.

    >>> light_on_dark(np.array([[255, 250, 0]], dtype=np.uint8))
    (array([[  0,   5, 255]], dtype=uint8), True)
    """
    if np.median(image) > 127:
        return 255 - image, True
    return image, False


def hex_rows(levels):
    """Grey levels written compactly, one line per row: each pixel as two hex digits
    (00 to ff, that is 0 to 255), with 00 written '..' so that the ink stands out.
    A 28-pixel row takes 56 columns.

    levels: uint8 array (height, width). Returns a string of `height` lines.

    >>> print(hex_rows(np.array([[0, 9, 255], [16, 0, 127]], dtype=np.uint8)))
    ..09ff
    10..7f
    """
    return "\n".join("".join(f"{level:02x}" if level else ".." for level in row) for row in levels)


def printable(image, side=PRINTED_SIDE):
    """The grey levels to print: the image itself if it fits in side x side, else a
    block-averaged copy whose longest side is `side`.

    image: uint8 array (height, width).
    Returns (levels, shrunk): a uint8 array (h, w), and whether it was shrunk.

    >>> printable(np.zeros((56, 56), dtype=np.uint8))[0].shape
    (28, 28)
    """
    if max(image.shape) <= side:
        return image, False
    return image_lesson.for_display(image, longest=side), True


def detector_bank(image, detectors=EDGE_DETECTORS):
    """Run each detector over the image, as one convolutional layer with several kernels.

    image: array (height, width); detectors: dict name -> (3, 3) kernel.
    Returns a dict name -> float32 feature map (height, width), in the detectors' order.

    >>> maps = detector_bank(np.eye(4))
    >>> [maps[name].shape for name in maps]
    [(4, 4), (4, 4), (4, 4), (4, 4)]
    """
    return {name: image_lesson.convolve(image, kernel) for name, kernel in detectors.items()}


def bank_figure(maps, title, detectors=EDGE_DETECTORS, limit=None):
    """One panel per detector, each map with its sign (red > 0, blue < 0) on one shared,
    symmetric colour bar of +-limit (default: the largest |value| over all the maps),
    titled with the detector's matrix.

    maps: dict name -> array (H, W); detectors: dict name -> kernel, the same names.
    Returns a matplotlib Figure.
    """
    if limit is None:
        limit = largest_value(maps)
    height, width = next(iter(maps.values())).shape
    lines = max(image_lesson.kernel_text(kernel).count("\n") + 2 for kernel in detectors.values())
    figure, axes = image_lesson.grid_figure(1, len(maps), title, height / width, panel_lines=lines, line_inches=0.155)
    for ax, (name, feature_map) in zip(axes[0], maps.items()):
        shown = image_lesson.draw_signed(ax, feature_map, limit, f"{name}\n{image_lesson.kernel_text(detectors[name])}")
        ax.title.set_fontfamily("monospace")
        ax.title.set_fontsize(9)
        ax.images[0].set_interpolation("nearest")
    low = min(float(feature_map.min()) for feature_map in maps.values())
    high = max(float(feature_map.max()) for feature_map in maps.values())
    image_lesson.add_colour_bar(shown, list(axes[0]), "map value", low, high)
    return figure


def largest_value(maps):
    """The largest |value| over a dict of arrays (1 if they are all 0), a shared colour scale.

    >>> largest_value({"a": np.array([-3.0, 2.0]), "b": np.array([1.0])})
    3.0
    """
    return max(float(np.abs(feature_map).max()) for feature_map in maps.values()) or 1.0


def max_pool2d(maps, size=2):
    """Max pooling with a size x size window and stride `size`, as Keras's MaxPooling2D
    (padding 'valid': rows and columns left over at the end are dropped).

    maps: array (H, W, C). Returns an array (H // size, W // size, C).

    >>> max_pool2d(np.arange(16).reshape(4, 4, 1))[..., 0]
    array([[ 5,  7],
           [13, 15]])
    """
    height, width, channels = maps.shape
    rows, columns = height // size, width // size
    blocks = maps[: rows * size, : columns * size].reshape(rows, size, columns, size, channels)
    return blocks.max(axis=(1, 3))


def ink_runs(image, ink=INK):
    """How long the runs of ink (grey levels above `ink`) are, along every row and every
    column: a stroke w pixels wide gives many runs of about w.

    image: array (H, W). Returns a dict length -> number of runs, by length.

    >>> ink_runs(np.array([[0, 200, 200, 0], [0, 200, 200, 0]]))
    {2: 4}
    """
    lengths = []
    for lines in (image, image.T):
        for line in np.asarray(lines) > ink:
            edges = np.flatnonzero(np.diff(np.concatenate([[0], line.astype(np.int8), [0]])))
            lengths += list(edges[1::2] - edges[::2])
    counts = np.bincount(lengths) if lengths else np.zeros(1, dtype=int)
    return {int(length): int(count) for length, count in enumerate(counts) if count}


def light_bar():
    """A light vertical stroke, three pixels wide, on black: columns 3..5 of a 7x9 picture.

    >>> light_bar()[0].astype(int).tolist()
    [0, 0, 0, 255, 255, 255, 0, 0, 0]
    """
    bar = np.zeros((7, 9))
    bar[:, 3:6] = 255
    return bar


def straight_edges(side=9, level=200):
    """One picture per detector of the bank: a straight edge in that detector's direction,
    0 on one side and `level` on the other.

    Returns a dict name -> float array (side, side), in EDGE_DETECTORS' order.

    >>> straight_edges(side=3)["diagonal /"].astype(int).tolist()
    [[0, 0, 0], [0, 0, 200], [0, 200, 200]]
    """
    rows, columns = np.indices((side, side))
    bright = {"vertical": columns >= side // 2, "horizontal": rows >= side // 2,
              "diagonal \\": columns > rows, "diagonal /": rows + columns > side - 1}
    return {name: np.where(bright[name], float(level), 0.0) for name in EDGE_DETECTORS}


def answers_own_direction(detectors=EDGE_DETECTORS):
    """Whether, away from the mirrored border, each detector answers most to a straight edge
    of its own direction and gives exactly 0 on the edge at right angles to it.

    >>> answers_own_direction()
    True
    """
    perpendicular = {"vertical": "horizontal", "horizontal": "vertical",
                     "diagonal \\": "diagonal /", "diagonal /": "diagonal \\"}
    strongest = {edge: {name: float(np.abs(feature_map[2:-2, 2:-2]).max())
                        for name, feature_map in detector_bank(picture, detectors).items()}
                 for edge, picture in straight_edges().items()}
    return all(max(answers, key=answers.get) == edge and answers[perpendicular[edge]] == 0
               for edge, answers in strongest.items())


def signed_figure(image, feature_map, title):
    """The image beside a feature map drawn with its sign: red above 0, blue below, white at 0,
    on a symmetric colour bar of +- the largest |value|.

    image: array (H, W), 0..255; feature_map: array (H, W), any sign.
    Returns a matplotlib Figure.
    """
    limit = float(np.abs(feature_map).max()) or 1.0
    figure, (left, right) = image_lesson.panels_figure(2, title, image.shape[0] / image.shape[1])
    image_lesson.draw_grey(left, image, "the digit")
    shown = image_lesson.draw_signed(right, feature_map, limit, "feature map: red > 0 (darker than\n"
                                     "its neighbours), blue < 0 (brighter)")
    image_lesson.add_colour_bar(shown, right, "Laplacian value", float(feature_map.min()), float(feature_map.max()))
    for ax in (left, right):
        ax.images[0].set_interpolation("nearest")
    return figure


def digit_figure(image):
    """The digit in grey, with a grey-level colour bar: digit_gray.png. Returns a Figure."""
    height, width = image.shape
    figure = image_lesson.grey_figure([(image, f"{height} x {width} pixels")], "The digit as a network gets it",
                                      bar_label="grey level (ink is high)", width=image_lesson.FIGURE_INCHES / 2)
    figure.axes[0].images[0].set_interpolation("nearest")
    return figure


# The README sections, in order -----------------------------------------------------------------


def convolution_applied_to_a_digit(path, figures):
    """README "## Convolution applied to a digit": the digit as grey levels, light on dark.

    path: Path of the picture. Returns the uint8 image (H, W), a light stroke on a dark ground.
    """
    image = image_lesson.load_grayscale(path)
    lessonkit.heading("Convolution applied to a digit")
    height, width = image.shape
    print(f"{path.name}: {height} rows x {width} columns, dtype {image.dtype}, values {image.min()}..{image.max()}")
    image, inverted = light_on_dark(image)
    if inverted:
        print("Dark ink on a light ground (median grey level above 127), so inverted, image = 255 - image,")
        print("to make ink the high value as in MNIST: a light stroke on a dark ground, "
              f"values {image.min()}..{image.max()}.")
    levels, shrunk = printable(image)
    if shrunk:
        print(f"Shrunk to {levels.shape[0]} x {levels.shape[1]} by averaging blocks of pixels, each as two hex digits:")
    else:
        print("Every pixel as two hex digits (MNIST digits are 28 x 28 like this one):")
    print("00 (shown ..) is 0, black; 7f is 127, mid-grey; ff is 255, white.")
    print(hex_rows(levels))
    figures.add("digit_gray", digit_figure(image))
    return image


def the_laplacian_of_the_digit(image, figures):
    """README "### The Laplacian of the digit": negative on the stroke, positive beside it.

    image: uint8 array (H, W), light on dark.
    """
    lessonkit.heading("The Laplacian of the digit")
    print("kernel (the Laplacian of 3_image.py) =")
    print(image_lesson.LAPLACIAN)
    laplacian = image_lesson.convolve(image, image_lesson.LAPLACIAN)
    print(f"feature map: {image_lesson.summary(laplacian)}")
    print("Negative where a pixel is brighter than the mean of its four neighbours, positive where")
    print("it is darker, 0 where it equals that mean (on flat ground).")
    runs = ink_runs(image)
    common = sorted(runs, key=lambda length: (-runs[length], length))[:2]
    print(f"Runs of ink (grey level above {INK}) along the rows and the columns, length: count")
    print("  " + (", ".join(f"{length}: {count}" for length, count in runs.items()) or "none"))
    if runs:
        widths = " to ".join(map(str, sorted(common)))
        line = ", not a one-pixel line" if min(common) > 1 else ""
        print(f"The commonest run lengths: the stroke is {widths} pixels wide{line}.")
    bar = light_bar()
    across = image_lesson.convolve(bar, image_lesson.LAPLACIAN)[3]
    print(f"Across a flat light stroke 3 pixels wide, {bar[3].astype(int)},")
    print(f"the Laplacian is {across.astype(int)}:")
    print("negative on the stroke's two rims, 0 in its middle, positive on the ground beside it.")
    print_stroke_regions(image, laplacian)
    figures.add(
        "digit_edges",
        signed_figure(image, laplacian,
                      "The Laplacian of the digit: negative on the stroke, positive on the ground beside it"),
    )


def stroke_regions(image, ink=INK):
    """The digit's pixels in three groups: the stroke's middle (ink whose four neighbours are
    ink too), its rims (the rest of the ink) and the ground touching the ink.

    image: array (H, W). Returns a dict name -> bool array (H, W).

    >>> regions = stroke_regions(np.array([[0, 0, 0, 0, 0]] + [[0, 200, 200, 200, 0]] * 3 + [[0, 0, 0, 0, 0]]))
    >>> [int(region.sum()) for region in regions.values()]
    [1, 8, 12]
    """
    inked = np.asarray(image) > ink
    middle = ndimage.binary_erosion(inked, border_value=1) & inked
    beside = ndimage.binary_dilation(inked) & ~inked
    return {"middle": middle, "rims": inked & ~middle, "beside": beside}


def print_stroke_regions(image, laplacian, ink=INK):
    """Print the Laplacian's sign on the drawn stroke's middle and rims and on the ground
    beside it: a real stroke is brightest along its middle, not flat like the bar.

    image: array (H, W); laplacian: its Laplacian, float array (H, W).
    """
    regions = stroke_regions(image, ink)
    if not (regions["middle"] | regions["rims"]).any():
        print(f"The picture has no ink (no grey level above {ink}).")
        return
    grey = {name: np.mean(np.asarray(image)[region]) if region.any() else 0.0 for name, region in regions.items()}
    if grey["middle"] > grey["rims"]:
        print("The drawn stroke is not flat: it is brightest along its middle. On the digit:")
    else:
        print("On the digit:")
    print("  region                                    pixels  mean grey level  Laplacian")
    for name, where, sign in (("middle", "the stroke's middle (4 neighbours ink)", "negative"),
                              ("rims", "the stroke's rims (the rest of the ink)", "negative"),
                              ("beside", "the ground touching the ink", "positive")):
        region = regions[name]
        values = laplacian[region]
        share = image_lesson.share(values < 0 if sign == "negative" else values > 0) if region.any() else "-"
        level = f"{grey[name]:.0f}" if region.any() else "-"
        print(f"  {where:<40} {region.sum():>6}  {level:>15}  {sign} on {share}")


def a_bank_of_edge_detectors(image, figures):
    """README "### A bank of edge detectors": four kernels, four feature maps, and which
    sign each map takes on which side of a stroke.

    image: uint8 array (H, W). Returns the maps: dict name -> float32 array (H, W).
    """
    lessonkit.heading("A bank of edge detectors")
    maps = detector_bank(image)
    for name, feature_map in maps.items():
        print()
        print(f"{name} edges, kernel =")
        print(EDGE_DETECTORS[name])
        if not feature_map.any():
            print(f"  feature map: {image_lesson.summary(feature_map)}; 0 everywhere: no such edge")
        else:
            row, column = image_lesson.strongest(feature_map)
            print(f"  feature map: {image_lesson.summary(feature_map)}; strongest at row {row}, column {column}")
    print()
    print("On a straight edge of each direction (away from the border), each detector answers most")
    print(f"to its own direction and gives 0 on the edge at right angles to it: {answers_own_direction()}.")
    bar = light_bar()
    across = detector_bank(bar)["vertical"][3]
    print(f"Signs. Across a light vertical stroke, {bar[3].astype(int)},")
    print(f"the vertical map is {across.astype(int)}:")
    print("negative on the stroke's left side, positive on its right side.")
    print("The kernels are written for correlation; the convolution flips them, so 'vertical'")
    print("computes left minus right. The horizontal map is likewise negative on a stroke's top")
    print(f"side and positive on its bottom side: {np.array_equal(detector_bank(bar.T)['horizontal'][:, 3], across)}.")
    figures.add("digit_bank", bank_figure(
        maps, "A bank of edge detectors, one shared scale: each answers to one direction; red > 0, blue < 0\n"
        "Each kernel is titled as written; the convolution turns it by 180° as it slides"))
    return maps


def what_the_next_layer_sees(maps, figures, bias=BIAS):
    """README "### What the next layer sees": a = ReLU(map + b) for each channel, then 2x2
    max pooling, stacked channels-last.

    maps: dict name -> float array (H, W), the bank's feature maps; bias: b of every channel.
    """
    lessonkit.heading("What the next layer sees")
    stacked = np.stack(list(maps.values()), axis=-1)  # (H, W, C): channels-last
    activations = image_lesson.relu(stacked + bias)
    print(f"A layer's output is a = ReLU(map + b) for each channel, here with b = {bias} for all four.")
    for name, channel in zip(maps, np.moveaxis(activations, -1, 0)):
        print(f"  {name:<12} non-zero pixels: {np.count_nonzero(maps[name]):>4} in the map, "
              f"{np.count_nonzero(channel):>4} after ReLU(map + b)")
    across = image_lesson.relu(detector_bank(light_bar())["vertical"][3] + bias)
    print("ReLU keeps one sign only. Across the light stroke of the bank's section:")
    print(f"ReLU(vertical map + b) = {across.astype(int)}: its right side only.")
    pooled = max_pool2d(activations)
    print(f"Stacked on a last axis (channels-last, NHWC as in 2_TensorFlow.py): shape {activations.shape}.")
    print(f"2x2 max pooling keeps the largest value of each 2x2 block: shape {pooled.shape}.")
    rows, columns = 2 * pooled.shape[0], 2 * pooled.shape[1]
    by_scipy = ndimage.maximum_filter(activations, size=(2, 2, 1), origin=(-1, -1, 0))[:rows:2, :columns:2]
    print(f"ours == scipy.ndimage.maximum_filter at every second pixel: {np.array_equal(pooled, by_scipy)}")
    print(f"A batch of one image is {(1, *pooled.shape)}: the input a second Conv2D layer reads,")
    print("not the raw signed maps. A CNN learns the kernels and biases of both layers from data.")
    relu_maps = {name: activations[..., index] for index, name in enumerate(maps)}
    figures.add("digit_relu", bank_figure(
        relu_maps, f"ReLU(map + b), b = {bias}, on the bank's scale: the blue side of each stroke is gone",
        limit=largest_value(maps)))


@lessonkit.lesson_main
def main(argv=None):
    """The lesson's table of contents: its README sections, in order."""
    args = lessonkit.parse_args(__doc__, argv, image=lessonkit.data_path("num3.jpg"))
    figures = lessonkit.Figures(args)
    image = convolution_applied_to_a_digit(args.image, figures)
    the_laplacian_of_the_digit(image, figures)
    maps = a_bank_of_edge_detectors(image, figures)
    what_the_next_layer_sees(maps, figures)
    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
