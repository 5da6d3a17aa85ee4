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
        Path dir = dir(idOrPath, runsRoot);
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

    /** The folder of a run: {@code idOrPath} if it is a folder, else {@code runsRoot/idOrPath}. */
    static Path dir(String idOrPath, Path runsRoot) {
        return Files.isDirectory(Path.of(idOrPath)) ? Path.of(idOrPath) : runsRoot.resolve(idOrPath);
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
