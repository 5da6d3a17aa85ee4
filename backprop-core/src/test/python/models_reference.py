"""PyTorch reference values for dev.backprop.models (GPT, CharLSTM), read by
dev.backprop.models.ModelsReferenceTest.

The models are those of models.py (a copy of ../shared/bench/torch/models.py, the benchmark's
PyTorch reference) at small sizes. Each case is built with a fixed seed; then every parameter
is moved by N(0, 0.3²) noise so that biases and LayerNorm affine parameters are not at their
initial 0 / 1 and attention is far from uniform (the gradients then exercise every path).
Parameters and inputs are float32; forward and backward run in float64 and the results are
stored as float32, as the other reference generators do.

Each case writes OUT_DIR/<case>.safetensors with
  param.KEY        the state dict (PyTorch's keys)
  in.idx           int64 (B, T) input tokens
  in.targets       int64 (B, T) targets
  out.logits       (B, T, V)
  out.loss         seq_loss(logits, targets), shape [1]
  grad.param.KEY   d loss / d parameter, for every parameter
and OUT_DIR/INDEX.json lists the cases, and for the full W3 and W4 models the state-dict keys,
the non-persistent buffers and the parameter counts.

Usage: /usr/bin/python3 models_reference.py OUT_DIR   (PyTorch 1.13, Debian's python3-torch)
"""
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
# models.py: the copy of ../shared/bench/torch/models.py that the jar carries for `bench --torch`
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "backprop-cli", "src", "main", "resources", "dev",
                                "backprop", "cli", "torch"))
# the safetensors writer shared by the reference generators, kept once in the test resources
sys.path.insert(0, os.path.join(HERE, "..", "resources", "reference", "generator"))
import models  # noqa: E402
from safetensors_io import save  # noqa: E402

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
cases = []


def case(name, model_kind, args, build, batch, seq):
    torch.manual_seed(1234)
    m = build()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.3 * torch.randn_like(p))
    vocab = args["vocab"]
    idx = torch.randint(0, vocab, (batch, seq))
    targets = torch.randint(0, vocab, (batch, seq))
    T = {"in.idx": idx.numpy(), "in.targets": targets.numpy()}
    for k, v in m.state_dict().items():
        T["param." + k] = v.detach().numpy().astype(np.float32)
    m = m.double()
    logits = m(idx)
    loss = models.seq_loss(logits, targets)
    loss.backward()
    T["out.logits"] = logits.detach().numpy().astype(np.float32)
    T["out.loss"] = loss.detach().reshape(1).numpy().astype(np.float32)
    for k, p in m.named_parameters():
        T["grad.param." + k] = p.grad.numpy().astype(np.float32)
    save(os.path.join(OUT, name + ".safetensors"), T, {"model": model_kind, "args": json.dumps(args),
                                                       "torch": torch.__version__})
    cases.append({"case": name, "model": model_kind, "args": dict(args, batch=batch, seq=seq),
                  "state_dict_keys": list(m.state_dict().keys()),
                  "tensors": {k: list(v.shape) for k, v in sorted(T.items())}})
    print(name, "loss", float(loss))


GPT_SMALL = {"vocab": 11, "ctx": 8, "n_layer": 2, "n_head": 2, "d": 16}  # MLP 4·d = 64
LSTM_SMALL = {"vocab": 11, "emb": 8, "hidden": 12, "layers": 2}

case("gpt_small", "gpt", GPT_SMALL, lambda: models.GPT(**GPT_SMALL), 3, 6)  # T < ctx: the mask is sliced
case("gpt_small_full_context", "gpt", GPT_SMALL, lambda: models.GPT(**GPT_SMALL), 2, 8)  # T = ctx
case("char_lstm_small", "char_lstm", LSTM_SMALL, lambda: models.CharLSTM(**LSTM_SMALL), 3, 5)


def describe(m):
    return {"parameters": models.n_params(m),
            "state_dict_keys": list(m.state_dict().keys()),
            "parameter_keys": [k for k, _ in m.named_parameters()],
            "buffers": [k for k, _ in m.named_buffers()]}


full = {"w1": describe(models.w1_model()), "w2": describe(models.w2_model()),
        "w3": describe(models.w3_model()), "w4": describe(models.w4_model())}
for k, v in full.items():
    print(k, "parameters", v["parameters"])

with open(os.path.join(OUT, "INDEX.json"), "w") as f:
    json.dump({"generator": "PyTorch " + torch.__version__ + " in float64, stored as float32 "
                            "(backprop-core/src/test/python/models_reference.py)",
               "layout": {"param.KEY": "state dict (PyTorch keys), after seeded init plus N(0, 0.3^2) noise",
                          "in.idx / in.targets": "int64 (B, T) tokens and targets",
                          "out.logits": "(B, T, V)", "out.loss": "seq_loss, shape [1]",
                          "grad.param.KEY": "d loss / d parameter"},
               "cases": cases, "workloads": full}, f, indent=1)
print(len(cases), "cases")
