package dev.backprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.io.Json;
import dev.backprop.train.RunReport;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard lets no one in: it listens on 127.0.0.1 unless told otherwise (with a flag and a
 * warning), serves only its fixed routes (path traversal in every spelling is 404), changes nothing
 * (other methods are 405 and the run folder is left as it was), and shows every run name, class
 * label and message escaped, so a hostile run cannot inject script into the page or the report.
 */
class DashboardSecurityTest {
    /** Strings a hostile run could put in its name, labels and messages. */
    static final String SCRIPT = "<script>alert(1)</script>";
    static final String SVG_BREAK = "</svg><img src=x onerror=alert(2)>";
    static final String QUOTES = "\"' onmouseover=\"alert(3)";
    static final String COMMENT = "<!--<script>";

    @TempDir
    Path dir;

    /** Sends one raw request (no client-side normalisation of the path); returns status line and body. */
    private static String raw(DashboardServer server, String method, String target) throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write((method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + server.port()
                    + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static int status(String reply) {
        return Integer.parseInt(reply.substring(9, 12));
    }

    /** The header lines, names and values in lower case. */
    private static String headers(String reply) {
        int at = reply.indexOf("\r\n\r\n");
        return (at < 0 ? reply : reply.substring(0, at)).toLowerCase(java.util.Locale.ROOT);
    }

    private static String body(String reply) {
        int at = reply.indexOf("\r\n\r\n");
        return at < 0 ? "" : reply.substring(at + 4);
    }

    private void hostileRun() throws Exception {
        Files.writeString(dir.resolve("secret.txt"), "not to be served");
        Files.writeString(dir.resolve("manifest.json"), Json.write(Map.of(
                "id", "run " + SCRIPT + QUOTES,
                "recipe", SVG_BREAK,
                "hyperparameters", Map.of(SCRIPT, QUOTES, "lr", 0.1),
                "metrics", Map.of("classes", List.of(SCRIPT, SVG_BREAK, QUOTES, COMMENT)))) + "\n");
        StringBuilder m = new StringBuilder();
        for (int s = 1; s <= 5; s++) {
            m.append("{\"type\":\"step\",\"step\":").append(s).append(",\"loss\":").append(1.0 / s).append("}\n");
        }
        m.append(Json.write(Map.of("type", "epoch", "epoch", 0, "step", 5, "train_loss", 0.5, "val_loss", 0.6,
                "val_accuracy", 0.5, "val_confusion", List.of(List.of(1, 0, 0, 0), List.of(0, 1, 0, 0),
                        List.of(0, 0, 1, 0), List.of(0, 0, 0, 1))))).append('\n');
        m.append(Json.write(Map.of("type", "diagnosis", "step", 5, "rule", SCRIPT, "severity", "error",
                "layers", List.of(SVG_BREAK), "message", "loss " + SCRIPT + SVG_BREAK, "fix", QUOTES + COMMENT)))
                .append('\n');
        Files.writeString(dir.resolve("metrics.jsonl"), m);
    }

    /** No hostile string reaches an HTML page unescaped. */
    private static void assertEscaped(String html, String where) {
        // escaped, the same text is inert ("&lt;img src=x onerror=...&gt;" is text, not an element)
        for (String bad : List.of(SCRIPT, "<script>alert", SVG_BREAK, "<img", QUOTES, "\" onmouseover", COMMENT)) {
            assertFalse(html.contains(bad), where + " contains " + bad + " unescaped");
        }
        // the only script elements are the page's own
        int scripts = html.split("<script", -1).length - 1;
        int own = (html.contains("<script src=\"/dashboard.js\"></script>") ? 1 : 0)
                + (html.contains("<script type=\"application/json\" id=\"run-data\">") ? 1 : 0);
        assertEquals(own, scripts, where + ": script elements");
    }

    @Test
    void runNamesLabelsAndMessagesAreEscapedEverywhere() throws Exception {
        hostileRun();
        try (DashboardServer server = new DashboardServer(dir, 0)) {
            String page = raw(server, "GET", "/");
            assertEquals(200, status(page));
            assertEscaped(body(page), "the page");

            String api = body(raw(server, "GET", "/api/run"));
            Map<String, Object> data = Json.parseObject(api);
            String html = (String) data.get("html");
            assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the labels are shown, escaped");
            assertEscaped(html, "/api/run html");
            String apiHead = headers(raw(server, "GET", "/api/run"));
            assertTrue(apiHead.contains("content-type: application/json; charset=utf-8"), apiHead);
            assertTrue(apiHead.contains("x-content-type-options: nosniff"), "JSON is never sniffed as HTML");

            String report = body(raw(server, "GET", "/report.html"));
            assertTrue(report.contains("id=\"run-data\""));
            assertEscaped(report, "/report.html");
            assertTrue(headers(raw(server, "GET", "/")).contains("content-security-policy: default-src 'none'; "
                    + "script-src 'self'"), "inline script is not allowed even if one got through");
        }
        // the report written into the run folder too
        String written = Files.readString(RunReport.write(dir));
        assertEscaped(written, "report.html on disk");
        Object embedded = Json.parse(written.substring(written.indexOf("id=\"run-data\">") + 14,
                written.lastIndexOf("</script>")));
        assertTrue(Json.write(embedded).contains(SCRIPT), "the embedded data still holds the exact strings");
    }

    @Test
    void pathTraversalInEverySpellingIs404() throws Exception {
        hostileRun();
        try (DashboardServer server = new DashboardServer(dir, 0)) {
            List<String> attempts = List.of("/../secret.txt", "/../../../../etc/passwd", "/%2e%2e/secret.txt",
                    "/%2E%2E%2Fsecret.txt", "/..%2fsecret.txt", "/..%252fsecret.txt", "/%252e%252e/secret.txt",
                    "/secret.txt", "//secret.txt", "/./manifest.json/../secret.txt", "/manifest.json/..",
                    "/..\\secret.txt", "/%5c..%5csecret.txt", "/C:%5cWindows%5cwin.ini", "/etc/passwd",
                    "/" + dir.toAbsolutePath().resolve("secret.txt"), "file:///etc/passwd",
                    "http://127.0.0.1:" + server.port() + "/../secret.txt", "/metrics.jsonl%00.html",
                    "/manifest.json%2f..%2fsecret.txt", "/dashboard.js/../../secret.txt", "/.%2e/secret.txt",
                    "/%c0%ae%c0%ae/secret.txt", "/api/run/../../secret.txt");
            for (String target : attempts) {
                String reply = raw(server, "GET", target);
                int code = status(reply);
                assertTrue(code == 404 || code == 400, target + " answered " + reply.lines().findFirst().orElse(""));
                assertFalse(reply.contains("not to be served") || reply.contains("root:"), target + " leaked a file");
            }
        }
    }

    @Test
    void readOnlyOtherMethodsAre405AndChangeNothing() throws Exception {
        hostileRun();
        byte[] manifest = Files.readAllBytes(dir.resolve("manifest.json"));
        byte[] metrics = Files.readAllBytes(dir.resolve("metrics.jsonl"));
        List<String> before;
        try (var files = Files.list(dir)) {
            before = files.map(p -> p.getFileName().toString()).sorted().toList();
        }
        try (DashboardServer server = new DashboardServer(dir, 0)) {
            for (String method : List.of("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT")) {
                for (String target : List.of("/", "/api/run", "/manifest.json", "/metrics.jsonl", "/report.html")) {
                    String reply = raw(server, method, method.equals("CONNECT") ? "127.0.0.1:1" : target);
                    // CONNECT's authority-form target is refused by the JDK's server itself (400)
                    assertEquals(method.equals("CONNECT") ? 400 : 405, status(reply), method + " " + target + ": "
                            + reply);
                }
            }
        }
        assertEquals(new String(manifest, StandardCharsets.UTF_8), Files.readString(dir.resolve("manifest.json")));
        assertEquals(new String(metrics, StandardCharsets.UTF_8), Files.readString(dir.resolve("metrics.jsonl")));
        try (var files = Files.list(dir)) {
            assertEquals(before, files.map(p -> p.getFileName().toString()).sorted().toList(), "no file added");
        }
    }

    @Test
    void listensOnLoopbackUnlessARemoteAddressIsConfirmed() throws Exception {
        try (DashboardServer server = new DashboardServer(dir, 0)) {
            assertTrue(server.url().startsWith("http://127.0.0.1:"), server.url());
        }
        assertTrue(DashboardCommand.address("127.0.0.1", false).isLoopbackAddress());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DashboardCommand.address("0.0.0.0", false));
        assertTrue(e.getMessage().contains("--allow-remote"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DashboardCommand.address("no.such.host.invalid", true));
        InetAddress any = DashboardCommand.address("0.0.0.0", true);
        assertFalse(any.isLoopbackAddress());
    }

    @Test
    void theCommandWarnsWhenItListensBeyondThisMachine() throws Exception {
        Path runs = dir.resolve("runs");
        Path run = runs.resolve("20260101-000000-mlp");
        Files.createDirectories(run);
        Files.writeString(run.resolve("manifest.json"), "{\"id\":\"20260101-000000-mlp\",\"recipe\":\"mlp\"}\n");
        Files.writeString(run.resolve("metrics.jsonl"), "");
        CliRun refused = CliRun.of("dashboard", "--runs-dir", runs.toString(), "--port", "0", "--bind", "0.0.0.0");
        assertEquals(2, refused.exit(), refused.toString());
        assertTrue(refused.err().contains("--allow-remote"), refused.err());
        var cmd = new DashboardCommand();
        cmd.run = null;
        cmd.runsDir = runs;
        cmd.port = 0;
        cmd.bind = "0.0.0.0";
        cmd.allowRemote = true;
        java.io.PrintStream err = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(captured, true, StandardCharsets.UTF_8));
        try (DashboardServer server = cmd.start()) {
            assertTrue(server.port() > 0);
        } finally {
            System.setErr(err);
        }
        String warning = captured.toString(StandardCharsets.UTF_8);
        assertTrue(warning.contains("WARNING") && warning.contains("reachable from other machines"), warning);
    }
}
