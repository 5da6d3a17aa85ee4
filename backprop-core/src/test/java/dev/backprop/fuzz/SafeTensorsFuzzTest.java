package dev.backprop.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.backprop.io.SafeTensors;
import dev.backprop.io.SafeTensorsException;

/** The safetensors reader on arbitrary bytes: a {@link SafeTensorsException} or a valid result. */
class SafeTensorsFuzzTest {
    @FuzzTest(maxDuration = "20s")
    void read(byte[] data) {
        Fuzz.expect(() -> {
            SafeTensors.Contents c = SafeTensors.read(data);
            // what was read must write and read back to the same tensors
            SafeTensors.Contents again = SafeTensors.read(SafeTensors.toBytes(c.tensors(), c.metadata()));
            if (!again.tensors().keySet().equals(c.tensors().keySet())) {
                throw new AssertionError("round trip changed the tensor names");
            }
        }, SafeTensorsException.class);
    }
}
