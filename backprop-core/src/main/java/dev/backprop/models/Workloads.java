package dev.backprop.models;

import dev.backprop.nn.Activation;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.F;
import dev.backprop.nn.Flatten;
import dev.backprop.nn.Linear;
import dev.backprop.nn.MaxPool2d;
import dev.backprop.nn.Module;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.AdamW;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.SGD;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/**
 * The models and optimizers of the reference workloads W1–W4 (WORKLOADS.md), mirroring the
 * PyTorch reference {@code bench/torch/models.py} function by function ({@code w1_model} is
 * {@link #w1Model()}, {@code seq_loss} is {@link #sequenceLoss}, ...).
 *
 * <table>
 *   <caption>The workloads</caption>
 *   <tr><th>id</th><th>model</th><th>optimizer</th><th>batch</th></tr>
 *   <tr><td>W1</td><td>Linear(784,512)-ReLU-Linear(512,256)-ReLU-Linear(256,10)</td>
 *       <td>Adam(lr 1e-3)</td><td>128 × 784</td></tr>
 *   <tr><td>W2</td><td>Conv2d(1,32,3,pad 1)-ReLU-MaxPool(2)-Conv2d(32,64,3,pad 1)-ReLU-MaxPool(2)-Flatten-
 *       Linear(3136,128)-ReLU-Linear(128,10)</td><td>SGD(lr 0.01, momentum 0.9)</td><td>64 × 1 × 28 × 28</td></tr>
 *   <tr><td>W3</td><td>{@link GPT} with {@link GPT.Config#w3()}</td>
 *       <td>AdamW(lr 1e-3, betas 0.9/0.99, weight decay 0.1 on every parameter); clip grad norm 1.0</td>
 *       <td>12 × 64 tokens</td></tr>
 *   <tr><td>W4</td><td>{@link CharLSTM} with {@link CharLSTM.Config#w4()}</td>
 *       <td>Adam(lr 1e-3); clip grad norm 1.0</td><td>32 × 64 tokens</td></tr>
 * </table>
 *
 * <p>W1 and W2 are {@link Sequential}s with PyTorch's keys ({@code 0.weight}, {@code 2.weight},
 * ...); W1 takes flat (N, 784) inputs, as the reference (no Flatten in front). Models use
 * PyTorch's default initialisation except W3 (GPT-2's); the {@code Generator} forms draw it from
 * the given generator, the others from the default one.
 */
public final class Workloads {
    private Workloads() {}

    /** The vocabulary of the character workloads W3 and W4 (tiny Shakespeare's 65 characters). */
    public static final int VOCAB = 65;

    /** The context (sequence) length of W3 and W4. */
    public static final int CONTEXT = 64;

    /** The gradient-norm clip of W3 and W4 ({@code Clip.gradNorm(params, 1.0)} before each step). */
    public static final double CLIP_GRAD_NORM = 1.0;

    // ------------------------------------------------------------------ W1 mlp

    /** W1: Linear(784,512)-ReLU-Linear(512,256)-ReLU-Linear(256,10), PyTorch's default initialisation. */
    public static Sequential w1Model() {
        return new Sequential(
                new Linear(784, 512), new Activation.ReLU(),
                new Linear(512, 256), new Activation.ReLU(),
                new Linear(256, 10));
    }

    /** W1's optimizer: Adam(lr 1e-3), PyTorch's other defaults. */
    public static Optimizer w1Optimizer(Module model) {
        return new Adam(model.parameters(), 1e-3);
    }

    // ------------------------------------------------------------------ W2 cnn

    /** W2: the two-convolution CNN for (N, 1, 28, 28) images, PyTorch's default initialisation. */
    public static Sequential w2Model() {
        return new Sequential(
                new Conv2d(1, 32, 3, 1, 1), new Activation.ReLU(), new MaxPool2d(2),
                new Conv2d(32, 64, 3, 1, 1), new Activation.ReLU(), new MaxPool2d(2),
                new Flatten(),
                new Linear(3136, 128), new Activation.ReLU(),
                new Linear(128, 10));
    }

    /** W2's optimizer: SGD(lr 0.01, momentum 0.9). */
    public static Optimizer w2Optimizer(Module model) {
        return new SGD(model.parameters(), 0.01, 0.9);
    }

    // ------------------------------------------------------------------ W3 gpt

    /** W3: {@link GPT} with {@link GPT.Config#w3()}, initialised from the default generator. */
    public static GPT w3Model() {
        return new GPT(GPT.Config.w3());
    }

    /** W3 initialised from {@code gen}. */
    public static GPT w3Model(Generator gen) {
        return new GPT(GPT.Config.w3(), gen);
    }

    /** W3's optimizer: AdamW(lr 1e-3, betas (0.9, 0.99), eps 1e-8, weight decay 0.1 on every parameter). */
    public static Optimizer w3Optimizer(Module model) {
        return w3Optimizer(model, 1e-3);
    }

    /** W3's optimizer with another learning rate (the quality run schedules it). */
    public static Optimizer w3Optimizer(Module model, double lr) {
        return new AdamW(model.parameters(), lr, 0.9, 0.99, 1e-8, 0.1);
    }

    // ------------------------------------------------------------------ W4 lstm

    /** W4: {@link CharLSTM} with {@link CharLSTM.Config#w4()}, initialised from the default generator. */
    public static CharLSTM w4Model() {
        return new CharLSTM(CharLSTM.Config.w4());
    }

    /** W4 initialised from {@code gen}. */
    public static CharLSTM w4Model(Generator gen) {
        return new CharLSTM(CharLSTM.Config.w4(), gen);
    }

    /** W4's optimizer: Adam(lr 1e-3). */
    public static Optimizer w4Optimizer(Module model) {
        return new Adam(model.parameters(), 1e-3);
    }

    // ------------------------------------------------------------------ losses

    /**
     * Cross-entropy at every position of a sequence model's output, averaged over all B·T
     * positions: logits (B, T, V), int64 targets (B, T). The reference's {@code seq_loss}:
     * {@code cross_entropy(logits.reshape(-1, V), y.reshape(-1))}.
     */
    public static Tensor sequenceLoss(Tensor logits, Tensor targets) {
        if (logits.dim() != 3 || targets.dtype() != DType.INT64 || targets.dim() != 2
                || targets.size(0) != logits.size(0) || targets.size(1) != logits.size(1)) {
            throw new IllegalArgumentException("sequenceLoss: expected logits (B, T, V) and int64 targets (B, T), got "
                    + Shape.str(logits.shape()) + " and " + targets.dtype().torchName() + " "
                    + Shape.str(targets.shape()));
        }
        int v = logits.size(2);
        return F.crossEntropy(logits.reshape(-1, v), targets.reshape(-1));
    }
}
