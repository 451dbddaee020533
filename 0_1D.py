"""Convolution in one dimension, with NumPy.

The convolution y = x ⊛ h of a signal x (N values, x[0] to x[N-1]) with a kernel h
(M values) flips the kernel, slides it along the signal, multiplies the values that
line up and adds the products. For each output index i:

    y[i] = Σ_m x[m] · h[i - m]

summed over every m where both x[m] and h[i - m] exist (· is ordinary multiplication).

The lesson smooths a noisy step with a moving average, worked by hand step by step,
and finds the step with a two-tap difference kernel. It compares the three output
sizes NumPy offers ('full', 'same' and 'valid'), shows that 'same' and 'valid' are the
centre of 'full', and that np.correlate is the same sliding sum without the flip.
Two corner cases close it: a kernel longer than the signal, and how float16 is added
up. Each result is computed twice, by our own convolve1d and by NumPy, and compared.

With --signal and --kernel, the step-by-step slide of the first section (what it prints
and the picture 1d_sliding.png) uses your numbers instead, for example
--signal "1 2 3 4" --kernel "1 -1"; the rest of the lesson keeps its own example.
"""

import matplotlib.figure
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

import lessonkit

MODES = ("full", "same", "valid")
FORMULA = "y[i] = Σ_m x[m] · h[i - m]"

# The lesson's example: a noisy step, low (about 1) for three values, then high (about 7).
STEP = np.array([2, 0, 1, 8, 6, 7])
MOVING_SUM = np.array([1, 1, 1])  # divided by its M = 3 taps: the moving average
DIFFERENCE = np.array([1, -1])  # flipped, [-1 1]: a value minus its left neighbour
RECENT_FIRST = np.array([3, 2, 1])  # weights the newest value most: not its own flip
MOST_STEPS = 12  # the sliding picture has room for this many steps, N + M - 1

PADDING_STYLE = {"facecolor": lessonkit.COLOURS["padding"], "edgecolor": "#999999", "hatch": "///", "text": "#666666"}
SIGNAL_STYLE = {"facecolor": lessonkit.COLOURS["input"], "edgecolor": "#333333", "hatch": None, "text": "black"}
KERNEL_STYLE = {"facecolor": lessonkit.COLOURS["kernel"], "edgecolor": "#333333", "hatch": None, "text": "black"}
OUTPUT_STYLE = {"facecolor": lessonkit.COLOURS["output"], "edgecolor": "#333333", "hatch": None, "text": "black"}
EMPTY_STYLE = {"facecolor": "white", "edgecolor": "#bbbbbb", "hatch": None, "text": "#999999"}


def as_signal(values, name):
    """Turn `values` into a 1-D NumPy array of shape (length,), length >= 1.

    Raises ValueError, naming the argument, for anything else.

    >>> as_signal([3, 4, 5], "x")
    array([3, 4, 5])
    """
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got {array.ndim} dimensions with shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty")
    return array


def parse_signal(text, name):
    """Read a signal written as text, numbers separated by spaces or commas (brackets
    allowed), into a 1-D array: integers if every number is whole, else floats.

    >>> parse_signal("[2, 0, 1]", "x")
    array([2, 0, 1])
    >>> parse_signal("0.5 1", "h")
    array([0.5, 1. ])
    >>> parse_signal("1 two", "h")
    Traceback (most recent call last):
    ...
    ValueError: h: 'two' is not a number (write numbers separated by spaces or commas, such as 1 1 1)
    """
    words = text.replace(",", " ").replace("[", " ").replace("]", " ").split()
    if not words:
        raise ValueError(f"{name} is empty (write numbers separated by spaces or commas, such as 1 1 1)")
    numbers = []
    for word in words:
        try:
            numbers.append(float(word))
        except ValueError:
            raise ValueError(
                f"{name}: {word!r} is not a number (write numbers separated by spaces or commas, such as 1 1 1)"
            ) from None
    if not np.all(np.isfinite(numbers)):
        raise ValueError(f"{name} must hold finite numbers, got {text.strip()!r}")
    if all(number.is_integer() for number in numbers):
        return np.array(numbers).astype(np.int64)
    return np.array(numbers)


