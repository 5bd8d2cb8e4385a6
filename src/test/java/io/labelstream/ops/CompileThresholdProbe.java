package io.labelstream.ops;

import io.labelstream.image.ImageCodeProbe;

/**
 * Run in a child JVM by {@link ContainerJvmTest}: calls a method the directives keep from C2 and one they give
 * to C2 the same number of times, so that the child's compilation log shows which thresholds each had.
 */
public final class CompileThresholdProbe {

    /**
     * Not an accessor: HotSpot sends those straight to tier 1. With a branch it gathers a profile at tier 3 and
     * waits there for C2's (scaled) thresholds, as the Kafka clients' code does.
     */
    static int lukewarm(int i) {
        return i % 3 == 0 ? i * 7 : i + 11;
    }

    public static void main(String[] args) {
        int calls = Integer.parseInt(args[0]);
        long sum = 0;
        for (int i = 0; i < calls; i++) {
            sum += lukewarm(i) + ImageCodeProbe.lukewarm(i);
        }
        System.out.println(sum);
    }

    private CompileThresholdProbe() {
    }
}
