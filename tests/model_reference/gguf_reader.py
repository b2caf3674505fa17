"""A minimal GGUF v2/v3 reader for the float64 reference: metadata and tensors, dequantised
to float64 numpy arrays.

Written from the published format (shared/reference/deepseek-models.md §6.1 file layout,
§7 ggml block formats), independently of dsinfer's C++ reader, so that the two check each
other. Only what the reference needs: no mmap, no split files, no big-endian files.

Shapes: a tensor with ggml dims {ne0, ne1, ne2} comes back as a numpy array of shape
(ne2, ne1, ne0): ne0 (contiguous) last, so a weight {in, out} is W[out, in] and y = W @ x.
"""
import os
import re
import struct

import numpy as np

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32

# GGUF metadata value types (§6.1).
_SCALAR_FORMATS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
                   10: "<Q", 11: "<q", 12: "<d"}
_TYPE_STRING = 8
_TYPE_ARRAY = 9

# ggml type ids -> (name, elements per block, bytes per block) (§7 table).
GGML_TYPES = {
    0: ("F32", 1, 4),
    1: ("F16", 1, 2),
    2: ("Q4_0", 32, 18),
    3: ("Q4_1", 32, 20),
    6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24),
    8: ("Q8_0", 32, 34),
    12: ("Q4_K", 256, 144),
    13: ("Q5_K", 256, 176),
    14: ("Q6_K", 256, 210),
    16: ("IQ2_XXS", 256, 66),
    17: ("IQ2_XS", 256, 74),
    18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18),
    21: ("IQ3_S", 256, 110),
    22: ("IQ2_S", 256, 82),
    29: ("IQ1_M", 256, 56),
    30: ("BF16", 1, 2),
}


class GgufError(ValueError):
    pass


class _Cursor:
    def __init__(self, data, path):
        self.data = data
        self.pos = 0
        self.path = path

    def take(self, n, what):
        if n < 0 or self.pos + n > len(self.data):
            raise GgufError(f"{self.path}: {what} at byte {self.pos} runs past the end "
                            f"({n} bytes wanted, file has {len(self.data)})")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt, what):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))[0]

    def string(self, what):
        n = self.unpack("<Q", what + " length")
        return self.take(n, what).decode("utf-8")

    def value(self, vtype, what):
        if vtype in _SCALAR_FORMATS:
            return self.unpack(_SCALAR_FORMATS[vtype], what)
        if vtype == _TYPE_STRING:
            return self.string(what)
        if vtype == _TYPE_ARRAY:
            etype = self.unpack("<I", what + " element type")
            count = self.unpack("<Q", what + " count")
            if etype in _SCALAR_FORMATS and etype != 7:
                fmt = _SCALAR_FORMATS[etype]
                raw = self.take(count * struct.calcsize(fmt), what)
                return np.frombuffer(raw, dtype=np.dtype(fmt)).tolist()
            return [self.value(etype, f"{what}[{i}]") for i in range(count)]
        raise GgufError(f"{self.path}: {what} has unknown value type {vtype}")


class TensorInfo:
    def __init__(self, name, ne, ggml_type, offset):
        self.name = name
        self.ne = ne  # ggml order, ne[0] contiguous
        self.ggml_type = ggml_type
        self.offset = offset

    @property
    def type_name(self):
        return GGML_TYPES.get(self.ggml_type, (f"type{self.ggml_type}",))[0]

    @property
    def shape(self):
        return tuple(reversed(self.ne))


