"""PyTorch side of TorchInteropTest: safetensors state dicts in both directions.

  python3 torch_interop.py export DIR   builds each model with a fixed seed and writes
                                        DIR/<model>.safetensors: its state dict (PyTorch's keys)
                                        plus "__input" and "__output" (eval-mode forward)
  python3 torch_interop.py check DIR    loads DIR/<model>.backprop.safetensors written by
                                        backprop (strict load_state_dict), runs "__input" through
                                        the model and compares with "__output"; exit 1 on mismatch

The `safetensors` Python package is not in Debian, so save() below writes the format itself the
way safetensors.torch.save_file does (0-d tensors keep the shape [], unlike np.ascontiguousarray),
and the reference generator's load() reads it.
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "reference", "generator"))
from safetensors_io import load  # noqa: E402

_DTYPES = {np.float32: "F32", np.int64: "I64", np.bool_: "BOOL", np.uint8: "U8"}


def save(path, tensors, metadata):
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        a = np.asarray(tensors[name])
        data = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes(order="C")
        header[name] = {"dtype": _DTYPES[a.dtype.type], "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.BatchNorm1d(16), nn.Linear(16, 8), nn.GELU())
        self.norm = nn.LayerNorm(8)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        return self.head(self.norm(self.features(x)))


class TokenModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(11, 5, padding_idx=0)
        self.proj = nn.Linear(5, 4, bias=False)

    def forward(self, x):
        return self.proj(self.embed(x)).tanh()


def models():
    """name -> (model, input)"""
    torch.manual_seed(7)
    out = {}
    mlp = Mlp()
    mlp.train()
    mlp(torch.randn(32, 6) * 2 + 1)  # move the running statistics away from their defaults
    out["mlp"] = (mlp, torch.randn(4, 6))
    out["tokens"] = (TokenModel(), torch.tensor([[0, 3, 10], [7, 7, 1]], dtype=torch.int64))
    return out


def to_numpy(t):
    return t.detach().numpy()


def export(directory):
    for name, (model, x) in models().items():
        model.eval()
        with torch.no_grad():
            y = model(x)
        tensors = {k: to_numpy(v) for k, v in model.state_dict().items()}
        tensors["__input"] = to_numpy(x)
        tensors["__output"] = to_numpy(y)
        save(os.path.join(directory, name + ".safetensors"), tensors, {"format": "pt"})


def check(directory):
    failed = False
    for name, (model, _) in models().items():
        path = os.path.join(directory, name + ".backprop.safetensors")
        tensors, _ = load(path)
        state = {k: torch.from_numpy(np.array(v)) for k, v in tensors.items() if not k.startswith("__")}
        # backprop stores 0-d buffers such as num_batches_tracked with their true shape
        model.load_state_dict(state, strict=True)
        model.eval()
        x = torch.from_numpy(np.array(tensors["__input"]))
        with torch.no_grad():
            y = model(x).numpy()
        expected = np.array(tensors["__output"])
        err = float(np.max(np.abs(y - expected)))
        ok = np.allclose(y, expected, rtol=1e-4, atol=1e-5)
        print(f"{name}: max |torch - backprop| = {err:.3g} {'OK' if ok else 'MISMATCH'}")
        failed |= not ok
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    {"export": export, "check": check}[sys.argv[1]](sys.argv[2])
