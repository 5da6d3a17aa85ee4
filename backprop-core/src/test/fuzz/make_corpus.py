#!/usr/bin/env python3
"""Writes the hand-made malformed files of the fuzz regression corpus.

Each fuzz target under src/test/java/dev/backprop/fuzz replays the files of its
<Class>Inputs/<method>/ folder (test resources) in the default `mvn test` run (Jazzer's
regression mode); crashes Jazzer finds are added there too. Run from backprop-core:
    python3 src/test/fuzz/make_corpus.py SEED_DIR
where SEED_DIR holds valid files written by the library (see docs/reliability.md).
"""
import gzip, json, os, struct, sys

ROOT = "src/test/resources/dev/backprop/fuzz"
seeds = sys.argv[1]


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def seed(name):
    with open(os.path.join(seeds, name), "rb") as f:
        return f.read()


def st(header, data=b"", raw_len=None):
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(h) if raw_len is None else raw_len) + h + data


# ---------------------------------------------------------------- safetensors
T = "SafeTensorsFuzzTestInputs/read"
valid = seed("valid.safetensors")
put(T, "valid", valid)
put(T, "empty", b"")
put(T, "short-length", b"\x05\x00\x00")
put(T, "truncated-header", valid[:20])
put(T, "truncated-data", valid[:-3])
put(T, "header-length-huge", struct.pack("<Q", 2**63 - 1) + b"{}")
put(T, "header-length-negative", struct.pack("<q", -8) + b"{}")
put(T, "header-length-past-end", struct.pack("<Q", 1000) + b"{}")
put(T, "header-not-json", st(b"{not json"))
put(T, "header-array", st([1, 2, 3]))
put(T, "header-bad-utf8", st(b'{"\xff\xfe":1}'))
put(T, "deep-nesting", st(b"[" * 100000 + b"]" * 100000))
put(T, "shape-huge", st({"w": {"dtype": "F32", "shape": [2**31 - 1, 2**31 - 1], "data_offsets": [0, 16]}}, b"\0" * 16))
put(T, "shape-negative", st({"w": {"dtype": "F32", "shape": [-1, 4], "data_offsets": [0, 16]}}, b"\0" * 16))
put(T, "shape-not-array", st({"w": {"dtype": "F32", "shape": "4", "data_offsets": [0, 16]}}, b"\0" * 16))
put(T, "offsets-lying", st({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 2**62]}}, b"\0" * 16))
put(T, "offsets-reversed", st({"w": {"dtype": "F32", "shape": [4], "data_offsets": [16, 0]}}, b"\0" * 16))
put(T, "offsets-overlap", st({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                              "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, b"\0" * 16))
put(T, "offsets-float", st({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0.5, 16]}}, b"\0" * 16))
put(T, "dtype-unknown", st({"w": {"dtype": "F128", "shape": [1], "data_offsets": [0, 16]}}, b"\0" * 16))
put(T, "dtype-missing", st({"w": {"shape": [4], "data_offsets": [0, 16]}}, b"\0" * 16))
put(T, "metadata-not-strings", st({"__metadata__": {"a": 1}}))
put(T, "duplicate-names", st(b'{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                               b'"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"\0"))
put(T, "number-huge", st(b'{"w":{"dtype":"U8","shape":[1e999],"data_offsets":[0,1]}}', b"\0"))
put(T, "trailing-bytes", valid + b"\0\0\0\0")

# ---------------------------------------------------------------- IDX
T = "IdxFuzzTestInputs/read"
img = seed("valid-images.idx")
lab = seed("valid-labels.idx")
put(T, "valid-images", img)
put(T, "valid-labels", lab)
put(T, "valid-gzip", gzip.compress(img))
put(T, "empty", b"")
put(T, "magic-only", b"\0\0\x08")
put(T, "bad-magic", b"\x12\x34\x08\x01\0\0\0\1\0")
put(T, "unknown-type", b"\0\0\x07\x01\0\0\0\1\0")
put(T, "dims-truncated", b"\0\0\x08\x03\0\0\0\2")
put(T, "dim-huge", b"\0\0\x08\x01\xff\xff\xff\xff")
put(T, "dims-product-overflow", b"\0\0\x08\x03" + b"\x7f\xff\xff\xff" * 3)
put(T, "lying-length", b"\0\0\x0e\x01\x10\0\0\0" + b"\0" * 8)
put(T, "lying-length-gzip", gzip.compress(b"\0\0\x0e\x01\x7f\0\0\0" + b"\0" * 8))
put(T, "ndim-255", b"\0\0\x08\xff" + b"\0\0\0\1" * 10)
put(T, "trailing-data", lab + b"\0\0")
put(T, "gzip-truncated", gzip.compress(img)[:-6])
put(T, "gzip-corrupt", b"\x1f\x8b\x08\x00" + b"\xff" * 20)
put(T, "gzip-header-only", b"\x1f\x8b")

# ---------------------------------------------------------------- CSV
T = "CsvFuzzTestInputs/read"
put(T, "valid", "x1,x2,y\n1,2,a\n3,4,b\n5,6,a\n")
put(T, "valid-regression", "x1,x2,y\n1,2,0.5\n3,4,1.5\n")
put(T, "empty", "")
put(T, "header-only", "x1,x2,y\n")
put(T, "ragged", "x1,x2,y\n1,2,a\n3,a\n")
put(T, "nan-cell", "x1,x2,y\n1,NaN,a\n3,4,b\n")
put(T, "inf-cell", "x1,x2,y\n1,Infinity,0.5\n-Infinity,4,1\n")
put(T, "not-number", "x1,x2,y\n1,n/a,a\n")
put(T, "unterminated-quote", 'x1,x2,y\n1,"2,a\n3,4,b\n')
put(T, "quote-in-field", 'x1,x2,y\n1,2"3,a\n')
put(T, "bad-utf8", b"x1,x2,y\n1,2,\xff\xfe\n")
put(T, "bom-crlf", b"\xef\xbb\xbfx1,x2,y\r\n1,2,a\r\n3,4,b\r\n")
put(T, "duplicate-columns", "x,x,y\n1,2,a\n")
put(T, "nul-bytes", b"x1,x2,y\n1\0,2,a\n")
put(T, "wide-row", "y," + ",".join("c%d" % i for i in range(5000)) + "\n" + ",".join(["1"] * 5001) + "\n")
put(T, "huge-number", "x1,x2,y\n1e400,2,a\n1,-1e400,1\n")

# ---------------------------------------------------------------- text, TSV, labeled CSV
T = "TextFuzzTestInputs/read"
put(T, "valid-tsv", "Hello.\tHallo.\nWhere is it?\tWo ist es?\n")
put(T, "valid-labeled", "text,label\nI lost my card,lost_card\nhello,greeting\n")
put(T, "empty", "")
put(T, "bom-only", b"\xef\xbb\xbf")
put(T, "bad-utf8-overlong", b"text,label\n\xc0\xaf,a\n")
put(T, "bad-utf8-surrogate", b"a\tb\n\xed\xa0\x80\tc\n")
put(T, "bad-utf8-truncated", b"a\tb\n\xe2\x82")
put(T, "one-column", "only one column\nand another\n")
put(T, "tabs-only", "\t\t\t\n\t\n")
put(T, "label-missing", "text,label\nhello,\n,x\n")
put(T, "no-label-header", "foo,bar\n1,2\n")
put(T, "unterminated-quote", 'text,label\n"never closed,a\n')
put(T, "cr-only", "a\tb\rc\td\r")
put(T, "nul", b"a\0\tb\n")
put(T, "long-line", "x" * 100000 + "\t" + "y" * 100000 + "\n")

# ---------------------------------------------------------------- tokenizers
T = "TokenizerFuzzTestInputs/load"
for n in ["char.json", "word.json", "bpe.json", "charvocab.json"]:
    put(T, "valid-" + n[:-5], seed(n))
put(T, "empty", "")
put(T, "not-object", "[1,2,3]")
put(T, "type-unknown", '{"type":"sentencepiece"}')
put(T, "type-number", '{"type":7}')
put(T, "char-no-chars", '{"type":"char"}')
put(T, "char-unsorted", '{"type":"char","chars":"cba"}')
put(T, "char-duplicate", '{"type":"char","chars":"aab"}')
put(T, "char-lone-surrogate", '{"type":"char","chars":"\\ud800"}')
put(T, "word-not-strings", '{"type":"word","words":[1,2],"lowercase":true}')
put(T, "word-duplicate", '{"type":"word","words":["a","a"],"lowercase":false}')
put(T, "bpe-merge-out-of-range", '{"type":"bpe","merges":[[104,99999]]}')
put(T, "bpe-merge-negative", '{"type":"bpe","merges":[[-1,5]]}')
put(T, "bpe-merge-self-reference", '{"type":"bpe","merges":[[256,256]]}')
put(T, "bpe-merge-short", '{"type":"bpe","merges":[[104]]}')
put(T, "bpe-pattern-invalid", '{"type":"bpe","pattern":"(unclosed","merges":[]}')
put(T, "bpe-pattern-catastrophic", '{"type":"bpe","pattern":"(a+)+$","merges":[]}')
put(T, "specials-duplicate", '{"type":"char","chars":"ab","special_tokens":{"pad":"x","bos":"x"}}')
put(T, "specials-in-vocab", '{"type":"word","words":["<pad>"],"lowercase":false,"special_tokens":{"pad":"<pad>"}}')
put(T, "deep-nesting", "[" * 100000)
put(T, "bad-utf8", b'{"type":"char","chars":"\xff"}')
put(T, "huge-number", '{"type":"bpe","merges":[[1e308,1]]}')

# ---------------------------------------------------------------- JSON
T = "JsonFuzzTestInputs/parse"
put(T, "manifest", json.dumps({"id": "20260101-000000-cnn", "recipe": "cnn", "hyperparameters": {"lr": 0.01,
    "epochs": 5}, "metrics": {"test_accuracy": 0.9, "classes": ["a", "<script>"]}}))
put(T, "empty", "")
put(T, "deep-arrays", "[" * 100000 + "]" * 100000)
put(T, "deep-objects", '{"a":' * 50000 + "1" + "}" * 50000)
put(T, "unterminated-string", '{"a":"abc')
put(T, "bad-escape", '"\\x41"')
put(T, "lone-surrogate-escape", '"\\ud800"')
put(T, "bad-utf8", b'"\xc3\x28"')
put(T, "overlong-utf8", b'"\xe0\x80\xaf"')
put(T, "huge-exponent", "1e99999999999999999999")
put(T, "long-digits", "1" * 100000)
put(T, "negative-zero", "-0.0")
put(T, "trailing-garbage", '{"a":1} x')
put(T, "duplicate-keys", '{"a":1,"a":2}')
put(T, "nan-literal", "[NaN, Infinity]")
put(T, "control-char", '"a\x01b"')
put(T, "bom", b'\xef\xbb\xbf{"a":1}')
put(T, "manifest-artifact-traversal", '{"artifacts":{"../../etc/passwd":{"sha256":"00"}}}')
put(T, "manifest-artifact-missing", '{"artifacts":{"model.safetensors":{"sha256":"00"}}}')
put(T, "manifest-artifact-malformed", '{"artifacts":{"x":7}}')
put(T, "manifest-artifacts-not-object", '{"artifacts":[1,2]}')

# ---------------------------------------------------------------- checkpoints
T = "CheckpointFuzzTestInputs/resume"
ck = seed("checkpoint.safetensors")
put(T, "valid-checkpoint", ck)
put(T, "valid-model", seed("model.safetensors"))
put(T, "truncated", ck[: len(ck) // 2])
n = struct.unpack("<Q", ck[:8])[0]
hdr = json.loads(ck[8:8 + n])
data = ck[8 + n:]


def ck_with(mutate, name):
    h = json.loads(json.dumps(hdr))
    mutate(h)
    b = json.dumps(h, separators=(",", ":")).encode()
    b += b" " * (-len(b) % 8)
    put(T, name, struct.pack("<Q", len(b)) + b + data)


ck_with(lambda h: h["__metadata__"].pop("trainer.step"), "trainer-step-missing")
ck_with(lambda h: h["__metadata__"].update({"trainer.step": "many"}), "trainer-step-not-number")
ck_with(lambda h: h["__metadata__"].update({"trainer.rng.default": "1,2"}), "trainer-rng-short")
ck_with(lambda h: h["__metadata__"].update({"trainer.epoch": "-5"}), "trainer-epoch-negative")
ck_with(lambda h: h["__metadata__"].update({"format": "something-else"}), "wrong-format")
ck_with(lambda h: h["__metadata__"].update({"optimizer.param_groups.99.lr": "0.1"}), "optimizer-group-missing")
ck_with(lambda h: h["__metadata__"].update({"optimizer.param_groups.0.lr": "fast"}), "optimizer-lr-not-number")
ck_with(lambda h: h["__metadata__"].update({"optimizer.state.0.step": "x"}), "optimizer-step-not-number")
ck_with(lambda h: h["__metadata__"].update({"optimizer.state.zz.step": "1"}), "optimizer-param-bad-index")
ck_with(lambda h: h["__metadata__"].update({"backprop.data_sha256": "0" * 64}), "checksum-mismatch")
ck_with(lambda h: h.update({"extra.tensor": h[next(k for k in h if k.startswith("model."))]}), "unexpected-tensor")
print("ok")
