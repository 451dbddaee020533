"""Convolution applied to an image.

A photograph is a grid of grey levels. Sliding a small kernel over it turns that grid into a
feature map: here the edge-detecting kernel, the same map with a bias added, the kernels that
subtract neighbouring pixels, and a gallery of classic kernels (blur, sharpen, edges, emboss).
Any photo works with --image, a large phone picture included.
"""

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage, signal

import lessonkit

EDGE_KERNEL = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]])
HORIZONTAL_PAIR = np.array([[-1, 1]])  # two pixels side by side
VERTICAL_PAIR = HORIZONTAL_PAIR.T  # two pixels one above the other
SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
SOBEL_Y = SOBEL_X.T

GALLERY = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "box blur": np.ones((3, 3)) / 9,
    "Gaussian blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
    "edge enhance": np.array([[0, 0, 0], [-1, 1, 0], [0, 0, 0]]),
    "edge detect": EDGE_KERNEL,
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
    "Sobel x": SOBEL_X,
    "Sobel y": SOBEL_Y,
}

PHOTO = lessonkit.data_path("bird.jpg")  # the photograph the lesson uses unless given another
BIAS = 100
DRAWN_PIXELS = 500  # longest side of a picture as drawn; the computing is at full size
GALLERY_PIXELS = 340  # the same for each small picture of the gallery
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")


def load_grayscale(path):
    """Read a picture file as 8-bit grey levels (ITU-R 601-2 luma, Pillow's mode 'L').

    The camera's EXIF orientation is applied (a damaged EXIF block is ignored); an animation
    gives its first frame; transparent parts are laid on white; 16-bit samples (0..65535) are
    scaled to 0..255, not clipped; float samples are read on the 0..255 scale, rounded and
    clipped. A 1x1 picture is fine.

    path: str or Path of an image file.
    Returns a uint8 array of shape (height, width), values 0..255.
    Raises lessonkit.LessonError, with a one-line message naming the path, if the file is
    missing, a folder, empty, unreadable, not an image, damaged or truncated, or has more
    pixels than Pillow's decompression-bomb limit (Image.MAX_IMAGE_PIXELS).

    >>> load_grayscale(lessonkit.data_path("num3.jpg")).shape
    (28, 28)
    """
    path = Path(path)
    return luma(read_picture(path), path)


