"""Convolution in one dimension, with NumPy.

A convolution flips a kernel h, slides it along a signal x, multiplies the values
that overlap and adds them up:

    y[n] = sum over k of x[k] * h[n - k]

The lesson works one small example by hand, then compares the three output sizes
NumPy offers ('full', 'same' and 'valid'), shows that 'same' is the centre of
'full', and that np.correlate is the same sliding sum without the flip. Each result
is computed twice, by our own convolve1d and by NumPy, and the two are compared.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

import lessonkit

MODES = ("full", "same", "valid")

PADDING_STYLE = {"facecolor": "#eeeeee", "edgecolor": "#999999", "hatch": "///", "text": "#888888"}
SIGNAL_STYLE = {"facecolor": "#cfe2f3", "edgecolor": "#333333", "hatch": None, "text": "black"}
KERNEL_STYLE = {"facecolor": "#fce5cd", "edgecolor": "#333333", "hatch": None, "text": "black"}
OUTPUT_STYLE = {"facecolor": "#d9ead3", "edgecolor": "#333333", "hatch": None, "text": "black"}
DROPPED_STYLE = {"facecolor": "white", "edgecolor": "#bbbbbb", "hatch": None, "text": "#bbbbbb"}


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


def output_length(N, M, mode):
    """The length of the convolution of a length-N signal with a length-M kernel.

    'full' keeps every position where the two overlap at all: N + M - 1.
    'same' is as long as the longer input: max(N, M).
    'valid' keeps the positions where the shorter input lies wholly inside the
    longer one: max(N, M) - min(N, M) + 1.

    Only the longer and the shorter length matter, not which one is the kernel:
    np.convolve swaps its two arguments when the kernel is the longer one.

    >>> [output_length(2, 4, mode) for mode in MODES]
    [5, 4, 3]
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

    >>> centre(np.array([1, 3, 6, 9, 12, 9, 5]), 5)
    array([ 3,  6,  9, 12,  9])
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
    """Convolve the signal x, shape (N,), with the kernel h, shape (M,).

    Flip h, pad x with M - 1 zeros on each side, slide the flipped kernel along it
    one step at a time, and at each step multiply the values that line up and sum
    them. That gives 'full', shape (N + M - 1,); 'same' and 'valid' are its centre
    (see output_length for their sizes). The values and the dtype are those of
    np.convolve(x, h, mode): integers stay exact integers. If h is longer than x,
    np.convolve swaps them; the full result is the same either way (x * h = h * x),
    and the sizes of 'same' and 'valid' follow the longer input, as here.

    >>> convolve1d([3, 4, 5], [2, 1, 0])
    array([ 6, 11, 14,  5,  0])
    >>> convolve1d([6, 2], [1, 2, 5, 4], mode="valid")
    array([14, 34, 34])
    """
    x = as_signal(x, "x")
    h = as_signal(h, "h")
    length = output_length(len(x), len(h), mode)
    M = len(h)
    flipped = h[::-1]
    padded = pad_with_zeros(x, M)
    full = np.zeros(len(padded) - M + 1, dtype=np.result_type(x, h))
    for n in range(len(full)):
        window = padded[n:n + M]
        products = window * flipped
        full[n] = products.sum(dtype=full.dtype)
    return centre(full, length)


def step_equation(x, h, n, show_terms=True):
    """The sum y[n] = sum over k of x[k] * h[n - k] written out for x, shape (N,), and
    h, shape (M,): the terms where both exist (if `show_terms`), the products, the total.

    >>> step_equation(np.array([3, 4, 5]), np.array([2, 1, 0]), 1)
    'y[1] = x[0]*h[1] + x[1]*h[0] = 3*1 + 4*2 = 3 + 8 = 11'
    >>> step_equation(np.array([3, 4, 5]), np.array([2, 1, 0]), 1, show_terms=False)
    'y[1] = 3*1 + 4*2 = 3 + 8 = 11'
    """
    ks = [k for k in range(len(x)) if 0 <= n - k < len(h)]
    products = [x[k] * h[n - k] for k in ks]
    parts = [f"y[{n}]"]
    if show_terms:
        parts.append(" + ".join(f"x[{k}]*h[{n - k}]" for k in ks))
    parts.append(" + ".join(f"{x[k]}*{h[n - k]}" for k in ks))
    if len(products) > 1:
        parts.append(" + ".join(str(p) for p in products))
    parts.append(str(sum(products)))
    return " = ".join(parts)


