package dev.backprop.kernels;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The threads the kernels may split one large call over: the caller plus {@code threads() - 1}
 * shared daemon workers. The count comes from {@code -Dbackprop.threads=N} (default: the available
 * processors) and can be changed with {@link Kernels#setThreads(int)}.
 *
 * <p>Kernels split their output into fixed parts, each computed by exactly one thread in the same
 * order as on one thread, so results never depend on the thread count or on timing.
 */
final class KernelPool {
    private static final String PROPERTY = "backprop.threads";
    /** How long a caller spins waiting for the other parts before it parks. */
    private static final long SPIN_NANOS = 50_000;
    /** How long an idle worker keeps looking for the next part before it parks. */
    private static final long WORKER_SPIN_NANOS = 200_000;

    private static volatile int threads = initialThreads();
    /** How deep the calling thread is inside {@link #run}'s own part (nested calls run inline). */
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);
    private static ExecutorService workers; // threads - 1 daemon threads, made on first use
    private static int workerCount;

    private KernelPool() {}

    private static int initialThreads() {
        int available = Runtime.getRuntime().availableProcessors();
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return available;
        }
        try {
            return checked(Integer.parseInt(value.trim()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-D" + PROPERTY + ": expected a positive thread count, got '"
                    + value + "'", e);
        }
    }

    private static int checked(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("kernel threads: expected at least 1, got " + n);
        }
        return n;
    }

    static int threads() {
        return threads;
    }

    static synchronized void setThreads(int n) {
        threads = checked(n);
    }

    /**
     * Runs {@code part.accept(0 .. parts-1)}, part 0 on the calling thread and the others on the
     * workers, and returns when all are done. The first failure is rethrown.
     *
     * <p>The caller waits by spinning for a short while before parking: the parts are of equal
     * size, so the others usually finish within microseconds of its own, and parking would add a
     * wake-up (several microseconds here) to every call. Idle workers park; they do not spin.
     */
    static void run(int parts, IntConsumer part) {
        int[] depth = DEPTH.get();
        if (parts <= 1 || depth[0] > 0 || Thread.currentThread() instanceof Worker) {
            for (int p = 0; p < parts; p++) {
                part.accept(p);
            }
            return;
        }
        Thread caller = Thread.currentThread();
        AtomicInteger remaining = new AtomicInteger(parts - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        ExecutorService pool = workers(parts - 1);
        for (int p = 1; p < parts; p++) {
            int index = p;
            Runnable task = () -> {
                try {
                    part.accept(index);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    if (remaining.decrementAndGet() == 0) {
                        LockSupport.unpark(caller);
                    }
                }
            };
            try {
                pool.execute(task);
            } catch (RejectedExecutionException e) { // the pool was just replaced by setThreads: run it here
                task.run();
            }
        }
        depth[0]++; // a kernel called inside part 0 runs inline: the workers are busy with the other parts
        try {
            part.accept(0);
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        } finally {
            depth[0]--;
        }
        // the other parts write into the caller's arrays: wait for them even when interrupted
        boolean interrupted = false;
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (remaining.get() > 0) {
            if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            } else {
                LockSupport.park(remaining);
                interrupted |= Thread.interrupted();
            }
        }
        if (interrupted) {
            caller.interrupt();
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error err) {
            throw err;
        }
        if (t != null) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Runs {@code body} over [0, n), split into one contiguous part per thread when there are at
     * least {@code minPerPart} elements for each (part boundaries are multiples of {@code align}).
     * For elementwise work the split cannot change any result.
     */
    static void forRange(int n, int minPerPart, int align, Kernels.Range body) {
        int parts = (int) Math.min(threads, n / (long) Math.max(1, minPerPart));
        if (parts <= 1) {
            body.run(0, n);
            return;
        }
        int chunk = ((n + parts - 1) / parts + align - 1) / align * align;
        run(parts, p -> {
            int from = Math.min(n, p * chunk);
            int to = Math.min(n, from + chunk);
            if (from < to) {
                body.run(from, to);
            }
        });
    }

    /** A pool with at least {@code n} workers; grows (never shrinks) as the thread count is raised. */
    private static synchronized ExecutorService workers(int n) {
        if (workers == null || workerCount < n) {
            if (workers != null) {
                workers.shutdown(); // running parts finish; new ones go to the larger pool
            }
            workerCount = Math.max(n, threads - 1);
            workers = new ThreadPoolExecutor(workerCount, workerCount, 0L, TimeUnit.MILLISECONDS,
                    new SpinningQueue(), new WorkerFactory());
        }
        return workers;
    }

    /**
     * The workers' queue: an idle worker polls it for {@link #WORKER_SPIN_NANOS} before it parks.
     * A training step calls many kernels with a few microseconds of single-threaded work between
     * them; a worker that parked after each would add a wake-up (tens of microseconds on a
     * virtual machine) to every call. Spinning costs nothing the thread count has not granted.
     */
    private static final class SpinningQueue extends LinkedBlockingQueue<Runnable> {
        @Override
        public Runnable take() throws InterruptedException {
            long until = System.nanoTime() + WORKER_SPIN_NANOS;
            do {
                Runnable r = poll();
                if (r != null) {
                    return r;
                }
                Thread.onSpinWait();
            } while (System.nanoTime() < until);
            return super.take();
        }
    }

    private static final class Worker extends Thread {
        Worker(Runnable r, String name) {
            super(r, name);
            setDaemon(true);
        }
    }

    private static final class WorkerFactory implements ThreadFactory {
        private final AtomicInteger count = new AtomicInteger();

        @Override
        public Thread newThread(Runnable r) {
            return new Worker(r, "backprop-kernels-" + count.incrementAndGet());
        }
    }
}