def read_picture(path):
    """Open and decode a picture file with Pillow, turned upright as its EXIF orientation says.

    Pillow's warnings about a damaged EXIF block are silenced and such a block counts as no
    orientation: the picture is used as stored. Any failure of Pillow's decoders becomes a
    one-line lessonkit.LessonError naming the path (see load_grayscale).

    path: Path of an image file.
    Returns a decoded PIL image, in the mode the file stores (e.g. 'RGB', 'L', 'P'), its file closed.

    >>> read_picture(lessonkit.data_path("bird.jpg")).mode
    'RGB'
    """
    if not path.exists():
        raise lessonkit.LessonError(f"{path}: no such file")
    if path.is_dir():
        raise lessonkit.LessonError(f"{path} is a folder, not an image")
    if path.stat().st_size == 0:
        raise lessonkit.LessonError(f"{path} is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            with Image.open(path) as picture:
                picture.load()
                try:
                    return ImageOps.exif_transpose(picture)
                except Exception:  # an EXIF block too damaged to read: no orientation
                    return picture.copy()
    except PermissionError:
        raise lessonkit.LessonError(f"cannot read {path}: permission denied") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise lessonkit.LessonError(
            f"{path} is too large: more than {Image.MAX_IMAGE_PIXELS:,} pixels, Pillow's limit "
            "against decompression bombs; shrink it first, e.g. to 4000 pixels on its long side"
        ) from None
    except UnidentifiedImageError:
        raise lessonkit.LessonError(
            f"{path} is not an image Pillow can read (a phone's HEIC photo is not); convert it to JPEG or PNG"
        ) from None
    except MemoryError:
        raise lessonkit.LessonError(
            f"not enough memory to decode {path}; shrink it first, e.g. to 4000 pixels on its long side"
        ) from None
    except Exception as error:  # Pillow's decoders fail on damaged files in many ways
        reason = " ".join(str(error).split()) or type(error).__name__
        raise lessonkit.LessonError(f"{path} is damaged or truncated ({reason})") from None


def luma(picture, path):
    """The grey levels of a decoded PIL image of any mode, as load_grayscale describes.

    picture: PIL image; path: the file it came from, named if its mode cannot be converted.
    Returns a uint8 array of shape (height, width).

    >>> luma(Image.new("RGB", (2, 1), (255, 0, 0)), "red.png")
    array([[76, 76]], dtype=uint8)
    """
    if picture.mode in SIXTEEN_BIT_MODES:
        samples = np.asarray(picture, dtype=np.float64)
        return np.round(np.clip(samples, 0, 65535) / 257).astype(np.uint8)
    if picture.mode == "F":
        return np.round(np.clip(np.asarray(picture), 0, 255)).astype(np.uint8)
    if has_alpha(picture):
        white = Image.new("RGBA", picture.size, (255, 255, 255, 255))
        picture = Image.alpha_composite(white, picture.convert("RGBA"))
    elif picture.mode not in ("1", "L", "P", "RGB"):
        try:
            picture = picture.convert("RGB")
        except ValueError:
            raise lessonkit.LessonError(f"{path} uses colour mode {picture.mode}, which is not supported") from None
    return np.array(picture.convert("L"), dtype=np.uint8)


def has_alpha(picture):
    """Whether a PIL image has transparent parts: an alpha channel or a transparent colour."""
    return picture.mode in ALPHA_MODES or "transparency" in picture.info


def how_made_grey(picture):
    """How luma turns a decoded PIL image into grey levels, in words (one or two lines).

    >>> print(how_made_grey(Image.new("L", (1, 1))))
    already 8-bit grey levels, used as they are
    """
    if picture.mode in SIXTEEN_BIT_MODES:
        return "16-bit samples: clipped to 0..65535, divided by 257 and rounded to 0..255"
    if picture.mode == "F":
        return "floating-point samples: rounded and clipped to 0..255"
    if has_alpha(picture):
        steps = "transparent parts laid on white, then converted"
    elif picture.mode == "L":
        return "already 8-bit grey levels, used as they are"
    elif picture.mode == "1":
        return "1 bit per pixel: black is 0, white is 255"
    elif picture.mode in ("P", "RGB"):
        steps = "converted"
    else:
        steps = "converted to RGB, then"
    return f"{steps} with Pillow's 'L':\nL = 0.299 R + 0.587 G + 0.114 B (ITU-R 601-2 luma), rounded to a whole level"


def convolve(image, kernel):
    """Convolve an image with a kernel, keeping its size: scipy.signal.convolve2d with
    mode='same' and boundary='symm' (the border is mirrored, edge pixel included).

    image: array of shape (height, width), any number type; computed in float32.
    kernel: array of shape (kh, kw).
    Returns a float32 feature map of shape (height, width).

    >>> convolve(np.array([[255, 7, 3]]), HORIZONTAL_PAIR)
    array([[  0., 248.,   4.]], dtype=float32)
    """
    return signal.convolve2d(
        np.asarray(image, dtype=np.float32), np.asarray(kernel, dtype=np.float32), mode="same", boundary="symm"
    )


def convolve_fast(image, kernel):
    """The same as `convolve` for a kernel of odd height and width, by scipy.ndimage, which
    is several times faster on a large photo. Its mode 'reflect' (d c b a | a b c d) is
    signal's 'symm'; its 'mirror' (d c b | a b c d) would not be.

    image: array of shape (height, width), any number type; kernel: array of shape (kh, kw),
    kh and kw odd. The sums are done in float64, and stored as float32.
    Returns a float32 feature map of shape (height, width).

    >>> convolve_fast(np.array([[1, 2, 3]]), [[1, 0, -1]])
    array([[1., 2., 1.]], dtype=float32)
    """
    return ndimage.convolve(np.asarray(image), np.asarray(kernel, dtype=np.float64), output=np.float32, mode="reflect")


def mirror_index(index, size):
    """Where pixel `index` of a row of `size` pixels comes from once the row is extended by
    mirroring, edge pixel included (c b a | a b c | c b a), as boundary='symm' does.

    >>> [mirror_index(i, 3) for i in range(-2, 5)]
    [1, 0, 0, 1, 2, 2, 1]
    """
    if index < 0:
        return -index - 1
    if index >= size:
        return 2 * size - index - 1
    return index


def response_at(image, kernel, row, column):
    """One value of the 'same'/'symm' feature map, computed by hand: the kernel flipped in
    both directions, laid over the patch centred on (row, column), multiplied and summed.

    image: array (height, width); kernel: array (k, k), k odd, k <= 2 * min(height, width) + 1.
    Returns (patch, value): the (k, k) patch of the mirrored image and the float sum.

    >>> response_at(np.array([[0, 0, 9]]), EDGE_KERNEL, 0, 1)[1]
    9.0
    """
    height, width = image.shape
    half = len(kernel) // 2
    rows = [mirror_index(r, height) for r in range(row - half, row + half + 1)]
    columns = [mirror_index(c, width) for c in range(column - half, column + half + 1)]
    patch = np.asarray(image)[np.ix_(rows, columns)].astype(np.float64)
    return patch, float(np.sum(patch * np.flip(kernel)))


def add_bias(feature_map, bias=BIAS):
    """Add a bias to every value of a feature map and keep the result in 0..255.

    feature_map: float array of any shape. Returns a float array of the same shape.

    >>> add_bias(np.array([0.0, 20.0, 200.0]))
    array([100., 120., 255.])
    """
    shifted = feature_map + bias
    return np.clip(shifted, 0, 255, out=shifted)


def as_picture(feature_map, kernel, out=None):
    """What a feature map looks like as an 8-bit picture. A kernel whose weights sum to 1
    keeps the brightness of flat regions, so its map is a picture already; one whose weights
    sum to 0 sends flat regions to 0 and its map is signed, so we look at |map|. Either way
    the values are clipped to 0..255.

    feature_map: float array (height, width); kernel: array (kh, kw).
    out: as in numpy, an array to write the result into; it may be feature_map itself,
    which saves memory on a large photo.
    Returns a float array (height, width), values 0..255.

    >>> as_picture(np.array([-300.0, 5.0]), EDGE_KERNEL)
    array([255.,   5.])
    """
    if np.isclose(np.sum(kernel), 0):
        feature_map = np.abs(feature_map, out=out)
    return np.clip(feature_map, 0, 255, out=out)


def kernel_text(kernel):
    """A kernel written as a matrix of whole numbers, with its common fraction in front.

    kernel: array (kh, kw) whose values are whole numbers divided by one integer up to 64.
    Returns a string of kh lines.

    >>> print(kernel_text(np.ones((2, 2)) / 4))
    1/4 x [[1 1]
           [1 1]]
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    for divisor in range(1, 65):
        whole = np.round(kernel * divisor)
        if np.allclose(whole, kernel * divisor):
            matrix = str(whole.astype(int))
            if divisor == 1:
                return matrix
            prefix = f"1/{divisor} x "
            return prefix + matrix.replace("\n", "\n" + " " * len(prefix))
    return str(kernel)


def summary(values):
    """Shape and range of an array, as one line.

    >>> summary(np.array([[-4.0, 2.5]]))
    'shape (1, 2), min -4, max 2.5'
    """
    return f"shape {values.shape}, min {values.min():.4g}, max {values.max():.4g}"


def for_display(picture, longest=DRAWN_PIXELS):
    """Shrink a picture for drawing, by averaging blocks of pixels, so that its longest side
    is at most `longest` pixels. Drawing needs no more, and the screen shows whole grey levels.

    picture: array (height, width) of grey levels 0..255.
    Returns a uint8 array (h, w), h and w at most `longest`, fractions of a level dropped.

    >>> small = for_display(np.full((10, 40), 7.5), longest=20)
    >>> small.shape, small.dtype, int(small.max())
    ((5, 20), dtype('uint8'), 7)
    """
    levels = np.asarray(picture).astype(np.uint8)
    height, width = levels.shape
    scale = longest / max(height, width)
    if scale >= 1:
        return levels
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(levels).resize(size, Image.Resampling.BOX))


def draw_grey(axes, values, title, longest=DRAWN_PIXELS):
    """Draw an array of grey levels (0 black .. 255 white) on matplotlib axes, titled."""
    axes.imshow(for_display(values, longest), cmap="gray", vmin=0, vmax=255)
    axes.set_title(title)
    axes.set_axis_off()


def grey_figure(panels, title=None, panel_inches=4.5):
    """A figure with one row of grey pictures.

    panels: list of (values, title) pairs, values of shape (height, width), 0..255.
    Returns a matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    height, width = panels[0][0].shape
    aspect = min(max(height / width, 0.4), 2.5)
    figure, axes = plt.subplots(
        1, len(panels), figsize=(panel_inches * len(panels), panel_inches * aspect + 0.7), layout="constrained"
    )
    for ax, (values, panel_title) in zip(np.atleast_1d(axes), panels):
        draw_grey(ax, values, panel_title)
    if title:
        figure.suptitle(title)
    return figure


def gallery_figure(panels, title, columns=3):
    """A grid of small grey pictures, one per kernel, each titled with its matrix.

    panels: list of (values, title) pairs, values of shape (height, width), 0..255.
    title: the figure's title. Returns a matplotlib Figure.
    """
    import matplotlib.pyplot as plt

    rows = -(-len(panels) // columns)
    height, width = panels[0][0].shape
    picture_inches = 3.4 * min(max(height / width, 0.4), 2.5)  # each picture is 3.4 inches wide
    title_inches, top_inches, margin_inches = 0.95, 0.45, 0.1  # room for 4-line titles and the figure's
    figure_height = rows * (picture_inches + title_inches) + top_inches + margin_inches
    figure, axes = plt.subplots(
        rows,
        columns,
        squeeze=False,
        figsize=(3.5 * columns, figure_height),
        gridspec_kw={
            "left": 0.01,
            "right": 0.99,
            "bottom": margin_inches / figure_height,
            "top": 1 - (top_inches + title_inches) / figure_height,
            "hspace": title_inches / picture_inches,
            "wspace": 0.05,
        },
    )
    for ax, (values, panel_title) in zip(axes.flat, panels):
        draw_grey(ax, values, panel_title, longest=GALLERY_PIXELS)
        ax.title.set_fontfamily("monospace")
        ax.title.set_multialignment("left")
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    figure.suptitle(title)
    return figure


def share(mask):
    """The share of True values in a boolean array, as a percentage string.

    >>> share(np.array([True, False, False, False]))
    '25.00%'
    """
    return f"{100 * np.mean(mask):.2f}%"


@lessonkit.lesson_main
def main(argv=None):
    args = lessonkit.parse_args(__doc__, argv, image=PHOTO)
    picture = read_picture(args.image)
    image = luma(picture, args.image)
    figures = lessonkit.Figures(args)
    height, width = image.shape

    lessonkit.heading("The photo in grey")
    print(f"{args.image.name}: {height} rows x {width} columns, dtype {image.dtype}, values {image.min()}..{image.max()}")
    print(f"The file stores {picture.mode!r} pixels (Pillow's mode); {how_made_grey(picture)}.")
    del picture
    print("Each pixel is one byte: 0 is black, 255 is white.")
    print(f"Networks are usually fed floats in [0, 1]: image / 255 has values "
          f"{image.min() / 255:.3f}..{image.max() / 255:.3f}.")
    print("Below we compute in float on the 0..255 scale: sums of products can be negative")
    print("or above 255, which uint8 cannot hold.")
    pixels = image.astype(np.float32)
    figures.add(
        "image_gray",
        grey_figure([(image, f"{height} x {width} pixels, uint8, 0 (black) .. 255 (white)")], "The photo in grey"),
    )

    lessonkit.heading("Edge detection")
    print("kernel =")
    print(EDGE_KERNEL)
    print("Its weights sum to 0: on a flat patch the products cancel and the output is 0.")
    edges = convolve(pixels, EDGE_KERNEL)
    print("feature map = scipy.signal.convolve2d(image, kernel, mode='same', boundary='symm')")
    print(f"feature map: {summary(edges)} (the image's size, thanks to mode='same')")
    magnitude = np.abs(edges)
    if magnitude.max() == 0:
        print("No edges: the feature map is 0 everywhere (the picture is flat).")
    else:
        row, column = np.unravel_index(np.argmax(magnitude), magnitude.shape)
        patch, value = response_at(image, EDGE_KERNEL, row, column)
        print(f"By hand at the strongest edge, row {row}, column {column}: the 3x3 patch there is")
        print(patch.astype(int))
        print(f"sum of patch * flipped kernel = {value:g} (this kernel is symmetric: flipping changes nothing)")
        print(f"scipy's feature map there = {edges[row, column]:g}; ours == scipy: {value == edges[row, column]}")
    print(f"|feature map|: min {magnitude.min():g}, max {magnitude.max():g}. Drawn as grey levels,")
    print("values above 255 show as white: black is flat, white is a strong edge.")
    drawn_magnitude = np.clip(magnitude, 0, 255)
    figures.add(
        "image_edges",
        grey_figure([(drawn_magnitude, "|feature map| of [[0 1 0] [1 -4 1] [0 1 0]]")],
                    "The edge kernel leaves only the outlines"),
    )

    lessonkit.heading("A bias")
    biased = add_bias(magnitude)
    print(f"bias = {BIAS}: every value of |feature map| goes up by {BIAS}, then anything above 255 is clipped to 255.")
    print(f"|feature map|:                   min {magnitude.min():g}, max {magnitude.max():g}, "
          f"pixels at 255 or more: {share(magnitude >= 255)}")
    print(f"clip(|feature map| + {BIAS}, 0, 255): min {biased.min():g}, max {biased.max():g}, "
          f"pixels at 255: {share(biased >= 255)}")
    print(f"The bias shifts the whole map: flat regions are now grey ({BIAS}) instead of black (0).")
    print(f"Differences stay the same (an edge of 20 beside a flat 0 becomes {20 + BIAS} beside {BIAS}),")
    print("but against the brighter ground they are a smaller share of the brightness, so weak")
    print(f"edges look fainter. Every |feature map| value of {255 - BIAS} or more ends at 255: strong edges")
    print("all turn the same white, and the differences between them are lost.")
    print("A network learns its kernels' weights and a bias for each from data, instead of a")
    print("person choosing them.")
    figures.add(
        "image_bias",
        grey_figure(
            [(drawn_magnitude, "|feature map|"), (biased, f"clip(|feature map| + {BIAS}, 0, 255)")],
            f"A bias of +{BIAS}: flat regions turn grey, edges of {255 - BIAS} or more clip to white",
        ),
    )
    del edges, magnitude, drawn_magnitude, biased

    lessonkit.heading("Subtracting neighbours")
    if args.image.resolve() == PHOTO.resolve():
        flat_regions = "flat regions: mostly the plain sky laid behind the crane, plus smooth feathers"
    else:
        flat_regions = "flat regions"
    pair_panels = []
    for kernel, pair, edge in (
        (HORIZONTAL_PAIR, "horizontal neighbours", "vertical edges"),
        (VERTICAL_PAIR, "vertical neighbours", "horizontal edges"),
    ):
        difference = convolve(pixels, kernel)
        np.abs(difference, out=difference)
        print(f"kernel ({pair}) =")
        print(kernel)
        print(f"  |feature map|: min {difference.min():g}, max {difference.max():g}; "
              f"{share(difference < 5)} of pixels differ from their neighbour by less than 5")
        print(f"  ({flat_regions});")
        print(f"  the largest values lie across {edge}.")
        np.clip(difference, 0, 255, out=difference)
        pair_panels.append((for_display(difference), f"{kernel.tolist()}: {pair}\nfind {edge}"))
        del difference
    print("Convolution flips the kernel, so each output is the pixel before minus the pixel itself.")
    figures.add(
        "image_neighbours",
        grey_figure(pair_panels, "Subtracting neighbours: zero on flat regions, large across an edge"),
    )

    lessonkit.heading("A gallery of classic kernels")
    corner = image[:200, :200]
    agree = np.array_equal(convolve(corner, EDGE_KERNEL), convolve_fast(corner, EDGE_KERNEL))
    print(f"scipy.ndimage.convolve(mode='reflect') == signal.convolve2d(boundary='symm') "
          f"on the top-left {corner.shape[0]}x{corner.shape[1]} corner: {agree}")
    print("ndimage is several times faster on a big photo, so the gallery uses it.")
    print("Kernels whose weights sum to 1 keep the brightness of flat regions: their map is a picture.")
    print("Kernels whose weights sum to 0 give 0 on flat regions: we show |map|. Both clipped to 0..255.")
    gallery = []
    for name, kernel in GALLERY.items():
        feature_map = convolve_fast(pixels, kernel)
        print()
        print(f"{name} (weights sum to {np.sum(kernel):g}), feature map min {feature_map.min():.4g}, "
              f"max {feature_map.max():.4g}:")
        print(kernel_text(kernel))
        picture = for_display(as_picture(feature_map, kernel, out=feature_map), longest=GALLERY_PIXELS)
        gallery.append((picture, f"{name}\n{kernel_text(kernel)}"))
        del feature_map
    figures.add("image_gallery", gallery_figure(gallery, "Classic kernels: blurs erase the detail, edge kernels keep it"))
    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
