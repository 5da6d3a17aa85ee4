package dev.backprop.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.backprop.autograd.GradMode;
import dev.backprop.models.CharLSTM;
import dev.backprop.models.GPT;
import dev.backprop.models.Seq2SeqTransformer;
import dev.backprop.models.TextClassifier;
import dev.backprop.models.Workloads;
import dev.backprop.nn.Activation;
import dev.backprop.nn.AdaptiveAvgPool2d;
import dev.backprop.nn.AvgPool2d;
import dev.backprop.nn.BatchNorm1d;
import dev.backprop.nn.BatchNorm2d;
import dev.backprop.nn.Conv1d;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.Dropout;
import dev.backprop.nn.Embedding;
import dev.backprop.nn.Flatten;
import dev.backprop.nn.GRU;
import dev.backprop.nn.LSTM;
import dev.backprop.nn.LayerNorm;
import dev.backprop.nn.Linear;
import dev.backprop.nn.MaxPool2d;
import dev.backprop.nn.Module;
import dev.backprop.nn.MultiheadAttention;
import dev.backprop.nn.RNN;
import dev.backprop.nn.Sequential;
import dev.backprop.nn.TransformerEncoder;
import dev.backprop.nn.TransformerEncoderLayer;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parity of exported ONNX files with backprop: each model family (the mlp, cnn and cnn-bn
 * recipes' models, CharLSTM, GPT, and layer mixes) is built with random weights, exported, run
 * by ONNX Runtime on random inputs of batch 1 and of a larger batch (the symbolic batch
 * dimension), and compared with backprop's eval-mode forward within 1e-4 absolute.
 */
class OnnxExportTest {
    static final double TOLERANCE = 1e-4;

    @Test
    void mlpRecipeModel() throws Exception {
        Generator.defaultGenerator().manualSeed(1);
        Module mlp = new Sequential(new Flatten(), new Linear(784, 512), new Activation.ReLU(), new Linear(512, 256),
                new Activation.ReLU(), new Linear(256, 10)); // the mlp recipe's model
        Generator gen = new Generator(2);
        for (int batch : new int[] {1, 5}) {
            check("mlp", mlp, Tensor.rand(gen, batch, 1, 28, 28), 1, 28, 28);
        }
    }

    /** The cnn recipe's model: W2. */
    @Test
    void cnnRecipeModel() throws Exception {
        Generator.defaultGenerator().manualSeed(3);
        Module cnn = Workloads.w2Model();
        Generator gen = new Generator(4);
        for (int batch : new int[] {1, 4}) {
            check("cnn", cnn, Tensor.rand(gen, batch, 1, 28, 28), 1, 28, 28);
        }
    }

    /** The cnn-bn recipe's model: BatchNorm with moved running statistics, and Dropout. */
    @Test
    void cnnWithBatchNormAndDropout() throws Exception {
        Generator.defaultGenerator().manualSeed(5);
        Module model = new Sequential(
                new Conv2d(1, 32, 3, 1, 1), new BatchNorm2d(32), new Activation.ReLU(), new MaxPool2d(2),
                new Conv2d(32, 64, 3, 1, 1), new BatchNorm2d(64), new Activation.ReLU(), new MaxPool2d(2),
                new Flatten(), new Dropout(0.25f),
                new Linear(64 * 7 * 7, 256), new BatchNorm1d(256), new Activation.ReLU(),
                new Dropout(0.25f), new Linear(256, 10));
        Generator gen = new Generator(6);
        moveRunningStatistics(model, Tensor.randn(gen, 16, 1, 28, 28).mul(2f).add(0.5f));
        for (int batch : new int[] {1, 3}) {
            check("cnn-bn", model, Tensor.rand(gen, batch, 1, 28, 28), 1, 28, 28);
        }
    }

    /** Every activation, LayerNorm and the pooling layers not in the recipes. */
    @Test
    void layerMixes() throws Exception {
        Generator.defaultGenerator().manualSeed(7);
        Module dense = new Sequential(new Linear(12, 16), new Activation.LeakyReLU(0.1f), new Linear(16, 16),
                new Activation.ELU(0.7f), new LayerNorm(16), new Activation.GELU(), new Linear(16, 16),
                new Activation.GELU(true), new Activation.SiLU(), new Linear(16, 16), new Activation.Sigmoid(),
                new Linear(16, 16), new Activation.Tanh(), new Linear(16, 16), new Activation.Softplus(2f, 3f),
                new BatchNorm1d(16, 1e-3f, 0.1f, false, true), new Activation.Identity(), new Linear(16, 8),
                new Activation.LogSoftmax(1));
        Generator gen = new Generator(8);
        moveRunningStatistics(dense, Tensor.randn(gen, 8, 12).mul(3f));
        for (int batch : new int[] {1, 6}) {
            check("dense-mix", dense, Tensor.randn(gen, batch, 12).mul(2f), 12);
        }
        Module pools = new Sequential(new Conv2d(3, 8, 3, 2, 1), new Activation.ReLU(),
                new AvgPool2d(3, 1, 1), new MaxPool2d(new int[] {3}, new int[] {2}, new int[] {1}, new int[] {1}, true),
                new Conv2d(8, 8, new int[] {3, 3}, new int[] {1, 1}, new int[] {2, 2}, new int[] {2, 2}, 2, false,
                        new Generator(9)),
                new AdaptiveAvgPool2d(2), new Flatten(), new Linear(32, 5), new Activation.Softmax(-1));
        for (int batch : new int[] {1, 3}) {
            check("conv-mix", pools, Tensor.randn(gen, batch, 3, 20, 20), 3, 20, 20);
        }
        Module global = new Sequential(new Conv2d(2, 4, 3), new AdaptiveAvgPool2d(1), new Flatten(0, -1));
        check("global-pool", global, Tensor.randn(gen, 1, 2, 9, 9), 2, 9, 9);
    }

    @Test
    void embeddingFirstModelTakesTokenIds() throws Exception {
        Generator.defaultGenerator().manualSeed(10);
        Module model = new Sequential(new Embedding(20, 6), new LayerNorm(6), new Linear(6, 4));
        Generator gen = new Generator(11);
        for (int batch : new int[] {1, 4}) {
            check("embedding", model, Tensor.randint(gen, 0, 20, batch, 5), 5);
        }
    }

    @Test
    void charLstm() throws Exception {
        CharLSTM model = new CharLSTM(new CharLSTM.Config(11, 8, 16, 2), new Generator(12));
        Generator gen = new Generator(13);
        check("char-lstm", model, Tensor.randint(gen, 0, 11, 1, 9));
        check("char-lstm", model, Tensor.randint(gen, 0, 11, 3, 17));
    }

    /** The W4 sizes (65, 128, 256, 2 layers) on a 64-character window. */
    @Test
    void charLstmW4() throws Exception {
        CharLSTM model = Workloads.w4Model(new Generator(14));
        check("char-lstm-w4", model, Tensor.randint(new Generator(15), 0, 65, 2, 64));
    }

    @Test
    void gpt() throws Exception {
        GPT model = new GPT(new GPT.Config(13, 16, 2, 2, 16, 64), new Generator(16));
        perturb(model, new Generator(17)); // biases and LayerNorms off their initial 0 and 1
        Generator gen = new Generator(18);
        check("gpt", model, Tensor.randint(gen, 0, 13, 1, 16));
        check("gpt", model, Tensor.randint(gen, 0, 13, 3, 5));
    }

    /** The W3 sizes (65 tokens, context 64, 4 layers, 4 heads, d 128) on a full context. */
    @Test
    void gptW3() throws Exception {
        GPT model = Workloads.w3Model(new Generator(19));
        perturb(model, new Generator(20));
        check("gpt-w3", model, Tensor.randint(new Generator(21), 0, 65, 2, 64));
    }

    /** The intent recipe's model: masked max pooling over Conv1d of several widths, masked mean, padding anywhere. */
    @Test
    void textClassifier() throws Exception {
        Generator.defaultGenerator().manualSeed(22);
        TextClassifier model = new TextClassifier(new TextClassifier.Config(30, 0, 5, 8, List.of(1, 2, 3, 5), 6,
                0.3f, 0.5f));
        perturb(model, new Generator(23));
        Generator gen = new Generator(24);
        check("text-clf", model, Tensor.randint(gen, 1, 30, 1, 7));
        long[] ids = Tensor.randint(gen, 1, 30, 4, 9).toLongArray();
        for (int j = 5; j < 9; j++) {
            ids[j] = 0; // row 0: padding at the end
        }
        ids[9] = 0; // row 1: padding at the start and in the middle
        ids[14] = 0;
        Arrays.fill(ids, 18, 27, 0L); // row 2: padding only
        check("text-clf", model, Tensor.ofLongs(ids, 4, 9));
        Module conv1d = new Sequential(new Conv1d(4, 6, 3, 2, 1), new Activation.ReLU(),
                new Conv1d(6, 6, 3, 1, 2, 2, 3, true), new Flatten(), new Linear(6 * 5, 2));
        check("conv1d", conv1d, Tensor.randn(gen, 3, 4, 10), 4, 10);
    }

    /** RNN (tanh, relu), LSTM and GRU as layers: batch first, sequence first, unbatched, stacked, bidirectional, no bias. */
    @Test
    void recurrentLayers() throws Exception {
        Generator.defaultGenerator().manualSeed(25);
        Generator gen = new Generator(26);
        LSTM.Options two = LSTM.Options.defaults().withNumLayers(2);
        Module batchFirst = new Sequential(new GRU(5, 7, two.withBatchFirst(true).withBidirectional(true)),
                new RNN(14, 6, RNN.Nonlinearity.RELU, two.withBatchFirst(true).withBias(false)),
                new LSTM(6, 4, LSTM.Options.defaults().withBatchFirst(true).withBidirectional(true)),
                new Linear(8, 3));
        for (int batch : new int[] {1, 4}) {
            check("recurrent", batchFirst, Tensor.randn(gen, batch, 9, 5), 9, 5);
        }
        Module seqFirst = new Sequential(new RNN(5, 6, RNN.Nonlinearity.TANH, two.withBidirectional(true)),
                new GRU(12, 4, LSTM.Options.defaults().withBias(false)), new LSTM(4, 3, two));
        check("recurrent-tm", seqFirst, Tensor.randn(gen, 1, 6, 5), 6, 5); // (L=1, N=6, in=5): the first dimension is L
        check("recurrent-1d", new Sequential(new GRU(5, 4, two)), Tensor.randn(gen, 7, 5), 5); // unbatched (L, in)
    }

    /** MultiheadAttention (self), TransformerEncoderLayer post- and pre-norm, relu and gelu, TransformerEncoder. */
    @Test
    void transformerEncoderLayers() throws Exception {
        Generator.defaultGenerator().manualSeed(27);
        Generator gen = new Generator(28);
        TransformerEncoderLayer.Options o = TransformerEncoderLayer.Options.defaults().withDimFeedforward(32)
                .withBatchFirst(true);
        Module encoder = new Sequential(new Linear(6, 16),
                new TransformerEncoderLayer(16, 4, o),
                new TransformerEncoderLayer(16, 2, o.withNormFirst(true).withActivation("gelu")),
                new TransformerEncoder(i -> new TransformerEncoderLayer(16, 4, o.withNormFirst(true)), 2,
                        new LayerNorm(16)),
                new MultiheadAttention(16, 4, 0f, true), new Linear(16, 3));
        perturb(encoder, new Generator(29));
        for (int batch : new int[] {1, 3}) {
            check("encoder", encoder, Tensor.randn(gen, batch, 7, 6), 7, 6);
        }
        Module seqFirst = new Sequential(new TransformerEncoderLayer(8, 2,
                TransformerEncoderLayer.Options.defaults().withDimFeedforward(16)), new MultiheadAttention(8, 2));
        perturb(seqFirst, new Generator(30));
        check("encoder-sf", seqFirst, Tensor.randn(gen, 1, 5, 8), 5, 8); // (S=1, N=5, E=8)
        check("encoder-1d", new Sequential(new MultiheadAttention(8, 4)), Tensor.randn(gen, 6, 8), 8); // (S, E)
    }

    /** The translate recipe's encoder-decoder: two inputs, padding masks on both sides, the causal mask. */
    @Test
    void seq2seqTransformer() throws Exception {
        Generator.defaultGenerator().manualSeed(31);
        Seq2SeqTransformer model = new Seq2SeqTransformer(new Seq2SeqTransformer.Config(20, 0, 1, 2, 16, 2, 2, 2, 32,
                0.1f, 24));
        perturb(model, new Generator(32));
        Generator gen = new Generator(33);
        long[] src = Tensor.randint(gen, 3, 20, 3, 7).toLongArray();
        Arrays.fill(src, 5, 7, 0L); // row 0 padded after 5 tokens
        src[13] = 0; // row 1 after 6
        long[] tgt = Tensor.randint(gen, 3, 20, 3, 5).toLongArray();
        for (int r = 0; r < 3; r++) {
            tgt[r * 5] = 1; // bos
        }
        Arrays.fill(tgt, 8, 10, 0L); // row 1 padded after 3 tokens
        model.eval();
        Tensor srcT = Tensor.ofLongs(src, 3, 7);
        Tensor tgtT = Tensor.ofLongs(tgt, 3, 5);
        Tensor expected = GradMode.noGrad(() -> model.forward(srcT, tgtT));
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(OnnxExporter.toBytes(model), new OrtSession.SessionOptions());
                ai.onnxruntime.OnnxTensor a = ortTensor(env, srcT);
                ai.onnxruntime.OnnxTensor b = ortTensor(env, tgtT);
                OrtSession.Result r = s.run(Map.of("src_ids", a, "tgt_ids", b))) {
            ai.onnxruntime.OnnxTensor out = (ai.onnxruntime.OnnxTensor) r.get(0);
            assertArrayEquals(new long[] {3, 5, 20}, out.getInfo().getShape());
            FloatBuffer fb = out.getFloatBuffer();
            double max = 0;
            for (float want : expected.toFloatArray()) {
                max = Math.max(max, Math.abs(want - fb.get()));
            }
            System.out.println(String.format(Locale.ROOT, "ONNX parity %-13s input %-15s max |ORT - backprop| = %.3g",
                    "seq2seq", "[3, 7] + [3, 5]", max));
            assertTrue(max <= TOLERANCE, "seq2seq: ONNX Runtime differs from backprop by " + max);
        }
    }

    @Test
    void unsupportedLayerIsNamedByPathAndType() {
        Module model = new Sequential(new Linear(4, 4), new Sequential(new Activation.ReLU(), new Custom()));
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> OnnxExporter.toBytes(model, 4));
        assertTrue(e.getMessage().contains("layer 1.1 (Custom)"), e.getMessage());
        Module inner = new Sequential(new Linear(3, 3), new Sequential(new Linear(3, 3), new Custom()));
        UnsupportedOperationException e2 = assertThrows(UnsupportedOperationException.class,
                () -> OnnxExporter.toBytes(new Sequential(inner), 3));
        assertTrue(e2.getMessage().contains("layer 0.1.1 (Custom)"), e2.getMessage());
        UnsupportedOperationException e3 = assertThrows(UnsupportedOperationException.class,
                () -> OnnxExporter.toBytes(new Sequential(new AdaptiveAvgPool2d(2)), 1, 5, 5));
        assertTrue(e3.getMessage().contains("0 (AdaptiveAvgPool2d)"), e3.getMessage());
    }

    @Test
    void layerTreesNeedTheInputShape() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnnxExporter.toBytes(new Sequential(new Linear(4, 2))));
        assertTrue(e.getMessage().contains("without the batch dimension"), e.getMessage());
        IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class,
                () -> OnnxExporter.toBytes(new Sequential(new Linear(4, 2)), 5));
        assertTrue(wrong.getMessage().contains("[1, 5]"), wrong.getMessage());
    }

    @Test
    void exportWritesTheFileAndLeavesEachLayersMode(@TempDir Path dir) throws Exception {
        BatchNorm1d frozen = new BatchNorm1d(2);
        Module model = new Sequential(new Linear(3, 2), new Dropout(0.5f), frozen);
        model.train();
        frozen.eval(); // a frozen batch norm inside a model in training mode
        Path file = dir.resolve("m.onnx");
        OnnxExporter.export(model, Map.of("classes", "[\"a\",\"b\"]"), file, 3);
        assertTrue(model.isTraining() && model.namedChildren().get("1").isTraining());
        assertTrue(!frozen.isTraining());
        byte[] bytes = Files.readAllBytes(file);
        assertArrayEquals(OnnxExporter.toBytes(model, Map.of("classes", "[\"a\",\"b\"]"), 3), bytes);
        try (OrtSession s = OrtEnvironment.getEnvironment().createSession(bytes, new OrtSession.SessionOptions())) {
            assertEquals("input", s.getInputNames().iterator().next());
            assertEquals("output", s.getOutputNames().iterator().next());
            assertEquals("[\"a\",\"b\"]", s.getMetadata().getCustomMetadata().get("classes"));
            assertEquals("backprop", s.getMetadata().getProducerName());
        }
    }

    // ------------------------------------------------------------------ helpers

    static final class Custom extends Module {
        @Override
        protected Tensor compute(Tensor x) {
            return x.mul(2f);
        }
    }

    private static void moveRunningStatistics(Module model, Tensor batch) {
        model.train();
        GradMode.noGrad(() -> model.forward(batch));
        model.eval();
    }

    private static void perturb(Module model, Generator gen) {
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (Tensor p : model.parameters()) {
                p.copyFrom(p.add(Tensor.randn(gen, p.shape()).mul(0.1f)));
            }
        }
    }

    /** Exports {@code model}, runs ONNX Runtime on {@code input} and compares with backprop; returns the max |diff|. */
    static double check(String family, Module model, Tensor input, int... inputShape) throws OrtException {
        model.eval();
        Tensor expected = GradMode.noGrad(() -> model.forward(input));
        byte[] onnx = OnnxExporter.toBytes(model, inputShape);
        float[] actual;
        long[] shape;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession session = env.createSession(onnx, new OrtSession.SessionOptions());
                ai.onnxruntime.OnnxTensor in = ortTensor(env, input);
                OrtSession.Result result = session.run(Map.of(session.getInputNames().iterator().next(), in))) {
            ai.onnxruntime.OnnxTensor out = (ai.onnxruntime.OnnxTensor) result.get(0);
            shape = out.getInfo().getShape();
            FloatBuffer fb = out.getFloatBuffer();
            actual = new float[fb.remaining()];
            fb.get(actual);
        }
        assertArrayEquals(Arrays.stream(expected.shape()).asLongStream().toArray(), shape, family + ": output shape");
        float[] want = expected.toFloatArray();
        double maxDiff = 0;
        for (int i = 0; i < want.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(want[i] - actual[i]));
        }
        System.out.println(String.format(Locale.ROOT, "ONNX parity %-13s input %-15s max |ORT - backprop| = %.3g",
                family, Arrays.toString(input.shape()), maxDiff));
        assertTrue(maxDiff <= TOLERANCE, family + ": ONNX Runtime differs from backprop by " + maxDiff
                + " (tolerance " + TOLERANCE + ") on input " + Arrays.toString(input.shape()));
        return maxDiff;
    }

    private static ai.onnxruntime.OnnxTensor ortTensor(OrtEnvironment env, Tensor t) throws OrtException {
        long[] shape = Arrays.stream(t.shape()).asLongStream().toArray();
        return t.dtype() == DType.INT64
                ? ai.onnxruntime.OnnxTensor.createTensor(env, LongBuffer.wrap(t.toLongArray()), shape)
                : ai.onnxruntime.OnnxTensor.createTensor(env, FloatBuffer.wrap(t.toFloatArray()), shape);
    }
}