def check_example(x, h):
    """Refuse (ValueError) a signal x, shape (N,), and kernel h, shape (M,), whose slide
    has more steps, N + M - 1, than the sliding picture has room for.

    >>> check_example(np.ones(10), np.ones(4))
    Traceback (most recent call last):
    ...
    ValueError: x and h give N + M - 1 = 13 steps; the picture has room for at most 12
    """
    steps = len(x) + len(h) - 1
    if steps > MOST_STEPS:
        raise ValueError(f"x and h give N + M - 1 = {steps} steps; the picture has room for at most {MOST_STEPS}")


def chosen_example(signal_text, kernel_text):
    """The signal and kernel of the step-by-step slide: the lesson's noisy step and
    moving sum, or the numbers given as text on the command line (either may be None).
    Bad numbers are a lessonkit.LessonError with the message sliding_playground gives.

    >>> chosen_example(None, "1 -1")
    (array([2, 0, 1, 8, 6, 7]), array([ 1, -1]))
    """
    try:
        x = STEP if signal_text is None else parse_signal(signal_text, "x")
        h = MOVING_SUM if kernel_text is None else parse_signal(kernel_text, "h")
        check_example(x, h)
    except ValueError as error:
        raise lessonkit.LessonError(str(error)) from None
    return x, h


def output_length(N, M, mode):
    """The length of the convolution of a length-N signal with a length-M kernel.

    'full' keeps every position where the two overlap at all: N + M - 1.
    'same' is as long as the longer input: max(N, M).
    'valid' keeps the positions where the shorter input lies wholly inside the
    longer one: max(N, M) - min(N, M) + 1.

    Only the longer and the shorter length matter, not which one is the kernel:
    np.convolve swaps its two arguments when the kernel is the longer one.

    >>> [output_length(6, 3, mode) for mode in MODES]
    [8, 6, 4]
    """
    if mode == "full":
        return N + M - 1
    if mode == "same":
        return max(N, M)
    if mode == "valid":
        return max(N, M) - min(N, M) + 1
    raise ValueError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")


def centre(full, length):
    """The middle `length` values of the 1-D array `full`, shape (length,).

    They start at index (len(full) - length) // 2; when the middle falls between two
    values, the slice leans to the left, as NumPy's does.

    >>> centre(np.array([2, 2, 3, 9, 15, 21, 13, 7]), 6)
    array([ 2,  3,  9, 15, 21, 13])
    """
    start = (len(full) - length) // 2
    return full[start:start + length]


def pad_with_zeros(x, M):
    """x, shape (N,), with M - 1 zeros added on each side: shape (N + 2 * (M - 1),).

    These are the positions a length-M kernel can overlap while it still touches x.

    >>> pad_with_zeros(np.array([3, 4, 5]), 3)
    array([0, 0, 3, 4, 5, 0, 0])
    """
    zeros = np.zeros(M - 1, dtype=x.dtype)
    return np.concatenate([zeros, x, zeros])


def convolve1d(x, h, mode="full"):
    """Convolve the signal x, shape (N,), with the kernel h, shape (M,): y = x ⊛ h.

    Flip h, pad x with M - 1 zeros on each side, slide the flipped kernel along it
    one step at a time, and at each step multiply the values that line up and add
    the products. That gives 'full', shape (N + M - 1,); 'same' and 'valid' are its
    centre (see output_length for their sizes).

    Like np.convolve, it first brings both inputs to their common dtype and, when h
    is the longer one, swaps them (x ⊛ h = h ⊛ x), so that the shorter one slides.
    The sum of products at each step is np.dot, the sum NumPy's own convolution
    uses, so the values and the dtype are those of np.convolve(x, h, mode), float16
    included (see the lesson's last section).

    >>> convolve1d([2, 0, 1, 8, 6, 7], [1, 1, 1])
    array([ 2,  2,  3,  9, 15, 21, 13,  7])
    >>> convolve1d([2, 0, 1, 8, 6, 7], [1, 1, 1], mode="valid")
    array([ 3,  9, 15, 21])
    """
    x = as_signal(x, "x")
    h = as_signal(h, "h")
    length = output_length(len(x), len(h), mode)
    dtype = np.result_type(x, h)
    x, h = x.astype(dtype, copy=False), h.astype(dtype, copy=False)
    if len(h) > len(x):
        x, h = h, x
    M = len(h)
    flipped = h[::-1]
    padded = pad_with_zeros(x, M)
    full = np.empty(len(padded) - M + 1, dtype=dtype)
    for i in range(len(full)):
        window = padded[i:i + M]
        full[i] = np.dot(window, flipped)
    return centre(full, length)


