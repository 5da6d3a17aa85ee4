package dev.backprop.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.data.Batch;
import dev.backprop.data.TensorDataset;
import dev.backprop.io.Json;
import dev.backprop.nn.F;
import dev.backprop.nn.Module;
import dev.backprop.optim.Adam;
import dev.backprop.optim.SGD;
import dev.backprop.train.Evaluation;
import dev.backprop.train.RunFolder;
import dev.backprop.train.RunReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Local SGD, the run folder and diagnostics of a Spark run, and the data helpers. */
class LocalSgdAndRunTest {

    @TempDir
    Path tmp;

    private static TensorDataset dataset(ExampleBlock b) {
        int[] all = new int[b.size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        Batch batch = b.batch(all, 0, all.length);
        return new TensorDataset(batch.inputs(), batch.targets());
    }

    @Test
    void localSgdWithOneLocalStepIsSynchronousSgd() {
        // plain SGD, equal shards: averaging the models after one step each = one step on the summed gradient
        JavaSparkContext sc = LocalSpark.get();
        JavaRDD<ExampleBlock> rdd = sc.parallelize(TestData.blocks(4, 48, 4), 4);
        Module init = TestData.model(14);
        OptimizerFactory sgd = m -> new SGD(m.parameters(), 0.2);
        SparkTrainer sync = SparkTrainer.builder(sc, TestData::model, sgd, F::crossEntropy)
                .initialModel(TestData.copy(init)).globalBatchSize(64).epochs(2).seed(3).build();
        sync.fit(rdd, null);
        SparkTrainer local = SparkTrainer.builder(sc, TestData::model, sgd, F::crossEntropy)
                .initialModel(TestData.copy(init)).strategy(SparkTrainer.Strategy.LOCAL_SGD).localSteps(1)
                .globalBatchSize(64).epochs(2).seed(3).build();
        SparkHistory h = local.fit(rdd, null);
        assertEquals(6, h.steps());
        float[] a = TestData.weights(sync.model());
        float[] b = TestData.weights(local.model());
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], 1e-5, "weight " + i);
        }
    }

    @Test
    void localSgdLearnsAndWritesARunFolder() throws Exception {
        JavaSparkContext sc = LocalSpark.get();
        JavaRDD<ExampleBlock> rdd = sc.parallelize(TestData.blocks(2, 1024, 5), 2);
        TensorDataset test = dataset(TestData.block(1000, 99));
        RunFolder run = RunFolder.create(tmp, "spark-test");
        SparkTrainer t = SparkTrainer.builder(sc, TestData::model, m -> new Adam(m.parameters(), 1e-2),
                F::crossEntropy).strategy(SparkTrainer.Strategy.LOCAL_SGD).localSteps(4).globalBatchSize(64)
                .epochs(3).numClasses(TestData.CLASSES).run(run).build();
        SparkHistory h = t.fit(rdd, test);
        assertEquals(3 * 32, h.steps());
        assertEquals(3 * 8, h.syncSeconds().size(), "one synchronisation per 4 local steps");
        Evaluation e = t.evaluate(test);
        assertTrue(e.accuracy() > 0.8, "local SGD learns the task: test accuracy " + e.accuracy());
        assertTrue(h.last().validation().accuracy() > 0.8);
        run.saveModel(t.model());

        List<String> lines = Files.readAllLines(run.dir().resolve("metrics.jsonl"));
        long grads = lines.stream().filter(l -> l.contains("\"type\":\"grad\"")).count();
        long epochs = lines.stream().filter(l -> l.contains("\"type\":\"epoch\"")).count();
        assertEquals(3, grads, "a gradient record on rounds 1, 10 and 20 (the monitor's cadence counts rounds)");
        assertEquals(3, epochs);
        assertTrue(lines.get(lines.size() - 1).contains("\"type\":\"end\""));
        @SuppressWarnings("unchecked")
        Map<String, Object> grad = (Map<String, Object>) Json.parse(lines.stream()
                .filter(l -> l.contains("\"type\":\"grad\"")).findFirst().orElseThrow());
        @SuppressWarnings("unchecked")
        Map<String, Object> layers = (Map<String, Object>) grad.get("layers");
        assertEquals(List.of("0", "2"), List.copyOf(layers.keySet()), "per-layer norms of the two Linear layers");
        assertTrue(Files.size(RunReport.write(run.dir())) > 1000);
    }

    @Test
    void syncDiagnosticsSeeTheSummedGradient() {
        JavaSparkContext sc = LocalSpark.get();
        SparkTrainer t = SparkTrainer.builder(sc, TestData::model, m -> new SGD(m.parameters(), 0.1),
                F::crossEntropy).globalBatchSize(64).epochs(1).maxSteps(12).build();
        t.fit(sc.parallelize(TestData.blocks(2, 512, 6), 2), null);
        assertEquals(List.of(1L, 10L), t.diagnostics().stream().map(s -> s.step()).toList(),
                "monitored on the first step and every 10th, as the single-machine Trainer");
        assertTrue(t.diagnostics().get(0).gradNorm() > 0);
        assertTrue(t.diagnostics().get(0).layers().get("0").updateRatio() > 0);
    }

    @Test
    void dataFromAnRddOfExamplesAndFromCsvFiles() throws Exception {
        JavaSparkContext sc = LocalSpark.get();
        List<Example> examples = List.of(Example.of(new float[] {1, 2}, 0), Example.of(new float[] {3, 4}, 1),
                Example.of(new float[] {5, 6}, 1));
        List<ExampleBlock> blocks = SparkData.fromExamples(sc.parallelize(examples, 2), new int[] {2}).collect();
        assertEquals(2, blocks.size());
        assertEquals(3, blocks.get(0).size() + blocks.get(1).size());

        Path csv = tmp.resolve("data.csv");
        Files.writeString(csv, "label,a,b\n0,1.5,2\n1,3,4\n2,5,6\n");
        List<ExampleBlock> fromCsv = SparkData.csv(sc, csv.toString(), 0, 1, null).collect();
        int n = fromCsv.stream().mapToInt(ExampleBlock::size).sum();
        assertEquals(3, n);
        ExampleBlock first = fromCsv.stream().filter(b -> b.size() > 0).findFirst().orElseThrow();
        assertEquals(1.5f, first.batch(new int[] {0}, 0, 1).inputs().toFloatArray()[0]);

        Files.writeString(csv, "0,1,x\n");
        Exception e = assertThrows(Exception.class, () -> SparkData.csv(sc, csv.toString(), 0, 1, new int[] {2})
                .collect());
        assertTrue(String.valueOf(rootMessage(e)).contains("column 2 is not a number ('x')"), rootMessage(e));

        Exception wrong = assertThrows(Exception.class, () -> SparkData.fromExamples(sc.parallelize(examples, 1),
                new int[] {3}).collect());
        assertTrue(rootMessage(wrong).contains("expected 3 features (input shape [3]), got 2"), rootMessage(wrong));
    }

    private static String rootMessage(Throwable e) {
        String m = e.getMessage();
        while (e.getCause() != null) {
            e = e.getCause();
            m = e.getMessage();
        }
        return m;
    }
}
