package dev.backprop.cli;

import dev.backprop.io.Json;
import dev.backprop.nn.Module;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** A finished run, found by id under the runs folder or by path, with its model rebuilt and loaded. */
record RunRef(Path dir, Map<String, Object> manifest, Recipes.Recipe recipe, RunData data, Module model) {

    @SuppressWarnings("unchecked")
    static RunRef open(String idOrPath, Path runsRoot, String dataOverride) throws IOException {
        Path dir = verified(find(idOrPath, runsRoot));
        Path manifestFile = dir.resolve("manifest.json");
        if (!Files.isRegularFile(manifestFile)) {
            throw new IllegalArgumentException("no run '" + idOrPath + "': expected a run folder or a run id under "
                    + runsRoot.toAbsolutePath() + " (missing " + manifestFile + ")");
        }
        Map<String, Object> manifest = Json.parseObject(Files.readString(manifestFile));
        Recipes.Recipe recipe = Recipes.get((String) manifest.get("recipe"));
        Map<String, Object> hyper = (Map<String, Object>) manifest.get("hyperparameters");
        Map<String, Object> dataDesc = (Map<String, Object>) manifest.get("data_description");
        long seed = ((Number) hyper.get("seed")).longValue();
        String data = dataOverride;
        if (data == null) {
            data = dataDesc.containsKey("generated") ? "synthetic" : recordedPath(manifest);
        }
        String target = (String) dataDesc.get("target");
        boolean regression = "regression".equals(dataDesc.get("task"));
        RunData rd = RunData.load(data, recipe.images(), target, regression, null, seed);
        Module model = recipe.model(new Recipes.DataShape(rd.inputShape(), rd.numClasses()));
        Path weights = dir.resolve("model.safetensors");
        if (!Files.isRegularFile(weights)) {
            throw new IllegalArgumentException("run " + dir + " has no model.safetensors (did it finish?)");
        }
        model.load(weights);
        model.eval();
        return new RunRef(dir, manifest, recipe, rd, model);
    }

    /**
     * Checks the files the run's manifest records (model, tokenizer, report) against their SHA-256
     * before anything is loaded from the run, and returns {@code dir}.
     *
     * @throws IllegalArgumentException naming the file and both hashes if one does not match
     */
    static Path verified(Path dir) throws IOException {
        dev.backprop.train.RunFolder.verifyArtifacts(dir);
        return dir;
    }

    /**
     * The run folder {@code ref} names: a folder, a run id under {@code root} or a unique prefix
     * of one; with {@code ref} null, the latest run under {@code root}.
     *
     * @throws IllegalArgumentException saying where it looked and which runs exist, if none matches
     *     or a prefix matches several
     */
    static Path find(String ref, Path root) throws IOException {
        List<RunsCommand.Run> runs = RunsCommand.list(root).stream().filter(r -> isRun(r.folder())).toList();
        if (ref == null) {
            if (runs.isEmpty()) {
                throw new IllegalArgumentException("no runs under " + root.toAbsolutePath() + " (./backprop train "
                        + "writes them; name a run folder, or the runs folder option of the command looks elsewhere)");
            }
            return runs.getLast().folder();
        }
        Path asPath = Path.of(ref);
        if (Files.isDirectory(asPath)) {
            if (!isRun(asPath)) {
                throw new IllegalArgumentException(asPath.toAbsolutePath() + " is not a run folder, or an incomplete "
                        + "one (it has neither manifest.json nor metrics.jsonl)");
            }
            return asPath;
        }
        Path exact = root.resolve(ref);
        if (Files.isDirectory(exact)) {
            if (!isRun(exact)) {
                throw new IllegalArgumentException("run '" + ref + "' (" + exact.toAbsolutePath() + ") is incomplete: "
                        + "it has neither manifest.json nor metrics.jsonl (a run stopped before it wrote them?)");
            }
            return exact;
        }
        List<RunsCommand.Run> matches = runs.stream().filter(r -> r.id().startsWith(ref)).toList();
        if (matches.size() == 1) {
            return matches.getFirst().folder();
        }
        if (matches.size() > 1) {
            throw new IllegalArgumentException("run '" + ref + "' is ambiguous under " + root.toAbsolutePath()
                    + ": it starts " + ids(matches) + "; give more of the id");
        }
        throw new IllegalArgumentException("no run '" + ref + "': not a folder, nor a run id (or the start of one) "
                + "under " + root.toAbsolutePath() + (runs.isEmpty() ? ", which holds no runs"
                : "; the runs there, newest last: " + ids(runs)) + " (`./backprop runs` lists them)");
    }

    private static boolean isRun(Path folder) {
        return Files.isRegularFile(folder.resolve("manifest.json")) || Files.isRegularFile(folder.resolve("metrics.jsonl"));
    }

    private static String ids(List<RunsCommand.Run> runs) {
        int shown = 10;
        List<String> ids = runs.stream().map(RunsCommand.Run::id).toList();
        return ids.size() <= shown ? String.join(", ", ids)
                : "\u2026, " + String.join(", ", ids.subList(ids.size() - shown, ids.size())) + " (" + ids.size()
                + " in all)";
    }

    @SuppressWarnings("unchecked")
    private static String recordedPath(Map<String, Object> manifest) {
        Map<String, Object> files = (Map<String, Object>) manifest.get("data");
        if (files == null || files.isEmpty()) {
            throw new IllegalArgumentException("the run's manifest records no data files; pass --data");
        }
        Map<String, Object> first = (Map<String, Object>) files.values().iterator().next();
        Path p = Path.of((String) first.get("path"));
        return p.toString().endsWith(".csv") ? p.toString() : p.getParent().toString();
    }

    List<String> classes() {
        return data.classes();
    }
}