def step_equation(x, h, i, show_terms=True):
    """The sum y[i] = Σ_m x[m] · h[i - m] written out for x, shape (N,), and h, shape
    (M,): the terms where both exist (if `show_terms`), the products, the total.

    >>> step_equation(np.array([2, 0, 1]), np.array([1, 1, 1]), 1)
    'y[1] = x[0]·h[1] + x[1]·h[0] = 2·1 + 0·1 = 2 + 0 = 2'
    >>> step_equation(np.array([2, 0, 1]), np.array([1, -1]), 3, show_terms=False)
    'y[3] = 1·(-1) = -1'
    """
    ms = [m for m in range(len(x)) if 0 <= i - m < len(h)]
    products = [x[m] * h[i - m] for m in ms]
    parts = [f"y[{i}]"]
    if show_terms:
        parts.append(" + ".join(f"x[{m}]·h[{i - m}]" for m in ms))
    parts.append(" + ".join(f"{number(x[m])}·{number(h[i - m])}" for m in ms))
    if len(products) > 1:
        parts.append(" + ".join(number(p) for p in products))
    parts.append(str(sum(products)))
    return " = ".join(parts)


def number(value):
    """A value as a term of a sum: negative ones in brackets.

    >>> number(3), number(-2)
    ('3', '(-2)')
    """
    return f"({value})" if value < 0 else str(value)


def sliding_picture(x, h):
    """Draw, as text, the flipped kernel h, shape (M,), under x, shape (N,), padded with
    M - 1 zeros on each side: the first line is the padded signal, then one line per
    step i of the slide, labelled with i, holding the values of h in reverse order.
    Returns the lines.

    >>> for line in sliding_picture(np.array([3, 4]), np.array([2, 1])):
    ...     print(line)
    x padded:           0  3  4  0
    i = 0, h flipped:   1  2
    i = 1, h flipped:      1  2
    i = 2, h flipped:         1  2
    """
    padded = pad_with_zeros(x, len(h))
    steps = len(padded) - len(h) + 1
    width = max(len(str(v)) for v in np.concatenate([padded, h])) + 2
    labels = ["x padded:"] + [f"i = {i}, h flipped:" for i in range(steps)]
    label_width = max(len(label) for label in labels) + 1
    flipped = "".join(str(v).rjust(width) for v in h[::-1])
    rows = ["".join(str(v).rjust(width) for v in padded)] + [" " * (width * i) + flipped for i in range(steps)]
    return [label.ljust(label_width) + row for label, row in zip(labels, rows)]


def draw_cells(ax, left, row, values, style, gids=None):
    """Draw `values`, shape (length,), as a row of numbered cells on `ax`, the first cell's
    left edge at `left` and its top at `row`; an empty string leaves a cell blank.
    The texts get the ids in `gids`, one per value, if given."""
    for k, value in enumerate(values):
        ax.add_patch(
            Rectangle(
                (left + k, row - 0.8),
                1,
                0.8,
                facecolor=style["facecolor"],
                edgecolor=style["edgecolor"],
                hatch=style["hatch"],
                linewidth=1.2,
            )
        )
        text = ax.text(left + k + 0.5, row - 0.4, str(value), ha="center", va="center", fontsize=11,
                       color=style["text"])
        if gids is not None:
            text.set_gid(gids[k])


