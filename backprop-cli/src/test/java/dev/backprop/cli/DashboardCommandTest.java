package dev.backprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.io.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code backprop dashboard [RUN]}: which run it finds, and the server it starts (in-process, on a free port). */
class DashboardCommandTest {
    @TempDir
    Path runs;

    private Path run(String id, String created) throws Exception {
        Path dir = Files.createDirectories(runs.resolve(id));
        Files.writeString(dir.resolve("manifest.json"), "{\"id\": \"" + id + "\", \"recipe\": \"mlp\", \"created\": \""
                + created + "\"}");
        Files.writeString(dir.resolve("metrics.jsonl"), "{\"type\":\"step\",\"step\":10,\"loss\":1.5,\"lr\":0.1}\n");
        return dir;
    }

    @Test
    void findsRunsByIdPrefixPathOrLatest() throws Exception {
        Path older = run("20261122-090000-mlp", "2026-11-22T09:00:00Z");
        Path newer = run("20261123-090000-cnn", "2026-11-23T09:00:00Z");
        Files.createDirectories(runs.resolve("not-a-run"));
        assertEquals(newer, RunRef.find(null, runs));
        assertEquals(older, RunRef.find("20261122-090000-mlp", runs));
        assertEquals(older, RunRef.find("20261122", runs));
        assertEquals(newer, RunRef.find(newer.toString(), runs));

        IllegalArgumentException ambiguous = assertThrows(IllegalArgumentException.class,
                () -> RunRef.find("2026112", runs));
        assertTrue(ambiguous.getMessage().contains("ambiguous") && ambiguous.getMessage().contains("20261122-090000-mlp")
                && ambiguous.getMessage().contains("20261123-090000-cnn"), ambiguous.getMessage());

        CliRun unknown = CliRun.of("dashboard", "nope", "--runs-dir", runs.toString());
        assertEquals(2, unknown.exit());
        assertTrue(unknown.err().contains("no run 'nope'") && unknown.err().contains(runs.toAbsolutePath().toString())
                && unknown.err().contains("20261122-090000-mlp, 20261123-090000-cnn"), unknown.err());

        CliRun none = CliRun.of("dashboard", "--runs-dir", runs.resolve("not-a-run").toString());
        assertEquals(2, none.exit());
        assertTrue(none.err().contains("no runs under"), none.err());
        assertTrue(CliRun.of("--help").out().contains("dashboard"), "listed among the commands");
    }

    @SuppressWarnings("unchecked")
    @Test
    void servesTheRunUntilStopped() throws Exception {
        run("20261122-090000-mlp", "2026-11-22T09:00:00Z");
        DashboardCommand command = new DashboardCommand();
        new CommandLine(command).parseArgs("--port", "0", "--runs-dir", runs.toString(), "20261122");
        HttpClient http = HttpClient.newHttpClient();
        String url;
        try (DashboardServer server = command.start()) {
            url = server.url();
            assertTrue(url.startsWith("http://127.0.0.1:") && !url.endsWith(":8765/"), url);
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + "api/run")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            Map<String, Object> data = Json.parseObject(r.body());
            assertEquals("20261122-090000-mlp", data.get("id"));
            assertEquals(1, ((java.util.List<Object>) ((Map<String, Object>) data.get("loss"))
                    .get("training loss (step)")).size());

            // the same port again: a clear error naming --port 0, before anything blocks
            CliRun taken = CliRun.of("dashboard", "--port", String.valueOf(server.port()), "--runs-dir", runs.toString());
            assertEquals(2, taken.exit());
            assertTrue(taken.err().contains("already in use") && taken.err().contains("--port 0"), taken.err());
        }
        assertThrows(java.io.IOException.class, () -> http.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString()), "stopped");
    }
}
