package io.labelstream.model;

/**
 * ONNX Runtime session options that a user may tune.
 *
 * @param intraOpThreads threads ORT uses inside one operator; 0 lets ORT choose (one per core)
 */
public record SessionSettings(int intraOpThreads) {

    public static SessionSettings defaults() {
        return new SessionSettings(0);
    }
}
