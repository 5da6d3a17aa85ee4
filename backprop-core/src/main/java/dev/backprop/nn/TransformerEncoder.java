package dev.backprop.nn;

import dev.backprop.tensor.Tensor;
import java.util.function.IntFunction;

/**
 * A stack of encoder layers with an optional final layer norm, as {@code torch.nn.TransformerEncoder}:
 * sub-modules {@code layers.0}, {@code layers.1}, … and {@code norm}, so state-dict keys match
 * PyTorch's ({@code layers.0.self_attn.in_proj_weight}).
 *
 * <p>The layers come from a factory, one call per layer. PyTorch instead deep-copies one layer, so
 * its layers start with identical weights; to reproduce that, load layer 0's state dict into the
 * others ({@code layer(i).loadStateDict(layer(0).stateDict())}).
 *
 * <p>PyTorch's eval-mode fast path with a key padding mask ({@code enable_nested_tensor}) returns
 * zeros at padded positions; here every position is computed as in training mode, so outputs at
 * padded positions differ from that fast path (the others do not).
 */
public class TransformerEncoder extends Module {
    private final ModuleList layers;
    private final LayerNorm norm; // or null

    public TransformerEncoder(IntFunction<TransformerEncoderLayer> layerFactory, int numLayers) {
        this(layerFactory, numLayers, null);
    }

    /**
     * @param layerFactory builds layer {@code i} (0-based)
     * @param norm a final layer norm, as PyTorch's {@code norm} argument, or null
     */
    public TransformerEncoder(IntFunction<TransformerEncoderLayer> layerFactory, int numLayers, LayerNorm norm) {
        if (numLayers <= 0) {
            throw new IllegalArgumentException("TransformerEncoder: numLayers must be positive, got " + numLayers);
        }
        layers = registerModule("layers", new ModuleList());
        for (int i = 0; i < numLayers; i++) {
            layers.add(layerFactory.apply(i));
        }
        this.norm = norm == null ? null : registerModule("norm", norm);
    }

    @Override
    protected Tensor compute(Tensor src) {
        return encode(src, null, null, false);
    }

    /** Runs every layer with the same masks (see {@link TransformerEncoderLayer#forward}). */
    public Tensor forward(Tensor src, Tensor mask, Tensor srcKeyPaddingMask, boolean isCausal) {
        return traced(src, () -> encode(src, mask, srcKeyPaddingMask, isCausal));
    }

    private Tensor encode(Tensor src, Tensor mask, Tensor srcKeyPaddingMask, boolean isCausal) {
        Tensor x = src;
        for (int i = 0; i < layers.size(); i++) {
            x = layer(i).forward(x, mask, srcKeyPaddingMask, isCausal);
        }
        return norm == null ? x : norm.forward(x);
    }

    public TransformerEncoderLayer layer(int index) {
        return (TransformerEncoderLayer) layers.get(index);
    }

    public int numLayers() {
        return layers.size();
    }

    /** The final layer norm, or null. */
    public LayerNorm norm() {
        return norm;
    }
}
