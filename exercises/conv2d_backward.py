"""Exercise of lesson 6_layer: the backward pass of a convolution.

Run `python exercises/conv2d_backward.py` to check it; --hint for a hint, --solution for ours.
"""

import numpy as np


def conv2d_backward(x, w, grad_y):
    """The gradients of y = 'valid' cross-correlation of x with w (stride 1), given
    grad_y = dL/dy, the gradient of a loss L with respect to y.

    x: 2-D array (H, W); w: 2-D array (k_h, k_w); grad_y: 2-D array (H - k_h + 1, W - k_w + 1).
    Returns (grad_x, grad_w) = (dL/dx, dL/dw), shapes (H, W) and (k_h, k_w). Work in float64,
    NumPy's default: the check measures CS231n's relative error, and float32's rounding alone
    can exceed the 1e-6 it allows.

    >>> grad_x, grad_w = conv2d_backward(np.array([[1, 2, 3]]), np.array([[1, 10]]), np.array([[1, 1]]))
    >>> grad_x.tolist(), grad_w.tolist()
    ([[1.0, 11.0, 10.0]], [[3.0, 5.0]])
    """
    raise NotImplementedError


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import selfcheck

    sys.exit(selfcheck.main("conv2d_backward", conv2d_backward))
