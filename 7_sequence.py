"""Convolution over time.

A 1-D convolution slides along a sequence exactly as it slides along a row of pixels. This
lesson runs it on a real record, the carbon dioxide measured at Mauna Loa, Hawaii, month by
month from 1964 to 2001. A moving average over one year removes the yearly cycle, the kernel
[1, -1] gives the change from one month to the next, and a kernel's Fourier transform (its
frequency response) says which periods it keeps. Then Keras's Conv1D: its shapes, its
agreement with np.correlate, its output sizes, causal padding (the output at time t reads
nothing later than t), and stacks of dilated kernels that see far back with few weights, as
WaveNet does. Last, a small causal, dilated network forecasts the next month, measured against
simple baselines and the best linear filter on the same inputs.
"""

import csv
import importlib
from pathlib import Path

import numpy as np

import lessonkit

with lessonkit.tensorflow_start_up_quiet():
    import keras
    import tensorflow as tf

lesson_1d = importlib.import_module("0_1D")
lesson_tf = importlib.import_module("2_TensorFlow")

SERIES = lessonkit.data_path("co2_monthly.csv")
SEASON = 12  # steps in one season: 12 months make a year
SEED = 0
KERNEL_SIZE = 2  # taps of every layer of the forecaster
DILATIONS = (1, 2, 4, 8)  # one layer each, as in WaveNet's stacks
CHANNELS = 8  # feature maps of each hidden layer
TRAINING_STEPS = 300
LEARNING_RATE = 0.01  # Adam's step size
HELD_OUT = 0.15  # the last 15% of the series is kept for testing the forecasts
LINE_COLOURS = {"input": "#3d85c6", "kernel": "#e69138", "output": "#6aa84f", "other": "#666666"}


# Reading a series ------------------------------------------------------------------------------


def parse_series(lines, name="the series"):
    """Read a one-column CSV: one number per line, an optional header line first.

    lines: list of text lines. Returns a float array (T,).
    Raises LessonError naming the first line that is empty or not a finite number.

    >>> parse_series(["co2", "315.5", "316.25"])
    array([315.5 , 316.25])
    """
    values = []
    for number, line in enumerate(lines, start=1):
        text = line.strip().strip('"')
        if "," in text:
            raise lessonkit.LessonError(f"{name}, line {number}: expected one column, got {line.strip()!r}")
        try:
            value = float(text)
        except ValueError:
            if number == 1 and text:
                continue  # a header
            shown = repr(text) if text else "an empty line (a gap: fill it or remove it)"
            raise lessonkit.LessonError(f"{name}, line {number}: not a number: {shown}") from None
        if not np.isfinite(value):
            raise lessonkit.LessonError(f"{name}, line {number}: not a finite number: {text!r}")
        values.append(value)
    if not values:
        raise lessonkit.LessonError(f"{name} holds no numbers")
    return np.array(values)


