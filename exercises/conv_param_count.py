"""Exercise of lesson 5_cnn: how many numbers a convolution layer learns.

Run `python exercises/conv_param_count.py` to check it; --hint for a hint, --solution for ours.
"""


def conv_param_count(k_h, k_w, c_in, c_out, bias=True):
    """The parameters of a Conv2D layer with C_out filters of k_h x k_w over C_in input
    channels: its weights, and its biases when `bias` is True (Keras's use_bias).

    All arguments are positive integers (bias: True or False). Returns a whole number, what
    keras.layers.Conv2D(...).count_params() gives.

    >>> conv_param_count(3, 3, 1, 1), conv_param_count(3, 3, 3, 64)
    (10, 1792)
    """
    raise NotImplementedError


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import selfcheck

    sys.exit(selfcheck.main("conv_param_count", conv_param_count))
