package dev.backprop.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.autograd.GradMode;
import dev.backprop.autograd.Node;
import dev.backprop.nn.LSTM;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link CharLSTM}'s state: the state-in/state-out forward continues a sequence exactly, and with
 * {@code carryState} (truncated BPTT) the state is carried between batches but the graph, and so
 * the gradient, stops at the batch border.
 */
class CharLSTMStateTest {
    private static final CharLSTM.Config SMALL = new CharLSTM.Config(10, 6, 8, 2);

    private static Tensor ids(long... v) {
        return Tensor.ofLongs(v, 1, v.length);
    }

    @Test
    void twoChunksFromTheCarriedStateEqualOneForwardOverTheWholeSequence() {
        CharLSTM m = new CharLSTM(SMALL, new Generator(1));
        Tensor idx = Tensor.randint(new Generator(2), 0, 10, 3, 12); // 3 streams of 12 tokens
        Tensor whole = m.forward(idx, null).logits();
        CharLSTM.Output first = m.forward(idx.slice(1, 0, 5), null);
        CharLSTM.Output second = m.forward(idx.slice(1, 5, 12), first.state());
        assertArrayEquals(new int[] {2, 3, 8}, first.state().h().shape(), "(numLayers, B, hidden)");
        assertTrue(whole.slice(1, 0, 5).allClose(first.logits(), 1e-5, 1e-6));
        assertTrue(whole.slice(1, 5, 12).allClose(second.logits(), 1e-5, 1e-6));
        assertTrue(m.forward(idx, null).logits().allClose(m.forward(idx), 0, 0), "null state is the zero state");
    }

    @Test
    void carriedStateContinuesThePreviousBatchDetached() {
        CharLSTM m = new CharLSTM(SMALL, new Generator(3)).carryState(true);
        m.train();
        Tensor a = Tensor.randint(new Generator(4), 0, 10, 2, 6);
        Tensor b = Tensor.randint(new Generator(5), 0, 10, 2, 6);
        assertNull(m.carriedState(), "starts from zeros");
        Tensor la = m.forward(a);
        LSTM.State afterA = m.carriedState();
        assertNotNull(afterA);
        assertFalse(afterA.h().requiresGrad() || afterA.c().requiresGrad(), "the carried state is detached");
        assertNull(afterA.h().gradFn());
        Tensor lb = m.forward(b);
        CharLSTM.Output expected = m.forward(b, afterA);
        assertTrue(expected.logits().allClose(lb, 0, 0), "batch b starts where batch a ended");
        assertTrue(m.forward(a, null).logits().allClose(la, 0, 0), "the first batch started from zeros");
        // eval mode: a zero state, and the carried one is left alone
        LSTM.State afterB = m.carriedState();
        m.eval();
        assertTrue(m.forward(b).allClose(m.forward(b, null).logits(), 0, 0));
        assertSame(afterB, m.carriedState());
        m.train();
        m.resetState();
        assertNull(m.carriedState());
        assertTrue(m.forward(b).allClose(m.forward(b, null).logits(), 0, 0), "after reset: zeros again");
        // a batch of another size cannot continue these streams
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> m.forward(Tensor.randint(new Generator(6), 0, 10, 3, 6)));
        assertTrue(e.getMessage().contains("carried state holds 2 streams but this batch has 3 rows")
                && e.getMessage().contains("resetState()"), e.getMessage());
    }

    /** Every tensor reachable backwards from {@code root} through the autograd graph. */
    private static Set<Tensor> graph(Tensor root) {
        Set<Tensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Set<Node> nodes = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Tensor> todo = new ArrayDeque<>(List.of(root));
        while (!todo.isEmpty()) {
            Tensor t = todo.pop();
            if (!seen.add(t) || t.gradFn() == null || !nodes.add(t.gradFn())) {
                continue;
            }
            for (int i = 0; i < t.gradFn().numInputs(); i++) {
                if (t.gradFn().input(i) != null) {
                    todo.push(t.gradFn().input(i));
                }
            }
        }
        return seen;
    }

    @Test
    void theGradientDoesNotFlowIntoThePreviousChunk() {
        CharLSTM m = new CharLSTM(SMALL, new Generator(7)).carryState(true);
        m.train();
        List<Tensor> embedded = new ArrayList<>(); // the embedding output of each forward
        m.emb().registerForwardHook((module, in, out) -> embedded.add(out));
        // token 9 only in the first chunk, token 0 only in the second
        Tensor first = ids(9, 9, 1, 2, 9, 3);
        Tensor second = ids(0, 4, 5, 0, 6, 7);
        Tensor logits1 = m.forward(first);
        Tensor logits2 = m.forward(second);
        Tensor loss2 = logits2.sum();
        Set<Tensor> reachable = graph(loss2);
        assertTrue(reachable.contains(embedded.get(1)), "the second chunk's own graph");
        assertFalse(reachable.contains(embedded.get(0)), "the first chunk's embedding is not in the second's graph");
        assertFalse(reachable.contains(logits1));
        loss2.backward();
        Tensor g = m.emb().weight().grad();
        assertEquals(0f, g.select(0, 9).abs().sum().item(), "no gradient reaches the tokens of the first chunk");
        assertTrue(g.select(0, 0).abs().sum().item() > 0, "the second chunk's tokens get one");

        // the control: with the state passed on attached, the same gradient does reach the first chunk
        CharLSTM n = new CharLSTM(SMALL, new Generator(7));
        CharLSTM.Output o1 = n.forward(first, null);
        n.forward(second, o1.state()).logits().sum().backward();
        assertTrue(n.emb().weight().grad().select(0, 9).abs().sum().item() > 0,
                "without detaching, backpropagation runs through the previous chunk");
    }

    @Test
    void decodingCarriesTheStateToken() {
        CharLSTM m = new CharLSTM(SMALL, new Generator(8));
        long[] seq = {3, 1, 4, 1, 5, 9, 2, 6};
        Tensor full = GradMode.noGrad(() -> m.forward(ids(seq)));
        LanguageModel.Decoding d = m.decoding();
        float[] logits = d.feed(3, 1, 4);
        assertTrue(Tensor.of(logits, 10).allClose(full.select(1, 2).reshape(-1), 1e-5, 1e-6));
        for (int i = 3; i < seq.length; i++) {
            logits = d.feed(seq[i]);
            assertTrue(Tensor.of(logits, 10).allClose(full.select(1, i).reshape(-1), 1e-5, 1e-6), "token " + i);
        }
        assertEquals(Integer.MAX_VALUE, m.contextLength());
        assertEquals(8, d.position());
        assertThrows(IllegalArgumentException.class, () -> d.feed(10));
    }
}