def draw_step(ax, x, h, i, top, show_terms=False):
    """Draw step i of the 'full' convolution x ⊛ h on `ax`, its top at `top`: x, shape
    (N,), padded with M - 1 zeros, the window the kernel covers outlined in red, the
    flipped kernel h, shape (M,), under that window; to the right, the output y with
    y[0] to y[i] filled in and y[i] outlined, and under it the sum that gives y[i].

    Cells are one unit wide, the padded signal starts at 0 and the output at
    len(padded) + 1. The output's texts have the ids "y{i}[0]", "y{i}[1]", ...; the
    sum has the id "sum{i}"."""
    M = len(h)
    padded = pad_with_zeros(x, M)
    full = convolve1d(x, h, "full")
    for k, value in enumerate(padded):
        draw_cells(ax, k, top, [value], SIGNAL_STYLE if M - 1 <= k < M - 1 + len(x) else PADDING_STYLE)
    ax.add_patch(Rectangle((i, top - 0.8), M, 0.8, fill=False, edgecolor=lessonkit.COLOURS["window"], linewidth=3))
    draw_cells(ax, i, top - 0.9, h[::-1], KERNEL_STYLE)
    output_left = len(padded) + 1
    for k, value in enumerate(full):
        filled = k <= i
        draw_cells(ax, output_left + k, top, [value if filled else ""], OUTPUT_STYLE if filled else EMPTY_STYLE,
                   gids=[f"y{i}[{k}]"])
    ax.add_patch(Rectangle((output_left + i, top - 0.8), 1, 0.8, fill=False,
                           edgecolor=lessonkit.COLOURS["window"], linewidth=3))
    ax.text(-0.3, top - 0.4, f"i = {i}:  x", ha="right", va="center", fontsize=11)
    ax.text(-0.3, top - 1.3, "h flipped", ha="right", va="center", fontsize=11)
    ax.text(output_left, top - 1.3, step_equation(x, h, i, show_terms), va="center", fontsize=11, gid=f"sum{i}")


def sliding_axes(fig, x, h, rows):
    """One axes on `fig` in cell units for `rows` steps of draw_step, with the column
    headings over the padded signal and the output. Returns the axes."""
    padded_length = len(x) + 2 * (len(h) - 1)
    output_left = padded_length + 1
    ax = fig.add_axes((0, 0, 1, 0.93 if rows > 1 else 0.8))
    ax.set_xlim(-4.2, output_left + len(x) + len(h) + 0.8)
    ax.set_ylim(-2.1 * rows + 0.3, 1.0)
    ax.set_axis_off()
    ax.text(padded_length / 2, 0.4, f"x padded with M - 1 = {len(h) - 1} zeros (grey)", ha="center", fontsize=11)
    ax.text(output_left + (len(x) + len(h) - 1) / 2, 0.4, "y = x ⊛ h, filled in step by step", ha="center",
            fontsize=11)
    return ax


def sliding_figure(x, h):
    """Every step of the 'full' convolution y = x ⊛ h of x, shape (N,), with h, shape
    (M,), one under the other (see draw_step): the output fills in as the flipped
    kernel slides. Returns the matplotlib Figure."""
    steps = len(x) + len(h) - 1
    fig = plt.figure(figsize=(8.8, 0.9 + 0.72 * steps))
    ax = sliding_axes(fig, x, h, steps)
    for i in range(steps):
        draw_step(ax, x, h, i, top=-2.1 * i)
    fig.suptitle(f"x = {x} ⊛ h = {h}: the flipped kernel {h[::-1]} slides along x", fontsize=12, y=0.995)
    return fig


