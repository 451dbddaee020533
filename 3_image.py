"""Convolution applied to an image.

A photograph is a grid of grey levels, and sliding a small kernel over it turns that grid into
a feature map. The lesson reads a cut-out photograph of a crane on a flat background and
applies the Laplacian (it answers most to a spot, half as much to a one-pixel line), then a
bias and ReLU as a neuron does, kernels that subtract neighbouring pixels, Sobel and emboss
(whose sign a true convolution flips), and a gallery of classic kernels. Any photo works with
--image, a large phone picture included.

With --kernel, the lesson applies your own kernel instead, to the photo or to --image: it
prints the kernel and its feature map, writes one figure, image_kernel.png, and skips the rest.
In a notebook, kernel_playground draws any kernel's map, and interactive_playground() gives
it a text box and menus.
"""

import re
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError
from scipy import ndimage, signal

import lessonkit

LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]])  # GIMP's "edge detect"
HORIZONTAL_PAIR = np.array([[-1, 1]])  # two pixels side by side
VERTICAL_PAIR = HORIZONTAL_PAIR.T  # two pixels one above the other
SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])  # written for correlation, as OpenCV has it
SOBEL_Y = SOBEL_X.T
EMBOSS = np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])  # written for correlation too

GALLERY = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "box blur": np.ones((3, 3)) / 9,
    "Gaussian blur": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
    "emboss": EMBOSS,
    "edge enhance (GIMP)": np.array([[0, 0, 0], [-1, 1, 0], [0, 0, 0]]),
    "Laplacian (edge detect)": LAPLACIAN,
    "Sobel x": SOBEL_X,
    "Sobel y": SOBEL_Y,
}

PHOTO = lessonkit.data_path("bird.jpg")  # the photograph the lesson uses unless given another
BIRD_MASK = lessonkit.data_path("bird_mask.png")  # white where bird.jpg shows the bird
BIAS = -50  # the neuron's bias in "A bias, then ReLU"
SIGNED_SCALE = 100  # the Laplacian's signed maps are drawn at full colour from +-100 on
NEIGHBOUR_SCALE = 40  # the neighbour differences likewise from +-40 on
GALLERY_LIMIT = 100  # and the gallery's maps of kernels summing to 0 from +-100 on
FIGURE_INCHES = lessonkit.README_WIDTH / 100  # 8.8: a figure at 100 dpi is as wide as the README column
MARGIN, GAP = 0.05, 0.1  # inches: round a figure, and between its panels
BAR_GAP, BAR_WIDTH, BAR_LABEL = 0.15, 0.15, 0.75  # inches: a colour bar, and room for its ticks and label
ZOOM = 48  # side of the crop that the Laplacian's figure enlarges
SMALL_DIFFERENCE = 5  # grey levels: neighbours closer than this count as alike
DRAWN_PIXELS = 500  # longest side of a picture as drawn; the computing is at full size
GALLERY_PIXELS = 340  # the same for each small picture of the gallery
GALLERY_TITLE = (
    "Classic kernels, titled as written; the convolution turns each by 180° as it slides,\n"
    "so Sobel's sign flips and emboss's light comes from the other side (lower right, not upper left).\n"
    "Blurs erase the detail; edge kernels keep it, red > 0, blue < 0"
)
DISPLAYS = {"signed": "signed map", "abs": "|map|", "relu": "ReLU(map)"}  # kernel_playground's choices
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
KERNEL_HELP = (
    'your own kernel, e.g. "0 -1 0; -1 5 -1; 0 -1 0": rows separated by ";", numbers by spaces '
    "or commas, fractions such as 1/9 allowed. It is applied to the photo (or --image) instead of "
    "the lesson, and only image_kernel.png is written. A kernel that starts with a minus sign "
    'and has no space needs the form --kernel="-1,1".'
)


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

    image: array of shape (H, W), any number type; computed in float32.
    kernel: array of shape (k_h, k_w).
    Returns a float32 feature map of shape (H, W).

    >>> convolve(np.array([[255, 7, 3]]), HORIZONTAL_PAIR)
    array([[  0., 248.,   4.]], dtype=float32)
    """
    return signal.convolve2d(
        np.asarray(image, dtype=np.float32), np.asarray(kernel, dtype=np.float32), mode="same", boundary="symm"
    )


def convolve_fast(image, kernel):
    """The same as `convolve`, by scipy.ndimage, which is several times faster on a large
    photo. Its mode 'reflect' (d c b a | a b c d) is signal's 'symm' and np.pad's
    'symmetric'. An even kernel has no middle pixel, and ndimage centres it one row or column
    away from where signal does; origin=-1 along each even axis lines the two up.

    image: array of shape (H, W), any number type; kernel: array of shape (k_h, k_w).
    The sums are done in float64, and stored as float32.
    Returns a float32 feature map of shape (H, W).

    >>> convolve_fast(np.array([[1, 2, 3]]), [[1, 0, -1]])
    array([[1., 2., 1.]], dtype=float32)
    >>> convolve_fast(np.array([[255, 7, 3]]), HORIZONTAL_PAIR)
    array([[  0., 248.,   4.]], dtype=float32)
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    origin = [-1 if size % 2 == 0 else 0 for size in kernel.shape]
    return ndimage.convolve(np.asarray(image), kernel, output=np.float32, mode="reflect", origin=origin)


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
    both directions, laid over the patch centred on (row, column), multiplied element by
    element and summed.

    image: array (H, W); kernel: array (k, k), k odd, k <= 2 * min(H, W) + 1.
    Returns (patch, value): the (k, k) patch of the mirrored image and the float sum.

    >>> response_at(np.array([[0, 0, 9]]), LAPLACIAN, 0, 1)[1]
    9.0
    """
    height, width = image.shape
    half = len(kernel) // 2
    rows = [mirror_index(r, height) for r in range(row - half, row + half + 1)]
    columns = [mirror_index(c, width) for c in range(column - half, column + half + 1)]
    patch = np.asarray(image)[np.ix_(rows, columns)].astype(np.float64)
    return patch, float(np.sum(patch * np.flip(kernel)))


def relu(values):
    """ReLU(z) = max(z, 0), element by element: a neuron's activation.

    values: float array of any shape. Returns a new float array of the same shape.

    >>> relu(np.array([-60.0, 0.0, 30.0]))
    array([ 0.,  0., 30.])
    """
    return np.maximum(values, 0)


def as_picture(feature_map, kernel, out=None):
    """What a feature map looks like as an 8-bit picture. A kernel whose weights sum to 0
    sends flat regions to 0 and its map is signed, so we look at |map|; any other map is
    shown as it is. Either way the values are clipped to 0..255.

    feature_map: float array (H, W); kernel: array (k_h, k_w).
    out: as in numpy, an array to write the result into; it may be feature_map itself,
    which saves memory on a large photo.
    Returns a float array (H, W), values 0..255.

    >>> as_picture(np.array([-300.0, 5.0]), LAPLACIAN)
    array([255.,   5.])
    """
    if np.isclose(np.sum(kernel), 0):
        feature_map = np.abs(feature_map, out=out)
    return np.clip(feature_map, 0, 255, out=out)


def kernel_text(kernel):
    """A kernel written as a matrix of whole numbers, with its common fraction in front.

    kernel: array (k_h, k_w) whose values are whole numbers divided by one integer up to 64
    (any other kernel is written with decimals).
    Returns a string of k_h lines.

    >>> print(kernel_text(np.ones((2, 2)) / 4))
    1/4 · [[1 1]
           [1 1]]
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    for divisor in range(1, 65):
        whole = np.round(kernel * divisor)
        if np.allclose(whole, kernel * divisor):
            matrix = str(whole.astype(int))
            if divisor == 1:
                return matrix
            prefix = f"1/{divisor} · "
            return prefix + matrix.replace("\n", "\n" + " " * len(prefix))
    return str(kernel)


