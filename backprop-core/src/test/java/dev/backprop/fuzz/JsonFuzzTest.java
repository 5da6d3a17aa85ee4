package dev.backprop.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.backprop.io.Json;
import dev.backprop.io.JsonException;
import dev.backprop.train.RunFolder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The JSON parser of run manifests, configs, tokenizer files and safetensors headers, on arbitrary
 * bytes: a {@link JsonException} with an offset, or a value that writes and parses back equal; and
 * a run manifest's artifact checks ({@link RunFolder#verifyArtifacts}) on the same bytes.
 */
class JsonFuzzTest {
    @FuzzTest(maxDuration = "20s")
    void parse(byte[] data) {
        Fuzz.expect(() -> {
            Object v = Json.parse(data);
            Object again = Json.parse(Json.write(v));
            if (!Objects.equals(String.valueOf(v), String.valueOf(again))) {
                throw new AssertionError("write/parse round trip changed the value: " + v + " -> " + again);
            }
        }, JsonException.class, NonFiniteWrite.class);
        String text = new String(data, StandardCharsets.UTF_8);
        Fuzz.expect(() -> Json.parse(text, 8), JsonException.class);
        Fuzz.expect(() -> Json.parseObject(text), JsonException.class);
        // a run's manifest as eval/predict read it before loading the run
        java.nio.file.Path manifest = Fuzz.file("manifest.json", data);
        Fuzz.expect(() -> RunFolder.verifyArtifacts(manifest.getParent()), IllegalArgumentException.class,
                java.io.IOException.class);
    }

    /** Placeholder type: nothing else is allowed. */
    private static final class NonFiniteWrite extends RuntimeException {
        private static final long serialVersionUID = 1L;
    }
}