def sliding_playground(x, h, i):
    """Step i of the 'full' convolution y = x ⊛ h, drawn as in the lesson's sliding
    figure, with y[i] written out as its terms, products and sum. x and h are
    sequences of numbers or text such as "2 0 1 8" (see parse_signal); i runs from 0
    to N + M - 2. Returns the matplotlib Figure (not registered with pyplot, so a
    notebook shows it once). Bad input raises ValueError with a one-line message.

    >>> fig = sliding_playground("2 0 1 8 6 7", "1 1 1", 4)
    >>> [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "sum4"]
    ['y[4] = x[2]·h[2] + x[3]·h[1] + x[4]·h[0] = 1·1 + 8·1 + 6·1 = 1 + 8 + 6 = 15']
    """
    x = parse_signal(x, "x") if isinstance(x, str) else as_signal(x, "x")
    h = parse_signal(h, "h") if isinstance(h, str) else as_signal(h, "h")
    check_example(x, h)
    last = len(x) + len(h) - 2
    if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
        raise ValueError(f"i must be a whole number from 0 to {last}, got {i!r}")
    if not 0 <= i <= last:
        raise ValueError(f"i = {i} is outside 0 to {last}, the output indices of 'full' for N = {len(x)} "
                         f"and M = {len(h)}")
    fig = matplotlib.figure.Figure(figsize=(8.8, 2.4))
    ax = sliding_axes(fig, x, h, 1)
    draw_step(ax, x, h, i, top=0, show_terms=True)
    ax.set_ylim(-2.6, 1.0)
    fig.suptitle(f"Step {i} of {last + 1}: x = {x} ⊛ h = {h}", fontsize=12)
    return fig


def interactive_playground():
    """In a notebook: text boxes for x and h and a slider for the step i, driving
    sliding_playground. Needs ipywidgets."""
    import ipywidgets

    x_box = ipywidgets.Text(value=" ".join(map(str, STEP)), description="x")
    h_box = ipywidgets.Text(value=" ".join(map(str, MOVING_SUM)), description="h")
    slider = ipywidgets.IntSlider(value=0, min=0, max=len(STEP) + len(MOVING_SUM) - 2, description="i")

    def follow_lengths(_):
        try:
            last = len(parse_signal(x_box.value, "x")) + len(parse_signal(h_box.value, "h")) - 2
        except ValueError:
            return
        slider.max = last

    x_box.observe(follow_lengths, names="value")
    h_box.observe(follow_lengths, names="value")
    return ipywidgets.interact(sliding_playground, x=x_box, h=h_box, i=slider)


def modes_figure(x, h):
    """The signal x, shape (N,), the kernel h, shape (M,), no longer than x, and the
    three outputs of x ⊛ h drawn as cells, each output value under the window it
    comes from, the padding zeros hatched and the values a mode drops left blank.
    Returns the matplotlib Figure."""
    N, M = len(x), len(h)
    full = convolve1d(x, h, "full")
    zeros = [0] * (M - 1)
    fig, ax = plt.subplots(figsize=(8.8, 5.4))
    fig.subplots_adjust(left=0, right=1, bottom=0, top=0.92)
    rows = {"x": 9.6, "h": 8.6, "padded": 7.1, "slides": 6.2}
    draw_cells(ax, M - 1, rows["x"], x, SIGNAL_STYLE)
    draw_cells(ax, M - 1, rows["h"], h, KERNEL_STYLE)
    draw_cells(ax, 0, rows["padded"], zeros, PADDING_STYLE)
    draw_cells(ax, M - 1, rows["padded"], x, SIGNAL_STYLE)
    draw_cells(ax, M - 1 + N, rows["padded"], zeros, PADDING_STYLE)
    draw_cells(ax, 0, rows["slides"], h[::-1], KERNEL_STYLE)
    labels = {"x": f"signal x (N = {N})", "h": f"kernel h (M = {M})", "padded": "x padded with zeros",
              "slides": "h flipped, slides along it"}
    for name, row in rows.items():
        ax.text(-0.5, row - 0.4, labels[name], ha="right", va="center", fontsize=11)
    ax.annotate("", xy=(M + 2, 5.8), xytext=(M + 0.2, 5.8), arrowprops={"arrowstyle": "->", "lw": 1.5})
    for mode, row in zip(MODES, (4.6, 3.4, 2.2)):
        kept = centre(np.arange(len(full)), output_length(N, M, mode))
        for k, value in enumerate(full):
            draw_cells(ax, k + (M - 1) / 2, row, [value], OUTPUT_STYLE if k in kept else EMPTY_STYLE)
        ax.text(-0.5, row - 0.4, f"'{mode}': {len(kept)} values", ha="right", va="center", fontsize=11)
    draw_cells(ax, -6.5, 0.9, [0], PADDING_STYLE)
    ax.text(-5.3, 0.5, "a padding zero", va="center", fontsize=11)
    draw_cells(ax, 0, 0.9, [full[0]], EMPTY_STYLE)
    ax.text(1.2, 0.5, "a value of 'full' that the mode drops", va="center", fontsize=11)
    ax.set_xlim(-7, len(full) + M)
    ax.set_ylim(0, 10)
    ax.set_axis_off()
    ax.set_title("x ⊛ h: each output sits under the window it comes from;\n'same' and 'valid' are the centre "
                 "of 'full', and 'valid' uses no padding", fontsize=12)
    return fig


