#!/usr/bin/env python3
"""PyTorch checkpoint fixtures for aigc's restricted unpickler, written WITHOUT torch.

torch.save (zip format, torch >= 1.6) writes a ZIP archive:
    <root>/data.pkl        pickle (protocol 2) of the object; tensors are REDUCE calls of
                           torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks)
                           whose storage is a persistent id ('storage', torch.FloatStorage, key, location, numel)
    <root>/byteorder       "little"
    <root>/data/<key>      raw little-endian bytes of each storage, stored (not deflated), 64-byte aligned
    <root>/version         "3\n"
This script emits the same structure with zipfile and a hand-written pickle opcode emitter, so the
fixtures can be rebuilt anywhere. Malicious pickles are only ever written as bytes, never loaded.

Writes Tests/Fixtures/pytorch/:
  small.pth, small.json      F32/F16/BF16/F64/I64/I32/I16/I8/U8/Bool tensors, a transposed (non-contiguous) view,
                             a stride-0 (expanded) view, one storage shared by tensors at different offsets,
                             an nn.Parameter; small.json holds every expected value (row-major)
  nested.pth, nested.json    {"model": {...}, "epoch": 7, "note": "..."}: nested dicts are flattened with "."
  evil_os_system.pth         a valid tensor, then a value built by os.system("echo pwned")
  evil_eval.pth              builtins.eval("...") through GLOBAL
  evil_stack_global.pth      subprocess.Popen through STACK_GLOBAL (protocol 4)
  truncated.pth              small.pth cut in the middle of a storage
  legacy.pth                 the start of a pre-1.6 (non-zip) checkpoint
  real_checkpoints.json      key, dtype, shape, first values and sum of every tensor of the shared real
                             checkpoints, read with Python's pickle + numpy through a restricted find_class
  torch_saved.pth            (only when torch imports) the small state dict written by the real torch.save
  meta.json                  versions
Run from the repository root: python3 scripts/reference/make_pytorch_fixtures.py
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "pytorch")
SHARED = os.path.join(ROOT, "..", "shared", "data", "models")
REAL = ["gan/generator.pth", "vae/vae.pth", "vae/classifier.pth", "ddpm/ddpm_mnist.pth"]

STORAGES = {  # torch storage class -> numpy dtype, aigc dtype name
    "FloatStorage": (np.float32, "F32"), "HalfStorage": (np.float16, "F16"), "BFloat16Storage": (np.uint16, "BF16"),
    "DoubleStorage": (np.float64, "F32"), "LongStorage": (np.int64, "I64"), "IntStorage": (np.int32, "I32"),
    "ShortStorage": (np.int16, "I16"), "CharStorage": (np.int8, "I8"), "ByteStorage": (np.uint8, "I8"),
    "BoolStorage": (np.bool_, "I8"),
}


class Pickle:
    """Emits protocol-2 pickle opcodes the way torch's pickler lays them out (with BINPUT memo)."""

    def __init__(self, proto=2):
        self.out = bytearray(b"\x80" + bytes([proto]))
        self.memo = 0

    def op(self, raw):
        self.out += raw
        return self

    def put(self):
        self.out += b"q" + bytes([self.memo]) if self.memo < 256 else b"r" + struct.pack("<I", self.memo)
        self.memo += 1
        return self

    def global_(self, module, name):
        return self.op(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def string(self, s):
        raw = s.encode()
        return self.op(b"X" + struct.pack("<I", len(raw)) + raw)

    def int(self, v):
        if 0 <= v < 256:
            return self.op(b"K" + bytes([v]))
        if 0 <= v < 65536:
            return self.op(b"M" + struct.pack("<H", v))
        if -(2**31) <= v < 2**31:
            return self.op(b"J" + struct.pack("<i", v))
        raw = v.to_bytes(8, "little", signed=True)
        return self.op(b"\x8a" + bytes([len(raw)]) + raw)

    def tuple_(self, items):
        """Integers as a tuple, with the opcode CPython picks: EMPTY_TUPLE, TUPLE1..3, or MARK ... TUPLE."""
        if len(items) > 3:
            self.op(b"(")
        for v in items:
            self.int(v)
        return self.op([b")", b"\x85", b"\x86", b"\x87"][len(items)] if len(items) <= 3 else b"t")

    def tensor(self, storage_class, key, numel, offset, size, stride):
        self.global_("torch._utils", "_rebuild_tensor_v2").put().op(b"(")
        self.op(b"(").string("storage").global_("torch", storage_class).string(key).string("cpu").int(numel).op(b"t").op(b"Q")
        self.int(offset)
        self.tuple_(size)
        self.tuple_(stride)
        self.op(b"\x89")  # requires_grad False
        self.global_("collections", "OrderedDict").op(b")R")  # backward hooks
        return self.op(b"tR")

    def bytes(self):
        return bytes(self.out + b".")


def write_checkpoint(path, root, pickle_bytes, storages, truncate=None):
    """A torch.save-style zip: storages stored and 64-byte aligned through a padding extra field."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        def add(name, data):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            header = 30 + len(name.encode())
            pad = (64 - (buffer.tell() + header + 4) % 64) % 64
            info.extra = struct.pack("<HH", 0x4246, pad) + b"Z" * pad  # torch's "FB" padding record
            z.writestr(info, data)
        add(f"{root}/data.pkl", pickle_bytes)
        add(f"{root}/byteorder", b"little")
        for key, data in storages.items():
            add(f"{root}/data/{key}", data)
        add(f"{root}/version", b"3\n")
    data = buffer.getvalue()
    with open(path, "wb") as f:
        f.write(data if truncate is None else data[:truncate])
    return data


def small_state_dict(rng):
    """(storages, tensors): storages key -> (class, numpy array); tensors name -> (key, offset, size, stride, param)."""
    storages = {
        "0": ("FloatStorage", rng.standard_normal(12).astype(np.float32)),
        "1": ("FloatStorage", rng.standard_normal(3).astype(np.float32)),
        "2": ("HalfStorage", rng.standard_normal(6).astype(np.float16)),
        "3": ("BFloat16Storage", (rng.standard_normal(5).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)),
        "4": ("DoubleStorage", rng.standard_normal(4)),
        "5": ("LongStorage", np.array([12345], dtype=np.int64)),
        "6": ("IntStorage", np.array([-7, 0, 2**31 - 1, 42], dtype=np.int32)),
        "7": ("FloatStorage", np.arange(10, dtype=np.float32) * 0.5 - 1),
        "8": ("ShortStorage", np.array([-300, 300], dtype=np.int16)),
        "9": ("CharStorage", np.array([-128, 0, 127], dtype=np.int8)),
        "10": ("ByteStorage", np.array([0, 1, 200, 255], dtype=np.uint8)),
        "11": ("BoolStorage", np.array([True, False, True])),
        "12": ("LongStorage", np.array([-(2**40), 3], dtype=np.int64)),
    }
    tensors = {
        "linear.weight": ("0", 0, [3, 4], [4, 1], True),
        "linear.bias": ("1", 0, [3], [1], True),
        "linear.weight_t": ("0", 0, [4, 3], [1, 4], False),  # .t(): shares storage 0, not contiguous
        "half.weight": ("2", 0, [2, 3], [3, 1], False),
        "bf16.weight": ("3", 0, [5], [1], False),
        "double.weight": ("4", 0, [2, 2], [2, 1], False),
        "bn.num_batches_tracked": ("5", 0, [], [], False),
        "ids": ("6", 0, [4], [1], False),
        "shared.a": ("7", 2, [2, 2], [2, 1], False),  # elements 2..5 of storage 7
        "shared.b": ("7", 6, [4], [1], False),  # elements 6..9 of storage 7
        "shared.column": ("7", 1, [3], [3], False),  # every third element from 1: strided
        "expanded": ("1", 0, [2, 3], [0, 1], False),  # bias.expand(2, 3): stride 0
        "i16": ("8", 0, [2], [1], False),
        "i8": ("9", 0, [3], [1], False),
        "u8": ("10", 0, [4], [1], False),
        "mask": ("11", 0, [3], [1], False),
        "big": ("12", 0, [2], [1], False),
    }
    return storages, tensors


def view(array, offset, size, stride):
    return np.lib.stride_tricks.as_strided(array[offset:], shape=size, strides=[s * array.itemsize for s in stride]).copy()


def expected_values(cls, array):
    if cls == "BFloat16Storage":
        return (array.astype(np.uint32) << 16).view(np.float32).astype(float).tolist()
    if cls == "DoubleStorage":
        return array.astype(np.float32).astype(float).tolist()
    return array.astype(float if array.dtype.kind == "f" else int).tolist()


def emit_state_dict(p, storages, tensors):
    p.global_("collections", "OrderedDict").put().op(b")R").put().op(b"(")
    for name, (key, offset, size, stride, param) in tensors.items():
        p.string(name)
        if param:
            p.global_("torch._utils", "_rebuild_parameter")
        p.tensor(storages[key][0], key, len(storages[key][1]), offset, size, stride)
        if param:
            p.op(b"\x89").global_("collections", "OrderedDict").op(b")R").op(b"\x87R")
    return p.op(b"u")  # SETITEMS


def make_small(rng):
    storages, tensors = small_state_dict(rng)
    p = emit_state_dict(Pickle(), storages, tensors)
    p.op(b"}").string("_metadata").op(b"}s").op(b"b")  # state dict's _metadata attribute, as torch writes it
    raw = {k: a.tobytes() for k, (c, a) in storages.items()}
    data = write_checkpoint(os.path.join(OUT, "small.pth"), "small", p.bytes(), raw)
    expected = {}
    for name, (key, offset, size, stride, _) in tensors.items():
        cls, array = storages[key]
        expected[name] = {"dtype": STORAGES[cls][1], "storage": cls, "shape": size, "contiguous": is_contiguous(size, stride),
                          "values": expected_values(cls, view(array, offset, size, stride).reshape(-1))}
    dump(os.path.join(OUT, "small.json"), expected)
    write_checkpoint(os.path.join(OUT, "truncated.pth"), "small", p.bytes(), raw, truncate=len(data) // 2)
    return storages, tensors, expected


def is_contiguous(size, stride):
    expect = 1
    for n, s in reversed(list(zip(size, stride))):
        if n != 1 and s != expect:
            return False
        expect *= n
    return True


def make_nested(rng):
    weights = rng.standard_normal(6).astype(np.float32)
    p = Pickle().op(b"}").put().op(b"(").string("model").op(b"}(").string("encoder.weight")
    p.tensor("FloatStorage", "0", 6, 0, [2, 3], [3, 1]).string("encoder.inner").op(b"}").string("scale")
    p.tensor("FloatStorage", "0", 6, 5, [1], [1]).op(b"s")  # {"scale": ...} inside "encoder.inner"
    p.op(b"u").string("epoch").int(7).string("note").string("nested state").op(b"u")
    write_checkpoint(os.path.join(OUT, "nested.pth"), "nested", p.bytes(), {"0": weights.tobytes()})
    dump(os.path.join(OUT, "nested.json"), {
        "model.encoder.weight": {"shape": [2, 3], "values": weights.astype(float).tolist()},
        "model.encoder.inner.scale": {"shape": [1], "values": [float(weights[5])]},
    })


def make_malicious():
    # os.system("echo pwned") hidden as the second value of an otherwise normal state dict.
    p = Pickle().global_("collections", "OrderedDict").put().op(b")R").put().op(b"(").string("ok.weight")
    p.tensor("FloatStorage", "0", 1, 0, [1], [1]).string("payload")
    p.global_("os", "system").string("echo pwned").op(b"\x85R").op(b"u")
    write_checkpoint(os.path.join(OUT, "evil_os_system.pth"), "evil", p.bytes(), {"0": struct.pack("<f", 1.0)})
    p = Pickle().global_("builtins", "eval").string("__import__('os').system('echo pwned')").op(b"\x85R")
    write_checkpoint(os.path.join(OUT, "evil_eval.pth"), "evil", p.bytes(), {})
    p = Pickle(proto=4).op(b"\x8c\x0asubprocess\x94\x8c\x05Popen\x94\x93\x94").string("true").op(b"\x85R")
    write_checkpoint(os.path.join(OUT, "evil_stack_global.pth"), "evil", p.bytes(), {})
    # A pre-1.6 checkpoint starts with a pickled magic number (LONG1 0x1950a86a20f9469cfc6c), not a zip header.
    legacy = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.\x80\x02M\xe9\x03."
    with open(os.path.join(OUT, "legacy.pth"), "wb") as f:
        f.write(legacy)


class RestrictedUnpickler(pickle.Unpickler):
    """Reads torch checkpoints into numpy with an allow-list (a second, independent reader)."""

    def __init__(self, file, archive, root):
        super().__init__(file)
        self.archive, self.root = archive, root

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return lambda storage, offset, size, stride, *_: view(storage, offset, size, stride)
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return lambda data, *_: data
        if module == "torch" and name in STORAGES:
            return name
        raise pickle.UnpicklingError(f"refused {module}.{name}")

    def persistent_load(self, pid):
        _, cls, key, _, numel = pid
        raw = self.archive.read(f"{self.root}/data/{key}")
        return np.frombuffer(raw, dtype=STORAGES[cls][0])[:numel]


def read_numpy(path):
    with zipfile.ZipFile(path) as z:
        pkl = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        return RestrictedUnpickler(io.BytesIO(z.read(pkl)), z, pkl[: -len("/data.pkl")]).load()


def summarize(path):
    result = {}
    for name, array in read_numpy(path).items():
        flat = array.reshape(-1)
        result[name] = {"dtype": "I64" if array.dtype == np.int64 else "F32", "shape": list(array.shape),
                        "first": flat[:3].astype(float).tolist(), "sum": float(flat.astype(np.float64).sum())}
    return result


def check_with_torch(storages, tensors, expected, real):
    """Second opinion from the real torch, when it imports: it must read our hand-made file and agree
    with the numpy reader on the real checkpoints, and torch.save of the same tensors gives torch_saved.pth."""
    try:
        import torch
    except ImportError:
        print("torch not importable: skipping torch_saved.pth and the torch cross-check")
        return None
    loaded = torch.load(os.path.join(OUT, "small.pth"), weights_only=True)
    for name, info in expected.items():
        t = loaded[name]
        values = (t.double() if t.dtype != torch.bool else t.long()).reshape(-1).tolist()
        assert list(t.shape) == info["shape"] and np.allclose(values, info["values"], rtol=1e-3), name
    for rel, summary in real.items():
        state = torch.load(os.path.join(SHARED, rel), weights_only=True, map_location="cpu")
        assert list(state) == list(summary), rel
        for name, info in summary.items():
            t = state[name]
            assert list(t.shape) == info["shape"] and abs(t.double().sum().item() - info["sum"]) <= 1e-9 * max(1, abs(info["sum"])), name
    typed = {"FloatStorage": torch.float32, "HalfStorage": torch.float16, "BFloat16Storage": torch.bfloat16,
             "DoubleStorage": torch.float64, "LongStorage": torch.int64, "IntStorage": torch.int32,
             "ShortStorage": torch.int16, "CharStorage": torch.int8, "ByteStorage": torch.uint8, "BoolStorage": torch.bool}
    bases = {}
    for key, (cls, array) in storages.items():
        raw = torch.frombuffer(bytearray(array.tobytes()), dtype=torch.uint8)
        bases[key] = raw.view(typed[cls]) if cls != "BoolStorage" else raw.bool()
    state = {}
    for name, (key, offset, size, stride, param) in tensors.items():
        t = torch.as_strided(bases[key], size, stride, offset)
        state[name] = torch.nn.Parameter(t, requires_grad=False) if param else t
    torch.save(state, os.path.join(OUT, "torch_saved.pth"))
    return torch.__version__


def dump(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=1)
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(1234)
    storages, tensors, expected = make_small(rng)
    make_nested(rng)
    make_malicious()
    real = {}
    for rel in REAL:
        path = os.path.join(SHARED, rel)
        if os.path.exists(path):
            real[rel] = summarize(path)
    if real:
        dump(os.path.join(OUT, "real_checkpoints.json"), real)
    torch_version = check_with_torch(storages, tensors, expected, real)
    dump(os.path.join(OUT, "meta.json"), {"seed": 1234, "python": sys.version.split()[0], "numpy": np.__version__,
                                          "torch": torch_version, "script": "scripts/reference/make_pytorch_fixtures.py"})


if __name__ == "__main__":
    main()
