package dev.backprop.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.backprop.autograd.GradMode;
import dev.backprop.io.SafeTensors;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code backprop export}: runs of tabular (batch norm, dropout), char-lstm, intent and translate,
 * trained for a few steps, export to ONNX files that ONNX Runtime runs with the run's numbers
 * (within 1e-4), and to safetensors holding the run's weights under the same keys; bad requests
 * fail with one line. (The image recipes' models are checked in backprop-core's OnnxExportTest.)
 */
class ExportCommandTest {

    private static Path onlyRun(Path runs) throws Exception {
        try (Stream<Path> s = Files.list(runs)) {
            List<Path> all = s.toList();
            assertEquals(1, all.size(), all.toString());
            return all.get(0);
        }
    }

    @Test
    void tabularAndLanguageModelRunsExport(@TempDir Path dir) throws Exception {
        StringBuilder csv = new StringBuilder("x1,x2,noise,label\n");
        java.util.Random random = new java.util.Random(1);
        for (int i = 0; i < 200; i++) {
            double a = random.nextGaussian() * 10 + 50;
            double b = random.nextGaussian();
            csv.append(a).append(',').append(b).append(',').append(random.nextGaussian()).append(',')
                    .append((a - 50) / 10 + b > 0 ? "yes" : "no").append('\n');
        }
        Path table = Files.writeString(dir.resolve("data.csv"), csv);
        Path runs = dir.resolve("runs");
        CliRun t = CliRun.of("train", "tabular", "--data", table.toString(), "--target", "label", "--epochs", "2",
                "--threads", "1", "--out", runs.toString());
        assertEquals(0, t.exit(), t.out() + t.err());
        Path tabularRun = onlyRun(runs);
        Path onnx = dir.resolve("tabular.onnx");
        Path weights = dir.resolve("tabular.safetensors");
        CliRun e = CliRun.of("export", tabularRun.getFileName().toString(), "--runs", runs.toString(), "--onnx",
                onnx.toString(), "--safetensors", weights.toString());
        assertEquals(0, e.exit(), e.out() + e.err());
        assertTrue(e.out().contains("ONNX opset 17") && e.out().contains("input (batch, 3)"), e.out());
        ExportCommand.Exportable loaded = ExportCommand.load(tabularRun, runs);
        assertOrtMatches(onnx, loaded, Tensor.randn(new Generator(1), 5, 3)); // BatchNorm1d, Dropout
        Map<String, Tensor> exported = SafeTensors.read(weights).tensors();
        Map<String, Tensor> run = SafeTensors.read(tabularRun.resolve("model.safetensors")).tensors();
        assertEquals(run.keySet(), exported.keySet());
        assertTrue(exported.containsKey("1.running_mean") && exported.containsKey("7.weight"), exported.keySet()
                .toString());
        run.forEach((k, v) -> {
            assertArrayEquals(v.shape(), exported.get(k).shape(), k);
            if (v.dtype() == DType.INT64) {
                assertArrayEquals(v.toLongArray(), exported.get(k).toLongArray(), k);
            } else {
                assertArrayEquals(v.toFloatArray(), exported.get(k).toFloatArray(), k);
            }
        });
        assertEquals("pt", SafeTensors.read(weights).metadata().get("format"));
        try (OrtSession s = OrtEnvironment.getEnvironment().createSession(onnx.toString(),
                new OrtSession.SessionOptions())) {
            assertEquals("[\"no\",\"yes\"]", s.getMetadata().getCustomMetadata().get("classes"));
        }

        Path text = dir.resolve("play.txt");
        Files.writeString(text, LanguageModelCommandsTest.playText());
        Path lmRuns = dir.resolve("lm");
        CliRun lm = CliRun.of("train", "char-lstm", "--data", text.toString(), "--iters", "3", "--threads", "1",
                "--out", lmRuns.toString());
        assertEquals(0, lm.exit(), lm.out() + lm.err());
        Path lstmOnnx = dir.resolve("lstm.onnx");
        CliRun le = CliRun.of("export", onlyRun(lmRuns).toString(), "--onnx", lstmOnnx.toString());
        assertEquals(0, le.exit(), le.out() + le.err());
        assertTrue(le.out().contains("input_ids int64 (batch, sequence)"), le.out());
        ExportCommand.Exportable lstm = ExportCommand.load(onlyRun(lmRuns), lmRuns);
        assertOrtMatches(lstmOnnx, lstm, Tensor.randint(new Generator(2), 0, 10, 2, 33));
    }

    @Test
    void intentRunExports(@TempDir Path dir) throws Exception {
        StringBuilder csv = new StringBuilder("text,label\n");
        String[][] phrases = {{"my card has not arrived", "where is my new card", "card delivery is late"},
            {"I lost my card", "my card was stolen", "someone took my wallet"},
            {"what is the exchange rate", "how much is a dollar in euros", "exchange rate today"}};
        String[] labels = {"card_arrival", "lost_or_stolen_card", "exchange_rate"};
        for (int i = 0; i < 60; i++) {
            csv.append(phrases[i % 3][(i / 3) % 3]).append(i % 2 == 0 ? "?" : "").append(',').append(labels[i % 3])
                    .append('\n');
        }
        Path data = Files.writeString(dir.resolve("intents.csv"), csv);
        Path runs = dir.resolve("runs");
        CliRun t = CliRun.of("train", "intent", "--data", data.toString(), "--test", data.toString(), "--epochs", "1",
                "--threads", "1", "--out", runs.toString());
        assertEquals(0, t.exit(), t.out() + t.err());
        Path onnx = dir.resolve("intent.onnx");
        Path weights = dir.resolve("intent.safetensors");
        CliRun e = CliRun.of("export", onlyRun(runs).toString(), "--onnx", onnx.toString(), "--safetensors",
                weights.toString());
        assertEquals(0, e.exit(), e.out() + e.err());
        ExportCommand.Exportable loaded = ExportCommand.load(onlyRun(runs), runs);
        var clf = (dev.backprop.models.TextClassifier) loaded.model();
        long[] ids = Tensor.randint(new Generator(3), 0, clf.config().vocabSize(), 3, 12).toLongArray();
        Arrays.fill(ids, 8, 12, clf.config().padId()); // padding at the end of row 0
        assertOrtMatches(onnx, loaded, Tensor.ofLongs(ids, 3, 12));
        try (OrtSession s = OrtEnvironment.getEnvironment().createSession(onnx.toString(),
                new OrtSession.SessionOptions())) {
            Map<String, String> meta = s.getMetadata().getCustomMetadata();
            assertEquals("intent", meta.get("backprop.recipe"));
            assertTrue(meta.get("classes").contains("lost_or_stolen_card"), meta.toString());
        }
        assertTrue(SafeTensors.read(weights).tensors().containsKey("convs.0.weight"));
    }

