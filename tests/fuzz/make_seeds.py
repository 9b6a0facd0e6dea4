#!/usr/bin/env python3
"""Writes the seed corpora under tests/fuzz/corpus/: small valid files and typical breakages."""
import gzip
import os
import json
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def idx(type_code, dims, payload):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">i", d) for d in dims) + payload


def idx_seeds():
    seeds = {
        "ubyte_vector": idx(0x08, [5], bytes([0, 1, 2, 254, 255])),
        "ubyte_images": idx(0x08, [2, 3, 3], bytes(range(18))),
        "sbyte": idx(0x09, [4], struct.pack(">4b", -128, -1, 0, 127)),
        "short": idx(0x0B, [2, 2], struct.pack(">4h", -32768, -1, 1, 32767)),
        "int": idx(0x0C, [3], struct.pack(">3i", -2**31, 0, 2**31 - 1)),
        "float": idx(0x0D, [2, 2], struct.pack(">4f", 1.5, -0.0, float("inf"), float("nan"))),
        "double": idx(0x0E, [3], struct.pack(">3d", 1e308, -1e-308, 3.25)),
        "truncated_header": idx(0x08, [2, 3], b"")[:6],
        "truncated_data": idx(0x08, [4, 4], bytes(10)),
        "trailing_bytes": idx(0x08, [2], bytes(5)),
        "bad_magic": b"\x01\x02" + idx(0x08, [1], b"\x07")[2:],
        "bad_type": idx(0x0A, [1], b"\x07"),
        "zero_dims": idx(0x08, [], b""),
        "zero_extent": idx(0x08, [3, 0], b""),
        "negative_extent": idx(0x08, [-1], b"\x00"),
        "huge_extents": idx(0x08, [0x7FFFFFFF, 0x7FFFFFFF, 0x7FFFFFFF], bytes(16)),
        "many_dims": idx(0x08, [1] * 255, b"\x05"),
        "empty": b"",
    }
    for name, data in seeds.items():
        put("read_idx", name, data)
        mode = 3 if name == "empty" else 0
        put("read_idx_gz", name, bytes([mode, 0]) + data)
    # The gz target's other modes: cut streams, two members, raw bytes behind a gzip magic.
    put("read_idx_gz", "cut_half", bytes([1, 128]) + seeds["ubyte_images"])
    put("read_idx_gz", "two_members", bytes([2, 0]) + seeds["ubyte_vector"])
    raw = gzip.compress(seeds["float"], mtime=0)
    put("read_idx_gz", "raw_stream", bytes([3, 0]) + raw[3:])
    put("read_idx_gz", "raw_garbage", bytes([3, 0]) + b"\x00" * 7 + b"\xff" * 20)


def csv_seeds():
    header, label_index_last, label_index_first, label_y = 1, 1 << 3, 2 << 3, 3 << 3
    semicolon, tab = 1 << 1, 2 << 1
    i64_labels, f64, i64_features = 1 << 5, 1 << 6, 1 << 7
    seeds = {
        "header_label_y": (header | label_y, "x1,x2,y\n1,2,3\n4.5,-5e3,6\n"),
        "no_header_last_i64": (label_index_last | i64_labels, "1,2,0\n3,4,1\r\n5,6,2\n"),
        "first_label_f64": (header | label_index_first | f64, "y,a\n1,2\n3,4\n"),
        "semicolon_quoted": (header | semicolon | label_y,
                             '"a";"b ""q""";y\n "1" ; 2 ;3\n4;5;6\n'),
        "tab_blank_lines": (header | tab, "a\tb\n\n1\t2\n\n3\t4\n\n"),
        "nan_inf": (header, "a,b\nnan,inf\n-inf,NaN\n"),
        "huge_numbers": (header, "a,b\n1e400,-1e400\n1e-400,0x1p3\n"),
        "i64_label_not_integral": (header | label_y | i64_labels, "a,y\n1,1.5\n"),
        "i64_label_too_big": (header | label_y | i64_labels, "a,y\n1,1e30\n2,nan\n"),
        "ragged": (header, "a,b\n1,2\n3\n4,5,6\n"),
        "not_a_number": (header, "a,b\n1,two\n"),
        "header_only": (header, "a,b,c\n"),
        "empty": (0, ""),
        "unterminated_quote": (header, 'a,b\n"1,2\n'),
        "missing_label_column": (header | label_y, "a,b\n1,2\n"),
        "duplicate_names": (header | label_y, "y,y\n1,2\n"),
        "single_column_label": (label_index_last, "1\n2\n3\n"),
        "only_delimiters": (0, ",,,\n,,,\n"),
        "i64_features": (header | i64_features, "a,b\n1,2\n-3,4\n"),
        "i64_features_nan": (header | i64_features, "a,b\n1,nan\n1e300,4\n"),
    }
    for name, (bits, text) in seeds.items():
        put("read_csv", name, bytes([bits]) + text.encode())


