package dev.backprop.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.backprop.nn.F;
import dev.backprop.nn.Module;
import dev.backprop.optim.Adam;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

/**
 * {@code local-cluster[2,1,1024]}: a master, two workers and two executor JVMs on this machine,
 * talking over loopback as a real cluster's would over the network. Spark starts the executors
 * with SPARK_HOME/jars on their class path: the test makes that folder from its own class path
 * (links to the jars; the module's class folders go to {@code spark.executor.extraClassPath}).
 */
class LocalClusterTest {

    /** SPARK_HOME as the surefire configuration sets it (target/spark-home), filled with links to the test class path. */
    static Path sparkHome(List<String> directories) throws IOException {
        String home = System.getenv("SPARK_HOME");
        assumeTrue(home != null, "SPARK_HOME is not set (the module's surefire configuration sets it)");
        Path jars = Path.of(home, "jars");
        Files.createDirectories(jars);
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry).toAbsolutePath();
            if (Files.isDirectory(p)) {
                directories.add(p.toString());
            } else if (p.toString().endsWith(".jar") && Files.isRegularFile(p)) {
                Path link = jars.resolve(p.getFileName());
                if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.createSymbolicLink(link, p);
                }
            }
        }
        return Path.of(home);
    }

    @Test
    void twoExecutorJvmsTrainAsOneProcess() throws Exception {
        List<String> dirs = new ArrayList<>();
        sparkHome(dirs);
        LocalSpark.stop(); // one context per JVM
        SparkConf conf = SparkContexts.conf("local-cluster[2,1,1024]", "backprop-local-cluster-test")
                .set("spark.executor.extraClassPath", String.join(File.pathSeparator, dirs))
                .set("spark.executor.memory", "768m");
        SparkContexts.checkJvm();
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            sc.setLogLevel("WARN");
            long driver = ProcessHandle.current().pid();
            List<Long> pids = sc.parallelize(List.of(0, 1, 2, 3, 4, 5, 6, 7), 8)
                    .map(i -> ProcessHandle.current().pid()).distinct().collect();
            assertEquals(2, pids.size(), "two executor JVMs: " + pids);
            pids.forEach(pid -> assertNotEquals(driver, pid));

            List<ExampleBlock> blocks = TestData.blocks(2, 96, 8);
            Module init = TestData.model(15);
            SparkTrainer spark = SparkTrainer.builder(sc, TestData::model, m -> new Adam(m.parameters(), 1e-2),
                    F::crossEntropy).initialModel(TestData.copy(init)).globalBatchSize(64).microBatchSize(16)
                    .epochs(5).maxSteps(4).seed(9).build();
            spark.fit(sc.parallelize(blocks, 2), null);

            Module ref = TestData.copy(init);
            SyncTrainingTest.singleProcess(ref, new Adam(ref.parameters(), 1e-2), blocks,
                    new ShardPlan(new int[] {96, 96}, 64, 9), 4, 16);
            assertArrayEquals(TestData.weights(ref), TestData.weights(spark.model()), 0f,
                    "two executor JVMs vs one process: bit for bit");
        }
    }
}