class GgufFile:
    """metadata: dict key -> python value; tensors: dict name -> TensorInfo."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            self.data = f.read()
        c = _Cursor(self.data, path)
        if c.take(4, "magic") != GGUF_MAGIC:
            raise GgufError(f"{path}: not a GGUF file (bad magic)")
        self.version = c.unpack("<I", "version")
        if self.version not in (2, 3):
            raise GgufError(f"{path}: GGUF version {self.version} is not 2 or 3")
        n_tensors = c.unpack("<Q", "tensor_count")
        n_kv = c.unpack("<Q", "kv_count")
        self.metadata = {}
        for i in range(n_kv):
            key = c.string(f"key {i}")
            vtype = c.unpack("<I", f"type of {key}")
            self.metadata[key] = c.value(vtype, key)
        self.tensors = {}
        for i in range(n_tensors):
            name = c.string(f"tensor {i} name")
            n_dims = c.unpack("<I", f"{name} n_dims")
            if not 1 <= n_dims <= 4:
                raise GgufError(f"{path}: tensor {name} has {n_dims} dims")
            ne = [c.unpack("<Q", f"{name} ne[{d}]") for d in range(n_dims)]
            ggml_type = c.unpack("<I", f"{name} type")
            offset = c.unpack("<Q", f"{name} offset")
            self.tensors[name] = TensorInfo(name, ne, ggml_type, offset)
        alignment = self.metadata.get("general.alignment", DEFAULT_ALIGNMENT)
        self.data_start = c.pos + (alignment - c.pos % alignment) % alignment

    @property
    def architecture(self):
        return self.metadata["general.architecture"]

    def get(self, key, default=None):
        return self.metadata.get(key, default)

    def has_tensor(self, name):
        return name in self.tensors

    def tensor(self, name):
        """The tensor dequantised to float64, shape = ggml ne reversed."""
        if name not in self.tensors:
            raise GgufError(f"{self.path}: tensor {name} is missing")
        info = self.tensors[name]
        if info.ggml_type not in GGML_TYPES:
            raise GgufError(f"{self.path}: tensor {name} has ggml type {info.ggml_type}, "
                            "which this reader does not dequantise")
        type_name, block, block_bytes = GGML_TYPES[info.ggml_type]
        n = int(np.prod(info.ne))
        if info.ne[0] % block != 0:
            raise GgufError(f"{self.path}: tensor {name}: ne0 {info.ne[0]} is not a multiple "
                            f"of the {type_name} block ({block})")
        n_bytes = n // block * block_bytes
        start = self.data_start + info.offset
        if start + n_bytes > len(self.data):
            raise GgufError(f"{self.path}: tensor {name} data runs past the end of the file")
        raw = np.frombuffer(self.data, dtype=np.uint8, count=n_bytes, offset=start)
        values = dequantize(type_name, raw, n)
        return values.reshape(info.shape)


    def block_mins(self, name):
        """Q4_1 / Q5_1: each block's min m (f16), shape = the tensor's with its last axis
        counted in blocks of 32. A dot with Q8_1 activations adds m * s per block."""
        info = self.tensors[name]
        type_name, block, block_bytes = GGML_TYPES[info.ggml_type]
        if type_name not in ("Q4_1", "Q5_1"):
            raise GgufError(f"{self.path}: tensor {name} is {type_name}, which has no block mins")
        n_blocks = int(np.prod(info.ne)) // block
        raw = np.frombuffer(self.data, dtype=np.uint8, count=n_blocks * block_bytes,
                            offset=self.data_start + info.offset)
        mins = _f16(_blocks(raw, block_bytes)[:, 2:4])
        return mins.reshape(info.shape[:-1] + (info.shape[-1] // block,))


# ---- dequantisers (§7), each: uint8 bytes -> float64 array of n values ----

def _f16(raw_u8_pairs):
    return raw_u8_pairs.copy().view("<f2").astype(np.float64)


def _blocks(raw, block_bytes):
    return raw.reshape(-1, block_bytes)


def _deq_f32(raw, n):
    return raw.view("<f4").astype(np.float64)


def _deq_f16(raw, n):
    return raw.view("<f2").astype(np.float64)


def _deq_bf16(raw, n):
    # BF16 is the upper half of an f32.
    return (raw.view("<u2").astype(np.uint32) << 16).view("<f4").astype(np.float64)


def _deq_q8_0(raw, n):
    b = _blocks(raw, 34)
    d = _f16(b[:, 0:2])  # (nb, 1)
    qs = b[:, 2:34].copy().view(np.int8).astype(np.float64)
    return (d * qs).reshape(-1)


def _nibbles(qs):
    # Low nibbles hold elements 0..15, high nibbles 16..31 (not interleaved pairs).
    return np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int64)


def _deq_q4_0(raw, n):
    b = _blocks(raw, 18)
    d = _f16(b[:, 0:2])
    q = _nibbles(b[:, 2:18])
    return (d * (q - 8)).reshape(-1)


def _deq_q4_1(raw, n):
    b = _blocks(raw, 20)
    d = _f16(b[:, 0:2])
    m = _f16(b[:, 2:4])
    q = _nibbles(b[:, 4:20])
    return (d * q + m).reshape(-1)


def _high_bits(qh_bytes):
    # qh as a little-endian u32; bit j is the 5th bit of element j.
    h = qh_bytes.copy().view("<u4").astype(np.int64)  # (nb, 1)
    return (h >> np.arange(32)) & 1  # (nb, 32)


def _deq_q5_0(raw, n):
    b = _blocks(raw, 22)
    d = _f16(b[:, 0:2])
    q = _nibbles(b[:, 6:22]) | (_high_bits(b[:, 2:6]) << 4)
    return (d * (q - 16)).reshape(-1)


def _deq_q5_1(raw, n):
    b = _blocks(raw, 24)
    d = _f16(b[:, 0:2])
    m = _f16(b[:, 2:4])
    q = _nibbles(b[:, 8:24]) | (_high_bits(b[:, 4:8]) << 4)
    return (d * q + m).reshape(-1)


def _k_scales_mins(scales):
    """Q4_K / Q5_K: 8 six-bit (scale, min) pairs packed in 12 bytes."""
    s = scales.astype(np.int64)
    sc = np.empty((s.shape[0], 8), dtype=np.int64)
    mn = np.empty((s.shape[0], 8), dtype=np.int64)
    for j in range(4):
        sc[:, j] = s[:, j] & 63
        mn[:, j] = s[:, j + 4] & 63
    for j in range(4, 8):
        sc[:, j] = (s[:, j + 4] & 0xF) | ((s[:, j - 4] >> 6) << 4)
        mn[:, j] = (s[:, j + 4] >> 4) | ((s[:, j] >> 6) << 4)
    return sc, mn


def _deq_q4_k(raw, n):
    b = _blocks(raw, 144)
    d = _f16(b[:, 0:2])
    dmin = _f16(b[:, 2:4])
    sc, mn = _k_scales_mins(b[:, 4:16])
    qs = b[:, 16:144].astype(np.int64)
    y = np.empty((b.shape[0], 256))
    for c in range(4):
        q = qs[:, 32 * c:32 * c + 32]
        lo, hi = slice(2 * c, 2 * c + 1), slice(2 * c + 1, 2 * c + 2)
        y[:, 64 * c:64 * c + 32] = d * sc[:, lo] * (q & 0xF) - dmin * mn[:, lo]
        y[:, 64 * c + 32:64 * c + 64] = d * sc[:, hi] * (q >> 4) - dmin * mn[:, hi]
    return y.reshape(-1)


def _deq_q5_k(raw, n):
    b = _blocks(raw, 176)
    d = _f16(b[:, 0:2])
    dmin = _f16(b[:, 2:4])
    sc, mn = _k_scales_mins(b[:, 4:16])
    qh = b[:, 16:48].astype(np.int64)
    qs = b[:, 48:176].astype(np.int64)
    y = np.empty((b.shape[0], 256))
    for c in range(4):
        q = qs[:, 32 * c:32 * c + 32]
        lo = (q & 0xF) + 16 * ((qh >> (2 * c)) & 1)
        hi = (q >> 4) + 16 * ((qh >> (2 * c + 1)) & 1)
        y[:, 64 * c:64 * c + 32] = d * sc[:, 2 * c:2 * c + 1] * lo - dmin * mn[:, 2 * c:2 * c + 1]
        y[:, 64 * c + 32:64 * c + 64] = (d * sc[:, 2 * c + 1:2 * c + 2] * hi
                                         - dmin * mn[:, 2 * c + 1:2 * c + 2])
    return y.reshape(-1)


def _deq_q6_k(raw, n):
    b = _blocks(raw, 210)
    ql_all = b[:, 0:128].astype(np.int64)
    qh_all = b[:, 128:192].astype(np.int64)
    sc_all = b[:, 192:208].copy().view(np.int8).astype(np.int64)
    d = _f16(b[:, 208:210])
    y = np.empty((b.shape[0], 256))
    for half in range(2):
        ql = ql_all[:, 64 * half:64 * half + 64]
        qh = qh_all[:, 32 * half:32 * half + 32]
        sc = sc_all[:, 8 * half:8 * half + 8]
        q1 = ((ql[:, 0:32] & 0xF) | (((qh >> 0) & 3) << 4)) - 32
        q2 = ((ql[:, 32:64] & 0xF) | (((qh >> 2) & 3) << 4)) - 32
        q3 = ((ql[:, 0:32] >> 4) | (((qh >> 4) & 3) << 4)) - 32
        q4 = ((ql[:, 32:64] >> 4) | (((qh >> 6) & 3) << 4)) - 32
        # Scale index i = l / 16 for l = 0..31, i.e. each scale covers 16 outputs.
        s = np.repeat(sc, 16, axis=1)  # (nb, 128): s[:, 16k + r] = sc[k]
        base = 128 * half
        y[:, base:base + 32] = d * s[:, 0:32] * q1
        y[:, base + 32:base + 64] = d * s[:, 32:64] * q2
        y[:, base + 64:base + 96] = d * s[:, 64:96] * q3
        y[:, base + 96:base + 128] = d * s[:, 96:128] * q4
    return y.reshape(-1)


_IQ4_NL_VALUES = np.array([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89,
                           113], dtype=np.float64)


def _deq_iq4_nl(raw, n):
    b = _blocks(raw, 18)
    d = _f16(b[:, 0:2])
    return (d * _IQ4_NL_VALUES[_nibbles(b[:, 2:18])]).reshape(-1)


# The lattice grids are format data, not formulas (§7: "copied verbatim" from ggml); they are
# read from the one copy in src/quant/iq_grids.cc, iq2_grids.cc and iq3_grids.cc, whose
# checksums IqGridsTest (tests/unit/quant/iq_grid_quants_test.cc) holds against ggml's; being
# the same copy, they are not an independent check of it. An IQ2 / IQ1 entry is 8 bytes, an
# IQ3 entry 4, element j in byte j. The decoding below (bit fields, signs, scales) is written
# from §7 and ggml-common.h's block layouts.
_GRID_FILES = {"kIq2xxsGrid": "iq_grids.cc", "kIq1sGrid": "iq_grids.cc",
               "kIq2xsGrid": "iq2_grids.cc", "kIq2sGrid": "iq2_grids.cc",
               "kIq3xxsGrid": "iq3_grids.cc", "kIq3sGrid": "iq3_grids.cc"}
_GRIDS = {}


def _grid(name):
    """Grid `name` as (entries, bytes per entry) uint8 rows; IQ1_S's as signed levels."""
    if name not in _GRIDS:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src",
                            "quant", _GRID_FILES[name])
        body = re.search(name + r" = \{(.*?)\};", open(path).read(), re.S).group(1)
        values = re.findall(r"0x[0-9a-f]+", body)
        dtype = "<u4" if len(values[0]) == 10 else "<u8"
        words = np.array([int(v, 16) for v in values], dtype=dtype)
        rows = words.view(np.uint8).reshape(len(values), -1)
        _GRIDS[name] = rows.view(np.int8).astype(np.float64) if name == "kIq1sGrid" else rows
    return _GRIDS[name]


