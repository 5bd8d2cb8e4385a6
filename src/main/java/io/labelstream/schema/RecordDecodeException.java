package io.labelstream.schema;

/** Bytes that are not a readable Avro single-object record of the expected type. */
public final class RecordDecodeException extends Exception {

    private final FailureReason reason;

    public RecordDecodeException(FailureReason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public FailureReason reason() {
        return reason;
    }
}
