package io.labelstream.schema;

import java.nio.ByteBuffer;

/**
 * The Confluent wire format that schema-registry clients write and read: a magic byte {@code 0x00}, the schema's
 * registry id as 4 bytes big-endian, then the Avro binary record. Avro's single-object encoding starts
 * {@code C3 01} instead, so the first byte tells the two apart.
 */
public final class ConfluentFraming {

    public static final byte MAGIC = 0;
    public static final int HEADER_BYTES = 5;

    private ConfluentFraming() {
    }

    /** True when {@code bytes} start with the magic byte and hold at least a whole header. */
    public static boolean isFramed(byte[] bytes) {
        return bytes != null && bytes.length >= HEADER_BYTES && bytes[0] == MAGIC;
    }

    /** The schema id of framed {@code bytes}. */
    public static int schemaId(byte[] bytes) {
        return ByteBuffer.wrap(bytes, 1, 4).getInt();
    }

    /** The header of a record written under {@code schemaId}: the magic byte and the id. */
    public static byte[] header(int schemaId) {
        return ByteBuffer.allocate(HEADER_BYTES).put(MAGIC).putInt(schemaId).array();
    }

    /** The framed record: the header for {@code schemaId}, then {@code avroBinary}. */
    public static byte[] frame(int schemaId, byte[] avroBinary) {
        return ByteBuffer.allocate(HEADER_BYTES + avroBinary.length).put(header(schemaId)).put(avroBinary).array();
    }
}
