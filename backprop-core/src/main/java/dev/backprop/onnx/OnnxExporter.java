package dev.backprop.onnx;

import dev.backprop.autograd.GradMode;
import dev.backprop.autograd.HookHandle;
import dev.backprop.io.AtomicFiles;
import dev.backprop.models.CharLSTM;
import dev.backprop.models.GPT;
import dev.backprop.models.Seq2SeqTransformer;
import dev.backprop.models.TextClassifier;
import dev.backprop.nn.Conv1d;
import dev.backprop.nn.Embedding;
import dev.backprop.nn.Module;
import dev.backprop.onnx.OnnxWriter.Attr;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Exports a backprop model as an ONNX file (opset {@value OnnxWriter#OPSET}, IR version
 * {@value OnnxWriter#IR_VERSION}) that ONNX Runtime and other ONNX tools run with the model's
 * eval-mode numbers: dropout is the identity, batch norm uses its running statistics. The batch
 * dimension is symbolic ({@code batch}), and so is the sequence length of the language models.
 *
 * <ul>
 *   <li>{@link GPT}: input {@code input_ids} int64 (batch, sequence), output {@code logits}
 *       (batch, sequence, vocab), with the causal mask; sequence ≤ the context length.
 *   <li>{@link CharLSTM}: the same input and output, from a zero initial state (ONNX {@code LSTM}).
 *   <li>{@link TextClassifier}: input {@code input_ids} int64 (batch, sequence) padded with its pad
 *       id, output {@code logits} (batch, classes).
 *   <li>A tree of one-input layers (a {@link dev.backprop.nn.Sequential} of Linear, Conv1d/2d,
 *       pooling, BatchNorm, Dropout, Flatten, activations, Embedding, LayerNorm, RNN/LSTM/GRU,
 *       self-attention, Transformer encoder layers, ...): input {@code input} (batch,
 *       inputShape...), output {@code output}. The layers are run once on a sample of that shape to
 *       learn the shapes between them, so sizes other than the first are fixed.
 * </ul>
 *
 * A layer with no ONNX mapping is an {@link UnsupportedOperationException} naming its path and
 * type. Initializers carry the state-dict keys ({@code blocks.0.qkv.weight}); the recurrent
 * weights, reordered to ONNX's gate order, are {@code lstm.l0.W}, {@code .R}, {@code .B}.
 *
 * <pre>{@code
 * Module mlp = new Sequential(new Flatten(), new Linear(784, 10));
 * OnnxExporter.export(mlp, Path.of("mlp.onnx"), 1, 28, 28);   // input (batch, 1, 28, 28)
 * OnnxExporter.export(gpt, Path.of("gpt.onnx"));               // input_ids (batch, sequence)
 * }</pre>
 */
public final class OnnxExporter {
    private OnnxExporter() {}

    /**
     * Writes {@code model} as an ONNX file, atomically.
     *
     * @param inputShape the input's shape without the batch dimension, for layer trees ({@code 1, 28, 28});
     *     nothing for GPT and CharLSTM, whose input is token ids (batch, sequence)
     */
    public static void export(Module model, Path file, int... inputShape) throws IOException {
        AtomicFiles.write(file, toBytes(model, inputShape));
    }

    /**
     * Writes {@code model} as an ONNX file with {@code metadata} (ModelProto.metadata_props, which
     * ONNX Runtime returns as the custom metadata: class names, a vocabulary), atomically.
     */
    public static void export(Module model, Map<String, String> metadata, Path file, int... inputShape)
            throws IOException {
        AtomicFiles.write(file, toBytes(model, metadata, inputShape));
    }

    /** The ONNX file's bytes; see {@link #export}. */
    public static byte[] toBytes(Module model, int... inputShape) {
        return toBytes(model, Map.of(), inputShape);
    }

    /** The ONNX file's bytes with {@code metadata}; see {@link #export(Module, Map, Path, int...)}. */
    public static byte[] toBytes(Module model, Map<String, String> metadata, int... inputShape) {
        Map<Module, Boolean> modes = new IdentityHashMap<>(); // each layer's mode, restored afterwards
        model.namedModules().values().forEach(m -> modes.put(m, m.isTraining()));
        model.eval();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            OnnxWriter w = switch (model) {
                case GPT gpt -> gpt(gpt);
                case CharLSTM lstm -> charLstm(lstm);
                case TextClassifier clf -> textClassifier(clf);
                case Seq2SeqTransformer s2s -> seq2seq(s2s);
                default -> layers(model, inputShape);
            };
            metadata.forEach(w::metadata);
            return w.toByteArray();
        } finally {
            restore(model, modes);
        }
    }

    private static void restore(Module m, Map<Module, Boolean> modes) {
        m.train(modes.get(m)); // sets the subtree, then the children are corrected below
        for (Module child : m.namedChildren().values()) {
            restore(child, modes);
        }
    }

    // ------------------------------------------------------------------ trees of one-input layers

    private static OnnxWriter layers(Module model, int[] inputShape) {
        if (inputShape == null || inputShape.length == 0) {
            throw new IllegalArgumentException("exporting " + model.typeName() + " to ONNX needs the shape of one "
                    + "input without the batch dimension (for example 1, 28, 28 for 28x28 grey images, or 20 for "
                    + "20 features)");
        }
        boolean tokens = firstLeaf(model) instanceof Embedding;
        int[] sampleShape = new int[inputShape.length + 1];
        sampleShape[0] = 1;
        System.arraycopy(inputShape, 0, sampleShape, 1, inputShape.length);
        Tensor sample = tokens ? Tensor.ofLongs(new long[Shape.numel(sampleShape)], sampleShape) : Tensor.zeros(sampleShape);
        Map<Module, int[][]> shapes = new IdentityHashMap<>();
        List<HookHandle> hooks = new ArrayList<>();
        for (Module m : model.namedModules().values()) {
            hooks.add(m.registerForwardHook((mod, in, out) -> shapes.putIfAbsent(mod, new int[][] {in.shape(),
                    out.shape()})));
        }
        Tensor out;
        try {
            out = model.forward(sample);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("exporting " + model.typeName() + " to ONNX: the model does not accept "
                    + "an input of shape " + Shape.str(sampleShape) + " (batch 1 and the given input shape): "
                    + e.getMessage(), e);
        } finally {
            hooks.forEach(HookHandle::remove);
        }
        OnnxWriter w = new OnnxWriter(model.typeName());
        w.docString("backprop " + model.typeName() + ", eval mode; input (batch, " + Shape.str(inputShape)
                .replaceAll("[\\[\\]]", "") + ")");
        String x = w.input("input", tokens ? DType.INT64 : DType.FLOAT32, dims(sampleShape));
        LayerEmitter e = new LayerEmitter(w, shapes);
        String y = e.module(model, x);
        w.output(y, "output", DType.FLOAT32, dims(out.shape()));
        return w;
    }

    private static Module firstLeaf(Module m) {
        Module cur = m;
        while (!cur.namedChildren().isEmpty()) {
            cur = cur.namedChildren().values().iterator().next();
        }
        return cur;
    }

    /** ONNX dimensions: the first is the symbolic "batch", the others fixed. */
    private static Object[] dims(int[] shape) {
        Object[] d = new Object[shape.length];
        d[0] = "batch";
        for (int i = 1; i < shape.length; i++) {
            d[i] = shape[i];
        }
        return d;
    }

    // ------------------------------------------------------------------ GPT

    /**
     * <pre>
     *   x = Gather(wte, ids) + Slice(wpe, 0, T)
     *   per block: x += proj(attention(LN1(x))), x += fc2(gelu_tanh(fc(LN2(x))))
     *     attention: qkv → Reshape (B, T, 3, nH, hd) → Transpose (3, B, nH, T, hd) → q, k, v;
     *                Softmax(q kᵀ · scale + causal mask) v → Transpose, Reshape (B, T, d)
     *   logits = LN_f(x) wteᵀ
     * </pre>
     */
    private static OnnxWriter gpt(GPT model) {
        GPT.Config c = model.config();
        OnnxWriter w = new OnnxWriter("GPT");
        w.docString("backprop GPT " + model.toString() + "; input_ids int64 (batch, sequence) with "
                + "sequence <= " + c.contextLength() + ", output logits (batch, sequence, " + c.vocabSize() + ")");
        LayerEmitter e = new LayerEmitter(w, Map.of());
        String ids = w.input("input_ids", DType.INT64, "batch", "sequence");
        String t = w.node("", "Shape", List.of(ids), Attr.i("start", 1), Attr.i("end", 2)); // [T]
        String tok = e.embedding(model.wte(), ids); // (B, T, d)
        String pos = w.node("wpe", "Slice", List.of(e.param("wpe.weight", model.wpe().weight()),
                w.constantLongs("wpe", 0), t, w.constantLongs("wpe", 0))); // (T, d)
        String x = w.node("", "Add", List.of(tok, pos));
        int ctx = c.contextLength();
        float[] bias = new float[ctx * ctx]; // 0 where attention is allowed (j <= i), -inf above the diagonal
        for (int i = 0; i < ctx; i++) {
            Arrays.fill(bias, i * ctx + i + 1, (i + 1) * ctx, Float.NEGATIVE_INFINITY);
        }
        String maskFull = w.initializer("causal_mask", Tensor.of(bias, ctx, ctx));
        String mask = w.node("causal_mask", "Slice", List.of(maskFull, w.constantLongs("causal_mask", 0, 0),
                w.node("causal_mask", "Concat", List.of(t, t), Attr.i("axis", 0)),
                w.constantLongs("causal_mask", 0, 1))); // (T, T)
        for (GPT.Block b : model.blocks()) {
            String p = b.path();
            String qkv = e.linear(b.qkv(), e.layerNorm(b.ln1(), x), 3); // (B, T, 3d)
            String merged = e.attentionHeads(p, qkv, c.nHead(), c.headDim(), mask); // (B, T, d)
            x = w.node(p, "Add", List.of(x, e.linear(b.proj(), merged, 3)));
            String hidden = e.gelu(p + ".act", e.linear(b.fc(), e.layerNorm(b.ln2(), x), 3), true);
            x = w.node(p, "Add", List.of(x, e.linear(b.fc2(), hidden, 3)));
        }
        String h = e.layerNorm(model.lnF(), x);
        String logits = w.node("lm_head", "MatMul", List.of(h, e.transposedParam(e.param("wte.weight",
                model.wte().weight())))); // tied to the token embedding
        w.output(logits, "logits", DType.FLOAT32, "batch", "sequence", c.vocabSize());
        return w;
    }

    // ------------------------------------------------------------------ CharLSTM

    /** Gather(emb, ids) → Transpose (T, B, E) → LSTM per layer → Transpose (B, T, H) → head. */
    private static OnnxWriter charLstm(CharLSTM model) {
        CharLSTM.Config c = model.config();
        OnnxWriter w = new OnnxWriter("CharLSTM");
        w.docString("backprop CharLSTM; input_ids int64 (batch, sequence), output logits (batch, sequence, "
                + c.vocabSize() + "), from a zero initial state");
        LayerEmitter e = new LayerEmitter(w, Map.of());
        String ids = w.input("input_ids", DType.INT64, "batch", "sequence");
        String emb = e.embedding(model.emb(), ids); // (B, T, E)
        String timeMajor = w.node("lstm", "Transpose", List.of(emb), Attr.ints("perm", 1, 0, 2));
        String h = e.recurrentTimeMajor(model.lstm(), timeMajor); // (T, B, H)
        String batchMajor = w.node("lstm", "Transpose", List.of(h), Attr.ints("perm", 1, 0, 2));
        String logits = e.linear(model.head(), batchMajor, 3);
        w.output(logits, "logits", DType.FLOAT32, "batch", "sequence", c.vocabSize());
        return w;
    }

    // ------------------------------------------------------------------ TextClassifier

    /**
     * <pre>
     *   mask = Cast(ids != pad)                                   (B, T)
     *   e    = Gather(emb, ids) · mask                            (B, T, E)
     *   per width k: c = Conv(eᵀ) (B, F, T+k-1); windows with a real token = MaxPool(mask, k, pads k-1);
     *                p = Relu(ReduceMax(Where(window, c, -1e30)))  (B, F)
     *   m    = ReduceSum(e, T) · (count > 0 ? 1 / count : 0)      (B, E)
     *   logits = Gemm(Concat(p_1 .. p_K, m))
     * </pre>
     */
    private static OnnxWriter textClassifier(TextClassifier model) {
        TextClassifier.Config c = model.config();
        OnnxWriter w = new OnnxWriter("TextClassifier");
        w.docString("backprop " + model + "; input_ids int64 (batch, sequence) with padding id " + c.padId()
                + ", output logits (batch, " + c.numClasses() + ")");
        LayerEmitter e = new LayerEmitter(w, Map.of());
        String ids = w.input("input_ids", DType.INT64, "batch", "sequence");
        String real = w.node("mask", "Not", List.of(w.node("mask", "Equal", List.of(ids,
                w.constantLong("mask", c.padId())))));
        String mask = w.node("mask", "Cast", List.of(real), Attr.i("to", OnnxWriter.dataType(DType.FLOAT32)));
        String emb = w.node("emb", "Mul", List.of(e.embedding(model.emb(), ids),
                w.node("mask", "Unsqueeze", List.of(mask, w.constantLongs("mask", 2))))); // (B, T, E)
        String channels = w.node("convs", "Transpose", List.of(emb), Attr.ints("perm", 0, 2, 1)); // (B, E, T)
        String mask1 = w.node("mask", "Unsqueeze", List.of(mask, w.constantLongs("mask", 1))); // (B, 1, T)
        String zero = w.constantFloat("mask", 0f);
        String masked = w.constantFloat("convs", -1e30f);
        List<String> pooled = new ArrayList<>();
        for (Conv1d conv : model.convs()) {
            int k = conv.kernelSize();
            String p = conv.path();
            String out = e.conv1d(conv, channels); // (B, F, T + k - 1)
            String window = w.node(p, "MaxPool", List.of(mask1), Attr.ints("kernel_shape", k), Attr.ints("strides", 1),
                    Attr.ints("pads", k - 1, k - 1)); // 1 where the window holds a real token
            String filled = w.node(p, "Where", List.of(w.node(p, "Greater", List.of(window, zero)), out, masked));
            pooled.add(w.node(p, "Relu", List.of(w.node(p, "ReduceMax", List.of(filled), Attr.ints("axes", 2),
                    Attr.i("keepdims", 0)))));
        }
        String one = w.constantFloat("mean", 1f);
        String count = w.node("mean", "ReduceSum", List.of(mask, w.constantLongs("mean", 1)), Attr.i("keepdims", 1));
        String inverse = w.node("mean", "Where", List.of(w.node("mean", "Greater", List.of(count, zero)),
                w.node("mean", "Div", List.of(one, w.node("mean", "Max", List.of(count, one)))), zero)); // (B, 1)
        pooled.add(w.node("mean", "Mul", List.of(w.node("mean", "ReduceSum", List.of(emb, w.constantLongs("mean", 1)),
                Attr.i("keepdims", 0)), inverse)));
        String features = w.node("", "Concat", pooled, Attr.i("axis", 1));
        String logits = e.linear(model.head(), features, 2);
        w.output(logits, "logits", DType.FLOAT32, "batch", c.numClasses());
        return w;
    }

    // ------------------------------------------------------------------ Seq2SeqTransformer

    /**
     * The teacher-forced forward: logits (B, T, vocab) of the next target token for source ids
     * (B, S) and decoder input ids (B, T) (bos first), both padded with the pad id.
     * <pre>
     *   embed(ids) = Gather(E, ids) · √d + Slice(positions, 0, len)
     *   memory = LN_enc(encoder layers(embed(src)), source padding mask)
     *   logits = LN_dec(decoder layers(embed(tgt), memory; causal + target padding mask, source padding mask)) Eᵀ
     * </pre>
     * Masks are additive: 0 where attention is allowed, -inf where not.
     */
    private static OnnxWriter seq2seq(Seq2SeqTransformer model) {
        Seq2SeqTransformer.Config c = model.config();
        OnnxWriter w = new OnnxWriter("Seq2SeqTransformer");
        w.docString("backprop Seq2SeqTransformer (teacher-forced forward); src_ids int64 (batch, source) and tgt_ids "
                + "int64 (batch, target) padded with " + c.padId() + ", tgt_ids starting with bos " + c.bosId()
                + ", both at most " + c.maxLength() + " long; output logits (batch, target, " + c.vocabSize() + ")");
        LayerEmitter e = new LayerEmitter(w, Map.of());
        String src = w.input("src_ids", DType.INT64, "batch", "source");
        String tgt = w.input("tgt_ids", DType.INT64, "batch", "target");
        String table = e.param("embed.weight", model.embed().weight());
        String positions = w.initializer("positions", model.positions());
        String scale = w.constantFloat("embed", (float) Math.sqrt(c.dModel()));
        String negInf = w.constantFloat("mask", Float.NEGATIVE_INFINITY);
        String zero = w.constantFloat("mask", 0f);
        String pad = w.constantLong("mask", c.padId());
        String maskAxes = w.constantLongs("mask", 1, 2);
        String srcMask = w.node("src_mask", "Unsqueeze", List.of(w.node("src_mask", "Where", List.of(
                w.node("src_mask", "Equal", List.of(src, pad)), negInf, zero)), maskAxes)); // (B, 1, 1, S)
        String x = embedAt(w, "src_embed", src, table, scale, positions);
        for (var layer : model.encoderLayers()) {
            x = e.encoderLayerBatchFirst(layer, x, srcMask);
        }
        String memory = e.layerNorm(model.encoderNorm(), x);
        int max = c.maxLength();
        float[] causal = new float[max * max];
        for (int i = 0; i < max; i++) {
            Arrays.fill(causal, i * max + i + 1, (i + 1) * max, Float.NEGATIVE_INFINITY);
        }
        String t = w.node("tgt_mask", "Shape", List.of(tgt), Attr.i("start", 1), Attr.i("end", 2)); // [T]
        String causalT = w.node("tgt_mask", "Slice", List.of(w.initializer("causal_mask", Tensor.of(causal, max, max)),
                w.constantLongs("tgt_mask", 0, 0), w.node("tgt_mask", "Concat", List.of(t, t), Attr.i("axis", 0)),
                w.constantLongs("tgt_mask", 0, 1))); // (T, T)
        String tgtPad = w.node("tgt_mask", "Unsqueeze", List.of(w.node("tgt_mask", "Where", List.of(
                w.node("tgt_mask", "Equal", List.of(tgt, pad)), negInf, zero)), maskAxes)); // (B, 1, 1, T)
        String selfMask = w.node("tgt_mask", "Add", List.of(causalT, tgtPad)); // (B, 1, T, T)
        String y = embedAt(w, "tgt_embed", tgt, table, scale, positions);
        for (var layer : model.decoderLayers()) {
            y = e.decoderLayerBatchFirst(layer, y, memory, selfMask, srcMask);
        }
        String h = e.layerNorm(model.decoderNorm(), y);
        String logits = w.node("output", "MatMul", List.of(h, e.transposedParam(table))); // tied to the table
        w.output(logits, "logits", DType.FLOAT32, "batch", "target", c.vocabSize());
        return w;
    }

    /** Gather(table, ids) · scale + the first len rows of positions: (B, len, d). */
    private static String embedAt(OnnxWriter w, String p, String ids, String table, String scale, String positions) {
        String len = w.node(p, "Shape", List.of(ids), Attr.i("start", 1), Attr.i("end", 2));
        String tokens = w.node(p, "Mul", List.of(w.node(p, "Gather", List.of(table, ids), Attr.i("axis", 0)), scale));
        return w.node(p, "Add", List.of(tokens, w.node(p, "Slice", List.of(positions, w.constantLongs(p, 0), len,
                w.constantLongs(p, 0)))));
    }
}