    @Test
    void translateRunExports(@TempDir Path dir) throws Exception {
        Path data = TranslateCommandTest.tinyTsv(dir);
        Path runs = dir.resolve("runs");
        CliRun t = CliRun.of("train", "translate", "--data", data.toString(), "--epochs", "1", "--d-model", "32",
                "--layers", "1", "--vocab-size", "300", "--max-tokens", "400", "--max-len", "8", "--out",
                runs.toString(), "--threads", "1");
        assertEquals(0, t.exit(), t.out() + t.err());
        Path onnx = dir.resolve("translate.onnx");
        CliRun e = CliRun.of("export", onlyRun(runs).toString(), "--onnx", onnx.toString());
        assertEquals(0, e.exit(), e.out() + e.err());
        assertTrue(e.out().contains("src_ids int64 (batch, source) and tgt_ids"), e.out());
        var model = (dev.backprop.models.Seq2SeqTransformer) ExportCommand.load(onlyRun(runs), runs).model();
        var c = model.config();
        long[] src = Tensor.randint(new Generator(4), 3, c.vocabSize(), 2, 6).toLongArray();
        src[5] = c.padId();
        long[] tgt = Tensor.randint(new Generator(5), 3, c.vocabSize(), 2, 4).toLongArray();
        tgt[0] = c.bosId();
        tgt[4] = c.bosId();
        tgt[7] = c.padId();
        Tensor srcT = Tensor.ofLongs(src, 2, 6);
        Tensor tgtT = Tensor.ofLongs(tgt, 2, 4);
        Tensor expected = GradMode.noGrad(() -> model.forward(srcT, tgtT));
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(onnx.toString(), new OrtSession.SessionOptions());
                OnnxTensor a = OnnxTensor.createTensor(env, LongBuffer.wrap(src), new long[] {2, 6});
                OnnxTensor b = OnnxTensor.createTensor(env, LongBuffer.wrap(tgt), new long[] {2, 4});
                OrtSession.Result r = s.run(Map.of("src_ids", a, "tgt_ids", b))) {
            FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
            double max = 0;
            for (float want : expected.toFloatArray()) {
                max = Math.max(max, Math.abs(want - fb.get()));
            }
            assertTrue(max <= 1e-4, "translate: ONNX Runtime differs from backprop by " + max);
        }
    }

    @Test
    void badRequestsFailWithOneLine(@TempDir Path dir) throws Exception {
        Path runs = dir.resolve("runs");
        Files.createDirectories(runs);
        CliRun nothing = CliRun.of("export", "x", "--runs", runs.toString());
        assertEquals(2, nothing.exit());
        assertTrue(nothing.err().contains("give --onnx FILE and/or --safetensors FILE"), nothing.err());
        CliRun unknown = CliRun.of("export", "no-such-run", "--runs", runs.toString(), "--onnx",
                dir.resolve("m.onnx").toString());
        assertEquals(2, unknown.exit());
        assertTrue(unknown.err().contains("no run 'no-such-run'"), unknown.err());
        CliRun folder = CliRun.of("export", "x", "--runs", runs.toString(), "--onnx",
                dir.resolve("missing").resolve("m.onnx").toString());
        assertEquals(2, folder.exit());
        assertTrue(folder.err().contains("does not exist"), folder.err());
        assertFalse(Files.exists(dir.resolve("m.onnx")));
    }

    private static void assertOrtMatches(Path onnx, ExportCommand.Exportable e, Tensor input) throws Exception {
        Tensor expected = GradMode.noGrad(() -> e.model().forward(input));
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        long[] shape = Arrays.stream(input.shape()).asLongStream().toArray();
        try (OrtSession s = env.createSession(onnx.toString(), new OrtSession.SessionOptions());
                OnnxTensor in = input.dtype() == DType.INT64
                        ? OnnxTensor.createTensor(env, LongBuffer.wrap(input.toLongArray()), shape)
                        : OnnxTensor.createTensor(env, FloatBuffer.wrap(input.toFloatArray()), shape);
                OrtSession.Result r = s.run(Map.of(s.getInputNames().iterator().next(), in))) {
            OnnxTensor out = (OnnxTensor) r.get(0);
            assertArrayEquals(Arrays.stream(expected.shape()).asLongStream().toArray(), out.getInfo().getShape());
            FloatBuffer fb = out.getFloatBuffer();
            float[] want = expected.toFloatArray();
            double max = 0;
            for (float w : want) {
                max = Math.max(max, Math.abs(w - fb.get()));
            }
            assertTrue(max <= 1e-4, onnx + ": ONNX Runtime differs from backprop by " + max);
        }
    }
}
