"""Make data/bird.jpg and data/bird_mask.png from a cut-out photograph of a bird.

bird.jpg is the cut-out laid on a flat, plain sky-blue background; bird_mask.png marks the
pixels where the cut-out is at least half opaque (mostly bird), so that statistics can be taken on the bird alone.
The source is a Tux Paint stamp (a photograph cut out on transparency); see data/README.md.

    python data/make_bird.py PATH/TO/crowned_crane.png [FOLDER]

FOLDER defaults to the folder of this script. The same source always gives the same files.
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image

BACKGROUND = (206, 220, 232)  # a pale, flat sky blue
MARGIN = 16  # pixels of background added on every side, so the bird does not touch the frame
QUALITY = 90
OPAQUE = 128  # alpha from which a pixel of the cut-out counts as bird (half opaque or more)


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


def opaque_mask(cutout):
    """Where the cut-out is at least half opaque (alpha OPAQUE or more, so the pixel is
    mostly bird), placed as `flatten` places it.

    cutout: PIL image of size (width, height), any mode.
    Returns a 1-bit PIL image of size (width + 2 * MARGIN, height + 2 * MARGIN):
    white on the bird, black on the background and the faint rim of the cut-out.

    >>> np.array(opaque_mask(Image.new("RGBA", (1, 1), (0, 0, 0, 128)))).sum()
    np.int64(1)
    """
    alpha = np.array(cutout.convert("RGBA").getchannel("A"))
    mask = np.zeros((alpha.shape[0] + 2 * MARGIN, alpha.shape[1] + 2 * MARGIN), dtype=bool)
    mask[MARGIN : MARGIN + alpha.shape[0], MARGIN : MARGIN + alpha.shape[1]] = alpha >= OPAQUE
    return Image.fromarray(mask)


def main(argv):
    if len(argv) not in (1, 2):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    source = Path(argv[0])
    folder = Path(argv[1]) if len(argv) == 2 else Path(__file__).resolve().parent
    with Image.open(source) as cutout:
        bird = flatten(cutout)
        mask = opaque_mask(cutout)
    bird.save(folder / "bird.jpg", format="JPEG", quality=QUALITY)
    mask.save(folder / "bird_mask.png", format="PNG", optimize=True)
    print(f"{source} ({cutout.size[0]}x{cutout.size[1]}) -> {folder / 'bird.jpg'} and {folder / 'bird_mask.png'} "
          f"({bird.size[0]}x{bird.size[1]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