def read_series(path):
    """The learner's series from a one-column CSV file at `path` (see parse_series).
    Returns a float array (T,); a file that cannot be read is a LessonError."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "not a text file"
        raise lessonkit.LessonError(f"cannot read the series {path}: {reason}") from None
    return parse_series(text.splitlines(), name=str(path))


def read_co2(path=SERIES):
    """The monthly CO2 record in data/co2_monthly.csv, from the first month after its last gap.

    Returns (months, values, weeks, gaps): the months 'YYYY-MM' (T,), the monthly means in
    ppm (T,), how many weekly values each mean averages (T,), and the months before the
    start that have no measurement at all.
    """
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    gaps = [i for i, row in enumerate(rows) if not row["co2_ppm"]]
    kept = rows[gaps[-1] + 1:] if gaps else rows
    months = [row["month"] for row in kept]
    values = np.array([float(row["co2_ppm"]) for row in kept])
    weeks = np.array([int(row["weeks"]) for row in kept])
    return months, values, weeks, [rows[i]["month"] for i in gaps]


# Kernels and what they keep ------------------------------------------------------------------------


def moving_average(season=SEASON):
    """The kernel that averages one season: `season` taps of 1/season.

    >>> moving_average(4)
    array([0.25, 0.25, 0.25, 0.25])
    """
    return np.full(season, 1 / season)


def frequency_response(kernel, frequencies):
    """|ĥ(f)|: how much a kernel scales a wave of frequency f (cycles per step).

    kernel: (k,); frequencies: a 1-D array. The output of y = x ⊛ h for x[t] = exp(2πi f t)
    is ĥ(f) x[t], with ĥ(f) = Σ_u h[u] exp(-2πi f u), the kernel's discrete-time Fourier
    transform; its FFT samples the same function. Returns |ĥ| at each frequency, a 1-D array
    as long as `frequencies`.

    >>> frequency_response(np.array([1.0, -1.0]), np.array([0.0, 0.5]))
    array([0., 2.])
    """
    taps = np.arange(len(kernel))
    return np.abs(np.exp(-2j * np.pi * np.outer(frequencies, taps)) @ kernel)


def yearly_cycle_amplitude(values, season=SEASON):
    """The amplitude of the wave of one season's period in `values` (T,), after a
    quadratic trend: half its peak-to-trough height, fitted by least squares."""
    t = np.arange(len(values), dtype=float)
    angle = 2 * np.pi * t / season
    design = np.stack([np.ones_like(t), t, t**2, np.cos(angle), np.sin(angle)], axis=1)
    coefficients = np.linalg.lstsq(design, values, rcond=None)[0]
    return float(np.hypot(coefficients[3], coefficients[4]))


# Conv1D from scratch ----------------------------------------------------------------------------


def receptive_field(kernel_sizes, dilations):
    """How many input steps one output of a stack of 1-D convolutions sees: the span from
    the earliest step it reads to the latest.

    A layer of k taps at dilation d reaches d(k - 1) steps further back than its input
    does, so the span of a stack is 1 + Σ d_l (k_l - 1). With 2 taps and dilations
    1, 2, 4, ... every step of the span is read; a lone dilated layer skips steps.

    >>> receptive_field([2, 2, 2, 2], [1, 2, 4, 8]), receptive_field([2, 2, 2, 2], [1, 1, 1, 1])
    (16, 5)
    """
    kernel_sizes, dilations = list(kernel_sizes), list(dilations)
    if len(kernel_sizes) != len(dilations):
        raise ValueError(f"kernel_sizes and dilations differ in length: {len(kernel_sizes)} and {len(dilations)}")
    if any(int(k) != k or k < 1 for k in kernel_sizes) or any(int(d) != d or d < 1 for d in dilations):
        raise ValueError("kernel_sizes and dilations must be positive integers")
    return 1 + sum(d * (k - 1) for k, d in zip(kernel_sizes, dilations))


def causal_conv1d(x, kernel, dilation=1):
    """A causal 1-D cross-correlation, as Keras's Conv1D(padding="causal") computes it.

    x: (T,) or (T, C_in); kernel: (k,) or (k, C_in, C_out). The input gets d(k - 1) zeros
    before its start and none after, so output t reads x[t - d(k - 1)], ..., x[t - d], x[t]:

        y[t, q] = Σ_u Σ_c x[t - d(k - 1 - u), c] · kernel[u, c, q]

    for input channel c and output channel q.

    Returns (T,) for a 1-D x and kernel, else (T, C_out).

    >>> causal_conv1d(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 10.0]))
    array([10., 21., 32., 43.])
    """
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    flat = x.ndim == 1 and kernel.ndim == 1
    if x.ndim == 1:
        x = x[:, np.newaxis]
    if kernel.ndim == 1:
        kernel = kernel[:, np.newaxis, np.newaxis]
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"x must have shape (T,) or (T, C_in) with T >= 1, got {x.shape}")
    if kernel.ndim != 3 or len(kernel) == 0 or kernel.shape[1] != x.shape[1]:
        raise ValueError(f"kernel must have shape (k,) or (k, C_in={x.shape[1]}, C_out), got {kernel.shape}")
    if int(dilation) != dilation or dilation < 1:
        raise ValueError(f"dilation must be a positive integer, got {dilation!r}")
    k, steps = len(kernel), len(x)
    padded = np.concatenate([np.zeros((dilation * (k - 1), x.shape[1])), x])
    y = np.zeros((steps, kernel.shape[2]))
    for u in range(k):
        y += padded[u * dilation:u * dilation + steps] @ kernel[u]
    return y[:, 0] if flat else y


def conv1d_layer(filters, kernel_size, padding, dilation=1):
    """A Keras Conv1D layer without bias whose weights are set by the caller."""
    return keras.layers.Conv1D(filters, kernel_size, padding=padding, dilation_rate=dilation, use_bias=False)


def keras_conv1d(x, kernel, padding="valid", dilation=1):
    """Run Keras's Conv1D with these weights. x: (T, C_in); kernel: (k, C_in, C_out).
    Returns (T_out, C_out), the output of the one sequence in the batch."""
    layer = conv1d_layer(kernel.shape[2], kernel.shape[0], padding, dilation)
    layer.build((1, None, x.shape[1]))
    layer.set_weights([kernel])
    return layer(x[np.newaxis].astype(np.float32)).numpy()[0]


def causal_gradient(layers, steps, t):
    """The gradient of output t of a stack of causal Conv1D layers with respect to its input.

    layers: list of (kernel_size, dilation); one channel, every weight 1 and no bias, so no
    gradient cancels and each input's gradient counts the paths from it up to output t.
    Returns (steps,).

    >>> causal_gradient([(2, 1), (2, 1)], 4, 3).tolist()
    [0.0, 1.0, 2.0, 1.0]
    """
    model = keras.Sequential([keras.Input((steps, 1))] + [
        keras.layers.Conv1D(1, k, padding="causal", dilation_rate=d, use_bias=False, kernel_initializer="ones")
        for k, d in layers
    ])
    x = tf.Variable(np.random.default_rng(SEED).uniform(1, 2, (1, steps, 1)).astype(np.float32))
    with tf.GradientTape() as tape:
        output = model(x)[0, t, 0]
    return tape.gradient(output, x).numpy()[0, :, 0]


def causal_gradient_support(layers, steps, t):
    """Which inputs output t of a stack of causal Conv1D layers depends on: the input steps
    (sorted) where causal_gradient is not zero."""
    return np.flatnonzero(causal_gradient(layers, steps, t))


# The forecaster ---------------------------------------------------------------------------------


def build_forecaster(channels=CHANNELS, seed=SEED):
    """A causal, dilated stack: layers of KERNEL_SIZE taps at dilations 1, 2, 4, 8 with
    ReLU, then a 1x1 convolution to one output per step. Input (batch, steps, 1), output
    (batch, steps, 1): output t is the forecast of input t + 1, made from inputs up to t."""
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((None, 1))]
    for dilation in DILATIONS:
        layers.append(keras.layers.Conv1D(channels, KERNEL_SIZE, padding="causal", dilation_rate=dilation,
                                          activation="relu"))
    layers.append(keras.layers.Conv1D(1, 1))
    return keras.Sequential(layers)


def train_forecaster(model, inputs, targets, first=0, steps=TRAINING_STEPS, seed=SEED):
    """Fit the model to one long sequence, full batch, with Adam, deterministically.

    inputs, targets: (T,) each; output t of the model is trained towards targets[t] for
    every t >= first (earlier outputs, whose window reaches back before the start, are left
    out). Returns the mean squared error at each step, before its update: `steps` floats."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    optimizer = keras.optimizers.Adam(LEARNING_RATE)
    x = tf.constant(inputs[np.newaxis, :, np.newaxis], tf.float32)
    y = tf.constant(targets[np.newaxis, :, np.newaxis], tf.float32)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((model(x)[:, first:] - y[:, first:]) ** 2)
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    return [float(step()) for _ in range(steps)]


