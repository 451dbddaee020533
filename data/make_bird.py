"""Make data/bird.jpg: a cut-out bird photograph flattened onto a plain sky-blue ground.

The source is a Tux Paint stamp (a photograph cut out on transparency); see data/README.md.

    python data/make_bird.py PATH/TO/crowned_crane.png [OUTPUT]

OUTPUT defaults to bird.jpg beside this script. The same source always gives the same file.
"""

import sys
from pathlib import Path

from PIL import Image

BACKGROUND = (206, 220, 232)  # a pale, flat sky blue
MARGIN = 16  # pixels of background added on every side, so the bird does not touch the frame
QUALITY = 90


def flatten(cutout):
    """Composite an image with transparency onto the flat background, with a margin.

    cutout: PIL image of size (width, height), any mode.
    Returns an RGB PIL image of size (width + 2 * MARGIN, height + 2 * MARGIN).

    >>> flatten(Image.new("RGBA", (4, 3))).size
    (36, 35)
    """
    cutout = cutout.convert("RGBA")
    width, height = cutout.size
    ground = Image.new("RGBA", (width + 2 * MARGIN, height + 2 * MARGIN), BACKGROUND + (255,))
    ground.alpha_composite(cutout, (MARGIN, MARGIN))
    return ground.convert("RGB")


def main(argv):
    if len(argv) not in (1, 2):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    source = Path(argv[0])
    output = Path(argv[1]) if len(argv) == 2 else Path(__file__).resolve().parent / "bird.jpg"
    with Image.open(source) as cutout:
        bird = flatten(cutout)
    bird.save(output, format="JPEG", quality=QUALITY)
    print(f"{source} ({cutout.size[0]}x{cutout.size[1]}) -> {output} ({bird.size[0]}x{bird.size[1]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
