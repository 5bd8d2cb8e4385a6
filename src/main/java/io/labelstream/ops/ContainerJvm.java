package io.labelstream.ops;

/**
 * The JVM options labelstream's images and manifests start it with (docker/, deploy/), and that the benchmark's
 * {@code labelstream run} processes get, so that what is measured is what is shipped. Both are about what an idle
 * instance wakes up for: on a 2-vCPU virtual machine each wake-up costs a thread 0.1–0.5 ms of CPU.
 * <ul>
 *   <li>{@code -XX:+UseSerialGC}: no G1 service thread waking three times a second and no concurrent GC threads
 *       beside ONNX Runtime's. Under load the collector cost 0.03 ms per image with G1; the JVM itself picks the
 *       serial collector for containers under 2 CPUs or 1792 MB.</li>
 *   <li>{@code -XX:PerfDataSamplingInterval=1000}: the JVM samples its performance counters (jstat's) once a
 *       second instead of twenty times; jstat and jcmd still work. JDK 25 removed that sampling and ignores the
 *       option with a warning: drop it when the images move past JDK 17.</li>
 * </ul>
 */
public final class ContainerJvm {

    public static final String OPTIONS = "-XX:+UseSerialGC -XX:PerfDataSamplingInterval=1000";

    private ContainerJvm() {
    }
}
