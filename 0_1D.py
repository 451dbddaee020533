"""Convolution in one dimension, with NumPy.

The convolution y = x ⊛ h of a signal x (N values, x[0] to x[N-1]) with a kernel h
(M values) flips the kernel, slides it along the signal, multiplies the values that
line up and adds the products. For each output position i:

    y[i] = Σ_m x[m] · h[i - m]

summed over every m where both x[m] and h[i - m] exist (· is ordinary multiplication).

The lesson works one small example by hand, compares the three output sizes NumPy
offers ('full', 'same' and 'valid'), shows that 'same' and 'valid' are the centre of
'full', that np.correlate is the same sliding sum without the flip, and ends with the
corner case of a kernel longer than the signal. Each result is computed twice, by
our own convolve1d and by NumPy, and the two are compared.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

import lessonkit

MODES = ("full", "same", "valid")
FORMULA = "y[i] = Σ_m x[m] · h[i - m]"

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

    >>> centre(np.array([1, 4, 10, 16, 22, 22, 15]), 5)
    array([ 4, 10, 16, 22, 22])
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
    uses: integers stay exact integers, and float16 products are added up in
    float32 and rounded to float16 once, at the end. So the values and the dtype
    are those of np.convolve(x, h, mode).

    >>> convolve1d([3, 4, 5], [2, 1, 0])
    array([ 6, 11, 14,  5,  0])
    >>> convolve1d([6, 2], [1, 2, 5, 4], mode="valid")
    array([14, 34, 34])
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

    >>> step_equation(np.array([3, 4, 5]), np.array([2, 1, 0]), 1)
    'y[1] = x[0]·h[1] + x[1]·h[0] = 3·1 + 4·2 = 3 + 8 = 11'
    >>> step_equation(np.array([3, 4, 5]), np.array([2, 1, 0]), 1, show_terms=False)
    'y[1] = 3·1 + 4·2 = 3 + 8 = 11'
    """
    ms = [m for m in range(len(x)) if 0 <= i - m < len(h)]
    products = [x[m] * h[i - m] for m in ms]
    parts = [f"y[{i}]"]
    if show_terms:
        parts.append(" + ".join(f"x[{m}]·h[{i - m}]" for m in ms))
    parts.append(" + ".join(f"{x[m]}·{h[i - m]}" for m in ms))
    if len(products) > 1:
        parts.append(" + ".join(str(p) for p in products))
    parts.append(str(sum(products)))
    return " = ".join(parts)


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
    """The signal x, shape (N,), the kernel h, shape (M,), and the three outputs of
    x ⊛ h drawn as cells, each output value under the window it comes from, the
    padding zeros hatched and the values a mode drops left blank."""
    N, M = len(x), len(h)
    inputs = [("h", h, KERNEL_STYLE), ("x", x, SIGNAL_STYLE)]
    (shorter_name, shorter, shorter_style), (longer_name, longer, longer_style) = sorted(
        inputs, key=lambda named: len(named[1])
    )
    K = len(shorter)
    full = convolve1d(x, h, "full")
    zeros = [0] * (K - 1)
    fig, ax = plt.subplots(figsize=(10, 5.6))
    draw_cells(ax, K - 1, 9.6, x, SIGNAL_STYLE, f"signal x (N = {N})")
    draw_cells(ax, K - 1, 8.6, h, KERNEL_STYLE, f"kernel h (M = {M})")
    draw_cells(ax, 0, 7.1, zeros, PADDING_STYLE)
    draw_cells(ax, K - 1, 7.1, longer, longer_style)
    draw_cells(ax, K - 1 + len(longer), 7.1, zeros, PADDING_STYLE, f"{longer_name} padded with zeros")
    draw_cells(ax, 0, 6.2, shorter[::-1], shorter_style, f"{shorter_name} flipped, slides along it")
    ax.annotate("", xy=(K + 2, 5.8), xytext=(K + 0.2, 5.8), arrowprops={"arrowstyle": "->", "lw": 1.5})
    for mode, row in zip(MODES, (4.6, 3.4, 2.2)):
        kept = centre(np.arange(len(full)), output_length(N, M, mode))
        for i, value in enumerate(full):
            draw_cells(ax, i + (K - 1) / 2, row, [value], OUTPUT_STYLE if i in kept else DROPPED_STYLE)
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
    ax.set_xlim(-7, len(full) + K + 1)
    ax.set_ylim(-0.9, 10)
    ax.set_axis_off()
    ax.set_title(f"x ⊛ h for x = {x}, h = {h}: 'same' and 'valid' are the centre of 'full'", fontsize=12)
    fig.tight_layout()
    return fig


