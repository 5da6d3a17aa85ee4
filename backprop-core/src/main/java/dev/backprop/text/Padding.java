package dev.backprop.text;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * How to make a {@link TokenBatch} from sequences of different lengths: optional bos and eos
 * around each sequence, truncation to a maximum length, and padding with the pad id.
 *
 * <pre>{@code
 * Padding padding = Padding.of(tok).withBos(tok.bosId()).withEos(tok.eosId()).withMaxLength(64);
 * TokenBatch batch = padding.encode(tok, List.of("a short one", "a somewhat longer sentence"));
 * batch.ids();          // (2, 64) int64: bos, ids..., eos, pad, pad, ...
 * batch.mask();         // (2, 64) float32: 1 for real tokens (bos and eos included), 0 for padding
 * batch.truncated();    // how many sequences were cut to fit 64
 * }</pre>
 *
 * <h2>Rules</h2>
 *
 * <ul>
 *   <li>Without a maximum length the batch is as long as its longest sequence (bos and eos
 *       included), at least 1; with one it is exactly {@code maxLength} long.
 *   <li>A sequence longer than {@code maxLength} minus the bos and eos it gets keeps its first
 *       tokens; bos and eos are always kept. {@link TokenBatch#truncated()} counts such sequences.
 *   <li>Padding goes after the tokens ({@link Side#RIGHT}, for encoders and teacher forcing) or
 *       before them ({@link Side#LEFT}, for batched generation, so that every row ends with its
 *       last real token).
 * </ul>
 *
 * @param padId the id that fills the padding, at least 0
 * @param bosId the id put before each sequence, or -1 for none
 * @param eosId the id put after each sequence, or -1 for none
 * @param maxLength the fixed batch length, or 0 to pad to the longest sequence
 * @param side where the padding goes
 */
public record Padding(int padId, int bosId, int eosId, int maxLength, Side side) {
    /** Where the padding goes. */
    public enum Side {
        /** After the tokens: {@code a b c <pad> <pad>}. */
        RIGHT,
        /** Before the tokens: {@code <pad> <pad> a b c}. */
        LEFT
    }

    /**
     * Checks the values.
     *
     * @throws IllegalArgumentException if the pad id is negative, bos or eos is below -1, the
     *     maximum length is negative, or it leaves no room once bos and eos are added
     */
    public Padding {
        if (padId < 0) {
            throw new IllegalArgumentException("the pad id must be at least 0, got " + padId + " (a tokenizer without a"
                    + " pad token has padId() -1: give it SpecialTokens with a pad token)");
        }
        if (bosId < -1 || eosId < -1) {
            throw new IllegalArgumentException("bos and eos ids must be -1 (none) or at least 0, got bos " + bosId
                    + ", eos " + eosId);
        }
        if (maxLength < 0) {
            throw new IllegalArgumentException("maxLength must be 0 (pad to the longest) or positive, got " + maxLength);
        }
        int specials = (bosId >= 0 ? 1 : 0) + (eosId >= 0 ? 1 : 0);
        if (maxLength > 0 && maxLength <= specials) {
            throw new IllegalArgumentException("maxLength " + maxLength + " leaves no room for tokens once bos and eos"
                    + " are added; expected more than " + specials);
        }
        Objects.requireNonNull(side, "side");
    }

    /** Padding with {@code padId} on the right, to the longest sequence, without bos or eos. */
    public static Padding of(int padId) {
        return new Padding(padId, -1, -1, 0, Side.RIGHT);
    }

    /**
     * Padding with the tokenizer's pad id on the right, to the longest sequence, without bos or eos
     * (add them with {@link #withBos} and {@link #withEos}).
     *
     * @throws IllegalArgumentException if the tokenizer has no pad token
     */
    public static Padding of(Tokenizer tokenizer) {
        return of(tokenizer.padId());
    }

    /** This padding with a bos id put before each sequence (-1: none). */
    public Padding withBos(int id) {
        return new Padding(padId, id, eosId, maxLength, side);
    }

    /** This padding with an eos id put after each sequence (-1: none). */
    public Padding withEos(int id) {
        return new Padding(padId, bosId, id, maxLength, side);
    }

    /** This padding to a fixed length, truncating longer sequences (0: to the longest). */
    public Padding withMaxLength(int length) {
        return new Padding(padId, bosId, eosId, length, side);
    }

    /** This padding on another side. */
    public Padding withSide(Side s) {
        return new Padding(padId, bosId, eosId, maxLength, s);
    }

    /**
     * Pads sequences of ids into a batch (see the class comment).
     *
     * @throws IllegalArgumentException if there are no sequences or an id is negative (naming the
     *     sequence and position)
     */
    public TokenBatch batch(List<int[]> sequences) {
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("no sequences to batch; expected at least one");
        }
        int b = sequences.size();
        int specials = (bosId >= 0 ? 1 : 0) + (eosId >= 0 ? 1 : 0);
        int room = maxLength > 0 ? maxLength - specials : Integer.MAX_VALUE;
        int[] lengths = new int[b];
        int truncated = 0;
        int longest = 1;
        for (int i = 0; i < b; i++) {
            int[] seq = sequences.get(i);
            for (int j = 0; j < seq.length; j++) {
                if (seq[j] < 0) {
                    throw new IllegalArgumentException("sequence " + i + " has id " + seq[j] + " at position " + j
                            + "; ids must be at least 0");
                }
            }
            if (seq.length > room) {
                truncated++;
            }
            lengths[i] = Math.min(seq.length, room) + specials;
            longest = Math.max(longest, lengths[i]);
        }
        int t = maxLength > 0 ? maxLength : longest;
        long[] ids = new long[b * t];
        float[] mask = new float[b * t];
        Arrays.fill(ids, padId);
        for (int i = 0; i < b; i++) {
            int[] seq = sequences.get(i);
            int at = i * t + (side == Side.LEFT ? t - lengths[i] : 0);
            Arrays.fill(mask, at, at + lengths[i], 1f);
            if (bosId >= 0) {
                ids[at++] = bosId;
            }
            for (int j = 0; j < lengths[i] - specials; j++) {
                ids[at++] = seq[j];
            }
            if (eosId >= 0) {
                ids[at] = eosId;
            }
        }
        return new TokenBatch(ids, mask, lengths, t, truncated, side == Side.LEFT);
    }

    /** Encodes texts with a tokenizer and pads them into a batch. */
    public TokenBatch encode(Tokenizer tokenizer, List<String> texts) {
        List<int[]> sequences = new ArrayList<>(texts.size());
        for (String text : texts) {
            sequences.add(tokenizer.encode(text));
        }
        return batch(sequences);
    }
}
