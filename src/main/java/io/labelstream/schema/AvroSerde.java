package io.labelstream.schema;

import io.labelstream.config.Settings;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.common.errors.SerializationException;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Kafka serde for an Avro-generated record in Avro's single-object encoding: the two marker bytes
 * {@code C3 01}, the writer schema's 8-byte CRC-64-AVRO fingerprint, then the binary record. A record written
 * with an older registered schema version is resolved to the current one; an unknown fingerprint is refused. This is
 * how labelstream's topics are written without a schema registry, and how its internal stores always are.
 */
public final class AvroSerde<T extends SpecificRecordBase> implements ValueSerde<T> {

    private final Class<T> type;
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;
    private final SchemaStore.Cache writerSchemas = new SchemaStore.Cache();

    static {
        TrustedPackages.ensure();
    }

    public AvroSerde(Class<T> type, Schema schema) {
        this.type = type;
        SpecificData model = SpecificData.getForClass(type);
        this.encoder = new BinaryMessageEncoder<>(model, schema);
        this.decoder = new BinaryMessageDecoder<>(model, schema, writerSchemas);
        for (Schema old : SchemaHistory.load(AvroSerde.class.getClassLoader(), SchemaHistory.DEFAULT_FOLDER,
                schema.getName())) {
            addWriterSchema(old);
        }
    }

    /** Accepts records written with {@code writer}, an older compatible version of this record's schema. */
    public AvroSerde<T> addWriterSchema(Schema writer) {
        decoder.addSchema(writer);
        return this;
    }

    @Override
    public byte[] encode(T record) {
        try {
            ByteBuffer buffer = encoder.encode(record);
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            return bytes;
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot encode " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public T decode(byte[] bytes) throws RecordDecodeException {
        if (bytes == null || bytes.length == 0) {
            throw new RecordDecodeException(FailureReason.INVALID_EVENT,
                    "record value is " + (bytes == null ? "null" : "empty") + "; expected an Avro "
                            + type.getSimpleName(), null);
        }
        if (ConfluentFraming.isFramed(bytes)) {
            throw new RecordDecodeException(FailureReason.INVALID_EVENT, "record is Confluent-framed (the schema "
                    + "registry wire format: magic byte 0, schema id " + ConfluentFraming.schemaId(bytes) + "), but "
                    + Settings.SCHEMA_REGISTRY_URL.key() + " is not set: set it to the registry the producer used",
                    null);
        }
        try {
            return decoder.decode(bytes);
        } catch (MissingSchemaException e) {
            throw new RecordDecodeException(FailureReason.UNKNOWN_SCHEMA, "record was written with a schema "
                    + "this build does not know (" + e.getMessage() + "); expected " + type.getSimpleName()
                    + " or an older version of it", e);
        } catch (BadHeaderException e) {
            throw new RecordDecodeException(FailureReason.INVALID_EVENT,
                    "record is not Avro single-object encoded (" + e.getMessage() + ")", e);
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
            throw new RecordDecodeException(FailureReason.INVALID_EVENT, "record body is not a valid "
                    + type.getSimpleName() + ": " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }
}