def one_line(kernel):
    """A small kernel on one line, as NumPy prints it.

    >>> one_line(HORIZONTAL_PAIR.T), one_line(GALLERY["edge enhance (GIMP)"])
    ('[[-1] [1]]', '[[0 0 0] [-1 1 0] [0 0 0]]')
    """
    return re.sub(r"\[ +", "[", " ".join(str(np.asarray(kernel)).split()))


def summary(values):
    """Shape and range of an array, as one line.

    >>> summary(np.array([[-4.0, 2.5]]))
    'shape (1, 2), min -4, max 2.5'
    """
    return f"shape {values.shape}, min {values.min():.4g}, max {values.max():.4g}"


def share(mask):
    """The share of True values in a boolean array, as a percentage string.

    >>> share(np.array([True, False, False, False]))
    '25.00%'
    """
    return f"{100 * np.mean(mask):.2f}%"


def bird_mask(path, shape):
    """Which pixels show the bird, for the shipped photo: data/bird_mask.png, made with it
    by data/make_bird.py from the cut-out's transparency. A photo of your own has no mask.

    path: Path of the picture in use; shape: its (H, W).
    Returns a bool array (H, W), True on the bird, or None for any other picture.

    >>> int(bird_mask(PHOTO, (367, 363)).sum())
    30322
    """
    if Path(path).resolve() != PHOTO.resolve():
        return None
    with Image.open(BIRD_MASK) as mask:
        bird = np.array(mask.convert("1"), dtype=bool)
    if bird.shape != tuple(shape):
        raise lessonkit.LessonError(f"{BIRD_MASK} is {bird.shape[1]}x{bird.shape[0]}, not the size of {path}")
    return bird


def on_the_subject(values, mask):
    """The values to take statistics on: those under the mask, or all of them without one.

    values: array (H, W); mask: bool array (H, W) or None. Returns a 1-D or (H, W) array.

    >>> on_the_subject(np.array([[1, 2], [3, 4]]), np.array([[True, False], [False, True]]))
    array([1, 4])
    """
    return values if mask is None else values[mask]


def parse_kernel(text):
    """Read a kernel written as rows separated by ';', numbers by spaces or commas; a number
    may be a fraction such as 1/9.

    text: str. Returns a float64 array (k_h, k_w).
    Raises lessonkit.LessonError, one line, if the text is empty, has an empty row, rows of
    different lengths, or anything that is not a finite number (nan and inf included).

    >>> parse_kernel("0 -1 0; -1, 5, -1; 0 -1 0").shape
    (3, 3)
    >>> parse_kernel("1/4 1/4; 1/4 1/4")
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """
    rows = [re.findall(r"[^\s,]+", row) for row in text.split(";")]
    if not any(rows):
        raise lessonkit.LessonError('--kernel is empty: give rows of numbers, e.g. --kernel "0 -1 0; -1 5 -1; 0 -1 0"')
    for number, row in enumerate(rows, 1):
        if not row:
            raise lessonkit.LessonError(f"--kernel: row {number} is empty (rows are separated by ';')")
    lengths = sorted({len(row) for row in rows})
    if len(lengths) > 1:
        raise lessonkit.LessonError(
            f"--kernel: rows of different lengths ({', '.join(map(str, lengths))} numbers); a kernel is a rectangle"
        )
    return np.array([[kernel_number(token) for token in row] for row in rows], dtype=np.float64)


def kernel_number(token):
    """One number of a kernel: an integer, a decimal or a fraction, finite.

    >>> kernel_number("-1/8"), kernel_number("2.5e1")
    (-0.125, 25.0)
    """
    try:
        value = float(Fraction(token))
    except (ValueError, ZeroDivisionError, OverflowError):
        value = None
    if value is None or not np.isfinite(value):
        raise lessonkit.LessonError(f"--kernel: {token!r} is not a finite number")
    return value


def for_display(picture, longest=DRAWN_PIXELS):
    """Shrink a picture for drawing, by averaging blocks of pixels, so that its longest side
    is at most `longest` pixels. Drawing needs no more, and the screen shows whole grey levels.

    picture: array (H, W) of grey levels 0..255.
    Returns a uint8 array (h, w), h and w at most `longest`, fractions of a level dropped.

    >>> small = for_display(np.full((10, 40), 7.5), longest=20)
    >>> small.shape, small.dtype, int(small.max())
    ((5, 20), dtype('uint8'), 7)
    """
    return box_shrink(np.asarray(picture).astype(np.uint8), longest)


def shrunk(values, longest=DRAWN_PIXELS):
    """A float array shrunk for drawing, as for_display does, by averaging blocks of pixels,
    but keeping its sign and fractions: cheaper to work on than the full-size array.

    values: array (H, W), any sign. Returns a float32 array (h, w), h and w at most `longest`.

    >>> shrunk(np.full((10, 40), -7.5), longest=20).shape
    (5, 20)
    """
    return box_shrink(np.asarray(values, dtype=np.float32), longest)


def box_shrink(array, longest):
    """`array`, shape (H, W), uint8 or float32, itself if its longest side is at most
    `longest`, else shrunk to that by averaging blocks of pixels (Pillow's BOX filter).

    >>> box_shrink(np.ones((4, 8), np.float32), 4).shape
    (2, 4)
    """
    height, width = array.shape
    scale = longest / max(height, width)
    if scale >= 1:
        return array
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(array).resize(size, Image.Resampling.BOX))


