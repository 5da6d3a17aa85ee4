"""PyTorch side of PyTorchExportTest: weights exported by backprop (PyTorchExporter) load into
the same architectures built in PyTorch and give backprop's outputs.

  python3 export_check.py DIR   for every DIR/<case>.safetensors (the exported state dict, its
                                metadata naming the model) with DIR/<case>.io.safetensors
                                ("input", "output": backprop's eval-mode forward), builds the
                                PyTorch model, load_state_dict(strict=True), runs "input" and
                                compares with "output" (max abs diff <= 1e-4); exit 1 on mismatch

The architectures: the recipes mlp, cnn and cnn-bn (nn.Sequential with the recipe's layers),
GPT / CharLSTM of models.py (the benchmark's reference) and the intent recipe's TextClassifier
(below), sized from the file's backprop.config.
"""
import glob
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "backprop-cli", "src", "main", "resources", "dev",
                                "backprop", "cli", "torch"))
sys.path.insert(0, os.path.join(HERE, "..", "resources", "reference", "generator"))
import models  # noqa: E402
from safetensors_io import load  # noqa: E402

TOLERANCE = 1e-4


def recipe_model(name, side=28, classes=10):
    s = side // 4
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(side * side, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                             nn.Linear(256, classes))
    if name == "cnn":
        return nn.Sequential(nn.Conv2d(1, 32, 3, 1, 1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, 1, 1),
                             nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * s * s, 128), nn.ReLU(),
                             nn.Linear(128, classes))
    if name == "cnn-bn":
        return nn.Sequential(nn.Conv2d(1, 32, 3, 1, 1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(32, 64, 3, 1, 1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Dropout(0.25), nn.Linear(64 * s * s, 256), nn.BatchNorm1d(256),
                             nn.ReLU(), nn.Dropout(0.25), nn.Linear(256, classes))
    raise ValueError("unknown recipe " + name)


class TextClassifier(nn.Module):
    """dev.backprop.models.TextClassifier: Conv1d of several widths over token embeddings, max
    pooled over the windows that hold a real token, and the masked mean embedding."""

    def __init__(self, c):
        super().__init__()
        self.pad, self.widths = c["pad_id"], c["kernel_widths"]
        e, f = c["embedding_dim"], c["filters"]
        self.emb = nn.Embedding(c["vocab_size"], e, padding_idx=self.pad)
        self.embedding_dropout = nn.Dropout(c["embedding_dropout"])
        self.convs = nn.ModuleList([nn.Conv1d(e, f, k, 1, k - 1) for k in self.widths])
        self.dropout = nn.Dropout(c["dropout"])
        self.head = nn.Linear(len(self.widths) * f + e, c["num_classes"])

    def forward(self, ids):
        mask = (ids != self.pad).float()  # (B, T)
        e = self.embedding_dropout(self.emb(ids)) * mask.unsqueeze(2)
        x = e.transpose(1, 2)
        pooled = []
        for k, conv in zip(self.widths, self.convs):
            window = torch.nn.functional.conv1d(mask.unsqueeze(1), torch.ones(1, 1, k), padding=k - 1) > 0
            pooled.append(conv(x).masked_fill(~window, -1e30).max(2).values.relu())
        count = mask.sum(1, keepdim=True)
        pooled.append(e.sum(1) * torch.where(count > 0, 1 / count.clamp(min=1), torch.zeros_like(count)))
        return self.head(self.dropout(torch.cat(pooled, 1)))


def build(case, meta):
    config = json.loads(meta["backprop.config"]) if "backprop.config" in meta else None
    if config is not None and config["type"] == "gpt":
        if config["mlp_hidden"] != 4 * config["d_model"]:
            raise ValueError("models.GPT has an MLP of 4 * d_model")
        return models.GPT(vocab=config["vocab_size"], ctx=config["context_length"], n_layer=config["n_layer"],
                          n_head=config["n_head"], d=config["d_model"])
    if config is not None and config["type"] == "lstm":
        return models.CharLSTM(vocab=config["vocab_size"], emb=config["embedding_dim"],
                               hidden=config["hidden_size"], layers=config["num_layers"])
    if config is not None and config["type"] == "text_cnn":
        return TextClassifier(config)
    return recipe_model(case)


def main(folder):
    failures = 0
    cases = sorted(p for p in glob.glob(os.path.join(folder, "*.safetensors")) if not p.endswith(".io.safetensors"))
    if not cases:
        print("no exported files in " + folder)
        return 1
    for path in cases:
        case = os.path.basename(path)[:-len(".safetensors")]
        arrays, meta = load(path)
        state = {k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}
        io, _ = load(os.path.join(folder, case + ".io.safetensors"))
        model = build(case, meta)
        model.load_state_dict(state, strict=True)
        model.eval()
        with torch.no_grad():
            out = model(torch.from_numpy(np.array(io["input"]))).numpy()
        expected = np.array(io["output"])
        if out.shape != expected.shape:
            print("%s: output shape %s, backprop's %s" % (case, out.shape, expected.shape))
            failures += 1
            continue
        diff = float(np.abs(out - expected).max())
        ok = diff <= TOLERANCE
        failures += 0 if ok else 1
        print("%-8s %s max |PyTorch - backprop| = %.3g (%d tensors loaded strictly)"
              % (case, "ok  " if ok else "FAIL", diff, len(state)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
