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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code backprop lr-find} on the generated data: a curve, a suggestion and the JSON of the sweep. */
class LrFindCommandTest {
    @TempDir
    Path dir;

    @SuppressWarnings("unchecked")
    @Test
    void sweepsAndSuggests() throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        Path json = dir.resolve("lr.json");
        int exit;
        try {
            exit = Main.run("lr-find", "mlp", "--steps", "120", "--json", json.toString(), "--out",
                    dir.resolve("runs").toString());
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit, out);
        assertTrue(out.contains("suggested learning rate") && out.contains("<- suggested"), out);
        Map<String, Object> root = Json.parseObject(Files.readString(json));
        double suggestion = ((Number) root.get("suggestion")).doubleValue();
        // Adam on the generated shapes: the recipe trains well at 1e-3
        assertTrue(suggestion > 1e-4 && suggestion < 1e-1, "suggestion " + suggestion);
        List<Object> points = (List<Object>) root.get("points");
        assertTrue(points.size() > 20 && points.size() <= 120, "points " + points.size());

        // kept as a run: the sweep in metrics.jsonl, the suggestion in the manifest, the curve in the report
        List<Path> runs;
        try (var s = Files.list(dir.resolve("runs"))) {
            runs = s.toList();
        }
        assertEquals(1, runs.size(), runs.toString());
        Path run = runs.get(0);
        assertTrue(run.getFileName().toString().endsWith("-lr-find-mlp"), run.toString());
        Map<String, Object> manifest = Json.parseObject(Files.readString(run.resolve("manifest.json")));
        assertEquals("lr-find", manifest.get("kind"));
        assertEquals(suggestion, ((Number) ((Map<String, Object>) manifest.get("lr_find")).get("suggested_lr"))
                .doubleValue());
        List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertEquals(points.size(), lines.size());
        assertTrue(lines.get(0).contains("\"type\":\"lr_find\""), lines.get(0));
        assertTrue(Files.isRegularFile(run.resolve("report.html")));
    }
}
