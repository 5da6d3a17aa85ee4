package dev.backprop.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.backprop.onnx.OnnxBertImport;
import dev.backprop.onnx.OnnxFormatException;
import dev.backprop.onnx.OnnxGraph;
import dev.backprop.onnx.OnnxModelReader;

/**
 * The ONNX reader and the BERT import on arbitrary bytes: an {@link OnnxFormatException} or a
 * model. Seeds: small models written by the exporter (an MLP, a one-layer GPT) and hand-made
 * malformed files (truncated, corrupted, a graph length beyond the file, an over-long varint).
 */
class OnnxFuzzTest {
    @FuzzTest(maxDuration = "20s")
    void read(byte[] data) {
        Fuzz.expect(() -> {
            OnnxGraph g = OnnxModelReader.read(data, "fuzz.onnx");
            OnnxBertImport.fromGraph(g); // these graphs are not BERT encoders: the import must say so clearly
        }, OnnxFormatException.class);
    }
}
