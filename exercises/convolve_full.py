"""Exercise of lesson 0_1D: the 'full' 1-D convolution, written with loops.

Run `python exercises/convolve_full.py` to check it; --hint for a hint, --solution for ours.
"""

import numpy as np


def convolve_full(x, h):
    """The 'full' convolution of the signal x with the kernel h, as np.convolve(x, h) gives it.

    x: 1-D array of N numbers; h: 1-D array of M numbers. Returns a 1-D array of N + M - 1
    numbers, y[i] = Σ_m x[m] · h[i - m], summed over every m where x[m] and h[i - m] exist.
    Write it with loops; np.convolve is only for checking.

    >>> convolve_full(np.array([3, 4, 5]), np.array([2, 1, 0])).tolist()
    [6, 11, 14, 5, 0]
    """
    raise NotImplementedError


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import selfcheck

    sys.exit(selfcheck.main("convolve_full", convolve_full))