def _parity_signs(seven):
    """7 stored sign bits per group plus the 8th that makes the count of negatives even."""
    parity = np.zeros_like(seven)
    for k in range(7):
        parity ^= (seven >> k) & 1
    return seven | (parity << 7)


def _sign_factors(signs):
    """Per group's sign byte, the 8 factors +-1 (bit j negates element j)."""
    return 1 - 2 * ((signs[..., None] >> np.arange(8)) & 1)


def _deq_iq2_xxs(raw, n):
    b = _blocks(raw, 66)
    d = _f16(b[:, 0:2])[:, 0]
    words = b[:, 2:66].copy().view("<u4").astype(np.int64).reshape(-1, 8, 2)  # per 32 elements
    a0, a1 = words[:, :, 0:1], words[:, :, 1:2]
    idx = (a0 >> np.array([0, 8, 16, 24])) & 0xFF  # (nb, 8, 4) grid rows
    signs = _parity_signs((a1 >> np.array([0, 7, 14, 21])) & 127)  # per group of 8
    db = d[:, None] * (0.5 + (words[:, :, 1] >> 28)) * 0.25  # (nb, 8)
    grid = _grid("kIq2xxsGrid")[idx].astype(np.float64)  # (nb, 8, 4, 8) magnitudes
    return (db[:, :, None, None] * grid * _sign_factors(signs)).reshape(-1)


