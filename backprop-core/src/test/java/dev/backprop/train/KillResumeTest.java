package dev.backprop.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.backprop.io.SafeTensors;
import dev.backprop.tensor.Tensor;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety: a training process is killed with SIGKILL at random moments, several times, and
 * resumed from its last checkpoint each time; its final weights equal those of an uninterrupted run
 * bit for bit, and after every kill each visible file of the run folder parses and matches its
 * checksum (only hidden temporary files may be left over, and resuming removes them).
 */
class KillResumeTest {
    static final int KILLS = 5;

    @Test
    void aRunKilledFiveTimesEndsWithTheWeightsOfAnUninterruptedRun(@TempDir Path tmp) throws Exception {
        Path clean = tmp.resolve("uninterrupted");
        Files.createDirectories(clean);
        Process p = start(clean);
        assertEquals(0, finish(p), "the uninterrupted run failed");
        Map<String, Tensor> expected = SafeTensors.read(clean.resolve("model.safetensors")).tensors();

        Path dir = tmp.resolve("killed");
        Files.createDirectories(dir);
        Random random = new Random(20261122L);
        int kills = 0;
        long lastStep = -1;
        List<String> log = new ArrayList<>();
        while (kills < KILLS) {
            Process child = start(dir);
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine(); // "training from step N": past JVM start-up and resume
            if (first == null || !first.startsWith("training from step")) {
                fail("the child did not start training: " + first + "; exit " + child.waitFor());
            }
            long from = Long.parseLong(first.substring("training from step ".length()).strip());
            // kill it a random number of steps on (spread so that every kill has steps left to cut into),
            // then a random few milliseconds later: inside a step, or in the middle of writing a checkpoint
            long room = Math.max(1, (KillResumeChild.STEPS - from) / (KILLS - kills + 1));
            long target = from + 1 + random.nextLong(room);
            String line;
            while ((line = out.readLine()) != null && !line.equals("step " + target)) {
                // training on
            }
            if (line == null) {
                fail("the child stopped before step " + target + "; exit " + child.waitFor());
            }
            Thread.sleep(random.nextInt(15));
            if (!child.isAlive()) {
                fail("the child ended at step " + target + " of " + KillResumeChild.STEPS);
            }
            child.destroyForcibly(); // SIGKILL on Linux and macOS
            child.waitFor(30, TimeUnit.SECONDS);
            kills++;
            long step = checkFolder(dir);
            log.add(first + ", killed after step " + target + ", checkpoint at step " + step);
            assertTrue(step >= lastStep, "the checkpoint went back from step " + lastStep + " to " + step);
            lastStep = step;
        }
        Process last = start(dir);
        assertEquals(0, finish(last), "the resumed run failed");
        checkFolder(dir);
        Map<String, Tensor> actual = SafeTensors.read(dir.resolve("model.safetensors")).tensors();
        assertEquals(expected.keySet(), actual.keySet());
        for (String k : expected.keySet()) {
            float[] e = expected.get(k).toFloatArray();
            float[] a = actual.get(k).toFloatArray();
            assertEquals(e.length, a.length, k);
            for (int i = 0; i < e.length; i++) {
                if (Float.floatToRawIntBits(e[i]) != Float.floatToRawIntBits(a[i])) {
                    fail(k + "[" + i + "]: " + a[i] + " after " + kills + " kills, " + e[i] + " uninterrupted; " + log);
                }
            }
        }
        System.out.println("KillResumeTest: " + kills + " kills survived; " + String.join("; ", log));
    }

    /** Every visible file parses and matches its checksum; returns the checkpoint's step, -1 if none. */
    private static long checkFolder(Path dir) throws IOException {
        long step = -1;
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (name.startsWith(".")) {
                    assertTrue(name.endsWith(".tmp"), "unexpected hidden file " + name);
                    continue;
                }
                assertTrue(name.endsWith(".safetensors"), "unexpected file " + name);
                SafeTensors.Contents c = SafeTensors.read(f); // throws on a torn or corrupt file
                assertTrue(c.metadata().containsKey(SafeTensors.CHECKSUM_KEY), name + " has no checksum");
                if (name.equals("checkpoint-last.safetensors")) {
                    step = Long.parseLong(c.metadata().get("trainer.step"));
                }
            }
        }
        return step;
    }

    private static Process start(Path dir) throws IOException {
        String java = ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "-Dbackprop.threads=1", "-Xmx256m",
                "-cp", System.getProperty("java.class.path"), KillResumeChild.class.getName(), dir.toString()));
        return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static int finish(Process p) throws Exception {
        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the training process did not finish in 120 s");
        }
        return p.exitValue();
    }
}
