package dev.backprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code backprop train mlp --spark local[2]}: a run folder like the single-machine one's, with the Spark settings. */
class SparkTrainCommandTest {

    @Test
    @SuppressWarnings("unchecked")
    void trainsARecipeOnSparkAndWritesARunFolder(@TempDir Path dir) throws Exception {
        CliRun r = CliRun.of("train", "mlp", "--spark", "local[2]", "--spark-strategy", "local-sgd", "--local-steps",
                "3", "--epochs", "1", "--max-steps", "9", "--batch-size", "256", "--out", dir.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("local-sgd, 2 partitions"), r.out());
        assertTrue(r.out().contains("test accuracy"), r.out());
        Path run;
        try (var runs = Files.list(dir)) {
            run = runs.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        Map<String, Object> manifest = Json.parseObject(Files.readString(run.resolve("manifest.json")));
        Map<String, Object> spark = (Map<String, Object>) ((Map<String, Object>) manifest.get("hyperparameters"))
                .get("spark");
        assertEquals("local[2]", spark.get("master"));
        assertEquals("local-sgd", spark.get("strategy"));
        Map<String, Object> metrics = (Map<String, Object>) manifest.get("metrics");
        assertEquals(9L, ((Number) metrics.get("steps")).longValue());
        assertTrue(((Number) metrics.get("test_accuracy")).doubleValue() > 0.15, "learns something in 9 steps");
        assertTrue(Files.isRegularFile(run.resolve("model.safetensors")));
        assertTrue(Files.isRegularFile(run.resolve("report.html")));
        List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertTrue(lines.stream().anyMatch(l -> l.contains("\"type\":\"grad\"")), "gradient-flow records");

        CliRun bad = CliRun.of("train", "char-gpt", "--spark", "local[2]", "--out", dir.toString());
        assertTrue(bad.exit() != 0);
        assertTrue(bad.err().contains("--spark trains the image and tabular recipes"), bad.err());
    }
}
