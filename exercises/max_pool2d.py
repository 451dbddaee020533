"""Exercise of lesson 4_digit: max pooling, as Keras's MaxPooling2D does it.

Run `python exercises/max_pool2d.py` to check it; --hint for a hint, --solution for ours.
"""

import numpy as np


def max_pool2d(x, size=2):
    """Non-overlapping max pooling of a 2-D array: the largest value of each size x size
    window, the windows side by side (stride = size). Rows and columns at the end that do not
    fill a window are dropped, as Keras does.

    x: 2-D array (H, W); size: a positive integer. Returns an array (H // size, W // size).

    >>> max_pool2d(np.arange(16).reshape(4, 4)).tolist()
    [[5, 7], [13, 15]]
    """
    raise NotImplementedError


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import selfcheck

    sys.exit(selfcheck.main("max_pool2d", max_pool2d))
