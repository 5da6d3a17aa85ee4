package dev.backprop.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.backprop.data.DataException;
import dev.backprop.data.Idx;

/** The IDX reader (plain and gzip) on arbitrary bytes: a {@link DataException} or a tensor. */
class IdxFuzzTest {
    @FuzzTest(maxDuration = "20s")
    void read(byte[] data) {
        var file = Fuzz.file("data.idx", data);
        Fuzz.expect(() -> Idx.read(file), DataException.class);
        Fuzz.expect(() -> Idx.labels(file), DataException.class);
    }
}