def sliding_figure(x, h):
    """One row per output y[i] of x ⊛ h: the flipped kernel h, shape (M,), under the
    signal x, shape (N,), padded with zeros, and the sum of products it gives."""
    M = len(h)
    padded = pad_with_zeros(x, M)
    steps = len(padded) - M + 1
    fig, ax = plt.subplots(figsize=(10, 1.0 + 1.45 * steps))
    for i in range(steps):
        top = 2 * (steps - i)
        for i, value in enumerate(padded):
            style = SIGNAL_STYLE if M - 1 <= i < M - 1 + len(x) else PADDING_STYLE
            draw_cells(ax, i, top, [value], style)
        ax.text(-0.4, top - 0.4, f"i = {i}:  x padded", ha="right", va="center", fontsize=11)
        ax.text(-0.4, top - 1.25, "h flipped", ha="right", va="center", fontsize=11)
        draw_cells(ax, i, top - 0.85, h[::-1], KERNEL_STYLE)
        ax.text(len(padded) + 0.5, top - 0.85, step_equation(x, h, i, show_terms=False), va="center", fontsize=11)
    ax.set_xlim(-3.5, len(padded) + 8)
    ax.set_ylim(0.2, 2 * steps + 0.3)
    ax.set_axis_off()
    ax.set_title(f"y = x ⊛ h: the flipped kernel {h[::-1]} slides along x = {x}, padded with zeros (hatched)",
                 fontsize=12)
    fig.tight_layout()
    return fig


def print_check(name, ours, theirs):
    """Print our result and NumPy's, both 1-D arrays, and whether values and dtype agree."""
    print(f"  ours:        {ours}")
    print(f"  {name + ':':13}{theirs}")
    print(f"  ours == {name}: {np.array_equal(ours, theirs) and ours.dtype == theirs.dtype}")


def one_d_convolution_with_numpy(figures):
    """README: "1-D convolution with NumPy". The formula, and one example worked by
    hand, step by step, checked against np.convolve."""
    lessonkit.heading("1-D convolution with NumPy")
    x, h = np.array([3, 4, 5]), np.array([2, 1, 0])
    print("y = x ⊛ h, the convolution of a signal x (N values) with a kernel h (M values):")
    print(f"  {FORMULA}")
    print("summed over every m where both x[m] and h[i - m] exist; · is ordinary multiplication.")
    print(f"x = {x} (N = {len(x)}), h = {h} (M = {len(h)})")
    reversed_taps = " ".join(f"h[{k}]" for k in range(len(h) - 1, -1, -1))
    print(f"Flip h to {h[::-1]} (that is {reversed_taps}) and slide it along x, padded with")
    print(f"M - 1 = {len(h) - 1} zeros on each side.")
    print("At each step i, multiply the values that line up and add the products:")
    print()
    picture = sliding_picture(x, h)
    print(f"  {picture[0]}")
    for i, row in enumerate(picture[1:]):
        print(f"  {row.ljust(len(picture[0]) + 3)}{step_equation(x, h, i)}")
    print()
    print("y = x ⊛ h:")
    print_check("np.convolve", convolve1d(x, h), np.convolve(x, h))
    x16, h16 = np.full(4, 1.001, dtype=np.float16), np.full(4, 0.3333, dtype=np.float16)
    print("In float16, NumPy adds the products in float32 and rounds once, at the end; so does convolve1d:")
    print(f"x = {x16}, h = {h16}")
    print_check("np.convolve", convolve1d(x16, h16), np.convolve(x16, h16))
    drifted = sum((x16[m] * h16[2 - m] for m in range(3)), np.float16(0))
    print(f"Rounded to float16 after every product and every addition, y[2] would be {drifted!s}, "
          f"not {convolve1d(x16, h16)[2]!s}.")
    figures.add("1d_sliding", sliding_figure(x, h))


def output_size_full_same_and_valid(figures):
    """README: "Output size: full, same and valid". The length of each mode, worked out
    for a kernel longer than the signal, checked against np.convolve."""
    lessonkit.heading("Output size: full, same and valid")
    x, h = np.array([6, 2]), np.array([1, 2, 5, 4])
    N, M = len(x), len(h)
    rules = {
        "full": f"N + M - 1 = {N} + {M} - 1 = {N + M - 1}",
        "same": f"max(N, M) = max({N}, {M}) = {max(N, M)}",
        "valid": f"max(N, M) - min(N, M) + 1 = {max(N, M)} - {min(N, M)} + 1 = {max(N, M) - min(N, M) + 1}",
    }
    print(f"x = {x} (N = {N}), h = {h} (M = {M})")
    print("The kernel is longer than the signal, so np.convolve swaps them (x ⊛ h = h ⊛ x) and slides x along h.")
    print("The full result is the same either way; 'same' and 'valid' follow the longer input.")
    for mode in MODES:
        print()
        print(f"{mode}: length {rules[mode]}")
        print_check("np.convolve", convolve1d(x, h, mode), np.convolve(x, h, mode))


