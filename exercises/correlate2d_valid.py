"""Exercise of lesson 1_2D: the 'valid' 2-D cross-correlation, written with loops.

Run `python exercises/correlate2d_valid.py` to check it; --hint for a hint, --solution for ours.
"""

import numpy as np


def correlate2d_valid(image, kernel):
    """The 'valid' cross-correlation of an image with a kernel, as
    scipy.signal.correlate2d(image, kernel, mode="valid") gives it: what a convolution layer
    computes (no flip).

    image: 2-D array (H, W); kernel: 2-D array (k_h, k_w), no larger than the image.
    Returns an array (H - k_h + 1, W - k_w + 1):
    out[i, j] = Σ_u Σ_v image[i + u, j + v] · kernel[u, v].

    >>> correlate2d_valid(np.array([[1, 2, 3]]), np.array([[1, 10]])).tolist()
    [[21, 32]]
    """
    raise NotImplementedError


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import selfcheck

    sys.exit(selfcheck.main("correlate2d_valid", correlate2d_valid))
