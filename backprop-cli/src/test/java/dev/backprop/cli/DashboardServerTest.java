package dev.backprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.io.Json;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The live dashboard: served on the loopback interface, its page is served once and its script
 * (from the jar) polls {@code /api/run}, which follows metrics.jsonl as the training writes it;
 * checked with Java's HTTP client and in a real headless Chromium where Debian's {@code chromium}
 * is installed ({@code .ci/run} installs it), which runs the script, must show the charts, and
 * takes a screenshot into target/.
 */
class DashboardServerTest {
    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    private static void append(Path metrics, CharSequence text) throws Exception {
        Files.writeString(metrics, text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static void steps(Path metrics, int from, int to) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int s = from; s <= to; s++) {
            b.append("{\"type\":\"step\",\"step\":").append(s).append(",\"loss\":").append(3.0 / s)
                    .append(",\"lr\":0.01,\"grad_norm\":1.5}\n");
        }
        append(metrics, b);
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> api(DashboardServer server, String query) throws Exception {
        HttpResponse<String> r = get(server.url() + "api/run" + query);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("application/json; charset=utf-8", r.headers().firstValue("Content-Type").orElseThrow());
        return Json.parseObject(r.body());
    }

    @SuppressWarnings("unchecked")
    private static int lossPoints(Map<String, Object> api) {
        return ((List<Object>) ((Map<String, Object>) api.get("loss")).get("training loss (step)")).size();
    }

    /** Points of the polyline drawn for one series. */
    private static int drawnPoints(String html, String series) {
        int at = html.indexOf("data-series=\"" + series + "\" points=\"");
        assertTrue(at >= 0, "no polyline for " + series + " in " + html);
        int from = html.indexOf("points=\"", at) + 8;
        return html.substring(from, html.indexOf('"', from)).trim().split(" ").length;
    }

    @Test
    void followsTheRunAsItWrites() throws Exception {
        Files.writeString(dir.resolve("manifest.json"), "{\"id\": \"live-run\", \"recipe\": \"mlp\", "
                + "\"classes\": [\"cat\", \"dog\"]}");
        Path metrics = dir.resolve("metrics.jsonl");
        steps(metrics, 1, 10);
        try (DashboardServer server = new DashboardServer(dir, 0)) {
            assertTrue(server.url().startsWith("http://127.0.0.1:"), server.url());

            HttpResponse<String> page = get(server.url());
            assertEquals(200, page.statusCode());
            assertEquals("no-store", page.headers().firstValue("Cache-Control").orElseThrow());
            assertEquals("nosniff", page.headers().firstValue("X-Content-Type-Options").orElseThrow());
            assertTrue(page.headers().firstValue("Content-Security-Policy").orElseThrow().contains("script-src 'self'"));
            assertFalse(page.body().contains("http-equiv=\"refresh\""), "served once, not reloaded");
            assertTrue(page.body().contains("<script src=\"/dashboard.js\"></script>"), page.body());
            assertFalse(page.body().contains("http://") || page.body().contains("https://"), "nothing from elsewhere");

            HttpResponse<String> js = get(server.url() + "dashboard.js");
            assertEquals(200, js.statusCode());
            assertEquals("text/javascript; charset=utf-8", js.headers().firstValue("Content-Type").orElseThrow());
            try (InputStream in = DashboardServer.class.getResourceAsStream(DashboardServer.SCRIPT_RESOURCE)) {
                assertEquals(new String(in.readAllBytes(), StandardCharsets.UTF_8), js.body(), "the jar's script");
            }
            assertTrue(js.body().contains("fetch(") && js.body().contains("setTimeout("));

            Map<String, Object> first = api(server, "");
            assertEquals("live-run", first.get("id"));
            assertEquals("running", first.get("status"));
            assertEquals(10L, first.get("step"));
            assertEquals(10, lossPoints(first));
            assertEquals(10, drawnPoints((String) first.get("html"), "training loss (step)"));
            String version = (String) first.get("version");
            assertEquals(Map.of("version", version, "status", "running", "step", 10L, "records", 10L,
                    "bytes", Files.size(metrics), "updated", first.get("updated"), "unchanged", true),
                    api(server, "?since=" + version), "nothing new: only the status");

            steps(metrics, 11, 25); // the training writes on
            append(metrics, "{\"type\":\"step\",\"st"); // and is caught mid-line
            Map<String, Object> second = api(server, "?since=" + version);
            assertNotEquals(version, second.get("version"));
            assertEquals(25L, second.get("step"));
            assertEquals(25, lossPoints(second));
            assertTrue((Long) second.get("bytes") > (Long) first.get("bytes"));
            assertEquals(25, drawnPoints((String) second.get("html"), "training loss (step)"));
            append(metrics, "ep\":26,\"loss\":0.1}\n");
            assertEquals(26, lossPoints(api(server, "")));

            assertEquals(26, get(server.url() + "metrics.jsonl").body().strip().split("\n").length);
            assertTrue(get(server.url() + "manifest.json").body().contains("live-run"));
            assertTrue(get(server.url() + "report.html").body().contains("id=\"run-data\""), "the static report");
            for (String bad : List.of("../etc/passwd", "..%2fmanifest.json", "api/run/..", "metrics.jsonl/", "x")) {
                assertEquals(404, get(server.url() + bad).statusCode(), bad);
            }
            assertEquals(405, http.send(HttpRequest.newBuilder(URI.create(server.url()))
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString())
                    .statusCode());
            assertEquals(403, rawStatus(server, "evil.example:" + server.port()), "a rebound DNS name is refused");
            assertEquals(200, rawStatus(server, "localhost:" + server.port()));

            append(metrics, """
                    {"type":"grad","step":20,"layers":{"0":{"grad_norm":0.5,"update_ratio":0.001},"2":{"grad_norm":0.2,"update_ratio":0.002}},"dead":{"1":0.1}}
                    {"type":"epoch","epoch":0,"step":26,"train_loss":0.5,"train_accuracy":0.7,"val_loss":0.6,"val_accuracy":0.75,"val_confusion":[[7,3],[2,8]]}
                    {"type":"diagnosis","step":22,"rule":"dead-relu","severity":"warning","layers":["1"],"message":"10% of layer 1 is dead","fix":"lower the lr"}
                    {"type":"diagnosis","step":26,"rule":"nonfinite-loss","severity":"error","layers":[],"message":"the loss became NaN","fix":"lower the lr or clip gradients"}
                    """);
            browser(server);

            append(metrics, "{\"type\":\"end\",\"step\":26}\n");
            assertEquals("finished", api(server, "").get("status"));
        }
    }

    /** In Chromium: the script runs, fetches the run and draws it; a screenshot is taken. */
    private void browser(DashboardServer server) throws Exception {
        Path chromium = Path.of("/usr/bin/chromium");
        Assumptions.assumeTrue(Files.isExecutable(chromium),
                "no /usr/bin/chromium here (apt-get install chromium; .ci/run installs it): browser part skipped");
        String dom = chromium(chromium, "--virtual-time-budget=5000", "--dump-dom", server.url());
        assertEquals(26, drawnPoints(dom, "training loss (step)"), "the script drew the loss");
        assertTrue(dom.contains("data-series=\"2\""), "gradient flow per layer");
        String table = dom.substring(dom.indexOf("<table id=\"confusion-matrix\""));
        table = table.substring(0, table.indexOf("</table>"));
        assertTrue(table.contains("data-source=\"validation\"") && table.contains("<th>cat</th>")
                && table.contains(">8</td>"), table);
        String diagnoses = dom.substring(dom.indexOf("<ul id=\"diagnoses\">"));
        diagnoses = diagnoses.substring(0, diagnoses.indexOf("</ul>"));
        assertTrue(diagnoses.contains("dead-relu") && diagnoses.contains("nonfinite-loss"), diagnoses);
        assertTrue(dom.contains("id=\"alert\"") && dom.contains("the loss became NaN"), "the error's banner");
        assertTrue(dom.contains("running \u00b7 step 26 \u00b7 last update "), "the script's status line: " + dom);

        Path screenshot = Path.of("target", "dashboard-screenshot.png").toAbsolutePath();
        Files.createDirectories(screenshot.getParent());
        Files.deleteIfExists(screenshot);
        chromium(chromium, "--virtual-time-budget=5000", "--window-size=1200,1600", "--screenshot=" + screenshot,
                server.url());
        byte[] png = Files.readAllBytes(screenshot);
        assertTrue(png.length > 10_000, "screenshot of " + png.length + " bytes");
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
        assertEquals('N', png[2]);
        assertEquals('G', png[3]);
    }

    private String chromium(Path binary, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(binary.toString(), "--headless=new", "--no-sandbox",
                "--disable-gpu", "--user-data-dir=" + dir.resolve("profile")));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium did not finish");
        assertEquals(0, p.exitValue(), "chromium " + cmd);
        return out;
    }

    /** The status code of a GET / naming {@code host} (which Java's HTTP client will not set). */
    private static int rawStatus(DashboardServer server, String host) throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            OutputStream out = s.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            return Integer.parseInt(reply.substring(9, 12));
        }
    }

    @Test
    void aTakenPortSaysSo() throws Exception {
        try (DashboardServer first = new DashboardServer(dir, 0)) {
            java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                    () -> new DashboardServer(dir, first.port()).close());
            assertTrue(e.getMessage().contains("port " + first.port()) && e.getMessage().contains("already in use")
                    && e.getMessage().contains("--port 0"), e.getMessage());
        }
    }
}
