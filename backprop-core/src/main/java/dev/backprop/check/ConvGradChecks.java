package dev.backprop.check;

import dev.backprop.nn.AdaptiveAvgPool2d;
import dev.backprop.nn.AvgPool2d;
import dev.backprop.nn.Conv1d;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.ConvTranspose2d;
import dev.backprop.nn.MaxPool2d;
import dev.backprop.nn.Module;
import dev.backprop.ops.Conv;
import dev.backprop.ops.Pool;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Gradient checks of the convolution and pooling ops (and of their layers, for the input
 * gradient) on small inputs: stride, padding, dilation, groups, rectangular kernels, output
 * padding, ceil mode, unbatched and non-contiguous inputs. Max pooling reads a shuffled grid of
 * values 0.1 apart, so no perturbation of the check can change a window's maximum.
 */
public final class ConvGradChecks {
    private ConvGradChecks() {}

    /** Every case, in a stable order. */
    public static List<GradCheckCase> all() {
        Generator g = new Generator(2025);
        List<GradCheckCase> cases = new ArrayList<>();
        // conv1d
        cases.add(of("conv1d (stride 2, padding 1, bias)",
                in -> Conv.conv1d(in.get(0), in.get(1), in.get(2), 2, 1, 1, 1),
                normal(g, 2, 3, 9), normal(g, 4, 3, 3), normal(g, 4)));
        cases.add(of("conv1d (dilation 2, groups 2, no bias)",
                in -> Conv.conv1d(in.get(0), in.get(1), null, 1, 2, 2, 2),
                normal(g, 2, 4, 7), normal(g, 6, 2, 3)));
        cases.add(of("conv1d (unbatched)", in -> Conv.conv1d(in.get(0), in.get(1), in.get(2), 1, 0, 1, 1),
                normal(g, 3, 6), normal(g, 2, 3, 2), normal(g, 2)));
        // conv2d
        cases.add(of("conv2d (3x3, padding 1, bias)", in -> Conv.conv2d(in.get(0), in.get(1), in.get(2), 1, 1, 1, 1),
                normal(g, 2, 3, 5, 5), normal(g, 4, 3, 3, 3), normal(g, 4)));
        cases.add(of("conv2d (2x3 kernel, stride (2, 1), padding (1, 0))", in -> Conv.conv2d(in.get(0), in.get(1),
                in.get(2), new int[] {2, 1}, new int[] {1, 0}, new int[] {1}, 1),
                normal(g, 2, 2, 6, 5), normal(g, 3, 2, 2, 3), normal(g, 3)));
        cases.add(of("conv2d (dilation 2, groups 2, padding 2, no bias)", in -> Conv.conv2d(in.get(0), in.get(1), null,
                1, 2, 2, 2), normal(g, 1, 4, 5, 5), normal(g, 6, 2, 3, 3)));
        cases.add(of("conv2d (depthwise, stride 2)", in -> Conv.conv2d(in.get(0), in.get(1), in.get(2), 2, 1, 1, 3),
                normal(g, 2, 3, 6, 6), normal(g, 3, 1, 3, 3), normal(g, 3)));
        cases.add(of("conv2d (1x1)", in -> Conv.conv2d(in.get(0), in.get(1), in.get(2)),
                normal(g, 2, 3, 4, 3), normal(g, 5, 3, 1, 1), normal(g, 5)));
        cases.add(of("conv2d (unbatched)", in -> Conv.conv2d(in.get(0), in.get(1), in.get(2), 1, 1, 1, 1),
                normal(g, 2, 4, 4), normal(g, 3, 2, 3, 3), normal(g, 3)));
        cases.add(of("conv2d (permuted input, transposed weight views)", in -> Conv.conv2d(
                in.get(0).permute(0, 3, 1, 2), in.get(1).transpose(0, 1), null, 1, 0, 1, 1),
                normal(g, 2, 5, 4, 3), normal(g, 3, 2, 2, 2)));
        // conv_transpose2d
        cases.add(of("conv_transpose2d (stride 1, bias)", in -> Conv.convTranspose2d(in.get(0), in.get(1), in.get(2),
                1, 0, 0, 1, 1), normal(g, 2, 3, 3, 3), normal(g, 3, 2, 3, 3), normal(g, 2)));
        cases.add(of("conv_transpose2d (stride 2, padding 1, output_padding 1)", in -> Conv.convTranspose2d(in.get(0),
                in.get(1), in.get(2), 2, 1, 1, 1, 1), normal(g, 2, 3, 3, 3), normal(g, 3, 2, 3, 3), normal(g, 2)));
        cases.add(of("conv_transpose2d (groups 2, dilation 2, stride (1, 2), 2x3 kernel)", in -> Conv.convTranspose2d(
                in.get(0), in.get(1), null, new int[] {1, 2}, new int[] {1, 0}, new int[] {0, 1}, 2, new int[] {2}),
                normal(g, 1, 4, 3, 3), normal(g, 4, 2, 2, 3)));
        cases.add(of("conv_transpose2d (1x1, unbatched)", in -> Conv.convTranspose2d(in.get(0), in.get(1), in.get(2),
                1, 0, 0, 1, 1), normal(g, 3, 2, 3), normal(g, 3, 4, 1, 1), normal(g, 4)));
        // max pooling
        cases.add(of("max_pool2d (2)", in -> Pool.maxPool2d(in.get(0), 2), grid(g, 2, 2, 4, 4)));
        cases.add(of("max_pool2d (3, stride 2, padding 1)", in -> Pool.maxPool2d(in.get(0), 3, 2, 1),
                grid(g, 2, 2, 5, 5)));
        cases.add(of("max_pool2d (dilation 2, ceil_mode, stride (2, 1))", in -> Pool.maxPool2d(in.get(0),
                new int[] {2, 3}, new int[] {2, 1}, new int[] {1, 1}, new int[] {2}, true), grid(g, 1, 2, 6, 7)));
        cases.add(of("max_pool2d (unbatched, ceil_mode)", in -> Pool.maxPool2d(in.get(0), new int[] {2},
                new int[] {2}, new int[] {0}, new int[] {1}, true), grid(g, 2, 5, 5)));
        cases.add(of("max_pool1d (3, stride 2, padding 1)", in -> Pool.maxPool1d(in.get(0), 3, 2, 1, 1, false),
                grid(g, 2, 3, 8)));
        // average pooling
        cases.add(of("avg_pool2d (2)", in -> Pool.avgPool2d(in.get(0), 2), normal(g, 2, 2, 4, 4)));
        cases.add(of("avg_pool2d (3, stride 2, padding 1, count_include_pad)", in -> Pool.avgPool2d(in.get(0), 3, 2, 1),
                normal(g, 2, 2, 5, 5)));
        cases.add(of("avg_pool2d (3, stride 2, padding 1, ceil_mode, exclude pad)", in -> Pool.avgPool2d(in.get(0),
                new int[] {3}, new int[] {2}, new int[] {1}, true, false, 0), normal(g, 1, 2, 6, 6)));
        cases.add(of("avg_pool2d (2x3, divisor_override 4)", in -> Pool.avgPool2d(in.get(0), new int[] {2, 3}, null,
                new int[] {0}, false, true, 4), normal(g, 2, 1, 4, 6)));
        cases.add(of("avg_pool1d (4, stride 3, padding 2, ceil_mode)", in -> Pool.avgPool1d(in.get(0), 4, 3, 2, true,
                true), normal(g, 2, 2, 9)));
        cases.add(of("adaptive_avg_pool2d (5x7 -> 3x4, overlapping bins)",
                in -> Pool.adaptiveAvgPool2d(in.get(0), 3, 4),
                normal(g, 2, 2, 5, 7)));
        cases.add(of("adaptive_avg_pool2d (global)", in -> Pool.adaptiveAvgPool2d(in.get(0), 1),
                normal(g, 2, 3, 3, 4)));
        // layers, input gradient (their parameter gradients are the ops' weight and bias gradients above)
        Generator init = new Generator(7);
        Module conv1 = new Conv1d(2, 3, 3, 1, 1, 1, 1, true, init);
        Module conv = new Conv2d(3, 4, new int[] {3}, new int[] {1}, new int[] {1}, new int[] {1}, 1, true, init);
        Module pool = new AvgPool2d(2);
        Module deconv = new ConvTranspose2d(4, 2, new int[] {3}, new int[] {2}, new int[] {1}, new int[] {1}, 1, true,
                new int[] {1}, init);
        Module gap = new AdaptiveAvgPool2d(2);
        cases.add(of("Conv1d layer", in -> conv1.forward(in.get(0)), normal(g, 2, 2, 5)));
        cases.add(of("Conv2d -> tanh -> AvgPool2d -> ConvTranspose2d -> AdaptiveAvgPool2d layers",
                in -> gap.forward(deconv.forward(pool.forward(conv.forward(in.get(0)).tanh()))),
                normal(g, 2, 3, 6, 6)));
        Module max = new MaxPool2d(new int[] {3, 2}, new int[] {2}, new int[] {1}, new int[] {1}, false);
        cases.add(of("MaxPool2d layer", in -> max.forward(in.get(0)), grid(g, 2, 2, 5, 4)));
        return cases;
    }

    private static GradCheckCase of(String name, Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        return GradCheckCase.ofFunction(name, f, inputs);
    }

    private static Tensor normal(Generator g, int... shape) {
        return OpGradChecks.normal(g, shape);
    }

    private static Tensor grid(Generator g, int... shape) {
        return OpGradChecks.grid(g, shape);
    }
}
