package dev.backprop.onnx;

import dev.backprop.io.Json;
import dev.backprop.io.SafeTensors;
import dev.backprop.models.CharLSTM;
import dev.backprop.models.GPT;
import dev.backprop.models.TextClassifier;
import dev.backprop.nn.Module;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Exports a model's weights as a safetensors file that PyTorch loads with
 * {@code model.load_state_dict(safetensors.torch.load_file(FILE), strict=True)}: the state dict
 * under PyTorch's keys (backprop's own keys are PyTorch's, so nothing is renamed: a
 * {@code Sequential} gives {@code 0.weight}, ..., GPT {@code wte.weight}, {@code blocks.0.qkv.weight},
 * ..., CharLSTM {@code lstm.weight_ih_l0}, ...), including BatchNorm's {@code running_mean},
 * {@code running_var} and {@code num_batches_tracked}, without the non-persistent buffers
 * (GPT's masks and positions), as PyTorch's {@code state_dict()}.
 *
 * <p>The metadata says how to build the PyTorch module: {@code format=pt},
 * {@code backprop.model} (the type), {@code backprop.architecture} (the module's printout, in
 * PyTorch's repr style) and, for GPT and CharLSTM, {@code backprop.config} (their sizes as JSON).
 */
public final class PyTorchExporter {
    private PyTorchExporter() {}

    /** Writes the state dict of {@code model} with the metadata above, atomically. */
    public static void export(Module model, Path file) throws IOException {
        SafeTensors.write(file, model.stateDict(), metadata(model));
    }

    /** The file's metadata: format, model type, architecture and, for the language models, their sizes. */
    public static Map<String, String> metadata(Module model) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("backprop.model", model.typeName());
        meta.put("backprop.architecture", model.toString());
        Map<String, Object> config = switch (model) {
            case GPT g -> {
                GPT.Config c = g.config();
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("type", "gpt");
                m.put("vocab_size", c.vocabSize());
                m.put("context_length", c.contextLength());
                m.put("n_layer", c.nLayer());
                m.put("n_head", c.nHead());
                m.put("d_model", c.dModel());
                m.put("mlp_hidden", c.mlpHidden());
                yield m;
            }
            case CharLSTM l -> {
                CharLSTM.Config c = l.config();
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("type", "lstm");
                m.put("vocab_size", c.vocabSize());
                m.put("embedding_dim", c.embeddingDim());
                m.put("hidden_size", c.hiddenSize());
                m.put("num_layers", c.numLayers());
                yield m;
            }
            case TextClassifier t -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("type", "text_cnn");
                m.putAll(t.config().toMap());
                yield m;
            }
            default -> null;
        };
        if (config != null) {
            meta.put("backprop.config", Json.write(config));
        }
        return meta;
    }
}