def windows(series, length):
    """Every run of `length` consecutive values: (T - length + 1, length)."""
    return np.lib.stride_tricks.sliding_window_view(series, length)


def forecasts(values, split, season=SEASON, seeds=(SEED,), steps=TRAINING_STEPS):
    """One-step forecasts of values[split:] by five methods, each from values before the step.

    values: (T,); split: index of the first held-out step. The learned methods work on the
    changes c[t] = values[t + 1] - values[t], scaled by the training part's mean and spread,
    and read the last receptive-field changes; both are fitted to the same pairs (a window
    of changes, the change after it) whose target lies before `split`. Returns
    ({method: forecasts (T - split,)}, the network's loss at each of its `steps` training
    steps with the first seed, the linear filter's mean squared error on those pairs). With
    several seeds the network is trained once per seed, and its forecasts for seed s are
    under "causal dilated CNN, seed s".
    """
    changes = np.diff(values)
    span = receptive_field([KERNEL_SIZE] * len(DILATIONS), DILATIONS)
    training = changes[:split - 1]  # the changes between values before `split`
    mean, spread = training.mean(), training.std() or 1.0  # constant changes need no scaling
    scaled = (changes - mean) / spread
    targets = np.arange(split, len(values))
    last = values[targets - 1]
    predicted = {
        "last value": last,
        "value a season ago": values[targets - season],
        "last value + change a season ago": last + values[targets - season] - values[targets - season - 1],
    }
    # Least squares: the next change from the last `span` changes and a constant.
    rows = windows(scaled[:-1], span)  # row r holds changes r .. r + span - 1
    next_change = scaled[span:]  # the change after each row
    first_target = np.arange(len(rows)) + span + 1  # the value each row's forecast is for
    design = np.column_stack([rows, np.ones(len(rows))])
    fit = first_target < split
    weights = np.linalg.lstsq(design[fit], next_change[fit], rcond=None)[0]
    filter_loss = float(np.mean((design[fit] @ weights - next_change[fit]) ** 2))
    chosen = first_target >= split
    predicted["linear filter"] = last + (design[chosen] @ weights) * spread + mean
    # The network: output p reads changes up to p and is trained towards change p + 1. From
    # p = span - 1 on its window lies inside the record: the pairs the filter is fitted on.
    first_losses = None
    for seed in seeds:
        model = build_forecaster(seed=seed)
        losses = train_forecaster(model, scaled[:split - 2], scaled[1:split - 1], first=span - 1, steps=steps,
                                  seed=seed)
        first_losses = losses if first_losses is None else first_losses
        outputs = model(scaled[np.newaxis, :-1, np.newaxis]).numpy()[0, :, 0]
        name = "causal dilated CNN" if seed == seeds[0] else f"causal dilated CNN, seed {seed}"
        predicted[name] = last + outputs[targets - 2] * spread + mean
    return predicted, first_losses, filter_loss