def _iq2_scales(d, scales):
    """IQ2_XS / IQ2_S: d (0.5 + s) / 4 per group of 8, s a nibble per 16 (low one first)."""
    s = np.stack([scales & 15, scales >> 4], axis=-1).reshape(-1, 16)  # (nb, 16)
    return np.repeat(d[:, None] * (0.5 + s) * 0.25, 2, axis=1)  # (nb, 32)


def _deq_iq2_xs(raw, n):
    b = _blocks(raw, 74)
    d = _f16(b[:, 0:2])[:, 0]
    q = b[:, 2:66].copy().view("<u2").astype(np.int64)  # (nb, 32): one u16 per group
    grid = _grid("kIq2xsGrid")[q & 511].astype(np.float64)  # (nb, 32, 8)
    signs = _parity_signs(q >> 9)
    db = _iq2_scales(d, b[:, 66:74].astype(np.int64))
    return (db[:, :, None] * grid * _sign_factors(signs)).reshape(-1)


def _deq_iq2_s(raw, n):
    b = _blocks(raw, 82)
    d = _f16(b[:, 0:2])[:, 0]
    low = b[:, 2:34].astype(np.int64)  # (nb, 32) index bytes
    signs = b[:, 34:66].astype(np.int64)  # (nb, 32) sign bytes
    qh = b[:, 66:74].astype(np.int64)  # 2 more index bits per group, 4 groups a byte
    high = (qh[:, :, None] >> np.array([0, 2, 4, 6])) & 3  # (nb, 8, 4)
    idx = low | (high.reshape(-1, 32) << 8)
    grid = _grid("kIq2sGrid")[idx].astype(np.float64)
    db = _iq2_scales(d, b[:, 74:82].astype(np.int64))
    return (db[:, :, None] * grid * _sign_factors(signs)).reshape(-1)