def print_check(name, ours, theirs):
    """Print our result and NumPy's, both 1-D arrays, and whether values and dtype agree."""
    print(f"  ours:        {ours}")
    print(f"  {name + ':':13}{theirs}")
    print(f"  ours == {name}: {np.array_equal(ours, theirs) and ours.dtype == theirs.dtype}")


def one_d_convolution_with_numpy(figures, x=STEP, h=MOVING_SUM):
    """README: "1-D convolution with NumPy". The formula, a moving average worked by hand
    step by step and checked against np.convolve, and a difference kernel that finds
    the step. Another signal x, shape (N,), and kernel h, shape (M,), replace the
    lesson's in the step-by-step slide."""
    lessonkit.heading("1-D convolution with NumPy")
    ours = not (np.array_equal(x, STEP) and np.array_equal(h, MOVING_SUM))
    print("y = x ⊛ h, the convolution of a signal x (N values) with a kernel h (M values):")
    print(f"  {FORMULA}")
    print("summed over every m where both x[m] and h[i - m] exist; · is ordinary multiplication.")
    if ours:
        print(f"x = {x} (N = {len(x)}), h = {h} (M = {len(h)}), from the command line")
    else:
        print(f"x = {x} (N = {len(x)}), a noisy step: about 1, then about 7")
        print(f"h = {h} (M = {len(h)}): each output adds three neighbouring values")
    print(f"Flip h, slide it along x padded with M - 1 = {len(h) - 1} zeros on each side, and at each step i")
    print("multiply the values that line up and add the products:")
    print()
    picture = sliding_picture(x, h)
    print(f"  {picture[0]}")
    for i, row in enumerate(picture[1:]):
        print(f"  {row.ljust(len(picture[0]) + 3)}{step_equation(x, h, i)}")
    print()
    print("y = x ⊛ h:")
    print_check("np.convolve", convolve1d(x, h), np.convolve(x, h))
    figures.add("1d_sliding", sliding_figure(x, h))
    x, h = STEP, MOVING_SUM
    if ours:
        print()
        print(f"The lesson's example: the noisy step x = {x} and the moving sum h = {h}.")
    print()
    inside = convolve1d(x, h, "valid")
    average = np.convolve(x, h / len(h), "valid")
    print(f"Where h lies wholly on x (i = {len(h) - 1} to {len(x) - 1}) y = {inside}; divided by M = {len(h)}, "
          f"the moving average:")
    print(f"  np.convolve(x, h / {len(h)}, 'valid') = {np.round(average, 6)}")
    print(f"  y / {len(h)} == np.convolve(x, h / {len(h)}, 'valid'): {np.allclose(inside / len(h), average)}")
    low, high = x[: len(x) // 2], x[len(x) // 2 :]
    print(f"The noisy {low} averages to {low.mean():g}, the noisy {high} to {high.mean():g}; the jump between "
          f"them becomes a ramp.")
    print()
    d = DIFFERENCE
    differences = convolve1d(x, d, "valid")
    where = int(np.argmax(differences)) + len(d) - 1
    print(f"h = {d}, flipped {d[::-1]}: y[i] = x[i] - x[i - 1], a value minus its left neighbour.")
    print(f"  where it lies wholly on x: {differences}")
    print(f"  np.convolve(x, {d}, 'valid') == ours: {np.array_equal(differences, np.convolve(x, d, 'valid'))}")
    print(f"  the largest, {differences.max()}, is y[{where}] = x[{where}] - x[{where - 1}] = {x[where]} - "
          f"{x[where - 1]}: the step")


def output_size_full_same_and_valid(figures):
    """README: "Output size: full, same and valid". The length of each mode, worked out
    for the lesson's signal and kernel, checked against np.convolve."""
    lessonkit.heading("Output size: full, same and valid")
    x, h = STEP, MOVING_SUM
    N, M = len(x), len(h)
    rules = {
        "full": f"N + M - 1 = {N} + {M} - 1 = {N + M - 1}",
        "same": f"N = {N}, the signal's",
        "valid": f"N - M + 1 = {N} - {M} + 1 = {N - M + 1}",
    }
    print(f"x = {x} (N = {N}), h = {h} (M = {M})")
    for mode in MODES:
        print()
        print(f"{mode}: length {rules[mode]}")
        print_check("np.convolve", convolve1d(x, h, mode), np.convolve(x, h, mode))


def same_is_the_centre_of_full(figures):
    """README: "'same' is the centre of 'full'". Where 'same' and 'valid' sit inside
    'full'."""
    lessonkit.heading("'same' is the centre of 'full'")
    x, h = STEP, MOVING_SUM
    full = convolve1d(x, h, "full")
    print(f"x = {x}, h = {h}")
    print(f"full = {full} has {len(full)} values")
    for mode in ("same", "valid"):
        length = output_length(len(x), len(h), mode)
        start = (len(full) - length) // 2
        numpy_part = np.convolve(x, h, mode)
        print(f"'{mode}' keeps {length}, starting at ({len(full)} - {length}) // 2 = {start}:")
        print(f"  full[{start}:{start + length}] = {full[start:start + length]}")
        print(f"  np.convolve(x, h, '{mode}') = {numpy_part}")
        print(f"  full[{start}:{start + length}] == np.convolve(x, h, '{mode}'): "
              f"{np.array_equal(full[start:start + length], numpy_part)}")
    same = np.convolve(x, h, "same")
    print(f"not the first {len(same)} values: full[:{len(same)}] == np.convolve(x, h, 'same'): "
          f"{np.array_equal(full[:len(same)], same)}")
    print("With M = 3 taps, same[i] = x[i-1]·h[2] + x[i]·h[1] + x[i+1]·h[0]: the middle tap h[1] sits on x[i]")
    print("(x is 0 beyond its ends), while full[i] = x[i-2]·h[2] + x[i-1]·h[1] + x[i]·h[0] lags one place behind.")
    figures.add("1d_modes", modes_figure(x, h))


def convolution_and_cross_correlation_in_1d(figures):
    """README: "Convolution and cross-correlation in 1-D". np.correlate is the same
    sliding sum without the flip: convolution with the kernel reversed."""
    lessonkit.heading("Convolution and cross-correlation in 1-D")
    x, h = STEP, RECENT_FIRST
    print(f"x = {x}, h = {h}, not its own flip {h[::-1]}")
    print(f"np.convolve(x, h)           = {np.convolve(x, h)}")
    print(f"np.correlate(x, h, 'full')  = {np.correlate(x, h, 'full')}")
    print(f"convolve1d(x, h[::-1])      = {convolve1d(x, h[::-1])}")
    for mode in MODES:
        agree = np.array_equal(np.correlate(x, h, mode), convolve1d(x, h[::-1], mode))
        print(f"{mode}: np.correlate(x, h) == convolve1d(x, h[::-1]): {agree}")
    valid = convolve1d(x, h, "valid")
    print(f"valid convolution:  y[i] = 3·x[i] + 2·x[i-1] + 1·x[i-2] = {valid}, the newest value weighs most")
    print(f"valid correlation:  3·x[i] + 2·x[i+1] + 1·x[i+2] = {np.correlate(x, h, 'valid')}, the earliest weighs most")


def kernels_longer_than_the_signal(figures):
    """README: "Kernels longer than the signal" (in the conventions). np.convolve swaps
    the inputs; 'same' follows the longer one; np.correlate's 'same' leans right of
    the centre when the shorter length is even."""
    lessonkit.heading("Kernels longer than the signal")
    x, h = np.array([6, 2]), np.array([1, 2, 5, 4])
    N, M = len(x), len(h)
    rules = {
        "full": f"N + M - 1 = {N} + {M} - 1 = {N + M - 1}",
        "same": f"max(N, M) = max({N}, {M}) = {max(N, M)}",
        "valid": f"max(N, M) - min(N, M) + 1 = {max(N, M)} - {min(N, M)} + 1 = {max(N, M) - min(N, M) + 1}",
    }
    print(f"x = {x} (N = {N}), h = {h} (M = {M})")
    print("np.convolve swaps them (x ⊛ h = h ⊛ x) and slides x along h; 'same' and 'valid' follow the longer input.")
    for mode in MODES:
        ours, theirs = convolve1d(x, h, mode), np.convolve(x, h, mode)
        print(f"{mode}: length {rules[mode]}: {theirs}, ours == np.convolve: "
              f"{np.array_equal(ours, theirs) and ours.dtype == theirs.dtype}")
    full = np.correlate(x, h, "full")
    length = max(N, M)
    start = (len(full) - length) // 2
    correlated = np.correlate(x, h, "same")
    flipped = convolve1d(x, h[::-1], "same")
    print(f"np.correlate(x, h, 'full')      = {full}")
    print(f"convolve1d(x, h[::-1], 'same')  = {flipped}   = full[{start}:{start + length}], the centre: "
          f"{np.array_equal(flipped, full[start:start + length])}")
    print(f"np.correlate(x, h, 'same')      = {correlated}   = full[{start + 1}:{start + 1 + length}], one place right: "
          f"{np.array_equal(correlated, full[start + 1:start + 1 + length])}")
    print("np.correlate's 'same' starts at min(N, M) // 2 when the kernel is the longer input, at")
    print("(min(N, M) - 1) // 2 otherwise; the two differ only when min(N, M) is even.")


def float16_added_up_in_float32(figures):
    """README: "float16: added up in float32" (in the conventions). NumPy adds float16
    products in float32 and rounds once; so does convolve1d."""
    lessonkit.heading("float16: added up in float32")
    x16, h16 = np.full(4, 1.001, dtype=np.float16), np.full(4, 0.3333, dtype=np.float16)
    print("In float16, NumPy adds the products in float32 and rounds once, at the end; so does convolve1d:")
    print(f"x = {x16}, h = {h16}")
    print_check("np.convolve", convolve1d(x16, h16), np.convolve(x16, h16))
    drifted = sum((x16[m] * h16[2 - m] for m in range(3)), np.float16(0))
    print(f"Rounded to float16 after every product and every addition, y[2] would be {drifted!s}, "
          f"not {convolve1d(x16, h16)[2]!s}.")


@lessonkit.lesson_main
def main(argv=None):
    args = lessonkit.parse_args(__doc__, argv, options={
        "--signal": ("NUMBERS", 'your signal x for the step-by-step slide, such as "1 2 3 4"'),
        "--kernel": ("NUMBERS", 'your kernel h for the step-by-step slide, such as "1 -1"'),
    })
    x, h = chosen_example(args.signal, args.kernel)
    figures = lessonkit.Figures(args)
    one_d_convolution_with_numpy(figures, x, h)
    output_size_full_same_and_valid(figures)
    same_is_the_centre_of_full(figures)
    convolution_and_cross_correlation_in_1d(figures)
    kernels_longer_than_the_signal(figures)
    float16_added_up_in_float32(figures)
    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