def rms_error(forecast, actual):
    """The root-mean-square error of a forecast, in the series' units."""
    return float(np.sqrt(np.mean((forecast - actual) ** 2)))


# Figures --------------------------------------------------------------------------------------


def series_figure(months, values, trend, changes, unit, season=SEASON):
    """The record with its one-season moving average (top), and its change from one step to
    the next (bottom). months: 'YYYY-MM' for each value, or empty for a series of plain
    steps; trend: the 'valid' moving average (T - season + 1,); changes: (T - 1,).
    Returns the Figure."""
    import matplotlib.pyplot as plt

    if months:
        time = np.array([int(m[:4]) + (int(m[5:]) - 0.5) / 12 for m in months])
        names = {"x": "monthly mean x", "cycle": "one year removes the yearly cycle", "step": "month"}
    else:
        time = np.arange(len(values), dtype=float)
        names = {"x": "x", "cycle": f"one season ({season} steps) removes the seasonal cycle", "step": "step"}
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(8.8, 5.6), sharex=True, layout="constrained")
    top.plot(time, values, color=LINE_COLOURS["input"], linewidth=1, label=names["x"])
    centres = (time[:len(trend)] + time[season - 1:]) / 2  # the middle of each average's window
    top.plot(centres, trend, color=LINE_COLOURS["output"], linewidth=2, label=f"x ⊛ moving average of {season}")
    top.set_ylabel(unit)
    top.set_title(f"A moving average over {names['cycle']}", fontsize=11)
    top.legend(fontsize=9)
    bottom.plot(time[1:], changes, color=LINE_COLOURS["output"], linewidth=1)
    bottom.axhline(0, color=LINE_COLOURS["other"], linewidth=0.8)
    bottom.set_ylabel(f"{unit} per {names['step']}")
    bottom.set_title(f"x ⊛ [1, -1]: the change from one {names['step']} to the next", fontsize=11)
    for axes in (top, bottom):
        axes.tick_params(labelsize=9)
    return figure


