package dev.backprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live dashboard: served on the loopback interface, it shows what metrics.jsonl holds at the
 * time of each request (so it follows a training as it writes), in Java's HTTP client and in a
 * real headless Chromium where Debian's {@code chromium} is installed ({@code .ci/run} installs it).
 */
class DashboardServerTest {
    @TempDir
    Path dir;

    private static void steps(Path metrics, int from, int to) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int s = from; s <= to; s++) {
            b.append("{\"type\":\"step\",\"step\":").append(s).append(",\"loss\":").append(3.0 / s)
                    .append(",\"lr\":0.01,\"grad_norm\":1.5}\n");
        }
        Files.writeString(metrics, b, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static int points(String html) {
        String json = html.substring(html.indexOf("id=\"run-data\">"), html.lastIndexOf("</script>"));
        String loss = json.substring(json.indexOf("\"training loss (step)\""));
        loss = loss.substring(0, loss.indexOf("]]") + 2);
        return loss.split("\\],\\[").length;
    }

    @Test
    void followsTheRunAsItWrites() throws Exception {
        Files.writeString(dir.resolve("manifest.json"), "{\"id\": \"live-run\", \"recipe\": \"mlp\"}");
        Path metrics = dir.resolve("metrics.jsonl");
        steps(metrics, 1, 10);
        HttpClient http = HttpClient.newHttpClient();
        try (DashboardServer server = new DashboardServer(dir, 0)) {
            assertTrue(server.url().startsWith("http://127.0.0.1:"), server.url());
            HttpResponse<String> first = http.send(HttpRequest.newBuilder(URI.create(server.url())).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, first.statusCode());
            assertTrue(first.body().contains("http-equiv=\"refresh\""), "the page reloads itself");
            assertTrue(first.body().contains("Run live-run") && first.body().contains("id=\"gradient-flow\""));
            assertEquals(10, points(first.body()));
            steps(metrics, 11, 25); // the training writes on
            String second = http.send(HttpRequest.newBuilder(URI.create(server.url())).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertEquals(25, points(second));
            HttpResponse<String> raw = http.send(HttpRequest.newBuilder(URI.create(server.url() + "metrics.jsonl"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(25, raw.body().strip().split("\n").length);
            assertEquals(404, http.send(HttpRequest.newBuilder(URI.create(server.url() + "../etc/passwd")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(405, http.send(HttpRequest.newBuilder(URI.create(server.url()))
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString())
                    .statusCode());

            Path chromium = Path.of("/usr/bin/chromium");
            Assumptions.assumeTrue(Files.isExecutable(chromium),
                    "no /usr/bin/chromium here (apt-get install chromium; .ci/run installs it): browser part skipped");
            List<String> cmd = List.of(chromium.toString(), "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--user-data-dir=" + dir.resolve("profile"), "--dump-dom", server.url());
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String dom = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS));
            assertTrue(dom.contains("<polyline") && dom.contains("data-series=\"training loss (step)\""), dom);
        }
    }
}
