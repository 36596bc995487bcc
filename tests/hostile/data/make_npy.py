"""Writes the small .npy fixtures of the hostile suite (stdlib only; the files are committed).

Each file is a valid or almost-valid NumPy 1.0 file for x = [1..5], y = 2x:
  good.npy            <f8, shape (2, 5): accepted
  wrong-dtype.npy     <f4
  big-endian.npy      >f8
  wrong-shape.npy     shape (3, 5), 15 values
  one-dimensional.npy shape (10,)
  fortran-order.npy   fortran_order: True
  truncated.npy       the header promises 10 values, the file holds 7
  forged-shape.npy    the header promises 2 x 10^15 values (an allocation bomb), the file holds 10
  not-npy.npy         a text file with the .npy extension
  duplicate-key.npy   fortran_order given twice, False then True (NumPy takes the last)
  leading-zero.npy    shape (2, 05): a SyntaxError in Python 3, so NumPy cannot read it

Run: python3 tests/hostile/data/make_npy.py (the files are written beside this script).
"""

import os
import struct

X = [1.0, 2.0, 3.0, 4.0, 5.0]
Y = [2.0 * v for v in X]


def npy(descr, shape, values, fortran=False, fmt="<d", extra=""):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, %s}" % (descr, fortran, shape, extra)
    unpadded = 6 + 2 + 2 + len(header) + 1
    header += " " * ((64 - unpadded % 64) % 64) + "\n"
    payload = b"".join(struct.pack(fmt, v) for v in values)
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + payload


FILES = {
    "good.npy": npy("<f8", "(2, 5)", X + Y),
    "wrong-dtype.npy": npy("<f4", "(2, 5)", X + Y, fmt="<f"),
    "big-endian.npy": npy(">f8", "(2, 5)", X + Y, fmt=">d"),
    "wrong-shape.npy": npy("<f8", "(3, 5)", X + Y + X),
    "one-dimensional.npy": npy("<f8", "(10,)", X + Y),
    "fortran-order.npy": npy("<f8", "(2, 5)", X + Y, fortran=True),
    "truncated.npy": npy("<f8", "(2, 5)", X + Y)[:-24],
    "forged-shape.npy": npy("<f8", "(2, 1000000000000000)", X + Y),
    "not-npy.npy": b"x,y\n1,2\n",
    "duplicate-key.npy": npy("<f8", "(2, 5)", X + Y, extra="'fortran_order': True, "),
    "leading-zero.npy": npy("<f8", "(2, 05)", X + Y),
}

HERE = os.path.dirname(os.path.abspath(__file__))
for name, content in FILES.items():
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(content)
