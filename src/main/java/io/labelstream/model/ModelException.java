package io.labelstream.model;

/** The model could not be loaded or could not run a batch. */
public class ModelException extends Exception {

    public ModelException(String message) {
        super(message);
    }

    public ModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
