package dev.backprop.cli;

import dev.backprop.data.CharVocab;
import dev.backprop.models.GPT;
import dev.backprop.models.LanguageModel;
import dev.backprop.models.Sampler;
import dev.backprop.tensor.Generator;
import dev.backprop.train.LanguageModelRecipe;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code backprop generate RUN}: samples text from a trained char-gpt or char-lstm run. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Samples text from the model of a char-gpt or char-lstm run (forward only, no gradients): "
                + "feeds the prompt, then picks one character at a time. char-gpt keeps a key/value cache (one "
                + "small forward per character) and slides its 64-character window by half when it is full; "
                + "char-lstm carries its state. Prints the prompt and the continuation, then the speed on stderr.")
final class GenerateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "RUN", description = "run id (under --runs) or run folder")
    String run;

    @Option(names = "--prompt", paramLabel = "TEXT", defaultValue = "\n",
            description = "the text to continue (default: a newline); only characters of the training text")
    String prompt;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "500",
            description = "characters to generate (default: ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.8",
            description = "0 = greedy (always the most likely character); below 1 more conservative, above 1 more "
                    + "random (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "0",
            description = "sample only among the K most likely characters; 0 = all (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42",
            description = "random seed of the sampling: the same seed gives the same text (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--no-cache",
            description = "char-gpt: run the whole window forward for every character instead of using the "
                    + "key/value cache (slower; to compare)")
    boolean noCache;

    @Option(names = "--threads", paramLabel = "T", description = "compute threads (default: all cores)")
    Integer threads;

    @Option(names = "--runs", paramLabel = "DIR", defaultValue = "runs", description = "runs folder (default: ${DEFAULT-VALUE})")
    Path runs;

    @Override
    public Integer call() throws Exception {
        Threads.apply(threads);
        if (tokens < 0) {
            throw new IllegalArgumentException("--tokens must be >= 0, got " + tokens);
        }
        Path dir = RunRef.verified(RunRef.find(run, runs));
        LanguageModelRecipe.Loaded loaded = LanguageModelRecipe.loadRun(dir);
        CharVocab vocab = loaded.vocab();
        long[] ids = promptIds(vocab, dir);
        LanguageModel model = loaded.model();
        String mode = model instanceof GPT ? "key/value cache" : "recurrent state";
        if (noCache) {
            if (!(model instanceof GPT gpt)) {
                throw new IllegalArgumentException("--no-cache is for char-gpt runs; run " + dir.getFileName()
                        + " is " + loaded.recipe() + ", which has no cache (it carries its state)");
            }
            model = uncached(gpt);
            mode = "no cache: a full forward of the window per character";
        }
        int context = model.contextLength();
        if (ids.length > context) {
            System.err.println("warning: the prompt has " + ids.length + " characters, more than the model's context "
                    + "of " + context + ": it is conditioned on the last " + context + " only");
            ids = Arrays.copyOfRange(ids, ids.length - context, ids.length);
        }
        Sampler sampler = new Sampler(temperature, topK, new Generator(seed));
        PrintStream out = System.out;
        out.print(prompt);
        long start = System.nanoTime();
        sampler.generate(model, ids, tokens, id -> out.print(vocab.symbol((int) id)));
        double seconds = (System.nanoTime() - start) / 1e9;
        out.println();
        out.flush();
        System.err.println(String.format(Locale.ROOT, "%d characters in %.2f s (%.0f characters/s, %s; %s run %s; "
                + "temperature %s, top-k %s, seed %d)", tokens, seconds, tokens / Math.max(seconds, 1e-9), mode,
                loaded.recipe(), dir.getFileName(), temperature == 0 ? "0 (greedy)" : Double.toString(temperature),
                topK == 0 ? "all" : Integer.toString(topK), seed));
        return 0;
    }

    private long[] promptIds(CharVocab vocab, Path dir) {
        if (prompt.isEmpty()) {
            throw new IllegalArgumentException("--prompt is empty: the model needs at least one character to "
                    + "continue (the default is a newline)");
        }
        int[] unknown = vocab.unknown(prompt);
        if (unknown.length > 0) {
            throw new IllegalArgumentException("--prompt has " + unknown.length + " character"
                    + (unknown.length == 1 ? "" : "s") + " the model never saw in training: "
                    + CharVocab.describe(unknown) + ". Remove or replace "
                    + (unknown.length == 1 ? "it" : "them") + "; the model knows only the " + vocab.size()
                    + " characters of its training text: " + printable(vocab.chars()) + " (in "
                    + dir.resolve("tokenizer.json") + ")");
        }
        return vocab.encode(prompt);
    }

    /** The vocabulary for a message: control characters and spaces escaped, in JSON style. */
    private static String printable(String chars) {
        StringBuilder sb = new StringBuilder("\"");
        chars.codePoints().forEach(cp -> {
            switch (cp) {
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                case '\r' -> sb.append("\\r");
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (Character.isISOControl(cp)) {
                        sb.append(String.format("\\u%04x", cp));
                    } else {
                        sb.appendCodePoint(cp);
                    }
                }
            }
        });
        return sb.append('"').toString();
    }

    private static LanguageModel uncached(GPT gpt) {
        return new LanguageModel() {
            @Override
            public int vocabSize() {
                return gpt.vocabSize();
            }

            @Override
            public int contextLength() {
                return gpt.contextLength();
            }

            @Override
            public Decoding decoding() {
                return gpt.decoding(false);
            }
        };
    }
}
