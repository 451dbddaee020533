"""Exercise of lesson 6_layer: the output size of a transposed convolution.

Run `python exercises/transposed_output_size.py` to check it; --hint for a hint, --solution for ours.
"""


def transposed_output_size(n, k, stride=1):
    """How many outputs a transposed convolution with VALID padding gives along one axis: each
    of the n inputs adds a copy of the kernel (k taps), scaled by its value, into the output,
    the copies of neighbouring inputs `stride` cells apart.

    n, k, stride: positive integers. Returns a whole number.

    >>> transposed_output_size(3, 3), transposed_output_size(3, 3, stride=2)
    (5, 7)
    """
    raise NotImplementedError


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import selfcheck

    sys.exit(selfcheck.main("transposed_output_size", transposed_output_size))