def draw_grey(axes, values, title, longest=DRAWN_PIXELS):
    """Draw an array of grey levels (0 black .. 255 white) on matplotlib axes, titled.

    Returns the AxesImage, for a colour bar."""
    shown = axes.imshow(for_display(values, longest), cmap="gray", vmin=0, vmax=255)
    axes.set_title(title)
    axes.set_axis_off()
    return shown


def draw_signed(axes, values, limit, title, longest=DRAWN_PIXELS):
    """Draw a signed array on matplotlib axes with lessonkit.SIGNED_COLOURMAP: red above 0,
    blue below, white at 0, full colour at +-limit and beyond.

    values: float array (H, W); limit: a positive number.
    Returns the AxesImage, for a colour bar (see add_colour_bar).
    """
    shown = axes.imshow(shrunk(values, longest), cmap=lessonkit.SIGNED_COLOURMAP, vmin=-limit, vmax=limit)
    axes.set_title(title)
    axes.set_axis_off()
    return shown


def draw_scale(axes, values, limit, title, longest=DRAWN_PIXELS):
    """Draw an array of values >= 0 on matplotlib axes, black at 0 and white at `limit`
    and beyond. Returns the AxesImage."""
    shown = axes.imshow(shrunk(values, longest), cmap="gray", vmin=0, vmax=limit)
    axes.set_title(title)
    axes.set_axis_off()
    return shown


def extend_for(low, high, vmin, vmax):
    """Which ends of a colour bar need an arrow: values below vmin or above vmax.

    >>> extend_for(-350, 379, -100, 100), extend_for(0, 50, 0, 255), extend_for(-5, 9, 0, 9)
    ('both', 'neither', 'min')
    """
    below, above = low < vmin, high > vmax
    return {(True, True): "both", (True, False): "min", (False, True): "max"}.get((below, above), "neither")


def add_colour_bar(shown, axes, label, low, high, ticks=None):
    """A labelled colour bar for the AxesImage `shown`, beside `axes` (one Axes or a list
    that shares it), with an arrow at each end where the values, low..high, run past it.

    Returns the matplotlib Colorbar."""
    figure = shown.figure
    boxes = [ax.get_position() for ax in np.atleast_1d(axes)]
    top, bottom = max(box.y1 for box in boxes), min(box.y0 for box in boxes)
    inches = figure.get_size_inches()
    margin = 0.1 * (top - bottom)
    place = [max(box.x1 for box in boxes) + BAR_GAP / inches[0], bottom + margin, BAR_WIDTH / inches[0],
             top - bottom - 2 * margin]
    vmin, vmax = shown.get_clim()
    bar = figure.colorbar(shown, cax=figure.add_axes(place), extend=extend_for(low, high, vmin, vmax), ticks=ticks)
    bar.set_label(label)
    return bar


def grid_figure(rows, columns, title, aspect, width=FIGURE_INCHES, bar=True, panel_lines=2, line_inches=0.19):
    """An empty figure `width` inches wide (the README column by default): a grid of
    rows x columns panels for pictures of the given aspect, each with room above it for a
    title of `panel_lines` lines of `line_inches`, the figure's title on top and, if `bar`,
    room at the right for a colour bar (see add_colour_bar). The layout is fixed, so
    drawing it costs no layout search.

    aspect: height / width of one picture. Returns (Figure, rows x columns array of Axes).
    """
    import matplotlib.pyplot as plt

    aspect = min(max(aspect, 0.4), 2.5)
    right = BAR_GAP + BAR_WIDTH + BAR_LABEL if bar else MARGIN
    panel = (width - MARGIN - right - GAP * (columns - 1)) / columns
    above = panel_lines * line_inches + 0.08  # a panel's title
    heading = (title.count("\n") + 1) * 0.22 + 0.12  # the figure's title
    height = heading + rows * (above + panel * aspect) + (rows - 1) * GAP + MARGIN
    figure = plt.figure(figsize=(width, height))
    figure.suptitle(title, y=1 - 0.06 / height, va="top")
    axes = np.empty((rows, columns), dtype=object)
    for row in range(rows):
        top = heading + row * (above + panel * aspect + GAP) + above
        for column in range(columns):
            left = MARGIN + column * (panel + GAP)
            axes[row, column] = figure.add_axes([left / width, 1 - (top + panel * aspect) / height,
                                                 panel / width, panel * aspect / height])
    return figure, axes


def panels_figure(count, title, aspect, width=FIGURE_INCHES, bar=True, panel_lines=2):
    """An empty figure of `count` panels in a row, as grid_figure makes it.

    aspect: height / width of one picture. Returns (Figure, list of Axes).
    """
    figure, axes = grid_figure(1, count, title, aspect, width, bar, panel_lines)
    return figure, list(axes[0])


def grey_figure(panels, title, bar_label=None, width=FIGURE_INCHES):
    """A figure with one row of grey pictures, with a grey-level colour bar if `bar_label`.

    panels: list of (values, title) pairs, values of shape (H, W), 0..255; width: inches.
    Returns a matplotlib Figure.
    """
    height, columns = panels[0][0].shape
    lines = max(panel_title.count("\n") + 1 for _, panel_title in panels)
    figure, axes = panels_figure(len(panels), title, height / columns, width, bar_label is not None, lines)
    for ax, (values, panel_title) in zip(axes, panels):
        shown = draw_grey(ax, values, panel_title)
    if bar_label is not None:
        add_colour_bar(shown, axes, bar_label, 0, 255, ticks=[0, 64, 128, 192, 255])
    return figure


