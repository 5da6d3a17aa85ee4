"""Reference cases for the recurrent layers beyond ../../reference (which has rnn_tanh,
lstm_2layer and gru with zero initial states): bidirectional and stacked layers, initial
states, both layouts, unbatched input, no bias. Same layout and method as
shared/reference/generator/make_reference.py: float32 inputs and parameters, computed in
float64, stored as float32.

Each case's `out` is the output sequence followed by the final states, flattened into one
vector: cat(output.flatten(), h_n.flatten()[, c_n.flatten()]), so that one upstream gradient
`grad_out` reaches every output. Inputs: in.x, and in.h0 / in.c0 when the case has initial
states. Usage: python3 make_recurrent_reference.py OUT_DIR (PyTorch 1.13, Debian's python3-torch)."""
import json, os, sys
import numpy as np
import torch
import torch.nn as nn
# the same writer as the shared reference cases, kept once in ../../reference/generator
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "reference", "generator"))
from safetensors_io import save  # noqa: E402

torch.manual_seed(4321)
OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
cases = []

def f32(*shape):
    return torch.randn(*shape).float().double()

def case(name, op, args, m, x_shape, state_shapes, note):
    m = m.double()
    x = f32(*x_shape).requires_grad_(True)
    states = [f32(*s).requires_grad_(True) for s in state_shapes]
    if op == "lstm":
        output, (h, c) = m(x, tuple(states)) if states else m(x)
        finals = [h, c]
    else:
        output, h = m(x, states[0]) if states else m(x)
        finals = [h]
    out = torch.cat([output.reshape(-1)] + [f.reshape(-1) for f in finals])
    g = torch.randn(out.shape, dtype=torch.float64).float().double()
    params = dict(m.named_parameters())
    inputs = {"x": x}
    for key, s in zip(["h0", "c0"], states):
        inputs[key] = s
    leaves = list(inputs.values()) + list(params.values())
    grads = torch.autograd.grad((out * g).sum(), leaves)
    T = {}
    for (k, v), gr in zip(list(inputs.items()), grads[:len(inputs)]):
        T["in." + k] = v.detach().numpy().astype(np.float32)
        T["grad.in." + k] = gr.numpy().astype(np.float32)
    for (k, v), gr in zip(params.items(), grads[len(inputs):]):
        T["param." + k] = v.detach().numpy().astype(np.float32)
        T["grad.param." + k] = gr.numpy().astype(np.float32)
    T["out"] = out.detach().numpy().astype(np.float32)
    T["grad_out"] = g.numpy().astype(np.float32)
    args = dict(args, output_shape=list(output.shape), state_shape=list(finals[0].shape))
    save(os.path.join(OUT, name + ".safetensors"), T,
         {"op": op, "args": json.dumps(args), "note": note, "torch": torch.__version__})
    cases.append({"case": name, "op": op, "args": args, "note": note,
                  "tensors": {k: list(v.shape) for k, v in sorted(T.items())}})

NOTE = "out = cat(output, h_n[, c_n]) flattened"
case("lstm_bidirectional_2layer_state", "lstm",
     {"input_size": 3, "hidden_size": 4, "num_layers": 2, "bidirectional": True, "batch_first": False},
     nn.LSTM(3, 4, num_layers=2, bidirectional=True), (5, 2, 3), [(4, 2, 4), (4, 2, 4)], NOTE)
case("lstm_batch_first_state", "lstm",
     {"input_size": 4, "hidden_size": 5, "num_layers": 1, "batch_first": True},
     nn.LSTM(4, 5, batch_first=True), (3, 4, 4), [(1, 3, 5), (1, 3, 5)], NOTE)
case("lstm_unbatched_state", "lstm",
     {"input_size": 3, "hidden_size": 4, "num_layers": 2, "batch_first": True},
     nn.LSTM(3, 4, num_layers=2, batch_first=True), (6, 3), [(2, 4), (2, 4)], NOTE + "; unbatched input (L, H_in)")
case("gru_bidirectional_batch_first_state", "gru",
     {"input_size": 4, "hidden_size": 3, "num_layers": 1, "bidirectional": True, "batch_first": True},
     nn.GRU(4, 3, bidirectional=True, batch_first=True), (2, 5, 4), [(2, 2, 3)], NOTE)
case("gru_2layer_nobias", "gru",
     {"input_size": 3, "hidden_size": 4, "num_layers": 2, "bias": False, "batch_first": False},
     nn.GRU(3, 4, num_layers=2, bias=False), (4, 2, 3), [], NOTE + "; zero initial state")
case("rnn_relu_2layer_state", "rnn",
     {"input_size": 3, "hidden_size": 5, "num_layers": 2, "nonlinearity": "relu", "batch_first": False},
     nn.RNN(3, 5, num_layers=2, nonlinearity="relu"), (4, 2, 3), [(2, 2, 5)], NOTE)
case("rnn_tanh_bidirectional_state", "rnn",
     {"input_size": 3, "hidden_size": 4, "num_layers": 2, "nonlinearity": "tanh", "bidirectional": True,
      "batch_first": True},
     nn.RNN(3, 4, num_layers=2, bidirectional=True, batch_first=True), (2, 4, 3), [(4, 2, 4)], NOTE)

with open(os.path.join(OUT, "INDEX.json"), "w") as f:
    json.dump({"generator": "PyTorch " + torch.__version__ + " in float64, stored as float32 "
                            "(backprop-core/src/test/resources/reference-extra/generator)",
               "layout": {"in.NAME": "inputs (x, h0, c0)", "param.NAME": "parameters (PyTorch state_dict names)",
                          "out": "cat(output, h_n[, c_n]) flattened", "grad_out": "upstream gradient (loss = sum(out * grad_out))",
                          "grad.in.NAME / grad.param.NAME": "gradients of that loss"},
               "cases": cases}, f, indent=1)
print(len(cases), "cases")
