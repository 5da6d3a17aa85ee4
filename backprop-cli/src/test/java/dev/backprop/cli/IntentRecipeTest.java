package dev.backprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.io.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IntentRecipeTest {
    private static final List<String> INTENTS = List.of("card_arrival", "lost_or_stolen_card", "top_up_failed");
    private static final List<List<String>> PHRASES = List.of(
            List.of("where is my new card", "my card has not arrived", "when will my card come"),
            List.of("I lost my card", "my card was stolen", "I can't find my card"),
            List.of("my top up failed", "the top-up did not work", "why was my top up declined"));

    @TempDir
    Path dir;

    /** A generated CSV: {@code rows} texts of the three intents, then {@code extra} raw lines. */
    private Path csv(String name, int rows, long seed, String extra) throws IOException {
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder("text,label\n");
        for (int i = 0; i < rows; i++) {
            int c = i % INTENTS.size();
            String opening = List.of("", "hi, ", "hello ", "please: ").get(r.nextInt(4));
            sb.append('"').append(opening).append(PHRASES.get(c).get(r.nextInt(3))).append(r.nextBoolean() ? "?" : "")
                    .append("\",").append(INTENTS.get(c)).append('\n');
        }
        return Files.writeString(dir.resolve(name), sb + extra, StandardCharsets.UTF_8);
    }

    private static Path onlyRun(Path runs) throws IOException {
        try (Stream<Path> s = Files.list(runs)) {
            List<Path> all = s.toList();
            assertEquals(1, all.size(), all.toString());
            return all.get(0);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void trainEvalAndPredictAnIntentRun() throws Exception {
        Path train = csv("train.csv", 150, 1, " ,card_arrival\n");
        Path test = csv("test.csv", 30, 2, "I want a loan,loan_request\n");
        Path runs = dir.resolve("runs");
        CliRun t = CliRun.of("train", "intent", "--data", train.toString(), "--test", test.toString(), "--epochs",
                "3", "--out", runs.toString());
        assertEquals(0, t.exit(), t.out() + t.err());
        assertTrue(t.out().contains("skipped 1 rows: line 152 (empty text)"), t.out());
        assertTrue(t.out().contains("skipped 1 rows: line 32 (unknown label \"loan_request\")"), t.out());
        assertTrue(t.out().contains("test accuracy"), t.out());
        assertTrue(t.out().contains("macro-F1"), t.out());
        Path run = onlyRun(runs);
        for (String f : List.of("manifest.json", "metrics.jsonl", "model.safetensors", "tokenizer.json",
                "classifier.json", "report.html")) {
            assertTrue(Files.isRegularFile(run.resolve(f)), f + " missing");
        }
        Map<String, Object> m = Json.parseObject(Files.readString(run.resolve("manifest.json")));
        assertEquals("intent", m.get("recipe"));
        Map<String, Object> metrics = (Map<String, Object>) m.get("metrics");
        assertEquals(INTENTS, metrics.get("classes"));
        assertEquals(3, ((List<?>) metrics.get("confusion_matrix")).size());
        for (String k : List.of("test_accuracy", "test_macro_f1", "most_confused", "val_accuracy")) {
            assertTrue(metrics.containsKey(k), k + " in " + metrics.keySet());
        }
        Map<String, Object> data = (Map<String, Object>) m.get("data");
        assertEquals(64, ((String) ((Map<String, Object>) data.get("train")).get("sha256")).length());
        Map<String, Object> desc = (Map<String, Object>) m.get("data_description");
        assertEquals(1L, desc.get("train_skipped"));
        assertEquals(1L, desc.get("test_skipped"));
        assertTrue(Files.readString(run.resolve("report.html")).contains("card_arrival"));

        CliRun e = CliRun.of("eval", run.toString());
        assertEquals(0, e.exit(), e.out() + e.err());
        assertTrue(e.out().contains(String.format(java.util.Locale.ROOT, "test accuracy %.4f",
                ((Number) metrics.get("test_accuracy")).doubleValue())), e.out() + metrics);
        assertTrue(e.out().contains("unknown label \"loan_request\""), e.out());

        CliRun p = CliRun.of("predict", run.toString(), "--text", "I lost my card", "--text", "top up failed");
        assertEquals(0, p.exit(), p.out() + p.err());
        String[] lines = p.out().strip().split("\n");
        assertEquals(8, lines.length, p.out());
        assertEquals("I lost my card", lines[0]);
        assertTrue(lines[1].matches("  \\S+ +[01]\\.\\d{3}"), lines[1]);

        CliRun empty = CliRun.of("predict", run.toString(), "--text", "");
        assertEquals(2, empty.exit());
        assertTrue(empty.err().contains("text is empty; expected a text to classify"), empty.err());
        CliRun none = CliRun.of("predict", run.toString());
        assertEquals(2, none.exit());
        assertTrue(none.err().contains("pass --text"), none.err());
    }

    @Test
    void badInputGetsAClearMessage() throws Exception {
        Path train = csv("train.csv", 30, 1, "");
        Path runs = dir.resolve("runs");
        CliRun noTest = CliRun.of("train", "intent", "--data", train.toString(), "--out", runs.toString());
        assertEquals(2, noTest.exit());
        assertTrue(noTest.err().contains("pass --test TEST.csv"), noTest.err());

        Path missing = dir.resolve("nope.csv");
        CliRun absent = CliRun.of("train", "intent", "--data", missing.toString(), "--test", train.toString(),
                "--out", runs.toString());
        assertEquals(2, absent.exit());
        assertTrue(absent.err().contains("the training file " + missing.toAbsolutePath() + " does not exist"),
                absent.err());

        byte[] bytes = Files.readAllBytes(csv("bad.csv", 6, 3, ""));
        byte[] broken = new byte[bytes.length + 1];
        System.arraycopy(bytes, 0, broken, 0, bytes.length);
        broken[bytes.length] = (byte) 0xC3; // a cut two-byte sequence at the end: no newline, so line 8
        Path bad = Files.write(dir.resolve("broken.csv"), broken);
        CliRun utf8 = CliRun.of("train", "intent", "--data", bad.toString(), "--test", train.toString(), "--out",
                runs.toString());
        assertEquals(2, utf8.exit());
        assertTrue(utf8.err().contains(bad.toString()) && utf8.err().contains("line 8")
                && utf8.err().toLowerCase().contains("utf-8"), utf8.err());

        Path noLabel = Files.writeString(dir.resolve("nolabel.csv"), "text,topic\nhello,x\n");
        CliRun column = CliRun.of("train", "intent", "--data", noLabel.toString(), "--test", train.toString(),
                "--out", runs.toString());
        assertEquals(2, column.exit());
        assertTrue(column.err().contains("found no label column in the header [text, topic]")
                && column.err().contains("--target"), column.err());

        Path project = Files.createDirectories(dir.resolve("work").resolve("project"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> IntentRecipe.defaultDataDir(List.of(project)));
        assertTrue(e.getMessage().contains("banking77-train.csv is not in " + dir.resolve("work/shared/data"))
                && e.getMessage().contains("--data TRAIN.csv --test TEST.csv"), e.getMessage());
        Path shared = Files.createDirectories(dir.resolve("work").resolve("shared").resolve("data"));
        Files.writeString(shared.resolve("banking77-train.csv"), "text,category\n");
        assertEquals(shared, IntentRecipe.defaultDataDir(List.of(project)));

        CliRun resume = CliRun.of("train", "intent", "--resume", "x.safetensors", "--out", runs.toString());
        assertEquals(2, resume.exit());
        assertTrue(resume.err().contains("does not support --resume"), resume.err());
    }
}
