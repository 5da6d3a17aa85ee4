package dev.backprop.models;

import dev.backprop.data.CharVocab;
import dev.backprop.tensor.Generator;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.LongConsumer;

/**
 * Generates tokens from a {@link LanguageModel}: feeds the prompt, then repeatedly picks the next
 * token from the model's logits and feeds it back.
 *
 * <pre>{@code
 * Sampler sampler = new Sampler(0.8, 40, new Generator(7));      // temperature 0.8, top-40
 * String text = sampler.generate(model, vocab, "ROMEO:", 200);     // 200 new characters
 * }</pre>
 *
 * <p>How a token is picked from logits z: with temperature 0, the most likely one (greedy; the
 * lowest id among equals). Otherwise the logits are divided by the temperature, every logit below
 * the {@code topK}-th largest is dropped (none when {@code topK} is 0 or at least the vocabulary;
 * ties with the k-th are kept, as nanoGPT's {@code logits[logits < v[-1]] = -inf}), and a token is
 * drawn from the softmax of the rest with one {@link Generator#nextDouble()}. The same generator
 * seed, model and prompt give the same text.
 */
public final class Sampler {
    private final double temperature;
    private final int topK;
    private final Generator gen;

    /**
     * @param temperature 0 for greedy decoding, else the divisor of the logits (below 1 sharper,
     *     above 1 flatter)
     * @param topK keep only the k most likely tokens; 0 keeps all
     * @param gen the random numbers of the draws (unused when greedy)
     */
    public Sampler(double temperature, int topK, Generator gen) {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("Sampler: temperature must be a finite number >= 0 (0 = greedy), got "
                    + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("Sampler: top-k must be >= 0 (0 = no filtering), got " + topK);
        }
        this.temperature = temperature;
        this.topK = topK;
        this.gen = Objects.requireNonNull(gen, "gen");
    }

    public double temperature() {
        return temperature;
    }

    public int topK() {
        return topK;
    }

    /** Picks the next token from {@code logits} (see the class comment). */
    public int sample(float[] logits) {
        if (logits.length == 0) {
            throw new IllegalArgumentException("Sampler: no logits to sample from");
        }
        if (temperature == 0) {
            int best = 0;
            for (int i = 1; i < logits.length; i++) {
                if (logits[i] > logits[best]) {
                    best = i;
                }
            }
            return best;
        }
        double threshold = Double.NEGATIVE_INFINITY;
        if (topK > 0 && topK < logits.length) {
            float[] sorted = logits.clone();
            Arrays.sort(sorted);
            threshold = sorted[sorted.length - topK];
        }
        double max = Double.NEGATIVE_INFINITY;
        for (float z : logits) {
            if (z >= threshold) {
                max = Math.max(max, z);
            }
        }
        if (!Double.isFinite(max)) {
            throw new IllegalArgumentException("Sampler: the logits are not finite (largest kept logit " + max
                    + "); the model's weights may have diverged");
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] >= threshold) {
                p[i] = Math.exp((logits[i] - max) / temperature);
                sum += p[i];
            }
        }
        double r = gen.nextDouble() * sum;
        int last = -1;
        for (int i = 0; i < p.length; i++) {
            if (p[i] > 0) {
                last = i;
                r -= p[i];
                if (r < 0) {
                    return i;
                }
            }
        }
        return last; // rounding left r just above 0: the last token with mass
    }

    /**
     * Feeds {@code prompt} (at least one token) to a new decoding session of {@code model} and
     * generates {@code tokens} more, passing each to {@code onToken} as it is picked (for streaming
     * output; may be null).
     *
     * @return the generated tokens, without the prompt
     */
    public long[] generate(LanguageModel model, long[] prompt, int tokens, LongConsumer onToken) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("Sampler: the prompt needs at least one token to condition on");
        }
        if (tokens < 0) {
            throw new IllegalArgumentException("Sampler: the number of tokens to generate must be >= 0, got " + tokens);
        }
        LanguageModel.Decoding decoding = model.decoding();
        long[] out = new long[tokens];
        if (tokens == 0) {
            return out;
        }
        float[] logits = decoding.feed(prompt);
        for (int i = 0; i < tokens; i++) {
            out[i] = sample(logits);
            if (onToken != null) {
                onToken.accept(out[i]);
            }
            if (i + 1 < tokens) {
                logits = decoding.feed(out[i]);
            }
        }
        return out;
    }

    /** {@link #generate(LanguageModel, long[], int, LongConsumer)} without streaming. */
    public long[] generate(LanguageModel model, long[] prompt, int tokens) {
        return generate(model, prompt, tokens, null);
    }

    /**
     * Character-level generation: the {@code tokens} characters that follow {@code prompt}.
     *
     * @throws IllegalArgumentException if the prompt is empty or has characters outside the
     *     vocabulary (naming them)
     */
    public String generate(LanguageModel model, CharVocab vocab, String prompt, int tokens) {
        return vocab.decode(generate(model, vocab.encode(prompt), tokens, null));
    }
}
