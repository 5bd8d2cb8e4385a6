package io.labelstream.model;

/**
 * A hold on something several users share and that must not close under any of them: a model's native sessions,
 * or a set of models. Taken from a {@link LeaseCount}; closing it lets go, once (a second close does nothing).
 */
public interface Lease extends AutoCloseable {

    @Override
    void close();
}
