#!/usr/bin/python3
"""Golden safetensors fixtures for Shen's model/safetensors package.

Run from anywhere with the system Python (needs numpy only):

    /usr/bin/python3 testdata/safetensors/gen.py          # write + check
    /usr/bin/python3 testdata/safetensors/gen.py --check  # check only

It does two things:

1. Writes from_python.safetensors: the tensors of FIXTURE below (every
   common dtype, with known values, edge cases included) and metadata
   {"format": "pt"}.

2. Loads from_shen.safetensors (written by the Go test:
   `go test ./model/safetensors -run TestWriteFixture -update`), validates
   it with the reference rules and checks every value with numpy; and
   checks that it is byte-for-byte the file this script writes.

The Python `safetensors` package (Hugging Face) is not installable on the
machine these fixtures were made on (Debian bookworm has no
python3-safetensors and PyPI is not reachable), so `serialize` and
`deserialize` below rebuild the bytes exactly as the reference
implementation (safetensors/src/tensor.rs: `prepare`, `serialize`,
`read_metadata`, `Metadata::validate`) does:

  * tensors sorted by descending position in the reference `Dtype` enum
    (its alignment order), then by name (byte order);
  * header = serde_json compact JSON: "__metadata__" first (when given),
    then each tensor as {"dtype":..,"shape":[..],"data_offsets":[b,e]},
    strings escaped as serde_json does (which json.dumps with
    ensure_ascii=False matches: only quote, backslash and control chars);
  * header padded with spaces to a multiple of 8, its length as a
    little-endian u64 in front, then the tensors' bytes back to back.

If the real library is importable, the script also checks that
safetensors.numpy.save() gives the same bytes as `serialize` for the
tensors numpy can hold (all but BF16).
"""

import json
import os
import struct
import sys

import numpy as np

try:
    import torch  # optional: cross-checks F16/BF16 decoding
except ImportError:
    torch = None

HERE = os.path.dirname(os.path.abspath(__file__))
FROM_PYTHON = os.path.join(HERE, "from_python.safetensors")
FROM_SHEN = os.path.join(HERE, "from_shen.safetensors")

# The reference Dtype enum, in its order (increasing alignment), with the
# size of one element in bits.
DTYPES = [
    ("BOOL", 8), ("F4", 4), ("F6_E2M3", 6), ("F6_E3M2", 6), ("U8", 8),
    ("I8", 8), ("F8_E5M2", 8), ("F8_E4M3", 8), ("F8_E8M0", 8), ("I16", 16),
    ("U16", 16), ("F16", 16), ("BF16", 16), ("I32", 32), ("U32", 32),
    ("F32", 32), ("C64", 64), ("F64", 64), ("I64", 64), ("U64", 64),
]
RANK = {name: i for i, (name, _) in enumerate(DTYPES)}
BITS = dict(DTYPES)
MAX_HEADER_SIZE = 100_000_000

NUMPY = {
    "BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "I16": np.int16,
    "U16": np.uint16, "F16": np.float16, "I32": np.int32, "U32": np.uint32,
    "F32": np.float32, "F64": np.float64, "I64": np.int64, "U64": np.uint64,
}


def bf16_bytes(values):
    """bfloat16 little-endian bytes of values, each exact in bfloat16."""
    f32 = np.asarray(values, dtype=np.float32)
    bits = f32.view(np.uint32)
    assert np.all(bits & 0xFFFF == 0), "value not exact in bfloat16"
    return (bits >> 16).astype("<u2").tobytes()


def bf16_values(raw):
    return (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)


# name -> (dtype, shape, values). The Go test holds the same table.
FIXTURE = {
    "conv1.weight": ("F32", (2, 1, 2, 2), [(i - 3.5) * 0.25 for i in range(8)]),
    "conv1.bias": ("F32", (2,), [0.1, -0.2]),
    "empty": ("F32", (0, 3), []),
    "fc.weight": ("F64", (2, 2), [1 / 3, -2.5, 1e300, 5e-324]),
    "half": ("F16", (6,), [1.0, -2.5, 65504.0, 2.0**-14, 2.0**-24, float("inf")]),
    "bhalf": ("BF16", (2, 2), [1.0, -3.140625, (2 - 2.0**-7) * 2.0**127, 2.0**-133]),
    "step": ("I64", (), [1099511627783]),
    "ids": ("I64", (3,), [-1, 0, 9223372036854775807]),
    "i32": ("I32", (2,), [-2147483648, 123]),
    "i16": ("I16", (2,), [-32768, 7]),
    "i8": ("I8", (3,), [-128, 0, 127]),
    "u8": ("U8", (3,), [0, 128, 255]),
    "u16": ("U16", (1,), [65535]),
    "u32": ("U32", (1,), [4294967295]),
    "u64": ("U64", (1,), [18446744073709551615]),
    "mask": ("BOOL", (4,), [True, False, False, True]),
    'naïve "q" <&>\t\x1f': ("F32", (1,), [42.0]),
}
METADATA = {"format": "pt"}


