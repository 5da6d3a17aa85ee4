package dev.backprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code backprop runs} and {@code runs compare} on run folders with hand-written manifests. */
class RunsCommandTest {
    @TempDir
    Path root;

    private static CliRun run(String... args) {
        return CliRun.of(args);
    }

    private void manifest(String id, String created, String optimizer, double lr, double acc, double wall)
            throws Exception {
        Path dir = Files.createDirectories(root.resolve(id));
        Files.writeString(dir.resolve("manifest.json"), """
                {"id": "%s", "recipe": "mlp", "created": "%s",
                 "hyperparameters": {"epochs": 10, "lr": %s, "seed": 1, "optimizer": "%s",
                                     "optimizer_options": {"lr": %s, "weight_decay": 0.0}},
                 "data_description": {"generated": "synthetic"},
                 "metrics": {"test_accuracy": %s, "test_loss": 0.3, "steps": 4690,
                             "confusion_matrix": [[1, 0], [0, 1]]},
                 "wall_time_s": %s, "stop_reason": "epochs"}
                """.formatted(id, created, lr, optimizer, lr, acc, wall));
    }

    @BeforeEach
    void runs() throws Exception {
        manifest("20261122-130000-mlp", "2026-11-22T13:00:00Z", "Adam", 0.001, 0.8867, 60.1);
        manifest("20261121-090000-mlp", "2026-11-21T09:00:00Z", "SGD", 0.01, 0.85, 300);
        Files.createDirectories(root.resolve("20261122-140000-cnn")); // crashed: no manifest
    }

    @Test
    void listsRunsOldestFirstWithTheirMetrics() {
        CliRun r = run("runs", "--dir", root.toString());
        assertEquals(0, r.exit(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(4, lines.length, r.out());
        assertTrue(lines[0].startsWith("id"), r.out());
        assertTrue(lines[1].contains("incomplete: no manifest.json"), r.out()); // no date: listed first
        assertTrue(lines[2].startsWith("20261121-090000-mlp") && lines[2].contains("0.8500")
                && lines[2].contains("5.0 min"), r.out());
        assertTrue(lines[3].startsWith("20261122-130000-mlp") && lines[3].contains("acc 0.8867")
                && lines[3].contains("60.1 s") && lines[3].contains("synthetic"), r.out());
    }

    @Test
    void languageModelAndTranslationRunsShowTheirOwnKeyMetric() throws Exception {
        Path lm = Files.createDirectories(root.resolve("20261122-150000-char-gpt"));
        Files.writeString(lm.resolve("manifest.json"), """
                {"id": "20261122-150000-char-gpt", "recipe": "char-gpt", "created": "2026-11-22T15:00:00Z",
                 "metrics": {"val_loss": 1.8916, "train_loss": 1.81, "steps": 2000}, "wall_time_s": 55}
                """);
        Path mt = Files.createDirectories(root.resolve("20261122-160000-translate"));
        Files.writeString(mt.resolve("manifest.json"), """
                {"id": "20261122-160000-translate", "recipe": "translate", "created": "2026-11-22T16:00:00Z",
                 "metrics": {"test_bleu_greedy": 30.53, "test_bleu_beam": 31.94, "steps": 900}, "wall_time_s": 1800}
                """);
        String out = run("runs", "--dir", root.toString()).out();
        assertTrue(out.matches("(?s).*20261122-150000-char-gpt +char-gpt .*val loss 1\\.8916 +1\\.8916 +2000 .*"), out);
        assertTrue(out.matches("(?s).*20261122-160000-translate +translate .*BLEU 31\\.94 .*"), out);
    }

    @Test
    void compareShowsTheHyperparametersThatDifferAndMetricDeltas() {
        CliRun r = run("runs", "compare", "20261121-090000-mlp", "20261122-130000-mlp", "--dir", root.toString());
        assertEquals(0, r.exit(), r.err());
        String out = r.out();
        assertTrue(out.matches("(?s).*\\noptimizer +SGD +Adam +differs.*"), out);
        assertTrue(out.matches("(?s).*\\nlr +0\\.01 +0\\.001 +differs.*"), out);
        assertTrue(out.matches("(?s).*\\noptimizer_options\\.lr +0\\.01 +0\\.001 +differs.*"), out);
        assertFalse(out.contains("\nepochs "), out); // the same in both: not listed without --all
        assertFalse(out.contains("confusion_matrix"), out);
        assertTrue(out.matches("(?s).*\\ntest_accuracy +0\\.85 +0\\.8867 +\\+0\\.03670.*"), out);
        CliRun all = run("runs", "compare", "20261121-090000-mlp", "20261122-130000-mlp", "--dir", root.toString(),
                "--all");
        assertTrue(all.out().contains("\nepochs "), all.out());
    }

    @Test
    void unknownOrIncompleteRunsAreClearErrors() {
        CliRun missing = run("runs", "compare", "nope", "20261122-130000-mlp", "--dir", root.toString());
        assertEquals(2, missing.exit());
        assertTrue(missing.err().contains("run 'nope'") && missing.err().contains("./backprop runs"), missing.err());
        CliRun crashed = run("runs", "compare", "20261122-140000-cnn", "20261122-130000-mlp", "--dir", root.toString());
        assertEquals(2, crashed.exit());
        assertTrue(crashed.err().contains("incomplete"), crashed.err());
    }

    @Test
    void emptyFolder() {
        CliRun r = run("runs", "--dir", root.resolve("none").toString());
        assertEquals(0, r.exit());
        assertTrue(r.out().contains("no runs under"), r.out());
    }
}
