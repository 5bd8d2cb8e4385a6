package io.labelstream.schema;

/**
 * What a schema registry answered when it did not give what was asked, sorted by what the caller should do:
 * wait and ask again ({@link Kind#UNAVAILABLE}), or take the answer (the others).
 */
public final class SchemaRegistryException extends Exception {

    public enum Kind {
        /** Unreachable, timed out, or a 5xx: nothing is known, ask again later. */
        UNAVAILABLE,
        /** 404: no such schema id, subject, or schema under the subject. */
        NOT_FOUND,
        /** 409: the schema is not compatible with what the subject holds, by the subject's compatibility level. */
        INCOMPATIBLE,
        /** Any other answer (401, 403, 422…): a setting is wrong, not the record. */
        REFUSED,
        /** A schema came back that labelstream cannot read: not Avro, or not parseable. */
        UNREADABLE
    }

    private final Kind kind;
    private final int status;
    private final int errorCode;

    /**
     * @param status    the HTTP status, or 0 when there was no answer
     * @param errorCode the registry's {@code error_code} (e.g. 40403 for an unknown schema id), or 0
     */
    public SchemaRegistryException(Kind kind, int status, int errorCode, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.status = status;
        this.errorCode = errorCode;
    }

    public Kind kind() {
        return kind;
    }

    public int status() {
        return status;
    }

    public int errorCode() {
        return errorCode;
    }

    static Kind kindOf(int status) {
        if (status == 404) {
            return Kind.NOT_FOUND;
        }
        if (status == 409) {
            return Kind.INCOMPATIBLE;
        }
        if (status >= 500 || status == 408 || status == 429) {
            return Kind.UNAVAILABLE;
        }
        return Kind.REFUSED;
    }
}