def data_test_seeds():
    """Brings in the data tests' own corpus (tests/data/corpus), in each target's framing."""
    root = os.path.join(HERE, "..", "data", "corpus")
    for kind in ("idx", "csv"):
        directory = os.path.join(root, kind)
        if not os.path.isdir(directory):
            continue
        for name in sorted(os.listdir(directory)):
            with open(os.path.join(directory, name), "rb") as f:
                data = f.read()
            if kind == "csv":
                put("read_csv", "data_" + name, bytes([1]) + data)           # header, no label
                put("read_csv", "data_label_" + name, bytes([1 | 1 << 3]) + data)  # last = label
            elif data[:2] == b"\x1f\x8b":
                put("read_idx_gz", "data_" + name, bytes([3, 0]) + data[3:])  # as is
            else:
                put("read_idx", "data_" + name, data)
                put("read_idx_gz", "data_" + name, bytes([0, 0]) + data)      # gzipped


def safetensors(tensors, metadata=None, crc=True, version="1", pad=True):
    """A file as tg::nn::save writes it: tensors is [(name, dtype, shape, payload bytes)]."""
    header, offset, data = {}, 0, b""
    if metadata is None:
        metadata = {"format": "tapegrad", "version": version}
    for name, dtype, shape, payload in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(payload)]}
        offset += len(payload)
        data += payload
    if metadata is not False:
        if crc:
            metadata = dict(metadata, crc32="%08x" % zlib.crc32(data))
        header = {"__metadata__": metadata, **header}
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def floats(*values):
    return struct.pack("<%df" % len(values), *values)


def nn_load_seeds():
    # The fuzz target's model: Sequential(Linear(3, 4), ReLU(), Linear(4, 2)).
    model = [("0.weight", "F32", [4, 3], floats(*[0.1 * i for i in range(12)])),
             ("0.bias", "F32", [4], floats(1, 2, 3, 4)),
             ("2.weight", "F32", [2, 4], floats(*[-0.5 * i for i in range(8)])),
             ("2.bias", "F32", [2], floats(7, 8))]
    put("nn_load", "valid", safetensors(model))
    put("nn_load", "valid_no_metadata", safetensors(model, metadata=False))
    put("nn_load", "valid_no_crc", safetensors(model, crc=False))
    put("nn_load", "newer_version", safetensors(model, version="2"))
    put("nn_load", "version_not_a_number", safetensors(model, version="1.0"))
    put("nn_load", "bad_crc", safetensors(model, crc=False, metadata={
        "format": "tapegrad", "version": "1", "crc32": "00000000"}))
    corrupt = bytearray(safetensors(model))
    corrupt[-3] ^= 0x40
    put("nn_load", "corrupt_data", bytes(corrupt))
    put("nn_load", "wrong_shape", safetensors([model[0], ("0.bias", "F32", [2], floats(1, 2)),
                                                model[2], model[3]]))
    put("nn_load", "wrong_dtype", safetensors([("0.weight", "F64", [4, 3], bytes(96))] + model[1:]))
    put("nn_load", "missing_tensor", safetensors(model[:3]))
    put("nn_load", "extra_tensor", safetensors(model + [("3.weight", "F32", [1], floats(1))]))
    put("nn_load", "other_model", safetensors([("fc.weight", "F32", [1, 1], floats(1))]))
    put("nn_load", "truncated", safetensors(model)[:-5])
    put("nn_load", "header_too_long", struct.pack("<Q", 2**63) + b"{}")
    put("nn_load", "not_json", struct.pack("<Q", 8) + b"{nope!!}")
    put("nn_load", "empty", b"")
    overlapping = json.dumps({"0.weight": {"dtype": "F32", "shape": [4, 3], "data_offsets": [0, 48]},
                              "0.bias": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})
    put("nn_load", "overlapping", struct.pack("<Q", len(overlapping)) + overlapping.encode() + bytes(48))
    huge = json.dumps({"0.weight": {"dtype": "F32", "shape": [2**62, 2**62], "data_offsets": [0, 0]}})
    put("nn_load", "huge_shape", struct.pack("<Q", len(huge)) + huge.encode())