def fixture_tensors():
    out = {}
    for name, (dtype, shape, values) in FIXTURE.items():
        if dtype == "BF16":
            raw = bf16_bytes(values)
        else:
            raw = np.asarray(values, dtype=NUMPY[dtype]).reshape(shape)
            raw = raw.astype(np.dtype(NUMPY[dtype]).newbyteorder("<")).tobytes()
        out[name] = (dtype, tuple(shape), raw)
    return out


def serialize(tensors, metadata=None):
    """Bytes of a safetensors file, as the reference `serialize` makes them."""
    order = sorted(tensors, key=lambda n: (-RANK[tensors[n][0]], n.encode("utf-8")))
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    for name in order:
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(tensors[n][2] for n in order)


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in header")
    return dict(pairs)


def deserialize(buf):
    """(metadata, {name: (dtype, shape, bytes)}) under the reference rules."""
    if len(buf) < 8:
        raise ValueError("HeaderTooSmall")
    (n,) = struct.unpack("<Q", buf[:8])
    if n > MAX_HEADER_SIZE:
        raise ValueError("HeaderTooLarge")
    if 8 + n > len(buf):
        raise ValueError("InvalidHeaderLength")
    header = json.loads(buf[8:8 + n].decode("utf-8"), object_pairs_hook=_no_duplicates)
    metadata = header.pop("__metadata__", None)
    if metadata is not None:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())
    data = buf[8 + n:]
    items = sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"]))
    start = 0
    out = {}
    for name, info in items:
        s, e = info["data_offsets"]
        if s != start or e < s:
            raise ValueError("InvalidOffset(%r)" % name)
        start = e
        count = 1
        for d in info["shape"]:
            count *= d
        nbits = count * BITS[info["dtype"]]
        if nbits % 8 or e - s != nbits // 8:
            raise ValueError("TensorInvalidInfo(%r)" % name)
        out[name] = (info["dtype"], tuple(info["shape"]), data[s:e])
    if start != len(data):
        raise ValueError("MetadataIncompleteBuffer")
    return metadata, out


def check_values(path, metadata, tensors):
    """Every tensor of FIXTURE is in tensors with exactly its values."""
    assert metadata == METADATA, (path, metadata)
    assert set(tensors) == set(FIXTURE), (path, sorted(tensors))
    for name, (dtype, shape, values) in FIXTURE.items():
        got_dtype, got_shape, raw = tensors[name]
        assert (got_dtype, got_shape) == (dtype, shape), (path, name, got_dtype, got_shape)
        if dtype == "BF16":
            got = bf16_values(raw)
            want = np.asarray(values, dtype=np.float32)
        else:
            got = np.frombuffer(raw, dtype=np.dtype(NUMPY[dtype]).newbyteorder("<"))
            want = np.asarray(values, dtype=NUMPY[dtype])
        assert got.size == want.size and np.array_equal(got, want.reshape(-1)), (path, name, got, want)
        if dtype in ("F16", "BF16") and torch is not None:
            # PyTorch decodes the half-precision bytes to the same values.
            t = torch.frombuffer(bytearray(raw), dtype=getattr(torch, dtype == "F16" and "float16" or "bfloat16"))
            assert np.array_equal(t.float().numpy(), want.reshape(-1)), (path, name, t)


def main():
    check_only = "--check" in sys.argv[1:]
    tensors = fixture_tensors()
    want = serialize(tensors, METADATA)

    try:
        from safetensors.numpy import save as reference_save
    except ImportError:
        print("the safetensors package is not installed: reference writer rebuilt in this script")
    else:
        subset = {k: v for k, v in tensors.items() if v[0] != "BF16"}
        arrays = {k: np.frombuffer(raw, dtype=np.dtype(NUMPY[d]).newbyteorder("<")).reshape(shape)
                  for k, (d, shape, raw) in subset.items()}
        assert reference_save(arrays, metadata=METADATA) == serialize(subset, METADATA)
        print("safetensors.numpy.save agrees byte for byte")

    if not check_only:
        with open(FROM_PYTHON, "wb") as f:
            f.write(want)
        print("wrote", FROM_PYTHON, len(want), "bytes")
    with open(FROM_PYTHON, "rb") as f:
        assert f.read() == want, "from_python.safetensors is stale: run without --check"
    check_values(FROM_PYTHON, *deserialize(want))

    if os.path.exists(FROM_SHEN):
        with open(FROM_SHEN, "rb") as f:
            shen = f.read()
        check_values(FROM_SHEN, *deserialize(shen))
        assert shen == want, "from_shen.safetensors differs from the reference bytes"
        print("from_shen.safetensors: valid, every value right, byte-identical to the reference layout")
    else:
        print("no", FROM_SHEN, "yet: run the Go test with -update")


if __name__ == "__main__":
    main()