def _deq_iq3_xxs(raw, n):
    b = _blocks(raw, 98)
    d = _f16(b[:, 0:2])[:, 0]
    idx = b[:, 2:66].astype(np.int64).reshape(-1, 32, 2)  # two 4-entries per group of 8
    words = b[:, 66:98].copy().view("<u4").astype(np.int64)  # (nb, 8): one per 32
    signs = _parity_signs((words[:, :, None] >> np.array([0, 7, 14, 21])) & 127).reshape(-1, 32)
    db = np.repeat(d[:, None] * (0.5 + (words >> 28)) * 0.5, 4, axis=1)  # (nb, 32)
    grid = _grid("kIq3xxsGrid")[idx].reshape(-1, 32, 8).astype(np.float64)
    return (db[:, :, None] * grid * _sign_factors(signs)).reshape(-1)


def _deq_iq3_s(raw, n):
    b = _blocks(raw, 110)
    d = _f16(b[:, 0:2])[:, 0]
    low = b[:, 2:66].astype(np.int64)  # (nb, 64) index bytes
    qh = b[:, 66:74].astype(np.int64)  # a 9th bit per index byte, 8 a byte
    high = ((qh[:, :, None] >> np.arange(8)) & 1).reshape(-1, 64)
    grid = _grid("kIq3sGrid")[low | (high << 8)].reshape(-1, 32, 8).astype(np.float64)
    signs = b[:, 74:106].astype(np.int64)  # (nb, 32)
    scales = b[:, 106:110].astype(np.int64)
    s = np.stack([scales & 15, scales >> 4], axis=-1).reshape(-1, 8)  # one per 32
    db = np.repeat(d[:, None] * (1 + 2 * s), 4, axis=1)  # (nb, 32)
    return (db[:, :, None] * grid * _sign_factors(signs)).reshape(-1)


