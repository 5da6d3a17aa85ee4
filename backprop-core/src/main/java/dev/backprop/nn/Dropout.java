package dev.backprop.nn;

import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;

/**
 * Inverted dropout: in training mode each element is zeroed with probability p and the survivors
 * are scaled by 1/(1-p); in eval mode it is the identity. Masks come from a seeded generator.
 */
public class Dropout extends Module {
    private final float p;
    private final Generator generator;

    public Dropout() {
        this(0.5f);
    }

    /** Dropout drawing its masks from the default generator. */
    public Dropout(float p) {
        this(p, null);
    }

    /** Dropout drawing its masks from {@code generator} (null: the default generator at each call). */
    public Dropout(float p, Generator generator) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("Dropout: p must be in [0, 1], got " + p);
        }
        this.p = p;
        this.generator = generator;
    }

    @Override
    protected Tensor compute(Tensor x) {
        return F.dropout(x, p, isTraining(), generator == null ? Generator.defaultGenerator() : generator);
    }

    public float p() {
        return p;
    }

    @Override
    protected String extraRepr() {
        return "p=" + p;
    }
}
