package dev.backprop.train;

import dev.backprop.io.AtomicFiles;
import dev.backprop.io.Json;
import dev.backprop.io.JsonException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A run's self-contained {@code report.html}: training and validation loss and accuracy, learning
 * rate, global gradient norm, gradient flow (norm per layer over time), update ratios, dead
 * units, the doctor's diagnoses (errors also in an alert banner), the confusion matrix (the latest
 * validation one while training runs, the test-set one once the manifest holds it), the
 * learning-rate finder's curve for {@code lr-find} runs and the hyperparameters — drawn as inline
 * SVG from the run folder's {@code manifest.json} and {@code metrics.jsonl}, with no script and
 * nothing fetched from the network, so it opens offline, from {@code file://}. The data is also
 * embedded as JSON ({@code <script type="application/json" id="run-data">}, the object of
 * {@link #data(Path)}) for tools.
 *
 * <p>The live dashboard draws with the same renderer: it follows the run folder with a
 * {@link Live} and swaps in {@link Live#body()} as the run writes, so the charts there and in the
 * report look the same and hold the same data.
 */
public final class RunReport {
    private static final String[] COLORS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
        "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    private static final int WIDTH = 560;
    private static final int HEIGHT = 220;
    /** Points drawn per series at most (longer series are thinned evenly; the embedded data keeps them all). */
    static final int MAX_DRAWN_POINTS = 2000;

    private static final String STYLE = "body{font:14px system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}"
            + "h2{font-size:16px;margin-top:28px}.charts{display:flex;flex-wrap:wrap;gap:16px}"
            + "figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}"
            + "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
            + ".warning{color:#a15c00}.error{color:#b00020}.legend span{margin-right:12px}"
            + ".status{color:#555}.status.running::before{content:'\\25CF  ';color:#2ca02c}"
            + ".status.lost{color:#b00020}"
            + ".alert{background:#b00020;color:#fff;padding:10px 14px;border-radius:4px;margin:12px 0}"
            + ".alert ul{margin:4px 0 0;padding-left:20px}.alert i{opacity:.9}";

    private RunReport() {}

    /** Writes {@code report.html} into the run folder {@code dir} (atomically) and returns its path. */
    public static Path write(Path dir) throws IOException {
        Path file = dir.resolve("report.html");
        AtomicFiles.writeString(file, html(dir));
        return file;
    }

    /**
     * The report of the run folder {@code dir}, as HTML text.
     *
     * @throws IOException if the files cannot be read, or a line of {@code metrics.jsonl} other
     *     than a partial last one (a run still writing, or killed mid-write) is not JSON
     */
    public static String html(Path dir) throws IOException {
        Live live = new Live(dir);
        live.refresh();
        return live.html();
    }

    /**
     * The run's data as the report embeds it: {@code id}, {@code status} ({@code running}, or
     * {@code finished} once {@code metrics.jsonl} holds a {@code type: end} record or the manifest
     * an {@code lr_find} result), {@code step}
     * (the last step recorded), {@code records}, the series {@code loss}, {@code accuracy},
     * {@code lr}, {@code grad_norm}, {@code gradient_flow}, {@code update_ratio},
     * {@code dead_units} (each a map from series name to {@code [[x, y], ...]}), {@code diagnoses},
     * {@code confusion} ({@code {source: "test" | "validation", epoch, classes, counts}} or null)
     * and, for an {@code lr-find} run, {@code lr_find}.
     */
    public static Map<String, Object> data(Path dir) throws IOException {
        Live live = new Live(dir);
        live.refresh();
        return live.data();
    }

    /**
     * A page in the report's style around {@code body} (HTML): the dashboard uses it so its page
     * looks like the report. {@code head} is added to the head as is.
     */
    public static String page(String title, String head, String body) {
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + esc(title)
                + "</title>\n<style>" + STYLE + "</style>" + head + "</head><body>\n" + body + "</body></html>\n";
    }

    /**
     * A run folder followed while it is written: each {@link #refresh()} reads only what was
     * appended to {@code metrics.jsonl} since the last one (a partial last line waits for its
     * end) and the manifest as it stands. Thread-safe; rendering is cached until the run changes.
     */
    public static final class Live {
        private final Path dir;
        private State state = new State();
        private long offset;
        private int lines;
        private Map<String, Object> manifest = Map.of();
        private String manifestText = "";
        private long updated;
        private boolean metricsChanged;
        private String version;
        private String body;
        private Map<String, Object> data;

        /** Follows the run folder {@code dir}; nothing is read before the first {@link #refresh()}. */
        public Live(Path dir) {
            this.dir = dir;
        }

        /** The run folder. */
        public Path dir() {
            return dir;
        }

        /**
         * Reads what the run wrote since the last call and returns whether anything changed.
         *
         * @throws IOException if a file cannot be read, or a complete line of {@code metrics.jsonl}
         *     or the manifest is not JSON (the line is read again at the next call)
         */
        public synchronized boolean refresh() throws IOException {
            boolean manifestChanged = false;
            try {
                Path manifestFile = dir.resolve("manifest.json");
                String text = Files.isRegularFile(manifestFile) ? Files.readString(manifestFile) : "";
                if (!text.equals(manifestText)) {
                    try {
                        manifest = text.isBlank() ? Map.of() : Json.parseObject(text);
                    } catch (JsonException e) {
                        throw new IOException(manifestFile + ": " + e.getMessage(), e);
                    }
                    manifestText = text;
                    manifestChanged = true;
                }
                readMetrics(dir.resolve("metrics.jsonl"));
            } finally {
                if (manifestChanged || metricsChanged || version == null) {
                    version = offset + "-" + Integer.toHexString(manifestText.hashCode());
                    body = null;
                    data = null;
                }
            }
            boolean changed = manifestChanged || metricsChanged;
            metricsChanged = false;
            return changed;
        }

        private void readMetrics(Path file) throws IOException {
            byte[] bytes;
            try (SeekableByteChannel ch = Files.newByteChannel(file, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size < offset) { // replaced or truncated: start over
                    restart();
                }
                if (size == offset) {
                    return;
                }
                ch.position(offset);
                ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(size - offset, 1 << 24));
                ByteBuffer buf = ByteBuffer.allocate(1 << 16);
                while (ch.read(buf) > 0) {
                    out.write(buf.array(), 0, buf.position());
                    buf.clear();
                }
                bytes = out.toByteArray();
            } catch (NoSuchFileException e) {
                if (offset > 0) {
                    restart();
                }
                return;
            }
            try {
                updated = Files.getLastModifiedTime(file).toMillis();
            } catch (IOException e) {
                updated = System.currentTimeMillis();
            }
            int start = 0;
            for (int i = 0; i <= bytes.length; i++) {
                boolean end = i == bytes.length;
                if (!end && bytes[i] != '\n') {
                    continue;
                }
                String line = new String(bytes, start, i - start, StandardCharsets.UTF_8);
                if (!line.isBlank()) {
                    Map<String, Object> record;
                    try {
                        record = Json.parseObject(line);
                    } catch (JsonException e) {
                        if (end) { // a partial last line: the rest is still being written
                            break;
                        }
                        throw new IOException(file + " line " + (lines + 1) + ": " + e.getMessage(), e);
                    }
                    state.accept(record);
                }
                if (!end) {
                    lines++;
                }
                offset += (end ? i : i + 1) - start;
                metricsChanged |= i > start;
                start = i + 1;
            }
        }

        private void restart() {
            state = new State();
            offset = 0;
            lines = 0;
            metricsChanged = true;
        }

        /** Changes whenever the run's data changes (the bytes of metrics.jsonl read and the manifest). */
        public synchronized String version() {
            return version == null ? "0" : version;
        }

        /** Bytes of {@code metrics.jsonl} read so far. */
        public synchronized long bytesRead() {
            return offset;
        }

        /** When {@code metrics.jsonl} was last written (milliseconds since the epoch; 0 before any). */
        public synchronized long updated() {
            return updated;
        }

        /** The run's data as of the last refresh (see {@link RunReport#data(Path)}); do not modify. */
        public synchronized Map<String, Object> data() {
            if (data == null) {
                data = state.data(manifest, id());
            }
            return data;
        }

        /** The report's body (everything the page shows) as of the last refresh, as HTML. */
        public synchronized String body() {
            if (body == null) {
                body = state.render(manifest, id());
            }
            return body;
        }

        /** The whole report page, with its data embedded. */
        public synchronized String html() {
            return page("backprop run " + id(), "", body() + "<script type=\"application/json\" id=\"run-data\">"
                    + Json.write(data()).replace("<", "\\u003c") + "</script>\n"); // no "</script>" or "<!--"
        }

        private String id() {
            return String.valueOf(manifest.getOrDefault("id", dir.toAbsolutePath().normalize().getFileName()));
        }
    }

    /** The series of a run, built record by record. */
    private static final class State {
        final Map<String, List<double[]>> loss = new LinkedHashMap<>();
        final Map<String, List<double[]>> accuracy = new LinkedHashMap<>();
        final Map<String, List<double[]>> lr = new LinkedHashMap<>();
        final Map<String, List<double[]>> gradNorm = new LinkedHashMap<>();
        final Map<String, List<double[]>> flow = new TreeMap<>();
        final Map<String, List<double[]>> ratios = new TreeMap<>();
        final Map<String, List<double[]>> dead = new TreeMap<>();
        final Map<String, List<double[]>> lrFind = new LinkedHashMap<>();
        final List<Map<String, Object>> diagnoses = new ArrayList<>();
        List<Object> valConfusion;
        Object valConfusionEpoch;
        boolean finished;
        long step;
        long records;

        @SuppressWarnings("unchecked")
        void accept(Map<String, Object> r) {
            records++;
            double step = num(r.get("step"));
            if (Double.isFinite(step)) {
                this.step = Math.max(this.step, (long) step);
            }
            switch (String.valueOf(r.get("type"))) {
                case "step" -> {
                    add(loss, "training loss (step)", step, r.get("loss"));
                    add(lr, "learning rate", step, r.get("lr"));
                    add(gradNorm, "global gradient norm", step, r.get("grad_norm"));
                }
                case "validation" -> {
                    add(loss, "validation loss", step, r.get("val_loss"));
                    add(accuracy, "validation accuracy", step, r.get("val_accuracy"));
                }
                case "epoch" -> {
                    add(loss, "training loss (epoch)", step, r.get("train_loss"));
                    add(loss, "validation loss", step, r.get("val_loss"));
                    add(accuracy, "training accuracy", step, r.get("train_accuracy"));
                    add(accuracy, "validation accuracy", step, r.get("val_accuracy"));
                    if (r.get("val_confusion") instanceof List<?> rows && !rows.isEmpty()) {
                        valConfusion = (List<Object>) rows;
                        valConfusionEpoch = r.get("epoch");
                    }
                }
                case "grad" -> {
                    if (r.get("layers") instanceof Map<?, ?> layers) {
                        ((Map<String, Object>) layers).forEach((name, v) -> {
                            if (v instanceof Map<?, ?> n) {
                                add(flow, label(name), step, n.get("grad_norm"));
                                add(ratios, label(name), step, n.get("update_ratio"));
                            }
                        });
                    }
                    if (r.get("dead") instanceof Map<?, ?> d) {
                        ((Map<String, Object>) d).forEach((name, v) -> add(dead, label(name), step, v));
                    }
                }
                case "lr_find" -> {
                    double x = num(r.get("lr"));
                    add(lrFind, "loss", x, r.get("loss"));
                    add(lrFind, "smoothed loss", x, r.get("smoothed_loss"));
                }
                case "diagnosis" -> diagnoses.add(r);
                case "end" -> finished = true;
                default -> { }
            }
        }

        /** An end record was written, or the manifest holds an lr-find's result (written once the sweep is over). */
        boolean finished(Map<String, Object> manifest) {
            return finished || manifest.get("lr_find") instanceof Map<?, ?>;
        }

        Map<String, Object> data(Map<String, Object> manifest, String id) {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("id", id);
            data.put("status", finished(manifest) ? "finished" : "running");
            data.put("step", step);
            data.put("records", records);
            data.put("loss", series(loss));
            data.put("accuracy", series(accuracy));
            data.put("lr", series(lr));
            data.put("grad_norm", series(gradNorm));
            data.put("gradient_flow", series(flow));
            data.put("update_ratio", series(ratios));
            data.put("dead_units", series(dead));
            data.put("diagnoses", new ArrayList<>(diagnoses));
            data.put("confusion", confusion(manifest));
            if (!lrFind.isEmpty() || manifest.get("lr_find") instanceof Map<?, ?>) {
                Map<String, Object> f = new LinkedHashMap<>();
                if (manifest.get("lr_find") instanceof Map<?, ?> m) {
                    m.forEach((k, v) -> f.put(String.valueOf(k), v));
                }
                f.put("loss", points(lrFind.getOrDefault("loss", List.of())));
                f.put("smoothed_loss", points(lrFind.getOrDefault("smoothed loss", List.of())));
                data.put("lr_find", f);
            }
            return data;
        }

        /** The confusion matrix to show: the test set's once the manifest holds it, else the latest validation one. */
        @SuppressWarnings("unchecked")
        Map<String, Object> confusion(Map<String, Object> manifest) {
            Map<String, Object> metrics = manifest.get("metrics") instanceof Map<?, ?> m ? (Map<String, Object>) m
                    : Map.of();
            Map<String, Object> c = new LinkedHashMap<>();
            if (metrics.get("confusion_matrix") instanceof List<?> rows && !rows.isEmpty()) {
                c.put("source", "test");
                c.put("counts", rows);
            } else if (valConfusion != null) {
                c.put("source", "validation");
                c.put("epoch", valConfusionEpoch);
                c.put("counts", valConfusion);
            } else {
                return null;
            }
            Object classes = metrics.get("classes") instanceof List<?> l ? l
                    : manifest.get("classes") instanceof List<?> l2 ? l2 : List.of();
            c.put("classes", classes);
            return c;
        }

        @SuppressWarnings("unchecked")
        String render(Map<String, Object> manifest, String id) {
            StringBuilder h = new StringBuilder();
            h.append("<h1>Run ").append(esc(id)).append("</h1>\n<p>").append(esc(String.valueOf(
                    manifest.getOrDefault("description", "")))).append("</p>\n");
            String status = finished(manifest) ? "finished" : "running";
            h.append("<p id=\"status\" class=\"status ").append(status).append("\">").append(status)
                    .append(" \u00b7 step ").append(step).append("</p>\n");
            if (manifest.get("metrics") instanceof Map<?, ?> m) {
                StringBuilder p = new StringBuilder();
                for (String k : List.of("test_accuracy", "test_loss", "test_macro_f1", "val_loss", "train_loss",
                        "final_train_loss", "steps")) {
                    if (m.get(k) instanceof Number n) {
                        p.append(esc(k)).append(" <b>").append(fmt(n.doubleValue())).append("</b> &nbsp; ");
                    }
                }
                if (!p.isEmpty()) {
                    h.append("<p id=\"metrics\">").append(p).append("</p>\n");
                }
            }
            alert(h);
            boolean lrFinder = !lrFind.isEmpty();
            if (lrFinder) {
                h.append("<h2>Learning-rate finder</h2><div class=\"charts\">\n");
                lrFinderChart(h, manifest);
                h.append("</div>\n");
            }
            boolean training = !(loss.isEmpty() && accuracy.isEmpty() && lr.isEmpty() && gradNorm.isEmpty());
            if (training || !lrFinder) {
                h.append("<h2>Training</h2><div class=\"charts\">\n");
                new Chart("loss", "Loss", loss).render(h);
                new Chart("accuracy", "Accuracy", accuracy).render(h);
                new Chart("lr", "Learning rate", lr).render(h);
                new Chart("grad-norm", "Global gradient norm", gradNorm).logY().render(h);
                h.append("</div>\n");
            }
            if (!(flow.isEmpty() && ratios.isEmpty() && dead.isEmpty()) || !lrFinder) {
                h.append("<h2>Gradient flow</h2><div class=\"charts\">\n");
                new Chart("gradient-flow", "Gradient norm per layer", flow).logY().render(h);
                new Chart("update-ratio", "Update / weight ratio per layer", ratios).logY().render(h);
                new Chart("dead-units", "Dead units per activation (fraction)", dead).render(h);
                h.append("</div>\n");
            }
            h.append("<h2>Diagnoses</h2>\n");
            if (diagnoses.isEmpty()) {
                h.append("<p id=\"diagnoses\">The doctor found nothing wrong.</p>\n");
            } else {
                h.append("<ul id=\"diagnoses\">\n");
                for (Map<String, Object> d : diagnoses) {
                    h.append("<li class=\"").append(isError(d) ? "error" : "warning").append("\">");
                    diagnosis(h, d);
                    h.append("</li>\n");
                }
                h.append("</ul>\n");
            }
            confusionTable(h, confusion(manifest));
            if (manifest.get("hyperparameters") instanceof Map<?, ?> hp) {
                h.append("<h2>Hyperparameters</h2>\n<table id=\"hyperparameters\">\n");
                ((Map<String, Object>) hp).forEach((k, v) -> h.append("<tr><th>").append(esc(k))
                        .append("</th><td>").append(esc(String.valueOf(v))).append("</td></tr>\n"));
                h.append("</table>\n");
            }
            return h.toString();
        }

        /** The banner over the charts for the diagnoses of severity error (a non-finite loss, say). */
        private void alert(StringBuilder h) {
            List<Map<String, Object>> errors = diagnoses.stream().filter(RunReport::isError).toList();
            if (errors.isEmpty()) {
                return;
            }
            h.append("<div class=\"alert\" id=\"alert\" role=\"alert\"><b>The doctor found ").append(errors.size())
                    .append(errors.size() == 1 ? " error" : " errors").append(":</b><ul>\n");
            for (Map<String, Object> d : errors) {
                h.append("<li>");
                diagnosis(h, d);
                h.append("</li>\n");
            }
            h.append("</ul></div>\n");
        }

        private void lrFinderChart(StringBuilder h, Map<String, Object> manifest) {
            Map<?, ?> info = manifest.get("lr_find") instanceof Map<?, ?> m ? m : Map.of();
            double suggested = num(info.get("suggested_lr"));
            StringBuilder caption = new StringBuilder();
            if (Double.isFinite(suggested)) {
                caption.append("suggested lr ").append(fmt(suggested));
            } else if (info.containsKey("suggested_lr")) {
                caption.append("no suggestion");
            }
            if (info.get("min_loss_lr") instanceof Number n) {
                caption.append(caption.isEmpty() ? "" : ", ").append("lowest loss at lr ").append(fmt(n.doubleValue()));
            }
            if (Boolean.TRUE.equals(info.get("diverged"))) {
                caption.append(caption.isEmpty() ? "" : ", ").append("stopped: the loss diverged");
            }
            Map<String, List<double[]>> series = new LinkedHashMap<>();
            series.put("smoothed loss", lrFind.getOrDefault("smoothed loss", List.of()));
            series.put("loss", lrFind.getOrDefault("loss", List.of()));
            // a diverging loss would flatten the interesting part: cap the y axis at 4x the first smoothed loss
            List<double[]> smooth = series.get("smoothed loss");
            double cap = smooth.isEmpty() || smooth.get(0)[1] <= 0 ? Double.POSITIVE_INFINITY : 4 * smooth.get(0)[1];
            new Chart("lr-finder", "Learning-rate finder" + (caption.isEmpty() ? "" : " (" + caption + ")"), series)
                    .logX("learning rate").faint("loss").capY(cap)
                    .marker(suggested, "suggested " + fmt(suggested)).render(h);
        }
    }

    private static boolean isError(Map<String, Object> diagnosis) {
        return "error".equalsIgnoreCase(String.valueOf(diagnosis.get("severity")));
    }

    private static void diagnosis(StringBuilder h, Map<String, Object> d) {
        h.append("<b>").append(esc(String.valueOf(d.get("rule")))).append("</b> (step ").append(fmt(num(d.get("step"))))
                .append("): ").append(esc(String.valueOf(d.get("message"))));
        if (d.get("fix") != null) {
            h.append(" <i>Try: ").append(esc(String.valueOf(d.get("fix")))).append("</i>");
        }
    }

    @SuppressWarnings("unchecked")
    private static void confusionTable(StringBuilder h, Map<String, Object> c) {
        if (c == null) {
            return;
        }
        List<Object> rows = (List<Object>) c.get("counts");
        List<Object> classes = (List<Object>) c.get("classes");
        String source = "test".equals(c.get("source")) ? "test set"
                : "validation" + (c.get("epoch") instanceof Number e ? ", epoch " + fmt(e.doubleValue()) : "");
        h.append("<h2>Confusion matrix (").append(source).append("; rows: true class, columns: predicted)</h2>\n")
                .append("<table id=\"confusion-matrix\" data-source=\"").append(esc(String.valueOf(c.get("source"))))
                .append("\"><tr><th></th>");
        int columns = rows.stream().mapToInt(r -> r instanceof List<?> l ? l.size() : 0).max().orElse(0);
        for (int j = 0; j < columns; j++) {
            h.append("<th>").append(esc(j < classes.size() ? String.valueOf(classes.get(j)) : "" + j)).append("</th>");
        }
        h.append("</tr>\n");
        for (int i = 0; i < rows.size(); i++) {
            h.append("<tr><th>").append(esc(i < classes.size() ? String.valueOf(classes.get(i)) : "" + i))
                    .append("</th>");
            List<Object> row = rows.get(i) instanceof List<?> l ? (List<Object>) l : List.of();
            double total = row.stream().mapToDouble(RunReport::num).filter(Double::isFinite).sum();
            for (int j = 0; j < row.size(); j++) {
                double v = num(row.get(j));
                String style = "";
                if (v > 0 && total > 0) { // shaded by the fraction of the true class: green right, red wrong
                    double a = 0.12 + 0.6 * v / total;
                    style = String.format(Locale.ROOT, " style=\"background:rgba(%s,%.2f)\"",
                            i == j ? "44,160,44" : "214,39,40", a);
                }
                h.append("<td").append(style).append(">").append(fmt(v)).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    /** One SVG line chart. */
    private static final class Chart {
        final String id;
        final String title;
        final Map<String, List<double[]>> series;
        boolean logX;
        boolean logY;
        String xLabel = "step";
        String faint;
        double capY = Double.POSITIVE_INFINITY;
        double marker = Double.NaN;
        String markerLabel;

        Chart(String id, String title, Map<String, List<double[]>> series) {
            this.id = id;
            this.title = title;
            this.series = series;
        }

        /** Log scale on y (non-positive values are left out). */
        Chart logY() {
            logY = true;
            return this;
        }

        /** Log scale on x (non-positive values are left out), with a tick per power of ten. */
        Chart logX(String label) {
            logX = true;
            xLabel = label;
            return this;
        }

        /** Draws this series thin and pale. */
        Chart faint(String name) {
            faint = name;
            return this;
        }

        /** Ends the y axis at {@code cap} at most; higher points are drawn at the top edge. */
        Chart capY(double cap) {
            capY = cap;
            return this;
        }

        /** A vertical dashed line at {@code x} (if finite). */
        Chart marker(double x, String label) {
            marker = x;
            markerLabel = label;
            return this;
        }

        private boolean skip(double[] p) {
            return (logX && p[0] <= 0) || (logY && p[1] <= 0) || !Double.isFinite(p[0]);
        }

        void render(StringBuilder h) {
            h.append("<figure id=\"").append(id).append("\"><figcaption>").append(esc(title))
                    .append(logY ? " (log scale)" : "").append("</figcaption>\n");
            double x0 = Double.POSITIVE_INFINITY;
            double x1 = Double.NEGATIVE_INFINITY;
            double y0 = Double.POSITIVE_INFINITY;
            double y1 = Double.NEGATIVE_INFINITY;
            for (List<double[]> pts : series.values()) {
                for (double[] p : pts) {
                    if (skip(p)) {
                        continue;
                    }
                    double x = logX ? Math.log10(p[0]) : p[0];
                    double y = logY ? Math.log10(p[1]) : p[1];
                    x0 = Math.min(x0, x);
                    x1 = Math.max(x1, x);
                    y0 = Math.min(y0, y);
                    y1 = Math.max(y1, y);
                }
            }
            if (x0 > x1) {
                h.append("<p>no data recorded</p></figure>\n");
                return;
            }
            double cap = logY ? Math.log10(capY) : capY;
            if (y1 > cap && cap > y0) {
                y1 = cap;
            }
            if (x1 == x0) {
                x1 = x0 + 1;
            }
            if (y1 == y0) { // a flat series (a constant learning rate): a band around it
                double pad = y0 == 0 ? 1 : Math.abs(y0) * 0.1;
                y0 -= pad;
                y1 += pad;
            }
            int left = 56;
            int bottom = 24;
            int w = WIDTH - left - 8;
            int hgt = HEIGHT - bottom - 8;
            h.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(WIDTH).append("\" height=\"")
                    .append(HEIGHT).append("\" role=\"img\" aria-label=\"").append(esc(title)).append("\">\n")
                    .append("<rect x=\"").append(left).append("\" y=\"8\" width=\"").append(w).append("\" height=\"")
                    .append(hgt).append("\" fill=\"none\" stroke=\"#999\"/>\n");
            for (int t = 0; t <= 4; t++) {
                double yv = y0 + (y1 - y0) * t / 4;
                int py = 8 + hgt - (int) Math.round(hgt * t / 4.0);
                h.append("<text x=\"").append(left - 4).append("\" y=\"").append(py + 4)
                        .append("\" font-size=\"10\" text-anchor=\"end\">").append(fmt(logY ? Math.pow(10, yv) : yv))
                        .append("</text>\n");
            }
            int ty = HEIGHT - 6;
            if (logX) {
                int first = (int) Math.ceil(x0 - 1e-9);
                int last = (int) Math.floor(x1 + 1e-9);
                int every = Math.max(1, (last - first + 1 + 9) / 10);
                for (int e = first; e <= last; e += every) {
                    double px = left + w * (e - x0) / (x1 - x0);
                    h.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"8\" y2=\"%d\" "
                            + "stroke=\"#eee\"/>", px, px, 8 + hgt))
                            .append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" "
                            + "text-anchor=\"middle\">1e%d</text>\n", px, ty, e));
                }
                h.append("<text x=\"").append(left + w).append("\" y=\"").append(ty - 12)
                        .append("\" font-size=\"10\" text-anchor=\"end\">").append(esc(xLabel)).append("</text>\n");
            } else {
                h.append("<text x=\"").append(left).append("\" y=\"").append(ty).append("\" font-size=\"10\">")
                        .append(esc(xLabel)).append(' ').append(fmt(x0)).append("</text><text x=\"").append(left + w)
                        .append("\" y=\"").append(ty).append("\" font-size=\"10\" text-anchor=\"end\">")
                        .append(fmt(x1)).append("</text>\n");
            }
            List<String> names = new ArrayList<>(series.keySet());
            List<String> order = new ArrayList<>(names);
            if (faint != null && order.remove(faint)) {
                order.addFirst(faint); // under the others
            }
            StringBuilder legend = new StringBuilder("<div class=\"legend\">");
            String[] legends = new String[names.size()];
            for (String name : order) {
                Map.Entry<String, List<double[]>> e = Map.entry(name, series.get(name));
                String color = COLORS[names.indexOf(name) % COLORS.length];
                boolean pale = e.getKey().equals(faint);
                List<double[]> drawn = e.getValue().stream().filter(p -> !skip(p)).toList();
                int stride = Math.max(1, (drawn.size() + MAX_DRAWN_POINTS - 1) / MAX_DRAWN_POINTS);
                StringBuilder pts = new StringBuilder();
                int n = 0;
                for (int i = 0; i < drawn.size(); i++) {
                    if (i % stride != 0 && i != drawn.size() - 1) {
                        continue;
                    }
                    double[] p = drawn.get(i);
                    double x = logX ? Math.log10(p[0]) : p[0];
                    double y = Math.min(logY ? Math.log10(p[1]) : p[1], y1);
                    double px = left + w * (x - x0) / (x1 - x0);
                    double py = 8 + hgt - hgt * (y - y0) / (y1 - y0);
                    pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
                    n++;
                }
                if (n == 1) {
                    String[] xy = pts.toString().trim().split(",");
                    h.append("<circle cx=\"").append(xy[0]).append("\" cy=\"").append(xy[1])
                            .append("\" r=\"3\" fill=\"").append(color).append("\" data-series=\"")
                            .append(esc(e.getKey())).append("\"/>\n");
                } else if (n > 1) {
                    h.append("<polyline fill=\"none\" stroke=\"").append(color).append("\" stroke-width=\"")
                            .append(pale ? "1\" stroke-opacity=\"0.35" : "1.5").append("\" data-series=\"")
                            .append(esc(e.getKey())).append("\" points=\"").append(pts.toString().trim())
                            .append("\"/>\n");
                }
                if (n > 0) {
                    legends[names.indexOf(name)] = "<span style=\"color:" + color + (pale ? ";opacity:.5" : "")
                            + "\">&#9632; " + esc(e.getKey()) + "</span>";
                }
            }
            for (String l : legends) {
                legend.append(l == null ? "" : l);
            }
            if (Double.isFinite(marker) && (!logX || marker > 0)) {
                double mx = logX ? Math.log10(marker) : marker;
                if (mx >= x0 && mx <= x1) {
                    double px = left + w * (mx - x0) / (x1 - x0);
                    h.append(String.format(Locale.ROOT, "<line class=\"marker\" x1=\"%.1f\" x2=\"%.1f\" y1=\"8\" "
                            + "y2=\"%d\" stroke=\"#d62728\" stroke-dasharray=\"4 3\"/>", px, px, 8 + hgt))
                            .append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"20\" font-size=\"10\" "
                            + "fill=\"#d62728\">", px + 3)).append(esc(markerLabel)).append("</text>\n");
                }
            }
            h.append("</svg>\n").append(legend).append("</div></figure>\n");
        }
    }

    private static void add(Map<String, List<double[]>> series, String name, double x, Object value) {
        if (value instanceof Number n && Double.isFinite(n.doubleValue()) && Double.isFinite(x)) {
            series.computeIfAbsent(name, k -> new ArrayList<>()).add(new double[] {x, n.doubleValue()});
        }
    }

    private static Map<String, Object> series(Map<String, List<double[]>> s) {
        Map<String, Object> out = new LinkedHashMap<>();
        s.forEach((name, pts) -> out.put(name, points(pts)));
        return out;
    }

    private static List<Object> points(List<double[]> pts) {
        List<Object> xy = new ArrayList<>(pts.size());
        for (double[] p : pts) {
            xy.add(List.of(p[0], p[1]));
        }
        return xy;
    }

    private static String label(String layer) {
        return layer.isEmpty() ? "(model)" : layer;
    }

    private static double num(Object v) {
        return v instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    private static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "?";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e9) {
            return Long.toString((long) v);
        }
        double a = Math.abs(v);
        return String.format(Locale.ROOT, a >= 0.01 && a < 1e5 ? "%.4g" : "%.2e", v);
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;")
                .replace("'", "&#39;");
    }
}
