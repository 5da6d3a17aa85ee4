package dev.backprop.models;

/**
 * A model of token sequences that can be fed tokens one piece at a time and says which token it
 * expects next: what {@link Sampler} needs to generate text. {@link GPT} (with a key/value cache)
 * and {@link CharLSTM} (carrying its hidden state) implement it.
 *
 * <pre>{@code
 * LanguageModel.Decoding d = model.decoding();
 * float[] logits = d.feed(promptIds);       // the logits of the token after the prompt
 * logits = d.feed(nextId);                  // ... and after one more token
 * }</pre>
 */
public interface LanguageModel {

    /** Tokens the model knows: the length of every logits array. */
    int vocabSize();

    /**
     * The most tokens the model looks at to predict the next one: a transformer's context length,
     * or {@link Integer#MAX_VALUE} for a recurrent model, whose state summarises all of the past.
     */
    int contextLength();

    /** A new, empty decoding session (no tokens seen yet). */
    Decoding decoding();

    /**
     * One decoding session: the tokens fed so far and whatever the model keeps of them (a
     * transformer's keys and values, a recurrent model's state). Forward only, no gradients. Not
     * thread-safe; sessions of the same model are independent.
     */
    interface Decoding {
        /**
         * Appends {@code tokens} (at least one) to the sequence and returns the logits of the token
         * that follows them, one per vocabulary entry.
         *
         * @throws IllegalArgumentException if {@code tokens} is empty or holds an id outside
         *     {@code [0, vocabSize())}
         */
        float[] feed(long... tokens);

        /** How many tokens were fed so far. */
        long position();
    }
}
