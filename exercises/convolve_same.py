"""Exercise of lesson 0_1D: NumPy's 'same' convolution and where it centres.

Run `python exercises/convolve_same.py` to check it; --hint for a hint, --solution for ours.
"""

import numpy as np


def convolve_same(x, h):
    """The 'same' convolution of x with h, as np.convolve(x, h, mode="same") gives it.

    x: 1-D array of N numbers; h: 1-D array of M numbers. Returns the middle max(N, M) values
    of the 'full' convolution (N + M - 1 values), leaning to the left when the middle falls
    between two values, as NumPy does. Write it without np.convolve (loops are fine).

    >>> convolve_same(np.array([1, 2, 3, 4, 5]), np.array([1, 2])).tolist()
    [1, 4, 7, 10, 13]
    """
    raise NotImplementedError


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import selfcheck

    sys.exit(selfcheck.main("convolve_same", convolve_same))
