"""Exercise of lesson 2_TensorFlow: how TensorFlow's SAME padding splits its zeros.

Run `python exercises/same_padding.py` to check it; --hint for a hint, --solution for ours.
"""


def same_padding(n, k, stride=1, dilation=1):
    """The zeros TensorFlow's padding="SAME" adds before and after one axis.

    n: input size; k: kernel taps; stride s and dilation d: positive integers.
    SAME gives ceil(n / s) outputs; the zeros are as many as the last window needs, split in
    two, and TensorFlow puts an odd one after. Returns (before, after), two whole numbers.

    >>> same_padding(10, 3), same_padding(10, 4), same_padding(10, 3, stride=2)
    ((1, 1), (1, 2), (0, 1))
    """
    raise NotImplementedError


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import selfcheck

    sys.exit(selfcheck.main("same_padding", same_padding))
