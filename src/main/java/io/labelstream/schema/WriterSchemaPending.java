package io.labelstream.schema;

import java.util.concurrent.CompletableFuture;

/**
 * A record's writer schema is being fetched from the schema registry: decoding it now would have to wait. The
 * future completes (normally, whatever the registry's answer) once a decode can run without waiting.
 */
public final class WriterSchemaPending extends Exception {

    private final transient CompletableFuture<Void> settled;
    private final int schemaId;

    WriterSchemaPending(int schemaId, CompletableFuture<Void> settled) {
        super("writer schema " + schemaId + " is being fetched from the schema registry", null, false, false);
        this.schemaId = schemaId;
        this.settled = settled;
    }

    public int schemaId() {
        return schemaId;
    }

    /** A future of its own for the caller: cancelling it cancels nothing else. */
    public CompletableFuture<Void> settled() {
        return settled.copy();
    }
}
