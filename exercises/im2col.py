"""Exercise of lesson 6_layer: im2col, the patch matrix that turns a convolution into a matrix product.

Run `python exercises/im2col.py` to check it; --hint for a hint, --solution for ours.
"""

import numpy as np


def im2col(image, kernel_shape, stride=1):
    """One row per window of a 'valid' layer, in reading order, holding the window's values
    row by row: then im2col(image, kernel.shape) @ kernel.ravel() is the 'valid'
    cross-correlation, raveled.

    image: 2-D array (H, W); kernel_shape: (k_h, k_w); stride: a positive integer.
    Returns an array (out_h * out_w, k_h * k_w), out_h = (H - k_h) // stride + 1 (and
    likewise out_w).

    >>> im2col(np.arange(6).reshape(2, 3), (2, 2)).tolist()
    [[0, 1, 3, 4], [1, 2, 4, 5]]
    """
    raise NotImplementedError


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import selfcheck

    sys.exit(selfcheck.main("im2col", im2col))
