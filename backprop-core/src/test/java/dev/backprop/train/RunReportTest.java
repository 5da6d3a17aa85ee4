package dev.backprop.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.io.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The run report: its charts hold the run's data (checked in the HTML and, where Debian's
 * {@code chromium} is installed — {@code .ci/run} installs it — in a real headless browser, which
 * also takes a screenshot into target/).
 */
class RunReportTest {
    @TempDir
    Path dir;

    private Path run() throws Exception {
        Files.writeString(dir.resolve("manifest.json"), """
                {"id": "20261122-000000-mlp", "recipe": "mlp", "description": "test <run>",
                 "hyperparameters": {"epochs": 2, "lr": 0.001},
                 "metrics": {"test_accuracy": 0.9, "test_loss": 0.3, "classes": ["a", "b"],
                             "confusion_matrix": [[9, 1], [1, 9]]}}
                """);
        StringBuilder m = new StringBuilder();
        for (int s = 1; s <= 30; s++) {
            m.append("{\"type\":\"step\",\"step\":").append(s).append(",\"loss\":").append(2.0 / s)
                    .append(",\"lr\":0.001,\"grad_norm\":").append(1.0 + s % 3).append("}\n");
            if (s % 10 == 0) {
                m.append("{\"type\":\"grad\",\"step\":").append(s).append(",\"layers\":{\"0\":{\"grad_norm\":")
                        .append(0.01 * s).append(",\"update_ratio\":0.001},\"2\":{\"grad_norm\":").append(0.1 * s)
                        .append(",\"update_ratio\":0.002}},\"dead\":{\"1\":0.25}}\n");
            }
        }
        m.append("{\"type\":\"epoch\",\"epoch\":0,\"step\":15,\"train_loss\":0.5,\"val_loss\":0.6}\n");
        m.append("{\"type\":\"epoch\",\"epoch\":1,\"step\":30,\"train_loss\":0.2,\"val_loss\":0.4}\n");
        m.append("{\"type\":\"diagnosis\",\"step\":20,\"rule\":\"dead-relu\",\"severity\":\"WARNING\",")
                .append("\"message\":\"25% of the units of layer 1 are dead\",\"fix\":\"lower the lr\"}\n");
        m.append("{\"type\":\"step\",\"step\":31,\"lo"); // a run killed mid-write: a partial last line
        Files.writeString(dir.resolve("metrics.jsonl"), m);
        return RunReport.write(dir);
    }

    @SuppressWarnings("unchecked")
    @Test
    void chartsHoldTheRunsData() throws Exception {
        String html = Files.readString(run());
        for (String id : List.of("loss", "lr", "grad-norm", "gradient-flow", "update-ratio", "dead-units",
                "diagnoses", "confusion-matrix", "hyperparameters")) {
            assertTrue(html.contains("id=\"" + id + "\""), id);
        }
        assertTrue(html.contains("test &lt;run&gt;"), "text is escaped");
        assertTrue(html.contains("dead-relu") && html.contains("25% of the units"), "the diagnosis is shown");
        assertTrue(html.contains("data-series=\"training loss (step)\""));
        String json = html.substring(html.indexOf("id=\"run-data\">") + 14, html.indexOf("</script>"));
        Map<String, Object> data = Json.parseObject(json);
        List<Object> loss = (List<Object>) ((Map<String, Object>) data.get("loss")).get("training loss (step)");
        assertEquals(30, loss.size());
        assertEquals(List.of(3.0, 2.0 / 3), loss.get(2));
        Map<String, Object> flow = (Map<String, Object>) data.get("gradient_flow");
        assertEquals(List.of(List.of(10.0, 0.01 * 10), List.of(20.0, 0.01 * 20), List.of(30.0, 0.01 * 30)),
                flow.get("0"));
        assertTrue(!html.contains("http://") || html.indexOf("http://") == html.indexOf("http://www.w3.org/2000/svg"),
                "nothing is fetched from the network");
    }

    @Test
    void rendersInHeadlessChromium() throws Exception {
        Path chromium = Path.of("/usr/bin/chromium");
        Assumptions.assumeTrue(Files.isExecutable(chromium),
                "no /usr/bin/chromium here (apt-get install chromium; .ci/run installs it): browser test skipped");
        Path report = run();
        Path screenshot = Path.of("target", "report-screenshot.png").toAbsolutePath();
        Files.createDirectories(screenshot.getParent());
        Files.deleteIfExists(screenshot);
        String dom = chromium(chromium, "--dump-dom", report.toUri().toString());
        assertTrue(dom.contains("<polyline") && dom.contains("data-series=\"validation loss\""), dom);
        assertTrue(dom.contains("id=\"confusion-matrix\"") && dom.contains("id=\"gradient-flow\""), dom);
        chromium(chromium, "--screenshot=" + screenshot, "--window-size=1200,1600", report.toUri().toString());
        byte[] png = Files.readAllBytes(screenshot);
        assertTrue(png.length > 10_000, "screenshot of " + png.length + " bytes");
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
    }

    private String chromium(Path binary, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(binary.toString(), "--headless=new", "--no-sandbox",
                "--disable-gpu", "--user-data-dir=" + dir.resolve("profile")));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium did not finish");
        assertEquals(0, p.exitValue(), "chromium " + cmd);
        return out;
    }
}