def sliding_picture(x, h):
    """Draw, as text, the flipped kernel h, shape (M,), under x, shape (N,), padded with
    M - 1 zeros on each side: the first line is the padded signal, then one line per
    step n of the slide, labelled with n, holding the values of h in reverse order.
    Returns the lines.

    >>> for line in sliding_picture(np.array([3, 4]), np.array([2, 1])):
    ...     print(line)
    x padded:           0  3  4  0
    n = 0, h flipped:   1  2
    n = 1, h flipped:      1  2
    n = 2, h flipped:         1  2
    """
    padded = pad_with_zeros(x, len(h))
    steps = len(padded) - len(h) + 1
    width = max(len(str(v)) for v in np.concatenate([padded, h])) + 2
    labels = ["x padded:"] + [f"n = {n}, h flipped:" for n in range(steps)]
    label_width = max(len(label) for label in labels) + 1
    flipped = "".join(str(v).rjust(width) for v in h[::-1])
    rows = ["".join(str(v).rjust(width) for v in padded)] + [" " * (width * n) + flipped for n in range(steps)]
    return [label.ljust(label_width) + row for label, row in zip(labels, rows)]


def draw_cells(ax, left, row, values, style, label=None):
    """Draw `values`, shape (length,), as a row of numbered cells on `ax`, the first cell's
    left edge at `left` and its top at `row`; `label` goes to the left of the row."""
    for i, value in enumerate(values):
        ax.add_patch(
            Rectangle(
                (left + i, row - 0.8),
                1,
                0.8,
                facecolor=style["facecolor"],
                edgecolor=style["edgecolor"],
                hatch=style["hatch"],
                linewidth=1.2,
            )
        )
        ax.text(left + i + 0.5, row - 0.4, str(value), ha="center", va="center", fontsize=12, color=style["text"])
    if label is not None:
        ax.text(-1.7, row - 0.4, label, ha="right", va="center", fontsize=11)


def modes_figure(x, h):
    """The signal x, shape (N,), the kernel h, shape (M,), and the three outputs of their
    convolution drawn as cells, with the padding zeros hatched."""
    N, M = len(x), len(h)
    inputs = [("h", h, KERNEL_STYLE), ("x", x, SIGNAL_STYLE)]
    (shorter_name, shorter, shorter_style), (longer_name, longer, longer_style) = sorted(
        inputs, key=lambda named: len(named[1])
    )
    full = convolve1d(x, h, "full")
    zeros = [0] * (len(shorter) - 1)
    fig, ax = plt.subplots(figsize=(10, 5.6))
    draw_cells(ax, 1, 9.6, x, SIGNAL_STYLE, f"signal x (N = {N})")
    draw_cells(ax, 1, 8.6, h, KERNEL_STYLE, f"kernel h (M = {M})")
    draw_cells(ax, 0, 7.1, zeros, PADDING_STYLE)
    draw_cells(ax, len(zeros), 7.1, longer, longer_style)
    draw_cells(ax, len(zeros) + len(longer), 7.1, zeros, PADDING_STYLE, f"{longer_name} padded with zeros")
    draw_cells(ax, 0, 6.2, shorter[::-1], shorter_style, f"{shorter_name} flipped, slides along it")
    ax.annotate(
        "", xy=(len(shorter) + 2, 5.8), xytext=(len(shorter) + 0.2, 5.8), arrowprops={"arrowstyle": "->", "lw": 1.5}
    )
    for mode, row in zip(MODES, (4.6, 3.4, 2.2)):
        kept = centre(np.arange(len(full)), output_length(N, M, mode))
        for n, value in enumerate(full):
            draw_cells(ax, 0.5 + n, row, [value], OUTPUT_STYLE if n in kept else DROPPED_STYLE)
        ax.text(-1.7, row - 0.4, f"'{mode}': {len(kept)} values", ha="right", va="center", fontsize=11)
    draw_cells(ax, -6.5, 0.9, [0], PADDING_STYLE)
    ax.text(-5.3, 0.5, "padding zero", va="center", fontsize=10)
    draw_cells(ax, -1.5, 0.9, [""], DROPPED_STYLE)
    ax.text(-0.3, 0.5, "a value of 'full' that the mode drops", va="center", fontsize=10)
    ax.text(
        -6.5,
        -0.4,
        "Each output sits under the window it comes from; 'valid' keeps only windows without padding.",
        va="center",
        fontsize=10,
    )
    ax.set_xlim(-7, len(full) + 3)
    ax.set_ylim(-0.9, 10)
    ax.set_axis_off()
    ax.set_title(f"x = {x} convolved with h = {h}: 'same' and 'valid' are the centre of 'full'", fontsize=12)
    fig.tight_layout()
    return fig


