package dev.backprop.models;

import static dev.backprop.ops.ReferenceCases.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.nn.Module;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * GPT and CharLSTM against PyTorch (src/test/python/models_reference.py running models.py): the
 * PyTorch state dict loads strictly, and logits, sequence loss and the gradient of every
 * parameter agree within the shared reference tolerance.
 */
class ModelsReferenceTest {

    @TestFactory
    Stream<DynamicTest> pytorchReferenceCases() {
        List<ModelReferences.Case> cases = ModelReferences.cases();
        assertEquals(List.of("gpt_small", "gpt_small_full_context", "char_lstm_small"),
                cases.stream().map(ModelReferences.Case::name).toList(), "reference-models cases");
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> check(c)));
    }

    static Module build(ModelReferences.Case c) {
        return switch (c.model()) {
            // models.GPT(vocab, ctx, n_layer, n_head, d) has an MLP of 4·d
            case "gpt" -> new GPT(new GPT.Config(c.arg("vocab"), c.arg("ctx"), c.arg("n_layer"), c.arg("n_head"),
                    c.arg("d"), 4 * c.arg("d")));
            case "char_lstm" -> new CharLSTM(new CharLSTM.Config(c.arg("vocab"), c.arg("emb"), c.arg("hidden"),
                    c.arg("layers")));
            default -> throw new IllegalArgumentException(c.model());
        };
    }

    private static void check(ModelReferences.Case c) {
        Module model = build(c);
        assertEquals(c.stateDictKeys(), new ArrayList<>(model.stateDict().keySet()), "state-dict keys and order");
        model.loadStateDict(c.stateDict());

        Tensor idx = c.get("in.idx");
        Tensor logits = model.forward(idx);
        assertClose(c.name() + " logits", logits, c.get("out.logits"));
        Tensor loss = Workloads.sequenceLoss(logits, c.get("in.targets"));
        assertEquals(0, loss.dim(), "the loss is a scalar");
        assertClose(c.name() + " loss", loss.reshape(1), c.get("out.loss"));

        loss.backward();
        Map<String, Tensor> params = model.namedParameters();
        int checked = 0;
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            assertClose(c.name() + " grad " + e.getKey(), e.getValue().grad(), c.get("grad.param." + e.getKey()));
            checked++;
        }
        long expectedGrads = c.tensors().keySet().stream().filter(k -> k.startsWith("grad.param.")).count();
        assertEquals(expectedGrads, checked, "every PyTorch parameter gradient was compared");
        assertTrue(checked > 0);
    }
}
