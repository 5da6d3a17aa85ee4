package dev.backprop.train;

import dev.backprop.io.AtomicFiles;
import dev.backprop.io.Json;
import dev.backprop.io.JsonException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A run's self-contained {@code report.html}: training and validation loss and accuracy, learning
 * rate, global gradient norm, gradient flow (norm per layer over time), update ratios, dead
 * units, the doctor's diagnoses, the confusion matrix and the hyperparameters — drawn as inline
 * SVG from the run folder's {@code manifest.json} and {@code metrics.jsonl}, with no script and
 * nothing fetched from the network. The series are also embedded as JSON
 * ({@code <script type="application/json" id="run-data">}) for tools.
 */
public final class RunReport {
    private static final String[] COLORS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
        "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    private static final int WIDTH = 560;
    private static final int HEIGHT = 220;

    private RunReport() {}

    /** Writes {@code report.html} into the run folder {@code dir} (atomically) and returns its path. */
    public static Path write(Path dir) throws IOException {
        Path file = dir.resolve("report.html");
        AtomicFiles.writeString(file, html(dir));
        return file;
    }

    /** The report of the run folder {@code dir}, as HTML text. */
    @SuppressWarnings("unchecked")
    public static String html(Path dir) throws IOException {
        Map<String, Object> manifest = Files.isRegularFile(dir.resolve("manifest.json"))
                ? Json.parseObject(Files.readString(dir.resolve("manifest.json"))) : Map.of();
        List<Map<String, Object>> records = new ArrayList<>();
        Path metrics = dir.resolve("metrics.jsonl");
        if (Files.isRegularFile(metrics)) {
            List<String> lines = Files.readAllLines(metrics);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) {
                    continue;
                }
                try {
                    records.add(Json.parseObject(lines.get(i)));
                } catch (JsonException e) { // a run still writing, or killed mid-write, leaves a partial last line
                    if (i < lines.size() - 1) {
                        throw new IOException(metrics + " line " + (i + 1) + ": " + e.getMessage(), e);
                    }
                }
            }
        }
        Map<String, List<double[]>> loss = new LinkedHashMap<>();
        Map<String, List<double[]>> accuracy = new LinkedHashMap<>();
        Map<String, List<double[]>> lr = new LinkedHashMap<>();
        Map<String, List<double[]>> gradNorm = new LinkedHashMap<>();
        Map<String, List<double[]>> flow = new TreeMap<>();
        Map<String, List<double[]>> ratios = new TreeMap<>();
        Map<String, List<double[]>> dead = new TreeMap<>();
        List<Map<String, Object>> diagnoses = new ArrayList<>();
        for (Map<String, Object> r : records) {
            double step = num(r.get("step"));
            switch (String.valueOf(r.get("type"))) {
                case "step" -> {
                    add(loss, "training loss (step)", step, r.get("loss"));
                    add(lr, "learning rate", step, r.get("lr"));
                    add(gradNorm, "global gradient norm", step, r.get("grad_norm"));
                }
                case "epoch" -> {
                    add(loss, "training loss (epoch)", step, r.get("train_loss"));
                    add(loss, "validation loss", step, r.get("val_loss"));
                    add(accuracy, "training accuracy", step, r.get("train_accuracy"));
                    add(accuracy, "validation accuracy", step, r.get("val_accuracy"));
                }
                case "grad" -> {
                    if (r.get("layers") instanceof Map<?, ?> layers) {
                        ((Map<String, Object>) layers).forEach((name, v) -> {
                            Map<String, Object> n = (Map<String, Object>) v;
                            add(flow, label(name), step, n.get("grad_norm"));
                            add(ratios, label(name), step, n.get("update_ratio"));
                        });
                    }
                    if (r.get("dead") instanceof Map<?, ?> d) {
                        ((Map<String, Object>) d).forEach((name, v) -> add(dead, label(name), step, v));
                    }
                }
                case "diagnosis" -> diagnoses.add(r);
                default -> { }
            }
        }
        StringBuilder h = new StringBuilder();
        String id = String.valueOf(manifest.getOrDefault("id", dir.getFileName()));
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>backprop run ")
                .append(esc(id)).append("</title>\n<style>")
                .append("body{font:14px system-ui,sans-serif;margin:24px;color:#222}h1{font-size:20px}")
                .append("h2{font-size:16px;margin-top:28px}.charts{display:flex;flex-wrap:wrap;gap:16px}")
                .append("figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}")
                .append("table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}")
                .append(".warning{color:#a15c00}.error{color:#b00020}.legend span{margin-right:12px}")
                .append("</style></head><body>\n");
        h.append("<h1>Run ").append(esc(id)).append("</h1>\n<p>").append(esc(String.valueOf(
                manifest.getOrDefault("description", "")))).append("</p>\n");
        if (manifest.get("metrics") instanceof Map<?, ?> m) {
            h.append("<p>");
            for (String k : List.of("test_accuracy", "test_loss", "final_train_loss", "steps")) {
                if (m.get(k) instanceof Number n) {
                    h.append(esc(k)).append(" <b>").append(fmt(n.doubleValue())).append("</b> &nbsp; ");
                }
            }
            h.append("</p>\n");
        }
        h.append("<h2>Training</h2><div class=\"charts\">\n");
        chart(h, "loss", "Loss", loss, false);
        chart(h, "accuracy", "Accuracy", accuracy, false);
        chart(h, "lr", "Learning rate", lr, false);
        chart(h, "grad-norm", "Global gradient norm", gradNorm, true);
        h.append("</div>\n<h2>Gradient flow</h2><div class=\"charts\">\n");
        chart(h, "gradient-flow", "Gradient norm per layer", flow, true);
        chart(h, "update-ratio", "Update / weight ratio per layer", ratios, true);
        chart(h, "dead-units", "Dead units per activation (fraction)", dead, false);
        h.append("</div>\n<h2>Diagnoses</h2>\n");
        if (diagnoses.isEmpty()) {
            h.append("<p id=\"diagnoses\">The doctor found nothing wrong.</p>\n");
        } else {
            h.append("<ul id=\"diagnoses\">\n");
            for (Map<String, Object> d : diagnoses) {
                String cls = "ERROR".equals(d.get("severity")) ? "error" : "warning";
                h.append("<li class=\"").append(cls).append("\"><b>").append(esc(String.valueOf(d.get("rule"))))
                        .append("</b> (step ").append(fmt(num(d.get("step")))).append("): ")
                        .append(esc(String.valueOf(d.get("message")))).append(" <i>Try: ")
                        .append(esc(String.valueOf(d.get("fix")))).append("</i></li>\n");
            }
            h.append("</ul>\n");
        }
        confusion(h, manifest);
        if (manifest.get("hyperparameters") instanceof Map<?, ?> hp) {
            h.append("<h2>Hyperparameters</h2>\n<table id=\"hyperparameters\">\n");
            ((Map<String, Object>) hp).forEach((k, v) -> h.append("<tr><th>").append(esc(k)).append("</th><td>")
                    .append(esc(String.valueOf(v))).append("</td></tr>\n"));
            h.append("</table>\n");
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("loss", series(loss));
        data.put("accuracy", series(accuracy));
        data.put("lr", series(lr));
        data.put("grad_norm", series(gradNorm));
        data.put("gradient_flow", series(flow));
        data.put("update_ratio", series(ratios));
        data.put("dead_units", series(dead));
        data.put("diagnoses", diagnoses);
        h.append("<script type=\"application/json\" id=\"run-data\">")
                .append(Json.write(data).replace("</", "<\\/")).append("</script>\n</body></html>\n");
        return h.toString();
    }

    @SuppressWarnings("unchecked")
    private static void confusion(StringBuilder h, Map<String, Object> manifest) {
        if (!(manifest.get("metrics") instanceof Map<?, ?> m) || !(m.get("confusion_matrix") instanceof List<?> rows)) {
            return;
        }
        List<Object> classes = m.get("classes") instanceof List<?> c ? (List<Object>) c : List.of();
        h.append("<h2>Confusion matrix (test set; rows: true class, columns: predicted)</h2>\n")
                .append("<table id=\"confusion-matrix\"><tr><th></th>");
        for (int j = 0; j < rows.size(); j++) {
            h.append("<th>").append(esc(j < classes.size() ? String.valueOf(classes.get(j)) : "" + j)).append("</th>");
        }
        h.append("</tr>\n");
        for (int i = 0; i < rows.size(); i++) {
            h.append("<tr><th>").append(esc(i < classes.size() ? String.valueOf(classes.get(i)) : "" + i))
                    .append("</th>");
            List<Object> row = (List<Object>) rows.get(i);
            for (int j = 0; j < row.size(); j++) {
                String style = i == j ? " style=\"background:#e3f2e3\"" : num(row.get(j)) > 0 ? " style=\"background:#fbe9e7\"" : "";
                h.append("<td").append(style).append(">").append(fmt(num(row.get(j)))).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    /** One SVG line chart; log scale on y when {@code logY} (non-positive values are left out). */
    private static void chart(StringBuilder h, String id, String title, Map<String, List<double[]>> series,
                              boolean logY) {
        h.append("<figure id=\"").append(id).append("\"><figcaption>").append(esc(title))
                .append(logY ? " (log scale)" : "").append("</figcaption>\n");
        double x0 = Double.POSITIVE_INFINITY;
        double x1 = Double.NEGATIVE_INFINITY;
        double y0 = Double.POSITIVE_INFINITY;
        double y1 = Double.NEGATIVE_INFINITY;
        for (List<double[]> pts : series.values()) {
            for (double[] p : pts) {
                if (logY && p[1] <= 0) {
                    continue;
                }
                double y = logY ? Math.log10(p[1]) : p[1];
                x0 = Math.min(x0, p[0]);
                x1 = Math.max(x1, p[0]);
                y0 = Math.min(y0, y);
                y1 = Math.max(y1, y);
            }
        }
        if (x0 > x1) {
            h.append("<p>no data recorded</p></figure>\n");
            return;
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
        h.append("<text x=\"").append(left).append("\" y=\"").append(HEIGHT - 6).append("\" font-size=\"10\">step ")
                .append(fmt(x0)).append("</text><text x=\"").append(left + w).append("\" y=\"").append(HEIGHT - 6)
                .append("\" font-size=\"10\" text-anchor=\"end\">").append(fmt(x1)).append("</text>\n");
        int c = 0;
        StringBuilder legend = new StringBuilder("<div class=\"legend\">");
        for (Map.Entry<String, List<double[]>> e : series.entrySet()) {
            String color = COLORS[c++ % COLORS.length];
            StringBuilder pts = new StringBuilder();
            int n = 0;
            for (double[] p : e.getValue()) {
                if (logY && p[1] <= 0) {
                    continue;
                }
                double y = logY ? Math.log10(p[1]) : p[1];
                double px = left + w * (p[0] - x0) / (x1 - x0);
                double py = 8 + hgt - hgt * (y - y0) / (y1 - y0);
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
                n++;
            }
            if (n == 1) {
                String[] xy = pts.toString().trim().split(",");
                h.append("<circle cx=\"").append(xy[0]).append("\" cy=\"").append(xy[1]).append("\" r=\"3\" fill=\"")
                        .append(color).append("\"/>\n");
            } else if (n > 1) {
                h.append("<polyline fill=\"none\" stroke=\"").append(color).append("\" stroke-width=\"1.5\" ")
                        .append("data-series=\"").append(esc(e.getKey())).append("\" points=\"")
                        .append(pts.toString().trim()).append("\"/>\n");
            }
            legend.append("<span style=\"color:").append(color).append("\">&#9632; ").append(esc(e.getKey()))
                    .append("</span>");
        }
        h.append("</svg>\n").append(legend).append("</div></figure>\n");
    }

    private static void add(Map<String, List<double[]>> series, String name, double step, Object value) {
        if (value instanceof Number n && Double.isFinite(n.doubleValue())) {
            series.computeIfAbsent(name, k -> new ArrayList<>()).add(new double[] {step, n.doubleValue()});
        }
    }

    private static Map<String, Object> series(Map<String, List<double[]>> s) {
        Map<String, Object> out = new LinkedHashMap<>();
        s.forEach((name, pts) -> {
            List<Object> xy = new ArrayList<>();
            for (double[] p : pts) {
                xy.add(List.of(p[0], p[1]));
            }
            out.put(name, xy);
        });
        return out;
    }

    private static String label(String layer) {
        return layer.isEmpty() ? "(model)" : layer;
    }

    private static double num(Object v) {
        return v instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    private static String fmt(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e9) {
            return Long.toString((long) v);
        }
        double a = Math.abs(v);
        return String.format(Locale.ROOT, a >= 0.01 && a < 1e5 ? "%.4g" : "%.2e", v);
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