def same_is_the_centre_of_full(figures):
    """README: "'same' is the centre of 'full'". Where 'same' and 'valid' sit inside
    'full', on an example where the centre is not the start."""
    lessonkit.heading("'same' is the centre of 'full'")
    print("'same' keeps max(N, M) values from the middle of 'full', starting at (len(full) - len(same)) // 2.")
    x, h = np.array([6, 2]), np.array([1, 2, 5, 4])
    full = convolve1d(x, h, "full")
    print(f"For x = {x} and h = {h} that start is ({len(full)} - {max(len(x), len(h))}) // 2 = 0, so 'same'")
    print("happens to be the first values of 'full'. Not so here:")
    print()
    x, h = np.array([1, 2, 3, 4, 5]), np.array([1, 2, 3])
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
    print(f"the first {len(same)} values, full[:{len(same)}] = {full[:len(same)]}")
    print(f"full[:{len(same)}] == np.convolve(x, h, 'same'): {np.array_equal(full[:len(same)], same)}")
    print("With M = 3 taps, same[i] = x[i-1]·h[2] + x[i]·h[1] + x[i+1]·h[0]: the middle tap h[1] sits on x[i]")
    print("(x is 0 beyond its ends), while full[i] = x[i-2]·h[2] + x[i-1]·h[1] + x[i]·h[0] lags one place behind.")
    figures.add("1d_modes", modes_figure(x, h))


def convolution_and_cross_correlation_in_1d(figures):
    """README: "Convolution and cross-correlation in 1-D". np.correlate is the same
    sliding sum without the flip: convolution with the kernel reversed."""
    lessonkit.heading("Convolution and cross-correlation in 1-D")
    print("np.correlate slides h along x without flipping it, so it equals convolution with h flipped.")
    x, h = np.array([3, 4, 5]), np.array([2, 1, 0])
    print(f"x = {x}, h = {h}")
    print(f"np.convolve(x, h)           = {np.convolve(x, h)}")
    print(f"np.correlate(x, h, 'full')  = {np.correlate(x, h, 'full')}")
    print(f"convolve1d(x, h[::-1])      = {convolve1d(x, h[::-1])}   (h flipped: {h[::-1]})")
    for mode in MODES:
        agree = np.array_equal(np.correlate(x, h, mode), convolve1d(x, h[::-1], mode))
        print(f"{mode}: np.correlate(x, h) == convolve1d(x, h[::-1]): {agree}")


def corner_case_a_kernel_longer_than_the_signal(figures):
    """README: "Corner case: a kernel longer than the signal". np.correlate's 'same'
    then leans right of the centre when the signal's length is even."""
    lessonkit.heading("Corner case: a kernel longer than the signal")
    x, h = np.array([6, 2]), np.array([1, 2, 5, 4])
    N, M = len(x), len(h)
    full = np.correlate(x, h, "full")
    length = max(N, M)
    start = (len(full) - length) // 2
    correlated = np.correlate(x, h, "same")
    flipped = convolve1d(x, h[::-1], "same")
    print(f"x = {x} (N = {N}), h = {h} (M = {M}): min(N, M) = {min(N, M)} is even.")
    print(f"np.correlate(x, h, 'full')      = {full}")
    print(f"convolve1d(x, h[::-1], 'same')  = {flipped}   = full[{start}:{start + length}], the centre: "
          f"{np.array_equal(flipped, full[start:start + length])}")
    print(f"np.correlate(x, h, 'same')      = {correlated}   = full[{start + 1}:{start + 1 + length}], one place right: "
          f"{np.array_equal(correlated, full[start + 1:start + 1 + length])}")
    print("np.correlate's 'same' starts at min(N, M) // 2 when the kernel is the longer input, at")
    print("(min(N, M) - 1) // 2 otherwise; the two differ only when min(N, M) is even.")


@lessonkit.lesson_main
def main(argv=None):
    args = lessonkit.parse_args(__doc__, argv)
    figures = lessonkit.Figures(args)
    one_d_convolution_with_numpy(figures)
    output_size_full_same_and_valid(figures)
    same_is_the_centre_of_full(figures)
    convolution_and_cross_correlation_in_1d(figures)
    corner_case_a_kernel_longer_than_the_signal(figures)
    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
