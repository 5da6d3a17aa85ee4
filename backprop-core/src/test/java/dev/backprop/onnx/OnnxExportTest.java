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
import dev.backprop.models.Workloads;
import dev.backprop.nn.Activation;
import dev.backprop.nn.AdaptiveAvgPool2d;
import dev.backprop.nn.AvgPool2d;
import dev.backprop.nn.BatchNorm1d;
import dev.backprop.nn.BatchNorm2d;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.Dropout;
import dev.backprop.nn.Embedding;
import dev.backprop.nn.Flatten;
import dev.backprop.nn.LSTM;
import dev.backprop.nn.LayerNorm;
import dev.backprop.nn.Linear;
import dev.backprop.nn.MaxPool2d;
import dev.backprop.nn.Module;
import dev.backprop.nn.Sequential;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
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

    @Test
    void unsupportedLayerIsNamedByPathAndType() {
        Module model = new Sequential(new Linear(4, 4), new Sequential(new Activation.ReLU(), new Custom()));
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> OnnxExporter.toBytes(model, 4));
        assertTrue(e.getMessage().contains("layer 1.1 (Custom)"), e.getMessage());
        LSTM bare = new LSTM(3, 4);
        UnsupportedOperationException e2 = assertThrows(UnsupportedOperationException.class,
                () -> OnnxExporter.toBytes(new Sequential(bare), 5, 3));
        assertTrue(e2.getMessage().contains("layer 0 (LSTM)"), e2.getMessage());
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
    void exportWritesTheFileAndLeavesTheTrainingMode(@TempDir Path dir) throws Exception {
        Module model = new Sequential(new Linear(3, 2), new Dropout(0.5f));
        model.train();
        Path file = dir.resolve("m.onnx");
        OnnxExporter.export(model, file, 3);
        assertTrue(model.isTraining());
        byte[] bytes = Files.readAllBytes(file);
        assertArrayEquals(OnnxExporter.toBytes(model, 3), bytes);
        try (OrtSession s = OrtEnvironment.getEnvironment().createSession(bytes, new OrtSession.SessionOptions())) {
            assertEquals("input", s.getInputNames().iterator().next());
            assertEquals("output", s.getOutputNames().iterator().next());
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
