package dev.backprop.cli;

import dev.backprop.io.AtomicFiles;
import dev.backprop.io.Json;
import dev.backprop.models.Seq2SeqTransformer;
import dev.backprop.nn.Module;
import dev.backprop.onnx.OnnxExporter;
import dev.backprop.onnx.OnnxWriter;
import dev.backprop.onnx.PyTorchExporter;
import dev.backprop.tensor.Shape;
import dev.backprop.train.LanguageModelRecipe;
import dev.backprop.train.TextClassification;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code backprop export RUN --onnx FILE [--safetensors FILE]}: the model of a run for other runtimes. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Exports the model of a run: --onnx writes an ONNX file (opset " + OnnxWriter.OPSET + ", "
                + "symbolic batch dimension; eval mode: dropout off, batch norm on its running statistics) that "
                + "ONNX Runtime runs with backprop's numbers; --safetensors writes the weights under PyTorch's "
                + "state-dict keys, for load_state_dict in PyTorch. Runs of mlp, cnn, cnn-bn, tabular, char-gpt, "
                + "char-lstm, intent and translate export; see docs/export.md.")
final class ExportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RUN", description = "run id (or the start of one) under --runs, or a run folder")
    String run;

    @Option(names = "--onnx", paramLabel = "FILE", description = "write the model as ONNX to FILE")
    Path onnx;

    @Option(names = "--safetensors", paramLabel = "FILE", description = "write the weights (PyTorch keys) to FILE")
    Path safetensors;

    @Option(names = "--runs", paramLabel = "DIR", defaultValue = "runs", description = "runs folder (default: ${DEFAULT-VALUE})")
    Path runs;

    /** The recipes whose runs export. */
    static final String SUPPORTED = "mlp, cnn, cnn-bn, tabular, char-gpt, char-lstm, intent and translate";

    /** The model of a run, ready to export, and the input shape without the batch dimension (empty for token ids). */
    record Exportable(String recipe, Module model, int[] inputShape, Map<String, String> metadata) {}

    @Override
    public Integer call() throws Exception {
        if (onnx == null && safetensors == null) {
            throw new IllegalArgumentException("nothing to write: give --onnx FILE and/or --safetensors FILE");
        }
        for (Path p : new Path[] {onnx, safetensors}) {
            Path parent = p == null ? null : p.toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent)) {
                throw new IllegalArgumentException("cannot write " + p + ": the folder " + parent + " does not exist");
            }
        }
        Path dir = RunRef.find(run, runs);
        Exportable e = load(dir, runs);
        String input = e.model() instanceof Seq2SeqTransformer
                ? "src_ids int64 (batch, source) and tgt_ids int64 (batch, target) in, logits out"
                : e.inputShape().length == 0 ? "input_ids int64 (batch, sequence) in, logits out"
                : "input (batch, " + Shape.str(e.inputShape()).replaceAll("[\\[\\]]", "") + ")";
        if (onnx != null) {
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("backprop.run", dir.getFileName().toString());
            meta.put("backprop.recipe", e.recipe());
            meta.putAll(e.metadata());
            byte[] bytes = OnnxExporter.toBytes(e.model(), meta, e.inputShape());
            AtomicFiles.write(onnx, bytes);
            System.out.println(String.format(Locale.ROOT, "wrote %s: ONNX opset %d, %,d bytes; %s model of run %s, %s",
                    onnx, OnnxWriter.OPSET, bytes.length, e.recipe(), dir.getFileName(), input));
        }
        if (safetensors != null) {
            PyTorchExporter.export(e.model(), safetensors);
            System.out.println(String.format(Locale.ROOT, "wrote %s: %d tensors under PyTorch's state-dict keys "
                    + "(%,d parameters); %s model of run %s", safetensors, e.model().stateDict().size(),
                    e.model().parameterCount(), e.recipe(), dir.getFileName()));
        }
        return 0;
    }

    /**
     * The model of the run in {@code dir}, loaded: a language model from its manifest's
     * configuration, or a recipe's model from the input shape and class count the manifest
     * records (runs written before they were recorded are rebuilt from their data, as eval does).
     */
    @SuppressWarnings("unchecked")
    static Exportable load(Path dir, Path runsRoot) throws java.io.IOException {
        Path manifestFile = dir.resolve("manifest.json");
        if (!Files.isRegularFile(manifestFile)) {
            throw new IllegalArgumentException("run " + dir + " has no manifest.json (an incomplete run?)");
        }
        Map<String, Object> manifest = Json.parseObject(Files.readString(manifestFile));
        Object recipeName = manifest.get("recipe");
        if (recipeName instanceof String r && LanguageModelRecipe.isRecipe(r)) {
            LanguageModelRecipe.Loaded lm = LanguageModelRecipe.loadRun(dir);
            return new Exportable(r, (Module) lm.model(), new int[0], Map.of("vocabulary", Json.write(lm.vocab()
                    .chars())));
        }
        if (IntentRecipe.NAME.equals(recipeName)) {
            TextClassification clf = TextClassification.load(dir);
            clf.model().eval();
            return new Exportable(IntentRecipe.NAME, clf.model(), new int[0], Map.of("classes",
                    Json.write(clf.classes()), "tokenizer", "the run's tokenizer.json; padding id "
                    + clf.model().config().padId()));
        }
        if (TranslateRecipe.NAME.equals(recipeName)) {
            Path weights = dir.resolve("model.safetensors");
            if (!Files.isRegularFile(weights)) {
                throw new IllegalArgumentException("run " + dir.getFileName() + " has no model.safetensors yet (it is "
                        + "saved after each epoch; did the run finish its first epoch?)");
            }
            var config = TranslateRecipe.configFrom((Map<String, Object>) manifest.get("model_config"));
            Seq2SeqTransformer model = new Seq2SeqTransformer(config);
            model.load(weights);
            model.eval();
            return new Exportable(TranslateRecipe.NAME, model, new int[0], Map.of("tokenizer", "the run's "
                    + "tokenizer.json; padding id " + config.padId() + ", bos " + config.bosId() + ", eos "
                    + config.eosId()));
        }
        if (!(recipeName instanceof String name) || !Recipes.ALL.containsKey(name)) {
            throw new IllegalArgumentException("run " + dir.getFileName() + " was trained with the recipe '"
                    + recipeName + "', which export does not know; runs of " + SUPPORTED + " export");
        }
        Recipes.Recipe recipe = Recipes.get(name);
        Map<String, Object> info = manifest.get("model") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        if (info.get("input_shape") instanceof List<?> shape && info.get("num_classes") instanceof Number classes) {
            int[] inputShape = shape.stream().mapToInt(d -> ((Number) d).intValue()).toArray();
            Module model = recipe.model(new Recipes.DataShape(inputShape, classes.intValue()));
            Path weights = dir.resolve("model.safetensors");
            if (!Files.isRegularFile(weights)) {
                throw new IllegalArgumentException("run " + dir.getFileName() + " has no model.safetensors (did the "
                        + "training finish? a run writes it at the end)");
            }
            model.load(weights);
            model.eval();
            return new Exportable(name, model, inputShape, classes(manifest));
        }
        RunRef ref = RunRef.open(dir.toString(), runsRoot, null); // an older run: its data gives the shapes
        return new Exportable(name, ref.model(), ref.data().inputShape(), classes(manifest));
    }

    /** The class names a classification run's manifest records, as metadata. */
    private static Map<String, String> classes(Map<String, Object> manifest) {
        if (manifest.get("metrics") instanceof Map<?, ?> metrics && metrics.get("classes") instanceof List<?> names) {
            return Map.of("classes", Json.write(names));
        }
        return Map.of();
    }
}
