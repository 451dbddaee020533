"""Exercise of lesson 4_digit: a kernel that, by convolution, finds one kind of edge.

Run `python exercises/edge_kernel.py` to check it; --hint for a hint, --solution for ours.
"""

import numpy as np


def edge_kernel():
    """A kernel whose convolution (scipy.signal.convolve2d, this lesson's convolve) is positive
    where the picture turns from dark to bright going right, such as the left side of a light
    stroke on a dark ground, and 0 on a flat picture and on a horizontal edge.

    Returns a 2-D array, at most 5 x 5; the check convolves it ('valid') with 7 x 7 pictures.
    For example, np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]]) has the right form, but it is the
    identity: its convolution gives the picture back, bright wherever the picture is.
    """
    raise NotImplementedError


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import selfcheck

    sys.exit(selfcheck.main("edge_kernel", edge_kernel))