def _deq_iq1_s(raw, n):
    b = _blocks(raw, 50)
    d = _f16(b[:, 0:2])[:, 0]
    qs = b[:, 2:34].astype(np.int64).reshape(-1, 8, 4)
    qh = b[:, 34:50].copy().view("<u2").astype(np.int64)  # (nb, 8)
    idx = qs | (((qh[:, :, None] >> np.array([0, 3, 6, 9])) & 7) << 8)
    dl = d[:, None] * (2 * ((qh >> 12) & 7) + 1)
    delta = np.where(qh & 0x8000, -0.125, 0.125)
    grid = _grid("kIq1sGrid")[idx]  # (nb, 8, 4, 8) levels -1, 0, 1
    return (dl[:, :, None, None] * (grid + delta[:, :, None, None])).reshape(-1)


def _deq_iq1_m(raw, n):
    b = _blocks(raw, 56)
    qs = b[:, 0:32].astype(np.int64)  # one index byte per group of 8
    qh = b[:, 32:48].astype(np.int64)  # one byte per two groups
    sc = b[:, 48:56].copy().view("<u2").astype(np.int64)  # (nb, 4)
    d_bits = ((sc[:, 0] >> 12) | ((sc[:, 1] >> 8) & 0xF0) | ((sc[:, 2] >> 4) & 0xF00)
              | (sc[:, 3] & 0xF000))
    d = d_bits.astype("<u2").view("<f2").astype(np.float64)
    g = np.arange(32)
    h = qh[:, g // 2]  # (nb, 32)
    odd = (g % 2 == 1)
    idx = qs | np.where(odd, (h << 4) & 0x700, (h << 8) & 0x700)
    delta = np.where(h & np.where(odd, 0x80, 0x08), -0.125, 0.125)
    half = g // 2  # 16-element half of each group, 0..15
    s = 2 * ((sc[:, half // 4] >> (3 * (half % 4))) & 7) + 1  # (nb, 32)
    grid = _grid("kIq1sGrid")[idx]  # (nb, 32, 8)
    return (d[:, None, None] * s[:, :, None] * (grid + delta[:, :, None])).reshape(-1)


_DEQUANTIZERS = {
    "F32": _deq_f32, "F16": _deq_f16, "BF16": _deq_bf16, "Q8_0": _deq_q8_0,
    "Q4_0": _deq_q4_0, "Q4_1": _deq_q4_1, "Q5_0": _deq_q5_0, "Q5_1": _deq_q5_1,
    "Q4_K": _deq_q4_k, "Q5_K": _deq_q5_k, "Q6_K": _deq_q6_k, "IQ4_NL": _deq_iq4_nl,
    "IQ2_XXS": _deq_iq2_xxs, "IQ1_S": _deq_iq1_s, "IQ1_M": _deq_iq1_m,
    "IQ2_XS": _deq_iq2_xs, "IQ2_S": _deq_iq2_s, "IQ3_XXS": _deq_iq3_xxs, "IQ3_S": _deq_iq3_s,
}


def dequantize(type_name, raw, n):
    out = _DEQUANTIZERS[type_name](raw, n)
    if out.size != n:
        raise GgufError(f"{type_name}: dequantised {out.size} values, expected {n}")
    return out
