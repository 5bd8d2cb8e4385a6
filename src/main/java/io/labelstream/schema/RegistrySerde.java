package io.labelstream.schema;

import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.common.errors.SerializationException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The values of one topic under a schema registry. Written Confluent-framed under the id its schema has in subject
 * {@code <topic>-value}. Read by their first byte: Confluent-framed records by their writer schema, fetched from the
 * registry by id and resolved to labelstream's schema by Avro's schema resolution (so a producer's own evolution,
 * an extra field or a missing one with a default, is read); Avro single-object records as without a registry.
 */
public final class RegistrySerde<T extends SpecificRecordBase> implements ValueSerde<T> {

    private final SchemaRegistry registry;
    private final String subject;
    private final Schema schema;
    private final AvroSerde<T> singleObject;
    private final SpecificData model;
    private final SpecificDatumWriter<T> writer;
    /** By writer schema id: a reader resolving it to {@link #schema}, or why it cannot. */
    private final Map<Integer, Resolution<T>> resolutions = new ConcurrentHashMap<>();

    private record Resolution<T>(SpecificDatumReader<T> reader, String incompatibility) {
    }

    /** @param singleObject how this topic's values read without a registry: still read when they come so */
    public RegistrySerde(SchemaRegistry registry, String topic, Class<T> type, Schema schema,
                         AvroSerde<T> singleObject) {
        this.registry = registry;
        this.subject = subject(topic);
        this.schema = schema;
        this.singleObject = singleObject;
        this.model = SpecificData.getForClass(type);
        this.writer = new SpecificDatumWriter<>(schema, model);
    }

    /** The subject of a topic's values, by the registry's default TopicNameStrategy. */
    public static String subject(String topic) {
        return topic + "-value";
    }

    public String subject() {
        return subject;
    }

    /**
     * The id this topic's values are written under: registered, or looked up, at the first call for the subject (the
     * registry keeps it). Called before the pipeline starts, so that a registry that refuses stops start-up and a
     * stream thread never waits for it.
     */
    public int id() {
        return registry.idOf(subject, schema);
    }

    @Override
    public byte[] encode(T record) {
        int schemaId = id();
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(256);
            out.write(ConfluentFraming.header(schemaId));
            BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
            writer.write(record, encoder);
            encoder.flush();
            return out.toByteArray();
        } catch (IOException | RuntimeException e) {
            throw new SerializationException("cannot encode " + schema.getName() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public T decode(byte[] bytes) throws RecordDecodeException {
        while (true) {
            try {
                return decodeIfKnown(bytes);
            } catch (WriterSchemaPending pending) {
                try {
                    pending.settled().get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new RecordDecodeException(FailureReason.UNKNOWN_SCHEMA, "interrupted while waiting for "
                            + "schema id " + pending.schemaId() + " from the schema registry", e);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw new IllegalStateException("a schema fetch cannot fail", e);
                }
            }
        }
    }

    @Override
    public T decodeIfKnown(byte[] bytes) throws RecordDecodeException, WriterSchemaPending {
        if (!ConfluentFraming.isFramed(bytes)) {
            return singleObject.decode(bytes);
        }
        int writerId = ConfluentFraming.schemaId(bytes);
        Resolution<T> resolution = resolutions.get(writerId);
        if (resolution == null) {
            Schema writerSchema;
            try {
                writerSchema = registry.knownWriterSchema(writerId);
            } catch (SchemaRegistryException e) {
                if (e.kind() == SchemaRegistryException.Kind.NOT_FOUND) {
                    throw new RecordDecodeException(FailureReason.UNKNOWN_SCHEMA, "record is Confluent-framed under "
                            + "schema id " + writerId + ", which the schema registry does not know ("
                            + e.getMessage() + ")", e);
                }
                throw new RecordDecodeException(FailureReason.INCOMPATIBLE_SCHEMA, "record's writer schema (id "
                        + writerId + ") cannot be read as " + schema.getName() + ": " + e.getMessage(), e);
            }
            if (writerSchema == null) {
                throw new WriterSchemaPending(writerId, registry.fetch(writerId));
            }
            resolution = resolutions.computeIfAbsent(writerId, key -> resolve(writerSchema));
        }
        if (resolution.incompatibility() != null) {
            throw new RecordDecodeException(FailureReason.INCOMPATIBLE_SCHEMA, "record's writer schema (id "
                    + writerId + ") cannot be resolved to labelstream's " + schema.getName() + ": "
                    + resolution.incompatibility(), null);
        }
        try {
            BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, ConfluentFraming.HEADER_BYTES,
                    bytes.length - ConfluentFraming.HEADER_BYTES, null);
            return resolution.reader().read(null, decoder);
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
            throw new RecordDecodeException(FailureReason.INVALID_EVENT, "record body is not a valid "
                    + schema.getName() + " under writer schema id " + writerId + ": " + e.getClass().getSimpleName()
                    + ": " + e.getMessage(), e);
        }
    }

    private Resolution<T> resolve(Schema writerSchema) {
        SchemaCompatibility.SchemaPairCompatibility check =
                SchemaCompatibility.checkReaderWriterCompatibility(schema, writerSchema);
        if (check.getType() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
            StringBuilder why = new StringBuilder();
            for (SchemaCompatibility.Incompatibility i : check.getResult().getIncompatibilities()) {
                why.append(why.isEmpty() ? "" : "; ").append(i.getType()).append(" at ").append(i.getLocation())
                        .append(": ").append(i.getMessage());
            }
            return new Resolution<>(null, why.toString());
        }
        return new Resolution<>(new SpecificDatumReader<>(writerSchema, schema, model), null);
    }
}
