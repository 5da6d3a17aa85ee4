package dev.backprop.models;

import dev.backprop.kernels.Kernels;
import dev.backprop.tensor.Generator;
import java.util.Arrays;
import java.util.Locale;

/**
 * Tokens per second of generation from the W3 GPT with and without the key/value cache, and from
 * the W4 LSTM, after a warm-up (the weights are a fresh initialisation: the speed does not depend on
 * them). A plain main, not a test:
 *
 * <pre>
 * mvn -q -B test-compile -pl backprop-core
 * java --add-modules jdk.incubator.vector \
 *      -cp backprop-core/target/classes:backprop-core/target/test-classes:$SLF4J_API_JAR \
 *      dev.backprop.models.GenerationSpeed [tokens] [threads]
 * </pre>
 *
 * Each figure is the median of 5 timed generations of {@code tokens} tokens (default 1000) after a
 * prompt of one token, with the model's decoding session (the cached one slides by half a window
 * when the 64-token context is full; the uncached one runs the whole window, up to 64 tokens, for
 * every token).
 */
public final class GenerationSpeed {
    private GenerationSpeed() {}

    public static void main(String[] args) {
        int tokens = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        if (args.length > 1) {
            Kernels.setThreads(Integer.parseInt(args[1]));
        }
        GPT gpt = Workloads.w3Model(new Generator(1));
        CharLSTM lstm = Workloads.w4Model(new Generator(1));
        LanguageModel uncached = new LanguageModel() {
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
        System.out.printf(Locale.ROOT, "%d tokens per generation, %d threads%n", tokens, Kernels.threads());
        report("W3 GPT, key/value cache", gpt, tokens);
        report("W3 GPT, no cache (full window per token)", uncached, tokens);
        report("W4 LSTM, carried state", lstm, tokens);
    }

    private static void report(String name, LanguageModel model, int tokens) {
        Sampler sampler = new Sampler(1.0, 0, new Generator(7));
        for (int i = 0; i < 3; i++) { // warm-up: compile the small-matrix paths
            sampler.generate(model, new long[] {0}, tokens);
        }
        double[] perSecond = new double[5];
        for (int i = 0; i < perSecond.length; i++) {
            long t0 = System.nanoTime();
            sampler.generate(model, new long[] {0}, tokens);
            perSecond[i] = tokens / ((System.nanoTime() - t0) / 1e9);
        }
        Arrays.sort(perSecond);
        System.out.printf(Locale.ROOT, "%-44s %8.0f tokens/s (min %.0f, max %.0f)%n", name, perSecond[2],
                perSecond[0], perSecond[4]);
    }
}
