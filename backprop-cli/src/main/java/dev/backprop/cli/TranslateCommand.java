package dev.backprop.cli;

import dev.backprop.io.Json;
import dev.backprop.models.Seq2SeqTransformer;
import dev.backprop.text.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code backprop translate RUN --text "..."}: translates with the model of a {@code train translate} run. */
@Command(name = "translate", mixinStandardHelpOptions = true,
        description = "Translates sentences with a run of the translate recipe (forward only): each --text, or "
                + "each line of standard input when there is none.")
final class TranslateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RUN", description = "run id (under --runs) or run folder")
    String run;

    @Option(names = "--text", paramLabel = "TEXT", description = "a sentence to translate (repeatable)")
    List<String> texts = new ArrayList<>();

    @Option(names = "--beam", paramLabel = "K", defaultValue = "4",
            description = "beam size; 1 = greedy (default: ${DEFAULT-VALUE})")
    int beam;

    @Option(names = "--runs", paramLabel = "DIR", defaultValue = "runs", description = "runs folder (default: ${DEFAULT-VALUE})")
    Path runs;

    @Override
    @SuppressWarnings("unchecked")
    public Integer call() throws Exception {
        Path dir = RunRef.verified(RunRef.find(run, runs));
        Path manifestFile = dir.resolve("manifest.json");
        if (!Files.isRegularFile(manifestFile)) {
            throw new IllegalArgumentException("no run '" + run + "': expected a run folder or a run id under "
                    + runs.toAbsolutePath() + " (missing " + manifestFile + ")");
        }
        Map<String, Object> manifest = Json.parseObject(Files.readString(manifestFile));
        if (!TranslateRecipe.NAME.equals(manifest.get("recipe"))) {
            throw new IllegalArgumentException("run " + dir + " is a '" + manifest.get("recipe") + "' run; translate "
                    + "needs a run of `backprop train translate`");
        }
        Path weights = dir.resolve("model.safetensors");
        if (!Files.isRegularFile(weights)) {
            throw new IllegalArgumentException("run " + dir + " has no model.safetensors yet (it is saved after each "
                    + "epoch; did the run finish its first epoch?)");
        }
        Tokenizer tok = Tokenizer.load(dir.resolve("tokenizer.json"));
        var config = TranslateRecipe.configFrom((Map<String, Object>) manifest.get("model_config"));
        Seq2SeqTransformer model = new Seq2SeqTransformer(config);
        model.load(weights);
        model.eval();
        List<String> input = new ArrayList<>(texts);
        if (input.isEmpty()) {
            try (var reader = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
                    java.nio.charset.StandardCharsets.UTF_8))) {
                reader.lines().filter(l -> !l.isBlank()).forEach(input::add);
            }
        }
        int maxLen = config.maxLength() - TranslateRecipe.MAX_EXTRA - 2;
        List<String> out = TranslateRecipe.translate(model, tok, input, Math.max(1, beam), maxLen);
        for (int i = 0; i < input.size(); i++) {
            System.out.println(input.size() == 1 ? out.get(i) : input.get(i) + "\t" + out.get(i));
        }
        return 0;
    }
}