def tg_load_seeds():
    # Any tensors at all, with user metadata beside tapegrad's reserved keys.
    tensors = [("a.weight", "F32", [2, 2], floats(1, -2, 3.5, 0)),
               ("b", "F64", [], struct.pack("<d", 0.125)),
               ("step", "I64", [2], struct.pack("<2q", 7, -1)),
               ("empty", "F32", [0, 3], b"")]
    with_user = {"format": "tapegrad", "version": "1", "epoch": "3", "note": "warm-up"}
    put("tg_load", "valid", safetensors(tensors))
    put("tg_load", "valid_user_metadata", safetensors(tensors, metadata=with_user))
    put("tg_load", "valid_no_metadata", safetensors(tensors, metadata=False))
    put("tg_load", "no_tensors", safetensors([], metadata=with_user))
    put("tg_load", "metadata_not_string", safetensors(tensors, metadata={"epoch": 3}, crc=False))
    put("tg_load", "metadata_not_object", safetensors(tensors, metadata=["x"], crc=False))
    put("tg_load", "truncated", safetensors(tensors, metadata=with_user)[:-3])
    corrupt = bytearray(safetensors(tensors, metadata=with_user))
    corrupt[-9] ^= 0x01
    put("tg_load", "corrupt_data", bytes(corrupt))
    put("tg_load", "unicode_names", safetensors([("größe.ü", "F32", [1], floats(1))],
                                                metadata={"ключ": "значение"}))


def checkpoint_load_seeds():
    # Breakages of the valid checkpoint that `resume_helper write-fuzz-seeds` wrote (run that
    # first); skipped when it is absent.
    path = os.path.join(HERE, "corpus", "checkpoint_load", "valid_trained")
    if not os.path.exists(path):
        return
    with open(path, "rb") as f:
        valid = f.read()
    put("checkpoint_load", "truncated", valid[:-7])
    flipped = bytearray(valid)
    flipped[-20] ^= 0x02
    put("checkpoint_load", "flipped_data_bit", bytes(flipped))
    (length,) = struct.unpack("<Q", valid[:8])
    header = json.loads(valid[8:8 + length])
    data = valid[8 + length:]
    metadata = header.pop("__metadata__")

    def rewrite(name, entries):
        # Re-lays the data for `entries` {name: (dtype, shape, payload)} with a fresh CRC.
        tensors = [(key, dtype, shape, payload) for key, (dtype, shape, payload) in entries.items()]
        put("checkpoint_load", name, safetensors(tensors, metadata={
            key: value for key, value in metadata.items() if key != "crc32"}))

    entries = {key: (value["dtype"], value["shape"],
                     data[value["data_offsets"][0]:value["data_offsets"][1]])
               for key, value in header.items()}
    rewrite("relaid", entries)
    rewrite("no_rng", {k: v for k, v in entries.items() if k != "rng.state"})
    rewrite("zero_rng", dict(entries, **{"rng.state": ("I64", [4], bytes(32))}))
    rewrite("extra_entry", dict(entries, **{"model.9.weight": ("F32", [1], floats(1))}))
    optimizer_keys = sorted(k for k in entries if k.startswith("optimizer.state."))
    if optimizer_keys:
        rewrite("missing_optimizer_entry", {k: v for k, v in entries.items() if k != optimizer_keys[0]})
    rewrite("model_only", {k: v for k, v in entries.items() if k.startswith("model.")})


if __name__ == "__main__":
    idx_seeds()
    csv_seeds()
    data_test_seeds()
    nn_load_seeds()
    tg_load_seeds()
    checkpoint_load_seeds()
