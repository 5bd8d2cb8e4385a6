package io.labelstream.image;

import io.labelstream.schema.FailureReason;

/** An image that cannot be labeled, with the reason code that goes into the failures topic. */
public final class ImageRejectedException extends Exception {

    private final FailureReason reason;

    public ImageRejectedException(FailureReason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public ImageRejectedException(FailureReason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public FailureReason reason() {
        return reason;
    }
}