def response_figure(kernels, season=SEASON, step="month", cycle="year"):
    """|ĥ(f)| of each kernel against frequency, with one cycle a season and its multiples
    marked. kernels: {label: (k,)}; step and cycle name a step and a season. Returns the Figure."""
    import matplotlib.pyplot as plt

    frequencies = np.linspace(0, 0.5, 601)
    figure, axes = plt.subplots(figsize=(8.8, 3.6), layout="constrained")
    for (label, kernel), colour in zip(kernels.items(), (LINE_COLOURS["output"], LINE_COLOURS["kernel"])):
        axes.plot(frequencies, frequency_response(kernel, frequencies), color=colour, linewidth=2, label=label)
    for harmonic in range(1, season // 2 + 1):
        axes.axvline(harmonic / season, color=LINE_COLOURS["other"], linewidth=0.8, linestyle=":")
    axes.annotate(f"1/{season}: one cycle a {cycle}", (1 / season, 1.6), xytext=(1 / season + 0.04, 1.75),
                  fontsize=9, arrowprops={"arrowstyle": "->", "color": LINE_COLOURS["other"]})
    axes.set_xlabel(f"frequency f (cycles per {step}); dotted: one cycle a {cycle} and its multiples", fontsize=9)
    axes.set_ylabel("|ĥ(f)|", fontsize=9)
    axes.set_xlim(0, 0.5)
    axes.set_title(f"What a kernel keeps: the moving average stops one cycle a {cycle} and its multiples, "
                   "[1, -1] stops a constant", fontsize=10)
    axes.tick_params(labelsize=9)
    axes.legend(fontsize=9, loc="center right")
    return figure


def dilation_figure(dilations=DILATIONS, kernel_size=KERNEL_SIZE):
    """The WaveNet picture: inputs at the bottom, one row per causal layer, and the
    connections that lead to the last output, for a dilated and an undilated stack.

    Returns (Figure, {title: input steps the last output reads})."""
    import matplotlib.pyplot as plt

    seen = {}
    stacks = {
        f"dilations {', '.join(map(str, dilations))}": list(dilations),
        "no dilation": [1] * len(dilations),
    }
    steps = receptive_field([kernel_size] * len(dilations), dilations) + 2
    figure, axes_pair = plt.subplots(1, 2, figsize=(8.8, 3.4), layout="constrained")
    for axes, (title, stack) in zip(axes_pair, stacks.items()):
        reached = {steps - 1}
        rows = [reached]
        for dilation in reversed(stack):
            reached = {t - dilation * j for t in reached for j in range(kernel_size) if t - dilation * j >= 0}
            rows.append(reached)
        rows.reverse()  # rows[0]: the inputs, rows[-1]: the output
        for level in range(len(stack) + 1):
            colour = LINE_COLOURS["input"] if level == 0 else LINE_COLOURS["output"]
            axes.scatter(range(steps), [level] * steps, s=14, color="#dddddd", zorder=2)
            active = sorted(rows[level])
            axes.scatter(active, [level] * len(active), s=22, color=colour, zorder=3)
        for level, dilation in enumerate(stack, start=1):
            for t in rows[level]:
                for j in range(kernel_size):
                    source = t - dilation * j
                    if source in rows[level - 1]:
                        axes.plot([source, t], [level - 1, level], color=LINE_COLOURS["kernel"], linewidth=1.2)
        seen[title] = sorted(rows[0])
        axes.set_yticks(range(len(stack) + 1),
                        ["input"] + [f"layer {n}, d = {d}" for n, d in enumerate(stack, start=1)], fontsize=9)
        earliest = min(rows[0])
        axes.set_xticks([earliest, steps - 1], [f"t - {steps - 1 - earliest}", "t"], fontsize=9)
        axes.set_title(f"{title}: output t reads {len(rows[0])} inputs", fontsize=10)
        for side in ("top", "right", "left"):
            axes.spines[side].set_visible(False)
    figure.suptitle(f"Causal layers of {kernel_size} taps: dilation doubles how far back each layer reaches",
                    fontsize=11)
    return figure, seen


def forecast_figure(labels, actual, predicted, unit, every=SEASON):
    """The held-out steps with the two learned forecasts and the last value. labels: a text
    for each step ('YYYY-MM' or its index), one in `every` shown. Returns the Figure."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8.8, 3.8), layout="constrained")
    steps = np.arange(len(actual))
    axes.plot(steps, actual, color=LINE_COLOURS["input"], linewidth=2.5, label="measured")
    styles = {"last value": ":", "linear filter": "--", "causal dilated CNN": "-"}
    colours = {"last value": LINE_COLOURS["other"], "linear filter": LINE_COLOURS["kernel"],
               "causal dilated CNN": LINE_COLOURS["output"]}
    for method, style in styles.items():
        error = rms_error(predicted[method], actual)
        axes.plot(steps, predicted[method], style, color=colours[method], linewidth=1.5,
                  label=f"{method}: RMS error {error:.2f} {unit}")
    ticks = steps[::every]
    axes.set_xticks(ticks, [labels[t] for t in ticks], fontsize=9)
    axes.tick_params(labelsize=9)
    axes.set_ylabel(unit, fontsize=9)
    axes.set_title("Forecasting one step ahead on the held-out period, each forecast from the values before it",
                   fontsize=11)
    axes.legend(fontsize=9)
    return figure


# The lesson's sections ----------------------------------------------------------------------------


def convolution_over_time(series_path, season):
    """README: "Convolution over time". Read the series, check its length, say what it holds.
    Returns (months, values, unit); months is empty for a learner's series."""
    minimum = 4 * season + 2 * receptive_field([KERNEL_SIZE] * len(DILATIONS), DILATIONS)
    if series_path is not None:
        values = read_series(series_path)
        if len(values) < minimum:
            raise lessonkit.LessonError(
                f"the series has {len(values)} values; the lesson needs at least {minimum} (four seasons of "
                f"{season} steps and twice the forecaster's receptive field)")
    lessonkit.heading("Convolution over time")
    if series_path is None:
        months, values, weeks, gaps = read_co2()
        unit = "ppm"
        print("Carbon dioxide at Mauna Loa, Hawaii: monthly means of weekly values, in parts per million (ppm).")
        print(f"Months with no measurement at all: {', '.join(gaps)}; the lesson starts after the last of them.")
        print(f"{len(values)} months, {months[0]} to {months[-1]}: {values[0]:.2f} to {values[-1]:.2f} ppm")
        print(f"Weeks measured: {weeks.sum()} of the about {len(values) * 365.25 / 12 / 7:.0f} weeks in those months; "
              f"a month's mean averages its measured weeks ({weeks.min()} to {weeks.max()}).")
    else:
        months, unit = [], "units"
        print(f"Your series {series_path.name}: {len(values)} values, from {values[0]:g} to {values[-1]:g}.")
    print(f"One season is {season} steps.")
    return months, values, unit


def a_moving_average_removes_the_yearly_cycle(months, values, unit, season, figures):
    """README: "A moving average removes the yearly cycle". Returns the trend ('valid')."""
    lessonkit.heading("A moving average removes the yearly cycle")
    kernel = moving_average(season)
    trend = lesson_1d.convolve1d(values, kernel, mode="valid")
    print(f"h = {season} taps of 1/{season}; x ⊛ h, 'valid': {len(values)} - {season} + 1 = {len(trend)} values")
    print(f"ours == np.convolve: {np.allclose(trend, np.convolve(values, kernel, 'valid'))}")
    before, after = yearly_cycle_amplitude(values, season), yearly_cycle_amplitude(trend, season)
    print("Amplitude of the wave with a period of one season (after a quadratic trend):")
    print(f"  before: {before:.2f} {unit}")
    print(f"  after:  {after:.3f} {unit} ({after / before:.1%} of it is left)")
    changes = lesson_1d.convolve1d(values, np.array([1.0, -1.0]), mode="valid")
    figures.add("seq_co2", series_figure(months, values, trend, changes, unit, season))
    return trend


def differences(values, unit, season):
    """README: "Differences: the change from one step to the next"."""
    lessonkit.heading("Differences: the change from one step to the next")
    changes = lesson_1d.convolve1d(values, np.array([1.0, -1.0]), mode="valid")
    print(f"x ⊛ [1, -1], 'valid': y[i] = x[i + 1] - x[i], {len(changes)} values")
    print(f"equal to np.diff(x): {np.allclose(changes, np.diff(values))}")
    print(f"mean change per step: {changes.mean():+.3f} {unit}; per season of {season} steps: "
          f"{changes.mean() * season:+.2f} {unit}")
    ends = (values[-1] - values[0]) / len(changes)
    print(f"  the mean telescopes to (x[{len(values) - 1}] - x[0]) / {len(changes)} = ({values[-1]:.2f} - {values[0]:.2f})"
          f" / {len(changes)}: {np.isclose(changes.mean(), ends)}")
    yearly = lesson_1d.convolve1d(values, np.r_[1.0, np.zeros(season - 1), -1.0], mode="valid")
    print(f"x ⊛ [1, 0 ... 0, -1] ({season + 1} taps), the change over one season: mean {yearly.mean():+.2f}, "
          f"from {yearly.min():+.2f} to {yearly.max():+.2f} {unit}")
    whole = (values[-season:].sum() - values[:season].sum()) / len(yearly)
    print(f"  its mean telescopes to (sum of the last {season} - sum of the first {season}) / {len(yearly)}: "
          f"{np.isclose(yearly.mean(), whole)}")


def what_a_kernel_keeps(season, monthly, figures):
    """README: "What a kernel keeps: its frequency response". monthly: whether a step is a
    month and a season a year (the CO2 record), for the figure's words."""
    lessonkit.heading("What a kernel keeps: its frequency response")
    average, difference = moving_average(season), np.array([1.0, -1.0])
    size = 16 * season
    print(f"|ĥ(f)| from the FFT of each kernel padded to {size} points (f = m/{size} cycles per step):")
    print(f"{'f':>12}  {'period':>9}  {'moving average':>15}  {'[1, -1]':>8}")
    average_fft, difference_fft = np.abs(np.fft.rfft(average, size)), np.abs(np.fft.rfft(difference, size))
    # f = 0, a quarter and a half of one cycle a season, one and two cycles a season, and 1/2
    for m in sorted({m for m in (0, 4, 8, 16, 32, 8 * season) if m <= 8 * season}):
        period = "-" if m == 0 else f"{size / m:g}"
        print(f"{f'{m}/{size}':>12}  {period:>9}  {average_fft[m]:15.4f}  {difference_fft[m]:8.4f}")
    at_season = frequency_response(average, np.arange(1, season // 2 + 1) / season)
    multiples = ", ".join(f"{m}/{season}" for m in range(1, season // 2 + 1))
    print(f"The moving average at one cycle a season and its multiples up to f = 1/2 ({multiples}): "
          f"|ĥ| below 1e-12: {bool(at_season.max() < 1e-12)}")
    print(f"[1, -1] at f = 1/{season}: |ĥ| = {frequency_response(difference, np.array([1 / season]))[0]:.4f}, "
          f"2 sin(π/{season}) = {2 * np.sin(np.pi / season):.4f}; at f = 0 it is "
          f"{frequency_response(difference, np.array([0.0]))[0]:.0f}")
    grid = np.arange(size // 2 + 1) / size
    print(f"FFT samples equal the formula, for both kernels: "
          f"{np.allclose(average_fft, frequency_response(average, grid))} "
          f"{np.allclose(difference_fft, frequency_response(difference, grid))}")
    words = {"step": "month", "cycle": "year"} if monthly else {"step": "step", "cycle": "season"}
    figures.add("seq_response", response_figure({f"moving average of {season}": average, "[1, -1]": difference},
                                                season, **words))


def conv1d_in_keras(values):
    """README: "Conv1D in Keras"."""
    lessonkit.heading("Conv1D in Keras")
    rng = np.random.default_rng(SEED)
    steps, k = 10, 3
    x = values[:steps] - values[:steps].mean()
    layer = conv1d_layer(1, k, "valid")
    batch = x[np.newaxis, :, np.newaxis].astype(np.float32)
    print(f"input (batch, steps, channels) = {batch.shape}")
    layer.build(batch.shape)
    print(f"kernel (k, C_in, C_out) = {tuple(layer.kernel.shape)}")
    kernel = np.array([-1.0, 0.5, 2.0])
    layer.set_weights([kernel.reshape(k, 1, 1)])
    keras_out = layer(batch).numpy()[0, :, 0]
    print(f"one channel, kernel {kernel}: Conv1D == np.correlate(x, kernel, 'valid'): "
          f"{np.allclose(keras_out, np.correlate(x, kernel, 'valid'), atol=1e-4)}; == np.convolve: "
          f"{np.allclose(keras_out, np.convolve(x, kernel, 'valid'), atol=1e-4)}")
    channels = rng.standard_normal((steps, 3))
    weights = rng.standard_normal((k, 3, 2))
    summed = np.stack([sum(np.correlate(channels[:, c], weights[:, c, o], "valid") for c in range(3))
                       for o in range(2)], axis=1)
    print(f"3 channels in, 2 out: output channel q == Σ_c np.correlate(input channel c, kernel[:, c, q]): "
          f"{np.allclose(keras_conv1d(channels, weights), summed, atol=1e-4)}")
    print(f"Output steps for {steps} steps, k = {k}, against the output-size rule:")
    for padding in ("valid", "same", "causal"):
        for dilation in (1, 2):
            got = keras_conv1d(channels, weights, padding, dilation).shape[0]
            pair = (dilation * (k - 1), 0) if padding == "causal" else padding
            rule = lesson_tf.conv_output_size(steps, k, 1, pair, dilation)
            print(f"  {padding:>6}, d = {dilation}: Keras {got:2}, rule {rule:2} "
                  f"(padding {lesson_tf.padding_pair(steps, k, 1, pair, dilation)})")


def causal_padding():
    """README: "Causal padding"."""
    lessonkit.heading("Causal padding")
    rng = np.random.default_rng(SEED)
    steps, k, dilation, t = 12, 3, 2, 6
    x = rng.standard_normal((steps, 1))
    kernel = rng.standard_normal((k, 1, 1))
    ours = causal_conv1d(x, kernel, dilation)
    print(f"causal_conv1d == Conv1D(padding='causal'), k = {k}, d = {dilation}: "
          f"{np.allclose(ours, keras_conv1d(x, kernel, 'causal', dilation), atol=1e-5)}")
    future = x.copy()
    future[t + 1:] += 100
    changed = np.flatnonzero(~np.isclose(causal_conv1d(future, kernel, dilation)[:, 0], ours[:, 0]))
    print(f"Add 100 to every input after t = {t}: the first output that changes is t = {changed.min()}")
    support = causal_gradient_support([(k, dilation)], steps, t)
    print(f"Gradient of output {t} with respect to the inputs: not zero at steps {support.tolist()}")
    print(f"  = t - d(k - 1) ... t in steps of d: {list(range(t - dilation * (k - 1), t + 1, dilation))}")


def dilated_stacks(figures):
    """README: "Dilated stacks see far back"."""
    lessonkit.heading("Dilated stacks see far back")
    sizes = [KERNEL_SIZE] * len(DILATIONS)
    steps = 24
    for dilations in (list(DILATIONS), [1] * len(DILATIONS)):
        rule = receptive_field(sizes, dilations)
        gradient = causal_gradient(list(zip(sizes, dilations)), steps, steps - 1)
        support = np.flatnonzero(gradient)
        print(f"k = {KERNEL_SIZE}, dilations {dilations}: rule 1 + Σ d(k - 1) = {rule}; "
              f"inputs with a non-zero gradient: {len(support)} (steps {support.min()} to {support.max()})")
        print(f"  paths from each of them to the output (the gradient, every weight 1): "
              f"{' '.join(f'{g:g}' for g in gradient[support])}")
    print(f"Each stack has {len(DILATIONS)} layers of {KERNEL_SIZE} taps: {KERNEL_SIZE * len(DILATIONS)} weights with "
          f"one channel. A single kernel that sees {receptive_field(sizes, DILATIONS)} steps has "
          f"{receptive_field(sizes, DILATIONS)} taps.")
    figure, _ = dilation_figure()
    figures.add("seq_dilation", figure)


def forecasting_one_step_ahead(months, values, unit, season, seeds, figures):
    """README: "Forecasting one step ahead"."""
    lessonkit.heading("Forecasting one step ahead")
    split = len(values) - max(1, round(HELD_OUT * len(values)))
    span = receptive_field([KERNEL_SIZE] * len(DILATIONS), DILATIONS)
    where = f"{months[split]} to {months[-1]}" if months else f"steps {split} to {len(values) - 1}"
    print(f"Trained on the first {split} steps; tested on the last {len(values) - split} ({where}).")
    print(f"The CNN and the linear filter both read the last {span} changes (the stack's receptive field), "
          f"fitted to the same {split - span - 1} training pairs.")
    predicted, losses, filter_loss = forecasts(values, split, season, tuple(range(seeds)))
    model = build_forecaster()
    print(f"CNN: {len(DILATIONS)} causal layers of {CHANNELS} channels, k = {KERNEL_SIZE}, dilations "
          f"{list(DILATIONS)}, ReLU, then a 1x1 layer: {model.count_params()} parameters; linear filter: {span + 1}")
    print(f"Training error (mean squared error of the scaled change): CNN {losses[0]:.2f} at step 1, "
          f"{losses[-1]:.2f} at step {len(losses)}; linear filter {filter_loss:.2f}")
    actual = values[split:]
    errors = {method: rms_error(forecast, actual) for method, forecast in predicted.items() if ", seed" not in method}
    print(f"{'method':>34}  RMS error ({unit})")
    for method, error in sorted(errors.items(), key=lambda item: item[1]):
        print(f"{method:>34}  {error:.2f}")
    best = min(errors, key=errors.get)
    if errors["linear filter"] > 1e-9 * np.abs(actual).max():
        print(f"Best: {best}; the CNN's error is {errors['causal dilated CNN'] / errors['linear filter']:.2f} "
              f"times the linear filter's (seed {SEED}).")
    else:
        print(f"Best: {best}; the linear filter is exact here, up to rounding.")
    if seeds > 1:
        cnn = [rms_error(forecast, actual) for method, forecast in predicted.items() if method.startswith("causal")]
        print(f"CNN over seeds 0 to {seeds - 1}: RMS error {np.mean(cnn):.2f} on average, from {min(cnn):.2f} to "
              f"{max(cnn):.2f}; below the linear filter's for {sum(e < errors['linear filter'] for e in cnn)} of "
              f"{seeds} seeds")
    rise = actual - values[split - season:len(values) - season]
    print(f"Over the held-out steps, x[t] - x[t - {season}] is {rise.mean():+.2f} {unit} on average: the value a "
          f"season ago misses that rise.")
    labels = months[split:] if months else [str(t) for t in range(split, len(values))]
    every = season if months else max(1, len(actual) // 8)
    figures.add("seq_forecast", forecast_figure(labels, actual, predicted, unit, every))


def whole_number(text, option, default, smallest):
    """A command-line option's whole number, at least `smallest`; `default` when not given.

    >>> whole_number("12", "--season", 12, 2), whole_number(None, "--seeds", 1, 1)
    (12, 1)
    """
    if text is None:
        return default
    try:
        number = int(text)
    except ValueError:
        raise lessonkit.LessonError(f"{option} must be a whole number, got {text!r}") from None
    if number < smallest:
        raise lessonkit.LessonError(f"{option} must be at least {smallest}, got {number}")
    return number


@lessonkit.lesson_main
def main(argv=None):
    args = lessonkit.parse_args(__doc__, argv, options={
        "--series": ("PATH", "a one-column CSV of your own series (default: the Mauna Loa CO2 record)"),
        "--season": ("STEPS", f"steps in one season of your series (default: {SEASON}, for monthly data)"),
        "--seeds": ("N", "train the forecaster with seeds 0 to N - 1 and report the spread (default: 1)"),
    })
    season = whole_number(args.season, "--season", SEASON, 2)
    seeds = whole_number(args.seeds, "--seeds", 1, 1)
    series = None if args.series is None else Path(args.series)
    figures = lessonkit.Figures(args)
    months, values, unit = convolution_over_time(series, season)
    a_moving_average_removes_the_yearly_cycle(months, values, unit, season, figures)
    differences(values, unit, season)
    what_a_kernel_keeps(season, bool(months), figures)
    conv1d_in_keras(values)
    causal_padding()
    dilated_stacks(figures)
    forecasting_one_step_ahead(months, values, unit, season, seeds, figures)
    return figures.write()


if __name__ == "__main__":
    raise SystemExit(main())