def sliding_figure(x, h):
    """One row per output y[n]: the flipped kernel h, shape (M,), under the signal x,
    shape (N,), padded with zeros, and the sum of products it gives."""
    M = len(h)
    padded = pad_with_zeros(x, M)
    steps = len(padded) - M + 1
    fig, ax = plt.subplots(figsize=(10, 1.0 + 1.45 * steps))
    for n in range(steps):
        top = 2 * (steps - n)
        for i, value in enumerate(padded):
            style = SIGNAL_STYLE if M - 1 <= i < M - 1 + len(x) else PADDING_STYLE
            draw_cells(ax, i, top, [value], style)
        ax.text(-0.4, top - 0.4, f"n = {n}:  x padded", ha="right", va="center", fontsize=11)
        ax.text(-0.4, top - 1.25, "h flipped", ha="right", va="center", fontsize=11)
        draw_cells(ax, n, top - 0.85, h[::-1], KERNEL_STYLE)
        ax.text(len(padded) + 0.5, top - 0.85, step_equation(x, h, n, show_terms=False), va="center", fontsize=11)
    ax.set_xlim(-3.5, len(padded) + 8)
    ax.set_ylim(0.2, 2 * steps + 0.3)
    ax.set_axis_off()
    ax.set_title(f"Sliding the flipped kernel {h[::-1]} along x = {x}, padded with zeros (hatched)", fontsize=12)
    fig.tight_layout()
    return fig


def by_hand(x, h):
    """Print the convolution of x, shape (N,), with h, shape (M,), one sliding step per line."""
    picture = sliding_picture(x, h)
    print("y[n] = sum over k of x[k] * h[n - k]")
    print(f"x = {x}, h = {h}")
    reversed_taps = " ".join(f"h[{k}]" for k in range(len(h) - 1, -1, -1))
    print(f"Flip h to {h[::-1]} (that is {reversed_taps}) and slide it along x, padded with")
    print(f"M - 1 = {len(h) - 1} zeros on each side.")
    print("At each step n, multiply the values that line up and add the products:")
    print()
    print(f"  {picture[0]}")
    for n, row in enumerate(picture[1:]):
        print(f"  {row.ljust(len(picture[0]) + 3)}{step_equation(x, h, n)}")
    print()
    print("y = x * h, where * means convolution:")
    print(f"  ours:        {convolve1d(x, h)}")
    print(f"  np.convolve: {np.convolve(x, h)}")
    print(f"  ours == np.convolve: {np.array_equal(convolve1d(x, h), np.convolve(x, h))}")


def compare_modes(x, h):
    """Print each mode's output length rule with the numbers of x, shape (N,), and h,
    shape (M,), and the output of ours next to np.convolve's."""
    N, M = len(x), len(h)
    rules = {
        "full": f"N + M - 1 = {N} + {M} - 1 = {N + M - 1}",
        "same": f"max(N, M) = max({N}, {M}) = {max(N, M)}",
        "valid": f"max(N, M) - min(N, M) + 1 = {max(N, M)} - {min(N, M)} + 1 = {max(N, M) - min(N, M) + 1}",
    }
    print(f"x = {x} (N = {N}), h = {h} (M = {M})")
    if M > N:
        print("The kernel is longer than the signal, so np.convolve swaps them and slides x along h.")
        print("The full result is the same either way; 'same' and 'valid' follow the longer input.")
    for mode in MODES:
        ours = convolve1d(x, h, mode)
        theirs = np.convolve(x, h, mode)
        print()
        print(f"{mode}: length {rules[mode]}")
        print(f"  ours:        {ours}")
        print(f"  np.convolve: {theirs}")
        print(f"  ours == np.convolve: {np.array_equal(ours, theirs)}")


