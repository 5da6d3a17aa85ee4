package dev.backprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.io.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train translate} end to end on a tiny TSV (one short epoch), then {@code translate RUN}. */
class TranslateCommandTest {

    static Path tinyTsv(Path dir) throws Exception {
        StringBuilder sb = new StringBuilder();
        String[][] words = {{"cat", "Katze"}, {"dog", "Hund"}, {"house", "Haus"}, {"tree", "Baum"},
            {"car", "Auto"}, {"book", "Buch"}};
        for (int i = 0; i < 60; i++) {
            String[] w = words[i % words.length];
            sb.append("I see the ").append(w[0]).append(" ").append(i).append(".\tIch sehe ").append(w[1])
                    .append(" ").append(i).append(".\n");
            if (i == 10) {
                sb.append("\n").append("a line without a tab\n");
            }
        }
        Path file = dir.resolve("pairs.tsv");
        Files.writeString(file, sb, StandardCharsets.UTF_8);
        return file;
    }

    @Test
    @SuppressWarnings("unchecked")
    void trainsWritesTheRunFolderAndTranslates(@TempDir Path tmp) throws Exception {
        Path data = tinyTsv(tmp);
        Path runs = tmp.resolve("runs");
        CliRun r = CliRun.of("train", "translate", "--data", data.toString(), "--epochs", "1", "--d-model", "64",
                "--layers", "1", "--vocab-size", "300", "--max-tokens", "400", "--max-len", "8", "--beam", "2",
                "--out", runs.toString(), "--threads", "1");
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("skipped 2 of"), r.out());
        assertTrue(r.out().contains("test BLEU greedy"), r.out());
        Path run;
        try (var s = Files.list(runs)) {
            run = s.findFirst().orElseThrow();
        }
        for (String f : List.of("manifest.json", "metrics.jsonl", "model.safetensors", "tokenizer.json")) {
            assertTrue(Files.isRegularFile(run.resolve(f)), f);
        }
        Map<String, Object> m = Json.parseObject(Files.readString(run.resolve("manifest.json")));
        Map<String, Object> metrics = (Map<String, Object>) m.get("metrics");
        assertTrue(metrics.get("test_bleu_greedy") instanceof Number, metrics.toString());
        assertTrue(((String) metrics.get("bleu_beam")).startsWith("BLEU|nrefs:1|case:mixed|eff:no|tok:13a"),
                metrics.toString());
        Map<String, Object> dataInfo = (Map<String, Object>) m.get("data_description");
        assertEquals(2, ((Number) dataInfo.get("skipped_lines")).intValue());
        assertTrue(((Number) dataInfo.get("truncated_train_sentences")).intValue() > 0, dataInfo.toString());
        List<Object> samples = (List<Object>) m.get("samples");
        assertTrue(samples.size() >= 1 && samples.size() <= 10);
        assertTrue(((Map<String, Object>) m.get("data")).toString().contains("sha256"));

        CliRun t = CliRun.of("translate", run.toString(), "--text", "I see the cat 3.", "--beam", "1");
        assertEquals(0, t.exit(), t.out() + t.err());
        assertEquals(1, t.out().lines().count(), t.out()); // the translation (maybe empty after one epoch)
    }

    @Test
    void invalidUtf8IsAClearError(@TempDir Path tmp) throws Exception {
        Path bad = tmp.resolve("bad.tsv");
        Files.write(bad, new byte[] {'a', '\t', 'b', '\n', 'c', '\t', (byte) 0xC3, '(', '\n'});
        CliRun r = CliRun.of("train", "translate", "--data", bad.toString(), "--out", tmp.resolve("runs").toString());
        assertEquals(2, r.exit(), r.out() + r.err());
        assertTrue(r.err().contains("line 2"), r.err());
    }

    @Test
    void translateNeedsATranslateRun(@TempDir Path tmp) throws Exception {
        CliRun r = CliRun.of("translate", tmp.toString(), "--text", "hi");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("manifest.json"), r.err());
    }
}
