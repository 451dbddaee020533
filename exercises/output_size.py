"""Exercise of lesson 2_TensorFlow: the output size of a convolution, one rule for every framework.

Run `python exercises/output_size.py` to check it; --hint for a hint, --solution for ours.
"""


def output_size(n, k, stride=1, padding=0, dilation=1):
    """How many outputs a convolution gives along one axis.

    n: input size; k: kernel taps; stride s and dilation d: positive integers;
    padding: an int p (p zeros before and p after) or a pair (before, after).
    Returns a whole number. You may assume the dilated kernel fits in the padded input.

    >>> output_size(10, 3), output_size(10, 3, stride=2), output_size(5, 3, stride=2, padding=1)
    (8, 4, 3)
    >>> output_size(10, 3, dilation=2), output_size(7, 3, stride=2, padding=(0, 1))
    (6, 3)
    """
    raise NotImplementedError


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import selfcheck

    sys.exit(selfcheck.main("output_size", output_size))
