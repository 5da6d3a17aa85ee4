package dev.backprop.cli;

import dev.backprop.io.Json;
import dev.backprop.io.JsonException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code backprop runs}: the run registry. Every {@code train} writes a run folder with a
 * manifest (recipe, hyperparameters, data fingerprint, versions, metrics, timing); this lists them
 * and compares two of them.
 */
@Command(name = "runs", mixinStandardHelpOptions = true, subcommands = RunsCommand.Compare.class,
        description = "Lists the runs under the runs folder (id, recipe, date, data, test metrics, steps, duration), "
                + "newest last. 'runs compare A B' shows two runs side by side.")
final class RunsCommand implements Callable<Integer> {

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = "runs", description = "runs folder (default: ${DEFAULT-VALUE})")
    Path dir;

    @Override
    public Integer call() throws IOException {
        PrintStream out = System.out;
        List<Run> runs = list(dir);
        if (runs.isEmpty()) {
            out.println("no runs under " + dir.toAbsolutePath() + " (./backprop train writes one)");
            return 0;
        }
        String format = "%-26s %-9s %-20s %-16s %-18s %9s %8s %9s  %s%n";
        out.printf(Locale.ROOT, format, "id", "recipe", "date", "data", "key metric", "loss", "steps", "duration",
                "stop reason");
        for (Run r : runs) {
            if (r.manifest() == null) {
                out.printf(Locale.ROOT, format, r.id(), "-", "-", "-", "-", "-", "-", "-", r.problem());
                continue;
            }
            Map<String, Object> m = r.manifest();
            out.printf(Locale.ROOT, format, r.id(), text(m.get("recipe")), date(m.get("created")), dataName(m),
                    keyMetric(m), number(metric(m, "test_loss") != null ? metric(m, "test_loss")
                            : metric(m, "val_loss"), "%.4f"),
                    number(metric(m, "steps"), "%.0f"), duration(m.get("wall_time_s")), text(m.get("stop_reason")));
        }
        return 0;
    }

    /** One run folder: its manifest, or why it has none that can be read. */
    record Run(String id, Path folder, Map<String, Object> manifest, String problem) {}

    /** Every sub-folder of {@code root} that looks like a run, oldest first (by the manifest's date, else id). */
    static List<Run> list(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<Run> runs = new ArrayList<>();
        try (Stream<Path> children = Files.list(root)) {
            for (Path p : children.filter(Files::isDirectory).toList()) {
                runs.add(read(p));
            }
        }
        runs.sort(Comparator.comparing((Run r) -> r.manifest() == null ? "" : text(r.manifest().get("created")))
                .thenComparing(Run::id));
        return runs;
    }

    static Run read(Path folder) {
        String id = folder.getFileName().toString();
        Path manifest = folder.resolve("manifest.json");
        if (!Files.isRegularFile(manifest)) {
            return new Run(id, folder, null, "incomplete: no manifest.json (still running, or stopped before the end)");
        }
        try {
            return new Run(id, folder, Json.parseObject(Files.readString(manifest)), null);
        } catch (IOException | JsonException e) {
            return new Run(id, folder, null, "unreadable manifest.json: " + e.getMessage());
        }
    }

    /** {@code backprop runs compare A B}. */
    @Command(name = "compare", mixinStandardHelpOptions = true,
            description = "Shows two runs side by side: recipe, data, the hyperparameters that differ, metrics "
                    + "(with the difference B - A) and timing.")
    static final class Compare implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "A", description = "run id (under --dir) or run folder")
        String a;

        @Parameters(index = "1", paramLabel = "B", description = "run id (under --dir) or run folder")
        String b;

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = "runs",
                description = "runs folder (default: ${DEFAULT-VALUE})")
        Path dir;

        @Option(names = "--all", description = "Also list the hyperparameters that are the same.")
        boolean all;

        @Override
        public Integer call() throws java.io.IOException {
            Map<String, Object> ma = manifest(a);
            Map<String, Object> mb = manifest(b);
            PrintStream out = System.out;
            String format = "%-34s %-28s %-28s %s%n";
            out.printf(Locale.ROOT, format, "", text(ma.get("id")), text(mb.get("id")), "");
            out.printf(Locale.ROOT, format, "recipe", text(ma.get("recipe")), text(mb.get("recipe")), "");
            out.printf(Locale.ROOT, format, "date", date(ma.get("created")), date(mb.get("created")), "");
            out.printf(Locale.ROOT, format, "data", dataName(ma), dataName(mb), "");
            out.println("-- hyperparameters" + (all ? "" : " that differ"));
            Map<String, Object> ha = flatten("", ma.get("hyperparameters"), new LinkedHashMap<>());
            Map<String, Object> hb = flatten("", mb.get("hyperparameters"), new LinkedHashMap<>());
            Set<String> keys = new LinkedHashSet<>(ha.keySet());
            keys.addAll(hb.keySet());
            int differing = 0;
            for (String k : keys) {
                boolean same = Objects.equals(ha.get(k), hb.get(k));
                if (!same) {
                    differing++;
                }
                if (!same || all) {
                    out.printf(Locale.ROOT, format, k, show(ha.get(k)), show(hb.get(k)), same ? "" : "differs");
                }
            }
            if (differing == 0) {
                out.println("(none: the same hyperparameters)");
            }
            out.println("-- metrics");
            Map<String, Object> xa = flatten("", ma.get("metrics"), new LinkedHashMap<>());
            Map<String, Object> xb = flatten("", mb.get("metrics"), new LinkedHashMap<>());
            Set<String> metrics = new LinkedHashSet<>(xa.keySet());
            metrics.addAll(xb.keySet());
            for (String k : metrics) {
                Object va = xa.get(k);
                Object vb = xb.get(k);
                if (va instanceof Number || vb instanceof Number) {
                    String delta = va instanceof Number na && vb instanceof Number nb
                            ? String.format(Locale.ROOT, "%+.4g", nb.doubleValue() - na.doubleValue()) : "";
                    out.printf(Locale.ROOT, format, k, show(va), show(vb), delta);
                }
            }
            out.println("-- timing");
            out.printf(Locale.ROOT, format, "wall time", duration(ma.get("wall_time_s")), duration(mb.get("wall_time_s")),
                    "");
            out.printf(Locale.ROOT, format, "stop reason", text(ma.get("stop_reason")), text(mb.get("stop_reason")), "");
            return 0;
        }

        private Map<String, Object> manifest(String idOrPath) throws java.io.IOException {
            Path folder = RunRef.find(idOrPath, dir);
            Run r = read(folder);
            if (r.manifest() == null) {
                throw new IllegalArgumentException("run '" + idOrPath + "' (" + folder.toAbsolutePath() + "): "
                        + (Files.isDirectory(folder) ? r.problem() : "no such run folder; './backprop runs' lists "
                        + "the runs under " + dir.toAbsolutePath()));
            }
            return r.manifest();
        }
    }

    /** Nested maps as dotted keys ("optimizer_options.momentum"); lists of numbers are skipped (matrices). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> flatten(String prefix, Object value, Map<String, Object> out) {
        if (value instanceof Map<?, ?> m) {
            for (Map.Entry<String, Object> e : ((Map<String, Object>) m).entrySet()) {
                flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
            }
        } else if (!prefix.isEmpty() && !(value instanceof List<?> l && !l.isEmpty() && l.get(0) instanceof List)) {
            out.put(prefix, value);
        }
        return out;
    }

    /**
     * The recipe's headline figure: test accuracy (classifiers), BLEU (translation, beam search
     * when it ran), else the validation loss (language models); "-" when the manifest has none.
     */
    static String keyMetric(Map<String, Object> manifest) {
        if (metric(manifest, "test_accuracy") instanceof Number n) {
            return String.format(Locale.ROOT, "acc %.4f", n.doubleValue());
        }
        Object bleu = metric(manifest, "test_bleu_beam") != null ? metric(manifest, "test_bleu_beam")
                : metric(manifest, "test_bleu_greedy");
        if (bleu instanceof Number n) {
            return String.format(Locale.ROOT, "BLEU %.2f", n.doubleValue());
        }
        if (metric(manifest, "val_loss") instanceof Number n) {
            return String.format(Locale.ROOT, "val loss %.4f", n.doubleValue());
        }
        return "-";
    }

    @SuppressWarnings("unchecked")
    private static Object metric(Map<String, Object> manifest, String key) {
        Object m = manifest.get("metrics");
        return m instanceof Map<?, ?> map ? ((Map<String, Object>) map).get(key) : null;
    }

    @SuppressWarnings("unchecked")
    private static String dataName(Map<String, Object> manifest) {
        Object d = manifest.get("data_description");
        if (d instanceof Map<?, ?> map) {
            Map<String, Object> desc = (Map<String, Object>) map;
            if (desc.containsKey("generated")) {
                return "synthetic";
            }
            for (String k : List.of("name", "dataset", "source")) {
                if (desc.get(k) instanceof String s) {
                    return shorten(s, 16);
                }
            }
        }
        Object files = manifest.get("data");
        if (files instanceof Map<?, ?> f && !f.isEmpty()) {
            Object first = f.values().iterator().next();
            if (first instanceof Map<?, ?> fm && fm.get("path") instanceof String p) {
                Path parent = Path.of(p).getParent();
                return shorten(parent == null ? p : parent.getFileName().toString(), 16);
            }
        }
        return "-";
    }

    private static String shorten(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 1) + "…";
    }

    private static String text(Object v) {
        return v == null ? "-" : v.toString();
    }

    private static String show(Object v) {
        if (v == null) {
            return "-";
        }
        if (v instanceof Double d) {
            if (d != 0 && (Math.abs(d) < 1e-4 || Math.abs(d) >= 1e7) || d.isNaN() || d.isInfinite()) {
                return String.format(Locale.ROOT, "%.4g", d);
            }
            return new java.math.BigDecimal(d).round(new java.math.MathContext(6)).stripTrailingZeros()
                    .toPlainString();
        }
        return shorten(v.toString(), 28);
    }

    private static String date(Object created) {
        String s = text(created);
        return s.length() >= 16 ? s.substring(0, 16).replace('T', ' ') : s;
    }

    private static String number(Object v, String format) {
        return v instanceof Number n ? String.format(Locale.ROOT, format, n.doubleValue()) : "-";
    }

    private static String duration(Object seconds) {
        if (!(seconds instanceof Number n)) {
            return "-";
        }
        double s = n.doubleValue();
        return s < 120 ? String.format(Locale.ROOT, "%.1f s", s) : String.format(Locale.ROOT, "%.1f min", s / 60);
    }
}
