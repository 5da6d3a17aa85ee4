package dev.backprop.cli;

import dev.backprop.autograd.GradMode;
import dev.backprop.data.DataException;
import dev.backprop.data.HoldOut;
import dev.backprop.data.SentencePairs;
import dev.backprop.data.SentencePairs.Pair;
import dev.backprop.models.Seq2SeqTransformer;
import dev.backprop.optim.AdamW;
import dev.backprop.optim.Clip;
import dev.backprop.optim.LRScheduler;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import dev.backprop.text.Bleu;
import dev.backprop.text.BpeTokenizer;
import dev.backprop.text.SpecialTokens;
import dev.backprop.text.Tokenizer;
import dev.backprop.train.RunFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The {@code translate} recipe: a {@link Seq2SeqTransformer} trained on a TSV of sentence pairs
 * (source TAB target), scored by corpus BLEU (sacreBLEU's 13a) on a fixed, seeded 5% hold-out with
 * greedy and beam-search decoding. One joint BPE vocabulary for both languages, batches of
 * similar-length sentences up to a token budget, AdamW with linear warm-up and inverse-square-root
 * decay, label smoothing 0.1.
 */
final class TranslateRecipe {
    static final String NAME = "translate";
    static final double TEST_FRACTION = 0.05;
    static final double VALIDATION_FRACTION = 0.02;
    static final float LABEL_SMOOTHING = 0.1f;
    static final double LENGTH_PENALTY = 0.6;
    static final int MAX_EXTRA = 50; // decode at most source length + 50 tokens
    static final int SAMPLES = 10;

    private TranslateRecipe() {}

    /** One encoded pair: source ids, target ids (without bos/eos). */
    record Example(int[] src, int[] tgt, int index) {}

    /** Indices of a seeded shuffle: the last {@code fraction} of them is the hold-out. */
    static int[][] split(int n, double fraction, long seed) {
        List<Integer> idx = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            idx.add(i);
        }
        Collections.shuffle(idx, new Random(seed));
        int held = (int) Math.round(n * fraction);
        int[] keep = idx.subList(0, n - held).stream().mapToInt(Integer::intValue).sorted().toArray();
        int[] out = idx.subList(n - held, n).stream().mapToInt(Integer::intValue).sorted().toArray();
        return new int[][] {keep, out};
    }

    /** Batches of examples of similar length, each at most {@code maxTokens} (padded) tokens. */
    static List<List<Example>> buckets(List<Example> examples, int maxTokens, Random rng) {
        List<Example> sorted = new ArrayList<>(examples);
        Collections.shuffle(sorted, rng); // random order among equal lengths
        sorted.sort(Comparator.comparingInt((Example e) -> e.src().length).thenComparingInt(e -> e.tgt().length));
        List<List<Example>> batches = new ArrayList<>();
        List<Example> cur = new ArrayList<>();
        int width = 0;
        for (Example e : sorted) {
            int w = Math.max(width, Math.max(e.src().length, e.tgt().length + 1));
            if (!cur.isEmpty() && w * (cur.size() + 1) > maxTokens) {
                batches.add(cur);
                cur = new ArrayList<>();
                w = Math.max(e.src().length, e.tgt().length + 1);
            }
            cur.add(e);
            width = w;
        }
        if (!cur.isEmpty()) {
            batches.add(cur);
        }
        return batches;
    }

    /** Right-padded int64 (N, maxLen) of rows, each with optional bos in front and eos behind. */
    static Tensor pad(List<int[]> rows, int padId, int bos, int eos) {
        int width = 0;
        for (int[] r : rows) {
            width = Math.max(width, r.length + (bos >= 0 ? 1 : 0) + (eos >= 0 ? 1 : 0));
        }
        long[] flat = new long[rows.size() * width];
        Arrays.fill(flat, padId);
        for (int i = 0; i < rows.size(); i++) {
            int o = i * width;
            if (bos >= 0) {
                flat[o++] = bos;
            }
            for (int id : rows.get(i)) {
                flat[o++] = id;
            }
            if (eos >= 0) {
                flat[o] = eos;
            }
        }
        return Tensor.ofLongs(flat, rows.size(), width);
    }

    /** The model's configuration as the manifest records it, and back. */
    static Map<String, Object> configJson(Seq2SeqTransformer.Config c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("vocab_size", c.vocabSize());
        m.put("pad_id", c.padId());
        m.put("bos_id", c.bosId());
        m.put("eos_id", c.eosId());
        m.put("d_model", c.dModel());
        m.put("n_head", c.nHead());
        m.put("encoder_layers", c.encoderLayers());
        m.put("decoder_layers", c.decoderLayers());
        m.put("dim_feedforward", c.dimFeedforward());
        m.put("dropout", c.dropout());
        m.put("max_length", c.maxLength());
        return m;
    }

    static Seq2SeqTransformer.Config configFrom(Map<String, Object> m) {
        return new Seq2SeqTransformer.Config(num(m, "vocab_size"), num(m, "pad_id"), num(m, "bos_id"),
                num(m, "eos_id"), num(m, "d_model"), num(m, "n_head"), num(m, "encoder_layers"),
                num(m, "decoder_layers"), num(m, "dim_feedforward"), ((Number) m.get("dropout")).floatValue(),
                num(m, "max_length"));
    }

    private static int num(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof Number n)) {
            throw new IllegalArgumentException("the run's manifest has no model_config." + key + " (found " + v
                    + "); was it written by `backprop train translate`?");
        }
        return n.intValue();
    }

    /**
     * Translates sentences (batched by length), beam 1 = greedy. A sentence longer than
     * {@code maxLen} tokens is translated from its first {@code maxLen} tokens; how many were cut
     * is printed as a warning on standard error.
     */
    static List<String> translate(Seq2SeqTransformer model, Tokenizer tok, List<String> sentences, int beam,
            int maxLen) {
        List<Example> ex = new ArrayList<>();
        int truncated = 0;
        for (int i = 0; i < sentences.size(); i++) {
            int[] ids = tok.encode(sentences.get(i));
            truncated += ids.length > maxLen ? 1 : 0;
            ex.add(new Example(ids.length > maxLen ? Arrays.copyOf(ids, maxLen) : ids, new int[0], i));
        }
        if (truncated > 0) {
            System.err.println("warning: " + truncated + " of " + sentences.size() + " sentences are longer than "
                    + maxLen + " tokens, the model's longest input: each was translated from its first " + maxLen
                    + " tokens");
        }
        String[] out = new String[sentences.size()];
        int perBatch = Math.max(1, 512 / beam);
        List<Example> sorted = new ArrayList<>(ex);
        sorted.sort(Comparator.comparingInt(e -> e.src().length));
        for (int b = 0; b < sorted.size(); b += perBatch) {
            List<Example> batch = sorted.subList(b, Math.min(sorted.size(), b + perBatch));
            Tensor src = pad(batch.stream().map(Example::src).toList(), model.config().padId(), -1, -1);
            List<int[]> hyps = beam == 1 ? model.greedy(src, MAX_EXTRA)
                    : model.beamSearch(src, beam, LENGTH_PENALTY, MAX_EXTRA);
            for (int i = 0; i < batch.size(); i++) {
                out[batch.get(i).index()] = tok.decode(hyps.get(i), true).strip();
            }
        }
        return Arrays.asList(out);
    }

    /** Mean label-smoothed loss over batches, no gradients, eval mode. */
    static double loss(Seq2SeqTransformer model, List<List<Example>> batches, Tokenizer tok) {
        boolean was = model.isTraining();
        model.eval();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            double sum = 0;
            long tokens = 0;
            for (List<Example> b : batches) {
                Tensor[] t = tensors(b, tok);
                int n = countTokens(b);
                sum += model.loss(t[0], t[1], t[2], LABEL_SMOOTHING).item() * n;
                tokens += n;
            }
            return sum / Math.max(1, tokens);
        } finally {
            model.train(was);
        }
    }

    private static int countTokens(List<Example> b) {
        int n = 0;
        for (Example e : b) {
            n += e.tgt().length + 1;
        }
        return n;
    }

    /** src (N, S), tgtIn = bos + tgt, tgtOut = tgt + eos. */
    private static Tensor[] tensors(List<Example> b, Tokenizer tok) {
        List<int[]> src = b.stream().map(Example::src).toList();
        List<int[]> tgt = b.stream().map(Example::tgt).toList();
        return new Tensor[] {pad(src, tok.padId(), -1, -1), pad(tgt, tok.padId(), tok.bosId(), -1),
            pad(tgt, tok.padId(), -1, tok.eosId())};
    }

    /** What {@code backprop train translate} runs. */
    static int train(Path data, TranslateOptions o, Integer epochs, long maxSteps, Double lr, long seed, Integer threads,
            Path out) throws IOException {
        long wallStart = System.nanoTime();
        Threads.apply(threads);
        Generator.defaultGenerator().manualSeed(seed);
        if (!Files.isRegularFile(data)) {
            throw new IllegalArgumentException("translate: no data file " + data.toAbsolutePath()
                    + "; expected a TSV of sentence pairs (source TAB target), pass --data FILE");
        }
        SentencePairs read;
        try {
            read = SentencePairs.read(data); // invalid UTF-8: an error naming line and byte
        } catch (DataException e) {
            throw new IllegalArgumentException(e.getMessage(), e); // one line and exit code 2, not a stack trace
        }
        if (read.skipped() > 0) {
            System.out.println("warning: " + read.warning());
        }
        if (read.size() < 20) {
            throw new IllegalArgumentException("translate: " + data + " has " + read.size() + " usable sentence pairs;"
                    + " expected at least 20 lines of the form source TAB target");
        }
        // by source sentence: every translation of a test sentence is held out, none is trained on
        HoldOut.Split<Pair> testSplit = read.split(TEST_FRACTION, seed);
        List<Pair> trainPairs = testSplit.train();
        List<Pair> testPairs = testSplit.test();
        if (o.testLimit > 0 && testPairs.size() > o.testLimit) {
            testPairs = testPairs.subList(0, o.testLimit);
        }

        long t0 = System.nanoTime();
        List<String> corpus = new ArrayList<>();
        for (Pair p : trainPairs) {
            corpus.add(p.source());
            corpus.add(p.target());
        }
        Tokenizer tok = BpeTokenizer.train(corpus, o.vocabSize, SpecialTokens.DEFAULT);
        double bpeSeconds = (System.nanoTime() - t0) / 1e9;
        int[] truncated = new int[1];
        List<Example> all = new ArrayList<>();
        for (int i = 0; i < trainPairs.size(); i++) {
            all.add(encode(tok, trainPairs.get(i), i, o.maxLen, truncated));
        }
        int[][] valSplit = split(all.size(), VALIDATION_FRACTION, seed + 1);
        List<Example> trainEx = Arrays.stream(valSplit[0]).mapToObj(all::get).toList();
        List<Example> valEx = Arrays.stream(valSplit[1]).mapToObj(all::get).toList();
        if (truncated[0] > 0) {
            System.out.println("warning: " + truncated[0] + " training sentences longer than --max-len " + o.maxLen
                    + " tokens were truncated");
        }

        int heads = Math.max(1, o.dModel / 64);
        var config = new Seq2SeqTransformer.Config(tok.vocabSize(), tok.padId(), tok.bosId(), tok.eosId(), o.dModel,
                heads, o.layers, o.layers, 4 * o.dModel, 0.1f, o.maxLen + MAX_EXTRA + 2);
        Seq2SeqTransformer model = new Seq2SeqTransformer(config);
        double learningRate = lr != null ? lr : 1e-3;
        AdamW opt = new AdamW(model.parameters(), learningRate, 0.9, 0.98, 1e-9, 1e-4);
        LRScheduler schedule = LRScheduler.inverseSqrt(opt, o.warmupSteps);
        int nEpochs = epochs != null ? epochs : (o.minutes != null ? Integer.MAX_VALUE : 10);

        RunFolder run = RunFolder.create(out, NAME);
        tok.save(run.dir().resolve("tokenizer.json"));
        run.recordArtifact("tokenizer.json");
        run.recordData("pairs", data);
        Map<String, Object> hyper = new LinkedHashMap<>();
        hyper.put("epochs", epochs);
        hyper.put("minutes", o.minutes);
        hyper.put("max_steps", maxSteps);
        hyper.put("max_tokens_per_batch", o.maxTokens);
        hyper.put("lr", learningRate);
        hyper.put("schedule", "inverse_sqrt, warm-up " + o.warmupSteps + " steps");
        hyper.put("optimizer", "AdamW(betas 0.9/0.98, eps 1e-9, weight decay 1e-4), clip grad norm 1.0");
        hyper.put("label_smoothing", LABEL_SMOOTHING);
        hyper.put("vocabulary", "joint byte-level BPE, " + tok.vocabSize() + " ids, shared by source, target and "
                + "output (three-way tied)");
        hyper.put("max_len", o.maxLen);
        hyper.put("beam", o.beam);
        hyper.put("length_penalty", "GNMT alpha " + LENGTH_PENALTY);
        hyper.put("seed", seed);
        hyper.put("threads", Threads.current());
        run.put("description", "encoder-decoder transformer (pre-LN), " + o.layers + "+" + o.layers + " layers, d "
                + o.dModel + ", " + heads + " heads, FFN " + 4 * o.dModel + ", dropout 0.1");
        run.put("hyperparameters", hyper);
        run.put("model_config", configJson(config));
        run.put("model", Map.of("summary", model.toString(), "parameters", model.parameterCount()));
        Map<String, Object> dataInfo = new LinkedHashMap<>();
        dataInfo.put("pairs", read.size());
        dataInfo.put("skipped_lines", read.skipped());
        dataInfo.put("first_skipped_lines", read.firstSkipped().stream().map(SentencePairs.Skipped::line).toList());
        dataInfo.put("train_pairs", trainEx.size());
        dataInfo.put("validation_pairs", valEx.size());
        dataInfo.put("test_pairs", testPairs.size());
        dataInfo.put("test_split", "SentencePairs.split(" + TEST_FRACTION + ", seed " + seed + "): by source "
                + "sentence, about 5%");
        dataInfo.put("truncated_train_sentences", truncated[0]);
        dataInfo.put("bpe_training_s", bpeSeconds);
        run.put("data_description", dataInfo);
        run.put("full_run_command", "./backprop train translate --data " + data + " --minutes 30");
        System.out.println("run " + run.id() + ": translate on " + data + " (" + trainEx.size() + " training pairs, "
                + testPairs.size() + " test), BPE vocabulary " + tok.vocabSize() + String.format(Locale.ROOT,
                " (trained in %.1f s), %,d parameters, %d threads", bpeSeconds, model.parameterCount(),
                Threads.current()));

        Random rng = new Random(seed);
        List<List<Example>> valBatches = buckets(valEx, o.maxTokens, new Random(0));
        List<Example> valForBleu = valEx.subList(0, Math.min(200, valEx.size())); // BLEU vs minutes, cheaply
        List<Map<String, Object>> curve = new ArrayList<>();
        long trainStart = System.nanoTime();
        long deadline = o.minutes == null ? Long.MAX_VALUE : trainStart + (long) (o.minutes * 60e9);
        long step = 0;
        int epoch = 0;
        String stop = "epochs";
        model.train();
        outer:
        for (; epoch < nEpochs; epoch++) {
            List<List<Example>> batches = buckets(trainEx, o.maxTokens, rng);
            Collections.shuffle(batches, rng);
            double epochLoss = 0;
            long epochTokens = 0;
            long windowStart = System.nanoTime();
            long windowTokens = 0;
            for (List<Example> b : batches) {
                if (System.nanoTime() > deadline) {
                    stop = "minutes";
                    break outer;
                }
                if (maxSteps > 0 && step >= maxSteps) {
                    stop = "max_steps";
                    break outer;
                }
                Tensor[] t = tensors(b, tok);
                model.zeroGrad();
                Tensor loss = model.loss(t[0], t[1], t[2], LABEL_SMOOTHING);
                double lv = loss.item();
                loss.backward();
                double norm = Clip.gradNorm(model.parameters(), 1.0);
                double lrNow = opt.lr();
                try (GradMode.Scope ignored = GradMode.noGrad()) {
                    opt.step();
                }
                schedule.step();
                step++;
                int n = countTokens(b);
                epochLoss += lv * n;
                epochTokens += n;
                windowTokens += n;
                if (step % 10 == 0) {
                    double secs = (System.nanoTime() - windowStart) / 1e9;
                    Map<String, Object> rec = new LinkedHashMap<>();
                    rec.put("step", step);
                    rec.put("epoch", epoch);
                    rec.put("loss", lv);
                    rec.put("lr", lrNow);
                    rec.put("grad_norm", norm);
                    rec.put("target_tokens_per_s", windowTokens / secs);
                    rec.put("elapsed_s", (System.nanoTime() - trainStart) / 1e9);
                    run.log(rec);
                    if (step % 50 == 0) {
                        System.out.println(String.format(Locale.ROOT,
                                "epoch %d step %d  loss %.3f  lr %.2e  %.0f target tokens/s  %.1f min", epoch + 1,
                                step, lv, lrNow, windowTokens / secs, (System.nanoTime() - trainStart) / 60e9));
                    }
                    windowStart = System.nanoTime();
                    windowTokens = 0;
                }
            }
            double minutes = (System.nanoTime() - trainStart) / 60e9;
            double val = loss(model, valBatches, tok);
            Map<String, Object> rec = new LinkedHashMap<>();
            rec.put("epoch", epoch + 1);
            rec.put("step", step);
            rec.put("train_loss", epochLoss / Math.max(1, epochTokens));
            rec.put("val_loss", val);
            List<String> bleuSources = valForBleu.stream().map(e -> trainPairs.get(e.index()).source()).toList();
            List<String> bleuRefs = valForBleu.stream().map(e -> trainPairs.get(e.index()).target()).toList();
            double valBleu = Bleu.corpusScore(translate(model, tok, bleuSources, 1, o.maxLen), bleuRefs).score();
            rec.put("val_bleu_greedy", valBleu);
            rec.put("train_minutes", minutes);
            run.log(rec);
            curve.add(rec);
            System.out.println(String.format(Locale.ROOT, "epoch %d done: train loss %.3f, validation loss %.3f, "
                    + "validation BLEU (greedy, %d pairs) %.2f, %.1f min", epoch + 1, epochLoss / Math.max(1, epochTokens),
                    val, valForBleu.size(), valBleu, minutes));
            run.saveModel(model); // a usable model after every epoch
        }
        double trainMinutes = (System.nanoTime() - trainStart) / 60e9;
        run.saveModel(model);

        System.out.println("decoding " + testPairs.size() + " held-out pairs (greedy and beam " + o.beam + ")...");
        List<String> sources = testPairs.stream().map(Pair::source).toList();
        List<String> refs = testPairs.stream().map(Pair::target).toList();
        long d0 = System.nanoTime();
        List<String> greedy = translate(model, tok, sources, 1, o.maxLen);
        double greedySeconds = (System.nanoTime() - d0) / 1e9;
        d0 = System.nanoTime();
        List<String> beam = translate(model, tok, sources, o.beam, o.maxLen);
        double beamSeconds = (System.nanoTime() - d0) / 1e9;
        Bleu.Score greedyBleu = Bleu.corpusScore(greedy, refs);
        Bleu.Score beamBleu = Bleu.corpusScore(beam, refs);

        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("test_bleu_greedy", greedyBleu.score());
        metrics.put("test_bleu_beam", beamBleu.score());
        metrics.put("bleu_greedy", greedyBleu.toString());
        metrics.put("bleu_beam", beamBleu.toString());
        metrics.put("test_pairs", testPairs.size());
        metrics.put("train_minutes", trainMinutes);
        metrics.put("steps", step);
        metrics.put("epochs_started", epoch + (stop.equals("epochs") ? 0 : 1));
        metrics.put("stop_reason", stop);
        metrics.put("decode_seconds_greedy", greedySeconds);
        metrics.put("decode_seconds_beam", beamSeconds);
        metrics.put("curve", curve);
        run.put("metrics", metrics);
        List<Map<String, Object>> samples = new ArrayList<>();
        for (int i = 0; i < Math.min(SAMPLES, testPairs.size()); i++) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("source", sources.get(i));
            s.put("reference", refs.get(i));
            s.put("hypothesis", beam.get(i));
            samples.add(s);
        }
        run.put("samples", samples);
        run.put("wall_time_s", (System.nanoTime() - wallStart) / 1e9);

        System.out.println(String.format(Locale.ROOT, "test BLEU greedy %.2f, beam %d %.2f (%d pairs, %.1f training "
                + "minutes, %d steps)", greedyBleu.score(), o.beam, beamBleu.score(), testPairs.size(), trainMinutes,
                step));
        System.out.println("  " + beamBleu);
        for (Map<String, Object> s : samples) {
            System.out.println("  src: " + s.get("source") + "\n  ref: " + s.get("reference") + "\n  hyp: "
                    + s.get("hypothesis"));
        }
        System.out.println("run folder: " + run.dir());
        return 0;
    }

    private static Example encode(Tokenizer tok, Pair p, int index, int maxLen, int[] truncated) {
        int[] src = tok.encode(p.source());
        int[] tgt = tok.encode(p.target());
        if (src.length > maxLen || tgt.length > maxLen - 1) {
            truncated[0]++;
            src = src.length > maxLen ? Arrays.copyOf(src, maxLen) : src;
            tgt = tgt.length > maxLen - 1 ? Arrays.copyOf(tgt, maxLen - 1) : tgt;
        }
        return new Example(src, tgt, index);
    }
}
