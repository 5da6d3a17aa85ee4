package dev.backprop.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.data.DataLoader;
import dev.backprop.io.Json;
import dev.backprop.nn.Activation;
import dev.backprop.nn.F;
import dev.backprop.nn.Linear;
import dev.backprop.nn.Module;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.tensor.Generator;
import java.io.IOException;
import java.nio.file.StandardOpenOption;
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

    @SuppressWarnings("unchecked")
    private static Map<String, Object> embedded(String html) {
        return Json.parseObject(html.substring(html.indexOf("id=\"run-data\">") + 14, html.indexOf("</script>")));
    }

    /** Points of the polyline of one series, as drawn. */
    static int drawnPoints(String html, String series) {
        int at = html.indexOf("data-series=\"" + series + "\" points=\"");
        if (at < 0) {
            return 0;
        }
        int from = html.indexOf("points=\"", at) + 8;
        return html.substring(from, html.indexOf('"', from)).trim().split(" ").length;
    }

    @Test
    void errorsGetABannerAndTheValidationConfusionMatrixShowsWhileTraining() throws Exception {
        Files.writeString(dir.resolve("manifest.json"), "{\"id\": \"r\", \"classes\": [\"cat\", \"dog\"]}");
        Files.writeString(dir.resolve("metrics.jsonl"), """
                {"type":"step","step":10,"loss":1.0,"lr":0.1,"grad_norm":2.0}
                {"type":"epoch","epoch":0,"step":10,"train_loss":0.9,"val_loss":0.8,"val_accuracy":0.5,"val_confusion":[[3,2],[3,2]]}
                {"type":"epoch","epoch":1,"step":20,"train_loss":0.5,"val_loss":0.4,"val_accuracy":0.8,"val_confusion":[[4,1],[1,4]]}
                {"type":"diagnosis","step":20,"rule":"nonfinite-loss","severity":"error","layers":["2"],"message":"the loss is NaN","fix":"lower the lr"}
                """);
        String html = RunReport.html(dir);
        assertTrue(html.contains("id=\"alert\"") && html.contains("nonfinite-loss"), "an error gets the banner");
        assertTrue(html.contains("<li class=\"error\">"), "the diagnosis is styled as an error");
        assertTrue(html.contains("Confusion matrix (validation, epoch 1;"), html);
        assertTrue(html.contains("<th>cat</th>") && html.contains("<th>dog</th>"), "class names from the manifest");
        assertTrue(html.contains(">4</td>") && !html.contains(">3</td>"), "the latest epoch's matrix");
        assertTrue(html.contains("running \u00b7 step 20"), "no end record: running");
        Map<String, Object> data = embedded(html);
        assertEquals("running", data.get("status"));
        assertEquals(Map.of("source", "validation", "epoch", 1L, "counts", List.of(List.of(4L, 1L), List.of(1L, 4L)),
                "classes", List.of("cat", "dog")), data.get("confusion"));

        // the test set's matrix replaces it once the manifest holds one, and the end record finishes the run
        Files.writeString(dir.resolve("manifest.json"), "{\"id\": \"r\", \"metrics\": {\"classes\": [\"c\", \"d\"], "
                + "\"confusion_matrix\": [[5, 0], [0, 5]]}}");
        Files.writeString(dir.resolve("metrics.jsonl"), "{\"type\":\"end\",\"step\":20}\n", StandardOpenOption.APPEND);
        html = RunReport.html(dir);
        assertTrue(html.contains("Confusion matrix (test set;") && html.contains("<th>c</th>"), html);
        assertEquals("finished", embedded(html).get("status"));
        assertTrue(html.contains("finished \u00b7 step 20"));
    }

    @SuppressWarnings("unchecked")
    @Test
    void learningRateFinderCurve() throws Exception {
        lrFindRun();
        String html = RunReport.html(dir);
        assertTrue(html.contains("id=\"lr-finder\""), html);
        assertTrue(html.contains("Learning-rate finder (suggested lr 1.00e-03, lowest loss at lr 0.01000, stopped: the loss "
                + "diverged)"), html);
        assertEquals(41, drawnPoints(html, "smoothed loss"));
        assertEquals(40, drawnPoints(html, "loss"), "the NaN loss is left out");
        assertTrue(html.contains("stroke-opacity=\"0.35\" data-series=\"loss\""), "the raw loss is faint");
        assertTrue(html.contains("class=\"marker\"") && html.contains("suggested 1.00e-03"), "a marker at the suggestion");
        for (String decade : List.of(">1e-7<", ">1e-4<", ">1e0<")) {
            assertTrue(html.contains(decade), "log-scale tick " + decade);
        }
        // the marker sits where lr 1e-3 falls on the log axis: 4 of 8 decades from 1e-7 to 10
        String marker = html.substring(html.indexOf("class=\"marker\" x1=\"") + 19);
        double x = Double.parseDouble(marker.substring(0, marker.indexOf('"')));
        assertEquals(56 + (560 - 64) * 4.0 / 8, x, 0.1);
        assertFalse(html.contains("id=\"loss\""), "no empty training charts for an lr-find run");
        Map<String, Object> f = (Map<String, Object>) embedded(html).get("lr_find");
        assertEquals(1e-3, f.get("suggested_lr"));
        assertEquals(41, ((List<Object>) f.get("smoothed_loss")).size());
    }

    /** An lr-find run: 41 learning rates from 1e-7 to 10, a loss falling then diverging. */
    private void lrFindRun() throws IOException {
        Files.writeString(dir.resolve("manifest.json"), """
                {"id": "20261122-000000-lr-find", "recipe": "mlp",
                 "lr_find": {"suggested_lr": 0.001, "min_loss_lr": 0.01, "diverged": true, "start": 1e-7, "end": 10}}
                """);
        StringBuilder m = new StringBuilder();
        for (int i = 0; i <= 40; i++) {
            double lr = Math.pow(10, -7 + i * 0.2);
            double loss = 2.3 - 2 / (1 + Math.exp(-(Math.log10(lr) + 4) * 2)) + (lr > 0.05 ? 50 * lr : 0);
            m.append("{\"type\":\"lr_find\",\"step\":").append(i).append(",\"lr\":").append(lr).append(",\"loss\":")
                    .append(i == 40 ? "null" : String.valueOf(loss + (i % 2 == 0 ? 0.1 : -0.1)))
                    .append(",\"smoothed_loss\":").append(loss).append("}\n");
        }
        Files.writeString(dir.resolve("metrics.jsonl"), m);
    }

    @Test
    void liveReadsOnlyWhatWasAppended() throws Exception {
        Path metrics = dir.resolve("metrics.jsonl");
        RunReport.Live live = new RunReport.Live(dir);
        assertFalse(live.refresh(), "nothing there yet");
        Files.writeString(metrics, "{\"type\":\"step\",\"step\":1,\"loss\":1.0}\n{\"type\":\"step\",\"st");
        assertTrue(live.refresh());
        assertEquals(1L, live.data().get("records"), "the partial line waits");
        String version = live.version();
        assertFalse(live.refresh());
        assertEquals(version, live.version());
        Files.writeString(metrics, "ep\":2,\"loss\":0.5}\n", StandardOpenOption.APPEND);
        assertTrue(live.refresh());
        assertNotEquals(version, live.version());
        assertEquals(2L, live.data().get("records"));
        assertEquals(2L, live.data().get("step"));
        assertEquals(Files.size(metrics), live.bytesRead());
        assertEquals(2, drawnPoints(live.body(), "training loss (step)"));
        Files.writeString(metrics, "not json\n{\"type\":\"end\"}\n", StandardOpenOption.APPEND);
        IOException e = assertThrows(IOException.class, live::refresh);
        assertTrue(e.getMessage().contains("metrics.jsonl line 3"), e.getMessage());
    }

    @SuppressWarnings("unchecked")
    @Test
    void trainingWithValidationLogsTheConfusionMatrix() throws Exception {
        Generator.defaultGenerator().manualSeed(3);
        Module model = new Sequential(new Linear(4, 16), new Activation.ReLU(), new Linear(16, 3));
        RunFolder run = RunFolder.create(dir, "val");
        Trainer t = Trainer.builder(model, new Adam(model.parameters(), 1e-2), F::crossEntropy).numClasses(3)
                .epochs(2).listener(new MetricsLog(run, 10)).build();
        t.fit(new DataLoader(TestData.blobs(128, 1), 32, true, 7), new DataLoader(TestData.blobs(60, 2), 30, false, 0));
        Map<String, Object> data = RunReport.data(run.dir());
        Map<String, Object> c = (Map<String, Object>) data.get("confusion");
        assertEquals("validation", c.get("source"));
        assertEquals(1L, c.get("epoch"));
        List<List<Object>> counts = (List<List<Object>>) c.get("counts");
        assertEquals(3, counts.size());
        assertEquals(60L, counts.stream().flatMap(List::stream).mapToLong(v -> (Long) v).sum());
        assertEquals("finished", data.get("status"));
        assertNull(RunReport.data(dir.resolve("nothing-here")).get("confusion"));
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

        lrFindRun();
        Path lrReport = RunReport.write(dir);
        dom = chromium(chromium, "--dump-dom", lrReport.toUri().toString());
        assertTrue(dom.contains("id=\"lr-finder\"") && dom.contains("data-series=\"smoothed loss\"")
                && dom.contains("class=\"marker\""), dom);
        Path lrShot = Path.of("target", "report-lr-finder-screenshot.png").toAbsolutePath();
        Files.deleteIfExists(lrShot);
        chromium(chromium, "--screenshot=" + lrShot, "--window-size=900,600", lrReport.toUri().toString());
        assertTrue(Files.size(lrShot) > 5_000, "screenshot of " + Files.size(lrShot) + " bytes");
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
