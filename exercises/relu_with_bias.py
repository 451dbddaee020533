"""Exercise of lesson 3_image: what a neuron outputs, a bias and then ReLU.

Run `python exercises/relu_with_bias.py` to check it; --hint for a hint, --solution for ours.
"""

import numpy as np


def relu_with_bias(feature_map, bias):
    """A neuron's output: the bias b added to its feature map, then ReLU(z) = max(z, 0),
    value by value.

    feature_map: array of any shape; bias: a number. Returns an array of the same shape.
    Leave feature_map as it was (build a new array).

    >>> relu_with_bias(np.array([-60.0, 0.0, 30.0, 80.0]), -50).tolist()
    [0.0, 0.0, 0.0, 30.0]
    """
    raise NotImplementedError


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import selfcheck

    sys.exit(selfcheck.main("relu_with_bias", relu_with_bias))