def same_is_centre(x, h):
    """Print where 'same' sits inside 'full' for x, shape (N,), and h, shape (M,), checked
    against np.convolve, and compare it with the first max(N, M) values of 'full'."""
    full = convolve1d(x, h, "full")
    length = max(len(x), len(h))
    start = (len(full) - length) // 2
    numpy_same = np.convolve(x, h, "same")
    print(f"x = {x}, h = {h}")
    print(f"full = {full} has {len(full)} values; 'same' keeps {length}")
    print(f"'same' starts at (len(full) - len(same)) // 2 = ({len(full)} - {length}) // 2 = {start}")
    print(f"full[{start}:{start + length}] = {full[start:start + length]}")
    print(f"np.convolve(x, h, 'same') = {numpy_same}")
    print(f"full[{start}:{start + length}] == np.convolve(x, h, 'same'): {np.array_equal(full[start:start + length], numpy_same)}")
    print(f"the first {length} values, full[:{length}] = {full[:length]}")
    print(f"full[:{length}] == np.convolve(x, h, 'same'): {np.array_equal(full[:length], numpy_same)}")


def correlation(x, h):
    """Print np.correlate of x, shape (N,), and h, shape (M,), next to our convolution
    with h flipped, in each mode."""
    print(f"x = {x}, h = {h}")
    print(f"np.convolve(x, h)           = {np.convolve(x, h)}")
    print(f"np.correlate(x, h, 'full')  = {np.correlate(x, h, 'full')}")
    print(f"convolve1d(x, h[::-1])      = {convolve1d(x, h[::-1])}   (h flipped: {h[::-1]})")
    for mode in MODES:
        agree = np.array_equal(np.correlate(x, h, mode), convolve1d(x, h[::-1], mode))
        print(f"{mode}: np.correlate(x, h) == convolve1d(x, h[::-1]): {agree}")


@lessonkit.lesson_main
def main(argv=None):
    args = lessonkit.parse_args(__doc__, argv)
    figures = lessonkit.Figures(args)

    lessonkit.heading("Convolution by hand")
    x, h = np.array([3, 4, 5]), np.array([2, 1, 0])
    by_hand(x, h)
    figures.add("1d_sliding", sliding_figure(x, h))

    lessonkit.heading("Output size: full, same and valid")
    x, h = np.array([6, 2]), np.array([1, 2, 5, 4])
    compare_modes(x, h)
    figures.add("1d_modes", modes_figure(x, h))

    lessonkit.heading("'same' is the centre of 'full'")
    same_is_centre(x, h)
    print("Here the centre starts at 0, so 'same' happens to be the first values of 'full'. Not so here:")
    print()
    same_is_centre(np.array([1, 2, 3, 4, 5]), np.array([1, 1, 1]))
    print("With h = [1 1 1], same[n] = x[n-1] + x[n] + x[n+1]: each value is centred on x[n]")
    print("(taking 0 beyond the ends of x), while full[n] = x[n-2] + x[n-1] + x[n] lags behind it.")

    lessonkit.heading("Convolution and cross-correlation")
    print("np.correlate slides h along x without flipping it, so it equals convolution with h flipped.")
    correlation(np.array([3, 4, 5]), np.array([2, 1, 0]))
    print()
    x, h = np.array([6, 2]), np.array([1, 2, 5, 4])
    print(f"One corner: with a longer kernel and an even-length signal, as x = {x}, h = {h},")
    print("np.correlate takes the centre of 'full' one place further right than convolution with h flipped does:")
    print(f"  np.correlate(x, h, 'full') = {np.correlate(x, h, 'full')}")
    print(f"  np.correlate(x, h, 'same') = {np.correlate(x, h, 'same')}")
    print(f"  convolve1d(x, h[::-1], 'same') = {convolve1d(x, h[::-1], 'same')}")

    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
