"""Make data/num3.jpg: a handwritten-looking digit 3 in the style of MNIST.

A light stroke on a black ground, 28x28 pixels, the digit filling about the central 20x20 pixels, as in
MNIST. The 3 is two arcs traced with a round pen on a large canvas, wobbled a little by a
seeded random generator and slanted to the right, then blurred and shrunk to 28x28, which
softens its edges the way MNIST's anti-aliasing does.

    python data/make_num3.py [OUTPUT]

OUTPUT defaults to num3.jpg beside this script. Every run gives the same file.
"""

import math
import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

SIZE = 28  # final width and height, as in MNIST
SCALE = 20  # the digit is drawn 20 times larger, then shrunk
PEN_RADIUS = 1.4  # half the stroke width, in final pixels
SLANT = 0.18  # horizontal shift per unit of height (a right-leaning hand)
SEED = 3
QUALITY = 100


def arc(centre, radius, start, end, steps=200):
    """Points along a circular arc, angles in degrees, 0 = right, 90 = down (image axes).

    Returns a list of `steps` (x, y) pairs, in the units of `centre` and `radius`.

    >>> [tuple(round(v, 6) for v in p) for p in arc((0, 0), 1, 0, 90, steps=2)]
    [(1.0, 0.0), (0.0, 1.0)]
    """
    points = []
    for i in range(steps):
        angle = math.radians(start + (end - start) * i / (steps - 1))
        points.append((centre[0] + radius * math.cos(angle), centre[1] + radius * math.sin(angle)))
    return points


def stroke_of_three(rng):
    """The pen's path for a 3, in final-pixel units (0..28), wobbled by `rng`.

    Returns a list of (x, y) pairs: the upper bowl, then the lower bowl.
    """
    upper = arc((14.2, 9.8), 4.3, 205, 455)  # from upper left, over the top, round to the middle
    lower = arc((14.0, 18.0), 4.8, 265, 500)  # from the middle, round the right, to lower left
    wobble_x, wobble_y = rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi)
    path = []
    for step, (x, y) in enumerate(upper + lower):
        t = step / len(upper + lower)
        x += 0.35 * math.sin(2 * math.pi * 3 * t + wobble_x)
        y += 0.25 * math.sin(2 * math.pi * 2 * t + wobble_y)
        path.append((x + SLANT * (SIZE / 2 - y), y))
    return path


def draw_three(seed=SEED):
    """Draw the digit: a PIL image, mode 'L', SIZE x SIZE, light stroke on black.

    >>> draw_three().size
    (28, 28)
    """
    rng = random.Random(seed)
    big = Image.new("L", (SIZE * SCALE, SIZE * SCALE), 0)
    pen = ImageDraw.Draw(big)
    radius = PEN_RADIUS * SCALE
    for x, y in stroke_of_three(rng):
        x, y = x * SCALE, y * SCALE
        pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    big = big.filter(ImageFilter.GaussianBlur(radius=0.5 * SCALE))
    return big.resize((SIZE, SIZE), Image.Resampling.BOX)


def main(argv):
    if len(argv) > 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    output = Path(argv[0]) if argv else Path(__file__).resolve().parent / "num3.jpg"
    draw_three().save(output, format="JPEG", quality=QUALITY)
    print(f"-> {output} ({SIZE}x{SIZE})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
