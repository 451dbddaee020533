"""Convolution applied to a digit.

A handwritten 3 in the style of MNIST: 28x28 grey levels, a light stroke on a black ground,
the input of a digit-reading network (a digit in dark ink on light paper is inverted to match).
The lesson prints its pixels, outlines it with the edge kernel, then runs a bank of four edge
detectors (vertical, horizontal and the two diagonals): the kind of feature maps a CNN's first
layer computes, stacked channels-last as TensorFlow reads them. It reuses 3_image.py's pieces.
"""

import importlib

import numpy as np

import lessonkit

image_lesson = importlib.import_module("3_image")

PRINTED_SIDE = 28  # pictures up to 28x28 are printed whole, larger ones shrunk to this

EDGE_DETECTORS = {
    "vertical": image_lesson.SOBEL_X,
    "horizontal": image_lesson.SOBEL_Y,
    "diagonal \\": np.array([[0, 1, 2], [-1, 0, 1], [-2, -1, 0]]),
    "diagonal /": np.array([[-2, -1, 0], [-1, 0, 1], [0, 1, 2]]),
}


def light_on_dark(image):
    """The image as MNIST draws digits, a light stroke on a dark ground: a picture whose median
    grey level is above 127 (mostly light, so dark ink on light paper) is inverted, 255 - image.

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


def bank_figure(maps, detectors=EDGE_DETECTORS):
    """One panel per detector, |feature map| on one shared grey scale (white = the largest
    |value| over all the maps), titled with the detector's matrix.

    maps: dict name -> array (height, width). Returns a matplotlib Figure.
    """
    largest = max(float(np.abs(feature_map).max()) for feature_map in maps.values()) or 1.0
    panels = []
    for name, feature_map in maps.items():
        picture = image_lesson.for_display(np.abs(feature_map) * (255 / largest), image_lesson.GALLERY_PIXELS)
        panels.append((picture, f"{name} edges\n{image_lesson.kernel_text(detectors[name])}"))
    title = f"A bank of edge detectors: each lights up one direction (white = |value| {largest:g})"
    return image_lesson.gallery_figure(panels, title, columns=len(panels))


def signed_figure(image, feature_map, title):
    """The image beside a feature map drawn with its sign: red above 0, blue below, white at 0.

    image: array (height, width), 0..255; feature_map: array (height, width), any sign.
    Returns a matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    limit = float(np.abs(feature_map).max()) or 1.0
    spread = 127.5 + feature_map * (127.5 / limit)  # -limit..limit onto 0..255, 0 in the middle
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 5.2), layout="constrained")
    image_lesson.draw_grey(left, image, "the digit")
    shown = right.imshow(image_lesson.for_display(spread), cmap="RdBu_r", vmin=0, vmax=255)
    right.set_title("feature map: red > 0 (darker than its neighbours),\nblue < 0 (brighter), white = 0")
    right.set_axis_off()
    scale = figure.colorbar(shown, ax=right, shrink=0.8, ticks=[0, 127.5, 255])
    scale.ax.set_yticklabels([f"{-limit:g}", "0", f"{limit:g}"])
    figure.suptitle(title)
    return figure


@lessonkit.lesson_main
def main(argv=None):
    args = lessonkit.parse_args(__doc__, argv, image=lessonkit.data_path("num3.jpg"))
    image = image_lesson.load_grayscale(args.image)
    figures = lessonkit.Figures(args)
    height, width = image.shape

    lessonkit.heading("The digit in grey")
    print(f"{args.image.name}: {height} rows x {width} columns, dtype {image.dtype}, values {image.min()}..{image.max()}")
    image, inverted = light_on_dark(image)
    if inverted:
        print("Dark ink on a light ground (median grey level above 127), so inverted as MNIST")
        print(f"has it, image = 255 - image: a light stroke on a dark ground, values {image.min()}..{image.max()}.")
    levels, shrunk = printable(image)
    if shrunk:
        print(f"Shrunk to {levels.shape[0]} x {levels.shape[1]} by averaging blocks of pixels, each as two hex digits:")
    else:
        print("Every pixel as two hex digits (MNIST digits are 28 x 28 like this one):")
    print("00 (shown ..) is 0, black; 7f is 127, mid-grey; ff is 255, white.")
    print(hex_rows(levels))
    figures.add(
        "digit_gray",
        image_lesson.grey_figure([(image, f"{height} x {width} pixels, 0 (black) .. 255 (white)")],
                                 "The digit as a network gets it"),
    )

    lessonkit.heading("Edge kernel")
    print("kernel =")
    print(image_lesson.EDGE_KERNEL)
    edges = image_lesson.convolve(image, image_lesson.EDGE_KERNEL)
    print(f"feature map: {image_lesson.summary(edges)}")
    print("Negative where a pixel is brighter than the mean of its four neighbours (on the stroke),")
    print("positive where it is darker (the ground just beside the stroke), 0 where it equals")
    print("that mean (the flat ground).")
    print(f"{image_lesson.share(edges == 0)} of the pixels give exactly 0.")
    figures.add(
        "digit_edges",
        signed_figure(image, edges, "The edge kernel: negative on the stroke, positive around it"),
    )

    lessonkit.heading("A bank of edge detectors")
    maps = detector_bank(image)
    for name, feature_map in maps.items():
        print()
        print(f"{name} edges, kernel =")
        print(EDGE_DETECTORS[name])
        magnitude = np.abs(feature_map)
        if magnitude.max() == 0:
            print(f"  feature map: {image_lesson.summary(feature_map)}; 0 everywhere: no such edge")
        else:
            row, column = np.unravel_index(np.argmax(magnitude), magnitude.shape)
            print(f"  feature map: {image_lesson.summary(feature_map)}; strongest at row {row}, column {column}")
    channels_last = (height, width, len(maps))  # the shape of np.stack(list(maps.values()), axis=-1)
    print()
    print("Stacked on a last axis (channels-last, NHWC as in 2_TensorFlow.py), the four")
    print(f"maps make an array of shape {channels_last}: four channels, one per detector. A batch")
    print(f"of one image is {(1, *channels_last)}, the input a next Conv2D layer reads. A CNN's first")
    print("layer computes maps like these, with kernels it learns from data.")
    figures.add("digit_bank", bank_figure(maps))
    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
