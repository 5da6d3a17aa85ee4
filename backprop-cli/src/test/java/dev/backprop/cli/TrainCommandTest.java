package dev.backprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.io.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {

    private static String run(int expectedExit, String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(expectedExit, Main.run(args), () -> buf.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    private static Path onlyRun(Path runs) throws Exception {
        try (Stream<Path> s = Files.list(runs)) {
            List<Path> all = s.toList();
            assertEquals(1, all.size(), all.toString());
            return all.get(0);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void trainWritesARunFolderThatEvalAndPredictRead(@TempDir Path dir) throws Exception {
        Path runs = dir.resolve("runs");
        String out = run(0, "train", "cnn", "--epochs", "1", "--max-steps", "15", "--out", runs.toString());
        assertTrue(out.contains("test accuracy"), out);
        Path runDir = onlyRun(runs);
        for (String f : List.of("manifest.json", "metrics.jsonl", "model.safetensors")) {
            assertTrue(Files.exists(runDir.resolve(f)), f + " missing");
        }
        Map<String, Object> m = Json.parseObject(Files.readString(runDir.resolve("manifest.json")));
        assertEquals("cnn", m.get("recipe"));
        Map<String, Object> hyper = (Map<String, Object>) m.get("hyperparameters");
        assertEquals(42L, hyper.get("seed"));
        assertEquals(64L, hyper.get("batch_size"));
        Map<String, Object> metrics = (Map<String, Object>) m.get("metrics");
        assertTrue(((Number) metrics.get("test_accuracy")).doubleValue() > 0.1, metrics.toString());
        assertEquals(15L, metrics.get("steps"));
        assertTrue(m.containsKey("wall_time_s") && m.containsKey("versions"));
        String eval = run(0, "eval", runDir.toString());
        assertTrue(eval.contains("test accuracy " + String.format(java.util.Locale.ROOT, "%.4f",
                ((Number) metrics.get("test_accuracy")).doubleValue())), eval);
        String predict = run(0, "predict", runDir.getFileName().toString(), "--runs", runs.toString(), "--limit", "3");
        assertTrue(predict.contains("predicted") && predict.contains("/3 correct"), predict);
        assertTrue(out.contains("doctor: "), "the doctor's verdict is printed: " + out);

        // fine-tuning by run id: with a vanishing learning rate the weights are the loaded ones
        Path runs2 = dir.resolve("runs2");
        String tuned = run(0, "train", "cnn", "--init-from", runDir.toString(), "--lr", "1e-12", "--epochs", "1",
                "--max-steps", "1", "--out", runs2.toString());
        assertTrue(tuned.contains("fine-tuning from " + runDir.resolve("model.safetensors")) && tuned.contains(
                "tensors loaded"), tuned);
        Map<String, Object> m2 = Json.parseObject(Files.readString(onlyRun(runs2).resolve("manifest.json")));
        assertEquals(runDir.resolve("model.safetensors").toString(),
                ((Map<String, Object>) m2.get("hyperparameters")).get("init_from"));
        double acc2 = ((Number) ((Map<String, Object>) m2.get("metrics")).get("test_accuracy")).doubleValue();
        assertEquals(((Number) metrics.get("test_accuracy")).doubleValue(), acc2, 0.02, tuned);
        CliRun missing = CliRun.of("train", "cnn", "--init-from", "no-such-run", "--out", runs2.toString());
        assertEquals(2, missing.exit());
        assertTrue(missing.err().contains("--init-from no-such-run") && missing.err().contains("backprop runs"),
                missing.err());
    }

    @Test
    @SuppressWarnings("unchecked")
    void tabularRecipeOnACsv(@TempDir Path dir) throws Exception {
        StringBuilder csv = new StringBuilder("x1,x2,noise,label\n");
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < 400; i++) {
            double a = r.nextGaussian() * 10 + 50;
            double b = r.nextGaussian();
            csv.append(a).append(',').append(b).append(',').append(r.nextGaussian()).append(',')
                    .append((a - 50) / 10 + b > 0 ? "yes" : "no").append('\n');
        }
        Path file = dir.resolve("data.csv");
        Files.writeString(file, csv);
        Path runs = dir.resolve("runs");
        String out = run(0, "train", "tabular", "--data", file.toString(), "--target", "label", "--epochs", "15",
                "--out", runs.toString());
        Map<String, Object> m = Json.parseObject(Files.readString(onlyRun(runs).resolve("manifest.json")));
        double acc = ((Number) ((Map<String, Object>) m.get("metrics")).get("test_accuracy")).doubleValue();
        assertTrue(acc > 0.9, "accuracy " + acc + "\n" + out);
        Map<String, Object> data = (Map<String, Object>) m.get("data");
        assertTrue(((Map<String, Object>) data.get("data.csv")).get("sha256").toString().length() == 64);
    }

    @Test
    void badInputGetsAClearMessage(@TempDir Path dir) throws Exception {
        PrintStream oldErr = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            assertTrue(Main.run("train", "nosuchrecipe", "--out", dir.toString()) != 0);
            assertTrue(Main.run("train", "tabular", "--out", dir.toString()) != 0);
            Path bad = dir.resolve("bad.csv");
            Files.writeString(bad, "a,b,label\n1,2,x\n3,oops,y\n");
            assertTrue(Main.run("train", "tabular", "--data", bad.toString(), "--target", "label", "--out",
                    dir.toString()) != 0);
        } finally {
            System.setErr(oldErr);
        }
        String msg = err.toString(StandardCharsets.UTF_8);
        assertTrue(msg.contains("unknown recipe 'nosuchrecipe'"), msg);
        assertTrue(msg.contains("--target"), msg);
        assertTrue(msg.contains("bad.csv") && msg.contains("oops"), msg);
    }
}
