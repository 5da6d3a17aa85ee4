"""Reference cases for scaled dot-product attention (dev.backprop.nn.F.scaledDotProductAttention,
PyTorch's torch.nn.functional.scaled_dot_product_attention without dropout). PyTorch 1.13 (Debian's
python3-torch) has no scaled_dot_product_attention, so the reference is its documented math, in
float64:

    scores = q @ k.transpose(-2, -1) * scale          scale = 1/sqrt(E) unless given
    causal: scores[..., i, j] = -inf for j > i         bool attn_mask: -inf where False; float: added
    out = softmax(scores, -1) @ v

Same layout and method as ../../reference/generator/make_reference.py: float32 inputs, computed in
float64, stored as float32. Tensors: in.q, in.k, in.v, in.mask (bool or float32, when the case has
one), out, grad_out (loss = sum(out * grad_out)), grad.in.q, grad.in.k, grad.in.v. args: causal,
scale (null = default), mask ("bool", "float" or null).
Usage: python3 make_attention_reference.py OUT_DIR (writes OUT_DIR/INDEX.json and one file per case)."""
import json, math, os, sys
import numpy as np
import torch
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "reference", "generator"))
from safetensors_io import save  # noqa: E402

torch.manual_seed(2718)
OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
cases = []

def f32(*shape, std=1.0):
    return (torch.randn(*shape) * std).float().double()

def sdpa(q, k, v, mask, causal, scale):
    s = q @ k.transpose(-2, -1) * (1 / math.sqrt(q.shape[-1]) if scale is None else scale)
    if causal:
        L, S = s.shape[-2], s.shape[-1]
        s = s.masked_fill(torch.ones(L, S, dtype=torch.bool).tril().logical_not(), float("-inf"))
    if mask is not None:
        s = s.masked_fill(mask.logical_not(), float("-inf")) if mask.dtype == torch.bool else s + mask
    return torch.softmax(s, -1) @ v

def case(name, q_shape, k_shape, v_shape, causal=False, scale=None, mask=None, note=""):
    q = f32(*q_shape, std=1.5).requires_grad_(True)
    k = f32(*k_shape, std=1.5).requires_grad_(True)
    v = f32(*v_shape).requires_grad_(True)
    out = sdpa(q, k, v, mask, causal, scale)
    g = torch.randn(out.shape, dtype=torch.float64).float().double()
    grads = torch.autograd.grad((out * g).sum(), [q, k, v])
    T = {"in.q": q, "in.k": k, "in.v": v, "out": out, "grad_out": g,
         "grad.in.q": grads[0], "grad.in.k": grads[1], "grad.in.v": grads[2]}
    T = {key: t.detach().numpy().astype(np.float32) for key, t in T.items()}
    kind = None
    if mask is not None:
        kind = "bool" if mask.dtype == torch.bool else "float"
        T["in.mask"] = mask.numpy() if kind == "bool" else mask.numpy().astype(np.float32)
    args = {"causal": causal, "scale": scale, "mask": kind}
    save(os.path.join(OUT, name + ".safetensors"), T,
         {"op": "scaled_dot_product_attention", "args": json.dumps(args), "note": note, "torch": torch.__version__})
    cases.append({"case": name, "op": "scaled_dot_product_attention", "args": args, "note": note,
                  "tensors": {key: list(t.shape) for key, t in sorted(T.items())}})

# causal self-attention over heads: (N, H, L, E)
case("sdpa_causal", (2, 3, 5, 4), (2, 3, 5, 4), (2, 3, 5, 6), causal=True, note="is_causal, default scale")
# causal with more keys than queries (top-left aligned: row i sees keys 0..i) and a given scale
case("sdpa_causal_wide_scale", (2, 3, 4), (2, 6, 4), (2, 6, 3), causal=True, scale=0.3,
     note="is_causal with L < S, scale 0.3")
# bool mask (L, S) broadcast over (N, H), true = take part; every row keeps at least one key
bool_mask = torch.rand(4, 6) > 0.4
bool_mask[:, 0] = True
bool_mask[2, :] = True
case("sdpa_bool_mask", (2, 2, 4, 3), (2, 2, 6, 3), (2, 2, 6, 5), mask=bool_mask, scale=0.7,
     note="bool attn_mask (L, S) broadcast over the batch, true = attend")
# additive float mask per batch entry, with -inf entries, and batch dims that broadcast (k, v of batch 1)
float_mask = torch.randn(3, 1, 4, 7).float().double()
float_mask[0, 0, 1, 2:5] = float("-inf")
float_mask[2, 0, 3, 0] = float("-inf")
case("sdpa_float_mask", (3, 2, 4, 5), (1, 2, 7, 5), (1, 2, 7, 2), mask=float_mask,
     note="float attn_mask (3, 1, 4, 7) with -inf entries; key and value of batch 1 broadcast")
# no mask, unbatched (L, E)
case("sdpa_unbatched", (5, 3), (4, 3), (4, 2), note="2-D query, key and value, no mask")

with open(os.path.join(OUT, "INDEX.json"), "w") as f:
    json.dump({"generator": "PyTorch " + torch.__version__ + " in float64 (the math of scaled_dot_product_attention), "
                            "stored as float32 (backprop-core/src/test/resources/reference-extra/generator/"
                            "make_attention_reference.py)",
               "layout": {"in.q / in.k / in.v": "query (..., L, E), key (..., S, E), value (..., S, Ev)",
                          "in.mask": "attn_mask: bool (true = attend) or float (added to the scores)",
                          "out": "the attention output (..., L, Ev)",
                          "grad_out": "upstream gradient (loss = sum(out * grad_out))",
                          "grad.in.NAME": "gradients of that loss"},
               "cases": cases}, f, indent=1)
print(len(cases), "cases")
