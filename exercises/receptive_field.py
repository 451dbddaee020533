"""Exercise of lesson 5_cnn: the receptive field of a stack of layers.

Run `python exercises/receptive_field.py` to check it; --hint for a hint, --solution for ours.
"""


def receptive_field(layers):
    """How many input pixels, along one axis, one unit of the last layer depends on.

    layers: a list of (k, s) pairs, from the input to the output: each layer slides a window
    of k pixels with stride s (a convolution or a pooling layer). Returns a whole number.

    >>> receptive_field([(3, 1)]), receptive_field([(3, 1), (3, 1)])
    (3, 5)
    >>> receptive_field([(3, 1), (2, 2), (3, 1), (2, 2)])
    10
    """
    raise NotImplementedError


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import selfcheck

    sys.exit(selfcheck.main("receptive_field", receptive_field))
