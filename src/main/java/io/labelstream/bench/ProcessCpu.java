package io.labelstream.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CPU time of a process, read from Linux's /proc: in total (its live and exited threads) and per live thread,
 * grouped by what the thread does. Java threads carry their name (cut to 15 characters) as the kernel's thread
 * name; threads ONNX Runtime starts inherit the name of the thread that created them.
 */
final class ProcessCpu {

    /** Nanoseconds of CPU by thread group, and the process total. */
    record Snapshot(long totalNanos, Map<String, Long> groupNanos) {

        Snapshot minus(Snapshot earlier) {
            Map<String, Long> groups = new LinkedHashMap<>();
            for (String group : GROUPS) {
                long d = groupNanos.getOrDefault(group, 0L) - earlier.groupNanos.getOrDefault(group, 0L);
                groups.put(group, Math.max(0, d));
            }
            return new Snapshot(totalNanos - earlier.totalNanos, groups);
        }

        /** The live threads' CPU, summed from their own nanosecond counters. */
        long threadNanos() {
            return groupNanos.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    /** Thread groups in the order tables print them. */
    static final String[] GROUPS = {"stream thread", "inference (batch threads, ORT)", "preprocess (decode, resize)",
            "Kafka client I/O", "GC", "JIT", "other"};

    /** The group of the threads that run ONNX Runtime: what the bare loop measures, the rest being overhead. */
    static final String INFERENCE = GROUPS[1];

    private ProcessCpu() {
    }

    static Snapshot of(long pid) {
        Path proc = Path.of("/proc", Long.toString(pid));
        Map<String, Long> groups = new LinkedHashMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(proc.resolve("task"))) {
            for (Path task : tasks) {
                try {
                    String name = Files.readString(task.resolve("comm")).strip();
                    long nanos = Long.parseLong(Files.readString(task.resolve("schedstat")).strip().split(" ")[0]);
                    groups.merge(group(name), nanos, Long::sum);
                } catch (NoSuchFileException exited) {
                    // the thread ended between listing and reading; the process total still counts it
                }
            }
            return new Snapshot(totalNanos(proc), groups);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the CPU time of process " + pid + " from " + proc, e);
        }
    }

    /** utime + stime of the process, exited threads included, from /proc/PID/stat (clock ticks of 10 ms). */
    private static long totalNanos(Path proc) throws IOException {
        String stat = Files.readString(proc.resolve("stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // fields 14 and 15 of proc(5)
        return ticks * 10_000_000L;
    }

    static String group(String threadName) {
        if (threadName.contains("StreamThre")) {
            return GROUPS[0];
        }
        // A batch thread calls ONNX Runtime itself, as one of its intra-op threads; the others were started by
        // the thread that created the session (the main thread, named "java" by the launcher).
        if (threadName.startsWith("labelstream-bat") || threadName.startsWith("labelstream-par")
                || threadName.equals("java")) {
            return INFERENCE;
        }
        // A batch of one is preprocessed on its batch thread, and counts as inference here; a backlog's are not.
        if (threadName.startsWith("labelstream-pre")) {
            return GROUPS[2];
        }
        if (threadName.startsWith("kafka-")) {
            return GROUPS[3];
        }
        if (threadName.startsWith("GC Thread") || threadName.startsWith("G1 ") || threadName.startsWith("VM Periodic")
                || threadName.equals("VM Thread")) {
            return GROUPS[4];
        }
        if (threadName.contains("CompilerThre")) {
            return GROUPS[5];
        }
        return GROUPS[6];
    }
}