def gallery_figure(panels, title, limit, columns=3):
    """A grid of small pictures, one per kernel, each titled with its matrix: grey
    pictures for kernels whose weights sum to 1, signed maps (one shared colour bar,
    +-limit) for those whose weights sum to 0.

    panels: list of (values, title, signed) triples, values of shape (H, W); grey ones 0..255.
    Returns a matplotlib Figure.
    """
    rows = -(-len(panels) // columns)
    height, width = panels[0][0].shape
    lines = max(panel_title.count("\n") + 1 for _, panel_title, _ in panels)
    figure, axes = grid_figure(rows, columns, title, height / width, panel_lines=lines, line_inches=0.14)
    signed_axes, low, high = [], 0.0, 0.0
    for ax, (values, panel_title, signed) in zip(axes.flat, panels):
        if signed:
            shown = draw_signed(ax, values, limit, panel_title, longest=GALLERY_PIXELS)
            signed_axes.append(ax)
            low, high = min(low, float(values.min())), max(high, float(values.max()))
        else:
            draw_grey(ax, values, panel_title, longest=GALLERY_PIXELS)
        ax.title.set_fontfamily("monospace")
        ax.title.set_fontsize(8)
        ax.title.set_multialignment("left")
    for ax in axes.flat[len(panels) :]:
        ax.set_visible(False)
    if signed_axes:
        add_colour_bar(shown, signed_axes, "map value (kernels summing to 0)", low, high)
    return figure


def strongest(values):
    """The (row, column) of the largest |value| (the first one, if several tie).

    >>> strongest(np.array([[1.0, -7.0], [7.0, 0.0]]))
    (0, 1)
    """
    row, column = np.unravel_index(np.argmax(np.abs(values)), values.shape)
    return int(row), int(column)


def test_pictures(level=100, side=7):
    """Three small pictures of level 0 holding one feature of `level`, in the middle:
    a spot (one pixel), a line (one column wide) and a step edge (bright from the middle
    column on).

    Returns a dict name -> float array (side, side).

    >>> test_pictures(side=3)["line"][0].tolist()
    [0.0, 100.0, 0.0]
    """
    middle = side // 2
    spot, line, step = (np.zeros((side, side)) for _ in range(3))
    spot[middle, middle] = level
    line[:, middle] = level
    step[:, middle:] = level
    return {"spot": spot, "line": line, "step": step}


def zoom_on_an_edge(image, side=ZOOM):
    """A square crop centred, as far as the frame allows, on the image's strongest edge:
    where the Sobel gradient, hypot(Sobel x map, Sobel y map), is largest on the picture
    as drawn (shrunk to DRAWN_PIXELS on its long side, which is quick on a large photo).

    image: array (H, W), 0..255. Returns (rows, columns): two slices, at most `side` long.

    >>> zoom_on_an_edge(np.eye(100) * 255, side=10)
    (slice(0, 10, None), slice(0, 10, None))
    """
    drawn = for_display(image)
    gradient = np.hypot(convolve_fast(drawn, SOBEL_X), convolve_fast(drawn, SOBEL_Y))
    scale = image.shape[0] / drawn.shape[0]
    corner = [min(max(0, round(centre * scale) - side // 2), max(0, size - side)) for centre, size in
              zip(strongest(gradient), image.shape)]
    return tuple(slice(start, start + side) for start in corner)


def aspect_of(image):
    """(height / width,) of an array, for panels_figure.

    >>> aspect_of(np.zeros((2, 4)))
    (0.5,)
    """
    return (image.shape[0] / image.shape[1],)


def values(array):
    """The distinct values of an array, signed, as one string.

    >>> values(np.array([[80.0, 80.0], [-3.0, 80.0]]))
    '-3, +80'
    """
    return ", ".join(f"{value:+g}" for value in np.unique(array))


# Figures -------------------------------------------------------------------------------------


def photo_figure(image):
    """The photo in grey, with a grey-level colour bar: image_gray.png.

    image: uint8 array (H, W). Returns a matplotlib Figure.
    """
    height, width = image.shape
    return grey_figure([(image, f"{height} x {width} pixels, uint8")], "The photo in grey", bar_label="grey level",
                       width=FIGURE_INCHES / 2)


def laplacian_figure(crop, crop_map, where):
    """A crop of the photo beside the Laplacian's map there, signed on a +-SIGNED_SCALE
    colour bar (arrows when the values run past it): image_laplacian.png.

    crop: array (h, w), 0..255; crop_map: float array (h, w); where: the crop's rows and
    columns, in words. Returns a matplotlib Figure.
    """
    figure, axes = panels_figure(2, "The Laplacian turns an outline into a red line beside a blue one", 1.0)
    draw_grey(axes[0], crop, f"the photo, {where}\n(largest Sobel gradient), enlarged")
    low, high = float(crop_map.min()), float(crop_map.max())
    shown = draw_signed(axes[1], crop_map, SIGNED_SCALE, f"its feature map there, {low:g} .. {high:g}\n"
                        "red > 0: darker than the neighbours")
    add_colour_bar(shown, axes[1], "Laplacian value", low, high)
    for ax in axes:
        ax.images[0].set_interpolation("nearest")
    return figure


def bias_relu_figure(laplacian, bias):
    """The Laplacian's map, map + b and ReLU(map + b), on one signed colour bar of
    +-SIGNED_SCALE: image_bias_relu.png.

    laplacian: float array (H, W); bias: the b. Returns a matplotlib Figure.
    """
    shifted = shrunk(laplacian) + bias
    panels = [(shifted - bias, "feature map"), (shifted, f"map + b, b = {bias}"), (relu(shifted), "ReLU(map + b)")]
    figure, axes = panels_figure(
        3, f"A neuron with b = {bias}: ReLU(map + b) keeps only the responses above {-bias}", *aspect_of(laplacian),
        panel_lines=1,
    )
    for ax, (values, title) in zip(axes, panels):
        shown = draw_signed(ax, values, SIGNED_SCALE, title)
    low, high = float(shifted.min()), float(shifted.max() - bias)
    add_colour_bar(shown, axes, "value", low, high)
    return figure


def neighbours_figure(panels, limit=NEIGHBOUR_SCALE):
    """The neighbour-difference maps with their sign, on one shared colour bar of
    +-limit: image_neighbours.png.

    panels: list of (values, title), values float arrays (H, W). Returns a matplotlib Figure.
    """
    figure, axes = panels_figure(
        len(panels), "neighbour - pixel: 0 on flat regions, large across an edge, its sign says which side is darker",
        *aspect_of(panels[0][0]),
    )
    for ax, (values, title) in zip(axes, panels):
        shown = draw_signed(ax, values, limit, title)
    low = min(float(values.min()) for values, _ in panels)
    high = max(float(values.max()) for values, _ in panels)
    add_colour_bar(shown, axes, "neighbour - pixel (grey levels)", low, high)
    return figure


# The README sections, in order -----------------------------------------------------------------


def convolution_applied_to_an_image(path, figures):
    """README "## Convolution applied to an image": the photo read as grey levels.

    path: Path of the picture. Returns (pixels, mask): the grey levels as float32 (H, W),
    values 0..255, what the later sections compute on, and a bool array (H, W) marking the
    bird for the shipped photo (None for any other picture).
    """
    picture = read_picture(path)
    image = luma(picture, path)
    mask = bird_mask(path, image.shape)
    lessonkit.heading("Convolution applied to an image")
    height, width = image.shape
    print(f"{path.name}: {height} rows x {width} columns, dtype {image.dtype}, values {image.min()}..{image.max()}")
    print(f"The file stores {picture.mode!r} pixels (Pillow's mode); {how_made_grey(picture)}.")
    print("Each pixel is one byte: 0 is black, 255 is white.")
    print(f"Networks are usually fed floats in [0, 1]: image / 255 has values "
          f"{image.min() / 255:.3f}..{image.max() / 255:.3f}.")
    print("Below we compute in float on the 0..255 scale: sums of products can be negative")
    print("or above 255, which uint8 cannot hold.")
    counts = np.bincount(image.ravel(), minlength=256)
    print(f"The most common grey level is {counts.argmax()}, on {100 * counts.max() / image.size:.2f}% of the pixels.")
    if mask is None:
        print("Statistics below are taken on the whole picture (a photo of your own has no mask).")
    else:
        print("This is a cut-out photograph on a flat background, which is that grey level. Statistics")
        print(f"below are taken on the bird alone: the {share(mask)} of the pixels that data/{BIRD_MASK.name} marks")
        print("(where the cut-out is at least half opaque).")
        print(f"Grey level {counts.argmax()} on the bird: {share(image[mask] == counts.argmax())} of its pixels.")
    figures.add("image_gray", photo_figure(image))
    return image.astype(np.float32), mask


def the_laplacian(image, figures):
    """README "### The Laplacian: spots, lines and edges": what [[0 1 0] [1 -4 1] [0 1 0]]
    answers to, on test pictures and on the photo.

    image: float32 grey levels (H, W), 0..255. Returns the float32 feature map (H, W).
    """
    lessonkit.heading("The Laplacian: spots, lines and edges")
    print('kernel (the Laplacian; GIMP calls it "edge detect") =')
    print(LAPLACIAN)
    print("Each output is the sum of the four neighbours minus 4 · the centre, that is")
    print("4 · (mean of the four neighbours - centre). The weights sum to 0: a flat patch gives 0.")
    tests = {name: convolve(picture, LAPLACIAN) for name, picture in test_pictures().items()}
    middle = len(tests["spot"]) // 2
    spot, line, step = tests["spot"][middle], tests["line"][middle], tests["step"][middle]
    print("On 7x7 test pictures of level 0 with one feature of level 100 (the middle row of each map):")
    print(f"  a spot, one pixel:          {spot.astype(int)}")
    print(f"  a line, one pixel wide:     {line.astype(int)}")
    print(f"  a step edge, bright right:  {step.astype(int)}")
    peaks = [np.abs(values).max() for values in (spot, line, step)]
    print(f"Largest |value|: spot {peaks[0]:g}, line {peaks[1]:g}, step {peaks[2]:g}: a spot is its favourite;")
    print(f"a one-pixel line gives {peaks[1] / peaks[0]:g} of that, a step {peaks[2] / peaks[0]:g}.")
    crossing = step[middle - 1] > 0 > step[middle]
    print(f"At the step, + on the dark side and - on the bright side: {crossing}. The edge lies at the")
    print("zero crossing between them, so |map| would draw every outline twice.")
    laplacian = convolve_fast(image, LAPLACIAN)
    corner = image[:200, :200]
    same = np.allclose(convolve_fast(corner, LAPLACIAN), convolve(corner, LAPLACIAN))
    print("feature map = scipy.ndimage.convolve(image, kernel, mode='reflect'): SciPy's image module, several")
    print("times faster on a photo than scipy.signal.convolve2d(image, kernel, mode='same', boundary='symm'),")
    print(f"which gives the same map for a kernel of odd size (both on the photo's top-left "
          f"{corner.shape[0]}x{corner.shape[1]} pixels: {same})")
    print(f"feature map: {summary(laplacian)} (the image's size, as with mode='same')")
    if not laplacian.any():
        print("The feature map is 0 everywhere: the picture is flat.")
    else:
        row, column = strongest(laplacian)
        patch, value = response_at(image, LAPLACIAN, row, column)
        centre = patch[1, 1]
        mean = (patch[0, 1] + patch[1, 0] + patch[1, 2] + patch[2, 1]) / 4
        print(f"By hand at the strongest response, row {row}, column {column}: the 3x3 patch there is")
        print(patch.astype(int))
        print(f"sum of patch ⊙ flipped kernel = {value:g} (⊙: the element-by-element product;")
        print("the kernel is symmetric, so flipping it changes nothing)")
        agree = bool(np.isclose(value, laplacian[row, column]))
        print(f"scipy's feature map there = {laplacian[row, column]:g}; ours == scipy: {agree}")
        darker, dark = ("darker", "dark") if value > 0 else ("brighter", "bright")
        neighbours = [patch[0, 1], patch[1, 0], patch[1, 2], patch[2, 1]]
        speck = centre < min(neighbours) if value > 0 else centre > max(neighbours)
        print(f"The centre, {centre:g}, is {darker} than the mean of its four neighbours, {mean:g}:")
        print(f"4 · ({mean:g} - {centre:g}) = {4 * (mean - centre):g}.", end=" ")
        if speck:
            print(f"It is {darker} than each of them: a {dark} speck, not an edge.")
        else:
            print(f"It is not {darker} than each of them, so it is not a lone speck.")
    rows, columns = zoom_on_an_edge(image)
    where = f"rows {rows.start}..{rows.stop - 1}, columns {columns.start}..{columns.stop - 1}"
    print(f"The figure enlarges {where}: the {ZOOM}x{ZOOM} crop centred on the largest Sobel")
    print(f"gradient, hypot(Sobel x map, Sobel y map), of a copy shrunk to {DRAWN_PIXELS} pixels on its long side")
    print("(Sobel x and y are the kernels of \"The sign of Sobel and emboss\", below).")
    figures.add("image_laplacian", laplacian_figure(image[rows, columns], laplacian[rows, columns], where))
    return laplacian


def a_bias_then_relu(laplacian, mask, figures, bias=BIAS):
    """README "### A bias, then ReLU": a neuron computes ReLU(feature map + b); a negative
    b is a threshold. The counts are taken on the bird alone when there is a mask.

    laplacian: float array (H, W), the feature map of "The Laplacian"; mask: bool array
    (H, W) of the pixels to count, or None for all of them; bias: the b.
    """
    lessonkit.heading("A bias, then ReLU")
    print("A neuron adds a bias b to its feature map, then applies its activation:")
    print(f"a = ReLU(map + b), where ReLU(z) = max(z, 0). Here b = {bias}.")
    shifted = laplacian + bias
    activation = relu(shifted)
    print(f"  feature map:      min {laplacian.min():g}, max {laplacian.max():g}")
    print(f"  map + b:          min {shifted.min():g}, max {shifted.max():g}")
    print(f"  ReLU(map + b):    min {activation.min():g}, max {activation.max():g}")
    counted = on_the_subject(laplacian, mask)
    where = "on the whole picture" if mask is None else "on the bird alone"
    kept_without, kept = np.count_nonzero(counted > 0), np.count_nonzero(counted > -bias)
    print(f"Non-zero pixels {where}, of {counted.size:,}:")
    print(f"  ReLU(map):        {kept_without:,} ({share(counted > 0)}), wherever the map is above 0")
    print(f"  ReLU(map + b):    {kept:,} ({share(counted > -bias)}), only where the map is above {-bias}")
    if mask is not None:
        print(f"  (on the whole picture, background included: {share(laplacian > 0)} and {share(laplacian > -bias)})")
    exact = np.array_equal(activation > 0, laplacian > -bias)
    print(f"ReLU(map + b) > 0 exactly where map > {-bias}: {exact}")
    print("A negative bias is a threshold: it silences the weak responses and keeps the strong")
    print("ones, shifted down by |b|. ReLU also drops the negative side: this neuron answers only to")
    print("pixels darker than their neighbours; a second one with the kernel times -1 would answer")
    print("to the brighter ones. A network learns its kernels' weights and biases from data.")
    figures.add("image_bias_relu", bias_relu_figure(laplacian, bias))


def subtracting_neighbours(image, mask, figures):
    """README "### Subtracting neighbours": [[-1 1]] and its transpose.

    image: float32 grey levels (H, W), 0..255; mask: bool array (H, W) of the pixels to
    take statistics on, or None for all of them.
    """
    lessonkit.heading("Subtracting neighbours")
    where = "on the whole picture" if mask is None else "on the bird alone"
    panels = []
    for kernel, pair, neighbour, edges in (
        (HORIZONTAL_PAIR, "horizontal neighbours", "left", "vertical edges"),
        (VERTICAL_PAIR, "vertical neighbours", "upper", "horizontal edges"),
    ):
        difference = convolve_fast(image, kernel)
        print(f"kernel ({pair}) = {one_line(kernel)}: each output is the {neighbour} neighbour minus the pixel")
        print(f"  feature map: min {difference.min():g}, max {difference.max():g}; largest across {edges}")
        panels.append((shrunk(difference).copy(), f"{one_line(kernel)}: {neighbour} neighbour - pixel\n"
                       f"lights up {edges}"))
        alike = np.abs(difference) < SMALL_DIFFERENCE
        del difference
        print(f"  {where}, {share(on_the_subject(alike, mask))} of pixels differ from their {neighbour} neighbour "
              f"by less than {SMALL_DIFFERENCE}")
        if mask is not None:
            print(f"  (on the whole picture, background included: {share(alike)})")
    print("Read as written, [[-1 1]] looks like right minus left; convolution flips it, so it")
    print("computes left minus right: the neighbour before minus the pixel.")
    figures.add("image_neighbours", neighbours_figure(panels))


def the_sign_of_sobel_and_emboss():
    """README "### The sign of Sobel and emboss": kernels written for correlation, applied
    with a true convolution, give the opposite sign."""
    lessonkit.heading("The sign of Sobel and emboss")
    ramp = np.tile(np.arange(8.0) * 10, (8, 1))  # brightens by 10 per column, to the right
    inside = (slice(1, -1), slice(1, -1))  # away from the mirrored border
    print("Sobel x, as OpenCV and TensorFlow write it for correlation (no flip) =")
    print(SOBEL_X)
    print(f"On a ramp that brightens by 10 per column to the right (each row {ramp[0].astype(int)}):")
    by_correlation = signal.correlate2d(ramp, SOBEL_X, mode="same", boundary="symm")
    by_convolution = convolve(ramp, SOBEL_X)
    print(f"  correlation (scipy.signal.correlate2d): {values(by_correlation[inside])} away from the border,"
          " 8 · the slope")
    print(f"  convolution (this lesson's convolve):   {values(by_convolution[inside])} away from the border,"
          " -8 · the slope")
    print(f"convolution == -correlation: {np.array_equal(by_convolution, -by_correlation)}")
    print("Convolution turns the kernel by 180 degrees, so here Sobel x computes left minus right:")
    print("minus the horizontal derivative, negative where the picture brightens to the right.")
    down = convolve(ramp.T, SOBEL_Y)
    print(f"Sobel y likewise gives {values(down[inside])} on a ramp that brightens downwards.")
    level = ramp[3, 3]
    lit = signal.correlate2d(ramp, EMBOSS, mode="same", boundary="symm")[3, 3]
    shaded = convolve(ramp, EMBOSS)[3, 3]
    print(f"emboss at a pixel of level {level:g} on the ramp: correlation {lit:g} = {level:g} + {lit - level:g}, "
          f"convolution {shaded:g} = {level:g} - {level - shaded:g}.")
    print("Flipped, emboss shades the slopes it would light: the light seems to come from the other side.")


def a_gallery_of_classic_kernels(image, figures):
    """README "### A gallery of classic kernels": the convolution-matrix filters of image
    editors, applied with scipy.ndimage.

    image: float32 grey levels (H, W), 0..255 (ndimage reads float32 faster than uint8).
    A photo larger than DRAWN_PIXELS on its long side is shrunk to that first.
    """
    lessonkit.heading("A gallery of classic kernels")
    corner = image[:200, :200].astype(np.float64)
    print("Like the Laplacian's, the gallery's maps come from scipy.ndimage.convolve(mode='reflect').")
    enhance = GALLERY["edge enhance (GIMP)"]
    same_difference = np.allclose(convolve_fast(corner, enhance)[:, :-1], convolve(corner, HORIZONTAL_PAIR)[:, 1:])
    print(f"edge enhance here is GIMP's {one_line(enhance)}: weights sum to {np.sum(enhance):g}, the same")
    print(f"neighbour difference as {one_line(HORIZONTAL_PAIR)}, one column over: {same_difference}.")
    size, scale, _, weights = ImageFilter.EDGE_ENHANCE.filterargs
    pillow = np.reshape(weights, size) / scale
    print("Pillow's ImageFilter.EDGE_ENHANCE is another kernel, whose weights sum to "
          f"{np.sum(pillow):g}: a sharpening kernel,")
    print(kernel_text(pillow))
    print("Kernels whose weights sum to 1 keep the brightness of flat regions: their map is a picture,")
    print("drawn in grey, clipped to 0..255. Kernels whose weights sum to 0 give 0 on flat regions:")
    print(f"their map is drawn with its sign, red > 0, blue < 0, full colour from +-{GALLERY_LIMIT} on.")
    print("The figure titles each kernel as written; the convolution turns it 180 degrees as it slides.")
    working = shrunk(image)
    if working.shape != image.shape:
        print(f"The photo is {image.shape[0]} x {image.shape[1]} pixels and the gallery draws each map small, so it")
        print(f"applies the kernels to a copy shrunk to {working.shape[0]} x {working.shape[1]} by averaging blocks of "
              "pixels: a 3x3 kernel")
        print("then spans 3x3 pixels of what is drawn, and nine full-size maps are not computed.")
    gallery = []
    for name, kernel in GALLERY.items():
        feature_map = convolve_fast(working, kernel)
        print()
        print(f"{name} (weights sum to {np.sum(kernel):g}), feature map min {feature_map.min():.4g}, "
              f"max {feature_map.max():.4g}:")
        print(kernel_text(kernel))
        signed = bool(np.isclose(np.sum(kernel), 0))
        if signed:
            picture = shrunk(feature_map, GALLERY_PIXELS)
        else:
            picture = for_display(as_picture(feature_map, kernel, out=feature_map), longest=GALLERY_PIXELS)
        gallery.append((picture, f"{name}\n{kernel_text(kernel)}", signed))
        del feature_map
    figures.add("image_gallery", gallery_figure(gallery, GALLERY_TITLE, GALLERY_LIMIT))


def border_names_and_even_kernels(image):
    """README "### Border names and even kernels in scipy.ndimage" (in "Conventions and
    corner cases"): ndimage's and np.pad's names for signal's 'symm', and where ndimage
    centres an even kernel.

    image: float32 grey levels (H, W), 0..255.
    """
    lessonkit.heading("Border names and even kernels in scipy.ndimage")
    corner = image[:200, :200].astype(np.float64)
    rows, columns = corner.shape
    print(f"On the top-left {rows}x{columns} corner of the photo, against signal.convolve2d(boundary='symm'):")
    symm = signal.convolve2d(corner, LAPLACIAN, mode="same", boundary="symm")
    reflect = ndimage.convolve(corner, LAPLACIAN, mode="reflect")
    print(f"  3x3 Laplacian, ndimage.convolve(mode='reflect'), equal: {np.allclose(reflect, symm)}")
    even = np.array([[1, 2], [3, 4]])
    even_symm = signal.convolve2d(corner, even, mode="same", boundary="symm")
    shifted = ndimage.convolve(corner, even, mode="reflect", origin=-1)
    print(f"  2x2 kernel {one_line(even)}, equal: "
          f"{np.allclose(ndimage.convolve(corner, even, mode='reflect'), even_symm)}")
    print(f"  the same with ndimage's origin=-1, equal: {np.allclose(shifted, even_symm)}")
    print("An even kernel has no middle pixel, and the two libraries centre it one row and one")
    print("column apart; origin=-1 lines ndimage up with signal (this lesson's convolve_fast")
    print("does so). For odd kernels they agree.")
    print("The names of the ways to extend a border differ from library to library:")
    row = np.array([1, 2, 3])
    print(f"  np.pad({row}, 2, mode='symmetric') = {np.pad(row, 2, mode='symmetric')}: "
          "signal's 'symm', ndimage's 'reflect'")
    print(f"  np.pad({row}, 2, mode='reflect')   = {np.pad(row, 2, mode='reflect')}: ndimage's 'mirror'")
    padded = {mode: signal.convolve2d(np.pad(corner, 1, mode=mode), LAPLACIAN, mode="valid")
              for mode in ("symmetric", "reflect")}
    reflect = np.allclose(convolve_fast(corner, LAPLACIAN), padded["symmetric"])
    mirror = np.allclose(ndimage.convolve(corner, LAPLACIAN, mode="mirror"), padded["reflect"])
    print(f"  ndimage 'reflect' == np.pad 'symmetric': {reflect}; ndimage 'mirror' == np.pad 'reflect': {mirror}")


# Your own kernel ------------------------------------------------------------------------------


def kernel_and_picture(text, path):
    """The learner's kernel and picture, both checked before anything is computed.

    text: the kernel as --kernel takes it; path: Path of the picture.
    Returns (kernel, image): a float64 array (k_h, k_w) and a uint8 array (H, W).
    Raises lessonkit.LessonError, one line, as parse_kernel and load_grayscale do, or if the
    kernel is larger than the picture.
    """
    kernel = parse_kernel(text)
    image = load_grayscale(path)
    if kernel.shape[0] > image.shape[0] or kernel.shape[1] > image.shape[1]:
        raise lessonkit.LessonError(
            f"--kernel is {kernel.shape[0]}x{kernel.shape[1]}, larger than {Path(path).name} "
            f"({image.shape[0]}x{image.shape[1]} pixels)"
        )
    return kernel, image


def your_own_kernel(path, text, figures):
    """README "## What to try next", the bullet "Your own kernel": the learner's own kernel
    applied to the photo. Everything is checked before anything is drawn.

    path: Path of the picture; text: the kernel as --kernel gives it.
    """
    kernel, image = kernel_and_picture(text, path)
    lessonkit.heading("Your own kernel")
    height, width = image.shape
    print(f"{path.name}: {height} rows x {width} columns")
    print(f"kernel ({kernel.shape[0]}x{kernel.shape[1]}, weights sum to {np.sum(kernel):g}) =")
    print(kernel_text(kernel))
    feature_map = convolve(image, kernel)
    print("feature map = scipy.signal.convolve2d(image, kernel, mode='same', boundary='symm')")
    print(f"feature map: {summary(feature_map)}")
    if np.isclose(np.sum(kernel), 0):
        print("The weights sum to 0, so flat regions give 0: the figure shows |feature map|.")
        outside = np.abs(feature_map) > 255
    else:
        print("The figure shows the feature map as grey levels.")
        outside = (feature_map < 0) | (feature_map > 255)
    print(f"{share(outside)} of the values lie outside 0..255 and are drawn clipped, as 0 (black) or 255 (white).")
    shown = "|feature map|" if np.isclose(np.sum(kernel), 0) else "feature map"
    picture = as_picture(feature_map, kernel, out=feature_map)
    written = re.sub(r"\[ +", "[", " ".join(kernel_text(kernel).split()))
    title = f"Your kernel {written}" if len(written) <= 70 else f"Your {kernel.shape[0]}x{kernel.shape[1]} kernel"
    figures.add("image_kernel", grey_figure([(image, "the photo in grey"), (picture, f"{shown}, clipped to 0..255")],
                                            title, bar_label="grey level"))


# A playground for notebooks --------------------------------------------------------------------


def kernel_as_text(kernel):
    """A kernel written as --kernel takes it: rows separated by ';', fractions kept exact
    where the denominator is at most 64.

    >>> kernel_as_text(GALLERY["box blur"][:2, :2]), kernel_as_text(HORIZONTAL_PAIR)
    ('1/9 1/9; 1/9 1/9', '-1 1')
    """
    return "; ".join(" ".join(weight_text(weight) for weight in row) for row in np.asarray(kernel, dtype=np.float64))


def weight_text(weight):
    """One kernel weight as short text: a whole number, a fraction or 4 significant digits.

    >>> weight_text(-2.0), weight_text(0.0625), weight_text(0.123456)
    ('-2', '1/16', '0.1235')
    """
    fraction = Fraction(weight).limit_denominator(64)
    if np.isclose(float(fraction), weight, rtol=0, atol=1e-12):
        return str(fraction)
    return f"{weight:.4g}"


def draw_kernel(axes, kernel, largest=7):
    """Draw a kernel's weights as a grid of kernel-peach cells holding their numbers (the
    numbers are left out beyond `largest` rows or columns, where they would not be readable).

    kernel: array (k_h, k_w). Returns the list of the texts drawn.
    """
    from matplotlib.patches import Rectangle

    rows, columns = kernel.shape
    texts = []
    for (row, column), weight in np.ndenumerate(kernel):
        axes.add_patch(Rectangle((column, row), 1, 1, facecolor=lessonkit.COLOURS["kernel"], edgecolor="grey"))
        if max(rows, columns) <= largest:
            texts.append(axes.text(column + 0.5, row + 0.5, weight_text(weight), ha="center", va="center"))
    axes.set_xlim(0, max(rows, columns))
    axes.set_ylim(max(rows, columns), 0)
    axes.set_aspect("equal")
    axes.set_axis_off()
    axes.set_title(f"kernel {rows}x{columns}, sum {np.sum(kernel):g}\n(turned 180° to slide)")
    return texts


def display_name(display):
    """What a display choice of kernel_playground draws, in words; ValueError for any other.

    >>> display_name("abs")
    '|map|'
    """
    if display not in DISPLAYS:
        raise ValueError(f"display must be one of {', '.join(map(repr, DISPLAYS))}, not {display!r}")
    return DISPLAYS[display]


def playground_figure(image, kernel, feature_map, display="signed", name="the photo"):
    """The picture, the kernel's numbers and the feature map, drawn as `display` says:
    "signed" (red > 0, blue < 0, symmetric colour bar), "abs" (|map|) or "relu" (ReLU(map)).
    The map's panel gives the map's min and max.

    image: array (H, W), 0..255; kernel: array (k_h, k_w); feature_map: float array (H, W).
    Returns a matplotlib Figure.
    """
    figure, axes = panels_figure(3, f"{name} ⊛ kernel ({display_name(display)})", *aspect_of(image))
    draw_grey(axes[0], image, f"{name}, {image.shape[0]} x {image.shape[1]}")
    draw_kernel(axes[1], kernel)
    low, high = float(feature_map.min()), float(feature_map.max())
    title = f"feature map\nmin {low:.4g}, max {high:.4g}"
    if display == "signed":
        limit = max(abs(low), abs(high)) or 1.0
        shown = draw_signed(axes[2], feature_map, limit, title)
        add_colour_bar(shown, axes[2], "map value", low, high)
    else:
        values = np.abs(feature_map) if display == "abs" else relu(feature_map)
        limit = float(values.max()) or 1.0
        shown = draw_scale(axes[2], values, limit, title)
        add_colour_bar(shown, axes[2], DISPLAYS[display], 0, limit)
    return figure


def kernel_playground(kernel, image=None, display="signed"):
    """Apply a kernel of your own to the photo, or to the picture at `image`, and draw the
    picture, the kernel and the feature map (see playground_figure).

    kernel: text as --kernel takes it, e.g. "0 -1 0; -1 5 -1; 0 -1 0".
    image: path of a picture (default: the lesson's photo); display: "signed", "abs" or "relu".
    Returns the matplotlib Figure. Raises ValueError with the command line's one-line
    message for a malformed kernel, a bad picture or a kernel larger than the picture.
    """
    display_name(display)
    path = PHOTO if image is None else Path(image)
    try:
        weights, pixels = kernel_and_picture(kernel, path)
    except lessonkit.LessonError as error:
        raise ValueError(str(error)) from None
    name = "the photo" if image is None else path.name
    return playground_figure(pixels, weights, convolve(pixels, weights), display, name)


def interactive_playground(image=None):
    """In a notebook: a text box for the kernel, a choice among the gallery's kernels (it
    fills the text box) and the display, redrawn with kernel_playground at each change.
    A malformed kernel prints its one-line message instead of a figure.

    image: path of a picture (default: the lesson's photo). Needs ipywidgets.
    Shows the controls and the figure, as ipywidgets.interact does; returns the widget.
    """
    import ipywidgets

    text = ipywidgets.Text(value=kernel_as_text(GALLERY["sharpen"]), description="kernel", continuous_update=False)
    gallery = ipywidgets.Dropdown(options=list(GALLERY), value="sharpen", description="gallery")
    gallery.observe(lambda change: setattr(text, "value", kernel_as_text(GALLERY[change["new"]])), names="value")

    def show(kernel, gallery, display):
        try:
            return kernel_playground(kernel, image, display)
        except ValueError as error:
            print(f"error: {error}")
            return None

    return ipywidgets.interact(show, kernel=text, gallery=gallery, display=list(DISPLAYS)).widget


@lessonkit.lesson_main
def main(argv=None):
    """The lesson's table of contents: its README sections, in order (the appendix last)."""
    args = lessonkit.parse_args(__doc__, argv, image=PHOTO, options={"--kernel": ("ROWS", KERNEL_HELP)})
    figures = lessonkit.Figures(args)
    if args.kernel is not None:
        your_own_kernel(args.image, args.kernel, figures)
        return figures.write()
    pixels, mask = convolution_applied_to_an_image(args.image, figures)
    laplacian = the_laplacian(pixels, figures)
    a_bias_then_relu(laplacian, mask, figures)
    subtracting_neighbours(pixels, mask, figures)
    the_sign_of_sobel_and_emboss()
    a_gallery_of_classic_kernels(pixels, figures)
    border_names_and_even_kernels(pixels)
    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
