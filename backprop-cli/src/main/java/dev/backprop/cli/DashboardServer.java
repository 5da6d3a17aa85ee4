package dev.backprop.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.backprop.train.RunReport;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The live dashboard of a run ({@code train --dashboard}): the JDK's HTTP server on the loopback
 * interface only, serving the run's report (the same charts as {@code report.html}) rebuilt from
 * {@code manifest.json} and {@code metrics.jsonl} at every request, and refreshing itself every
 * two seconds while training runs. Nothing is fetched from elsewhere; GET only.
 */
final class DashboardServer implements AutoCloseable {
    /** Seconds between two reloads of the page. */
    static final int REFRESH_SECONDS = 2;

    private final HttpServer server;
    private final Path runDir;

    DashboardServer(Path runDir, int port) throws IOException {
        this.runDir = runDir;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        server.createContext("/", this::handle);
        server.setExecutor(null); // the server's own thread: requests are rare and small
        server.start();
    }

    /** The port the server listens on (the one asked for, or the one the system chose for 0). */
    int port() {
        return server.getAddress().getPort();
    }

    String url() {
        return "http://127.0.0.1:" + port() + "/";
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
                send(ex, 405, "text/plain", "only GET".getBytes(StandardCharsets.UTF_8));
                return;
            }
            String path = ex.getRequestURI().getPath();
            switch (path) {
                case "/" -> {
                    String html = RunReport.html(runDir).replaceFirst("<head>", "<head><meta http-equiv=\"refresh\" "
                            + "content=\"" + REFRESH_SECONDS + "\">");
                    send(ex, 200, "text/html; charset=utf-8", html.getBytes(StandardCharsets.UTF_8));
                }
                case "/metrics.jsonl" -> {
                    Path m = runDir.resolve("metrics.jsonl");
                    send(ex, 200, "application/x-ndjson", Files.isRegularFile(m) ? Files.readAllBytes(m) : new byte[0]);
                }
                default -> send(ex, 404, "text/plain", ("not found: " + path).getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException | RuntimeException e) {
            // a request must never stop the training it watches
            try {
                send(ex, 500, "text/plain", ("dashboard error: " + e.getMessage()).getBytes(StandardCharsets.UTF_8));
            } catch (IOException ignored) {
                // the client has gone
            }
        }
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
        boolean head = "HEAD".equals(ex.getRequestMethod());
        ex.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
