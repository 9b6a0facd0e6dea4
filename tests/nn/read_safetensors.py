# A minimal safetensors reader (json + struct only): prints each tensor's name, dtype, shape and sum.
import json
import struct
import sys

FORMATS = {"F32": ("f", 4), "F64": ("d", 8), "I64": ("q", 8)}

with open(sys.argv[1], "rb") as file:
    blob = file.read()
(header_length,) = struct.unpack("<Q", blob[:8])
header = json.loads(blob[8 : 8 + header_length])
data = blob[8 + header_length :]
print("metadata", json.dumps(header.pop("__metadata__", {}), sort_keys=True))
for name, entry in header.items():
    code, size = FORMATS[entry["dtype"]]
    begin, end = entry["data_offsets"]
    count = (end - begin) // size
    values = struct.unpack("<%d%s" % (count, code), data[begin:end])
    print(name, entry["dtype"], entry["shape"], "%.4f" % sum(values))
