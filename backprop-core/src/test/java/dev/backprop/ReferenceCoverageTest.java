package dev.backprop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.backprop.ops.ReferenceCases;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Every op of ../shared/reference/INDEX.json is run by a test: this fails when a new case
 * appears there that no test handles yet.
 */
class ReferenceCoverageTest {
    private static final Map<String, String> COVERED_BY = Map.ofEntries(
            Map.entry("ops", "dev.backprop.ops.ReferenceOpsTest"),
            Map.entry("linear, batch_norm1d, batch_norm2d, layer_norm, embedding", "dev.backprop.nn.ReferenceLayersTest"),
            Map.entry("conv1d, conv2d, conv_transpose2d, max_pool2d, avg_pool2d, adaptive_avg_pool2d",
                    "dev.backprop.nn.ConvPoolTest"),
            Map.entry("rnn, lstm, gru", "dev.backprop.nn.RecurrentTest"),
            Map.entry("multihead_attention, transformer_encoder_layer", "dev.backprop.nn.AttentionTest"),
            Map.entry("optimizer, lr_schedule, clip_grad_norm", "dev.backprop.optim.ReferenceOptimTest"));

    private static final Set<String> OPS = Set.of("add", "sub", "mul", "div", "pow", "affine_scalar", "exp", "log",
            "sqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "leaky_relu", "elu", "gelu", "gelu_tanh", "silu",
            "softplus", "clamp", "sum", "mean", "max", "var", "logsumexp", "softmax", "log_softmax", "matmul",
            "permute", "transpose_reshape", "slice", "cat", "stack", "gather", "index_select", "where", "masked_fill",
            "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy",
            "binary_cross_entropy_with_logits");

    @Test
    void everyReferenceOpHasATest() throws ClassNotFoundException {
        Set<String> handled = new TreeSet<>(OPS);
        for (Map.Entry<String, String> e : COVERED_BY.entrySet()) {
            Class.forName(e.getValue()); // the test class exists
            if (!e.getKey().equals("ops")) {
                handled.addAll(Set.of(e.getKey().split(", ")));
            }
        }
        Set<String> inIndex = new TreeSet<>();
        ReferenceCases.all().forEach(c -> inIndex.add(c.op()));
        assertEquals(inIndex, handled, "reference ops without a test (left) or tests for ops the index lacks");
    }
}
