package io.labelstream.testing;

import io.labelstream.image.SyntheticImages;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageReference;
import io.labelstream.schema.InlineImage;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Hostile and unusual inputs, made at test time, each with the outcome labelstream promises for it: labeled, or
 * failed with a specific reason. The bad-input table in docs/topics-and-schemas.md lists the same kinds (a test
 * checks it).
 */
public final class BadInputCorpus {

    /** {@code reason == null} means the image must be labeled. */
    public record Case(String kind, String key, byte[] value, FailureReason reason) {
    }

    /** The image.max.bytes the corpus is meant for: small enough that an oversize image still fits a topic. */
    public static final int MAX_IMAGE_BYTES = 300_000;

    private BadInputCorpus() {
    }

    /**
     * @param root        a folder the pipeline may read references from (fetch.file.roots)
     * @param outside     a folder it may not
     * @param httpBase    e.g. http://127.0.0.1:PORT, an allowed host whose /silent never answers and /huge never ends
     */
    public static List<Case> build(Path root, Path outside, String httpBase) throws IOException {
        List<Case> cases = new ArrayList<>();
        BufferedImage photo = SyntheticImages.image(320, 240, 7);
        byte[] jpeg = SyntheticImages.jpeg(photo, 0.9f);
        byte[] png = SyntheticImages.png(photo);

        raw(cases, "empty record value", new byte[0], FailureReason.INVALID_EVENT);
        raw(cases, "null record value (tombstone)", null, FailureReason.INVALID_EVENT);
        raw(cases, "random bytes as the record", random(3000, 1), FailureReason.INVALID_EVENT);
        raw(cases, "JSON instead of Avro", "{\"id\":\"x\",\"url\":\"http://a/b.jpg\"}".getBytes(StandardCharsets.UTF_8),
                FailureReason.INVALID_EVENT);
        raw(cases, "unknown schema fingerprint", otherSchemaRecord(), FailureReason.UNKNOWN_SCHEMA);
        byte[] truncatedEvent = inline("x", jpeg, "image/jpeg");
        raw(cases, "truncated Avro event", Arrays.copyOf(truncatedEvent, 40), FailureReason.INVALID_EVENT);
        cases.add(event("event with an empty id", "", new InlineImage(ByteBuffer.wrap(jpeg), "image/jpeg"),
                FailureReason.INVALID_EVENT));
        cases.add(event("reference with a blank URI", "blank-uri", new ImageReference(" ", null, null, null),
                FailureReason.REFERENCE_REFUSED));

        image(cases, "empty image bytes", new byte[0], FailureReason.UNDECODABLE_IMAGE);
        image(cases, "random bytes as the image", random(5000, 2), FailureReason.UNSUPPORTED_FORMAT);
        image(cases, "truncated JPEG", Arrays.copyOf(jpeg, jpeg.length / 2), FailureReason.UNDECODABLE_IMAGE);
        image(cases, "truncated PNG", Arrays.copyOf(png, png.length / 2), FailureReason.UNDECODABLE_IMAGE);
        image(cases, "JPEG with a broken Huffman table", brokenHuffman(jpeg), FailureReason.UNDECODABLE_IMAGE);
        image(cases, "PNG with a bad CRC", badCrc(png), null);
        image(cases, "GIF with zero frames", zeroFrameGif(), FailureReason.UNDECODABLE_IMAGE);
        image(cases, "decompression bomb (50000x50000 PNG header)", pngHeader(50_000, 50_000),
                FailureReason.TOO_LARGE);
        byte[] large = SyntheticImages.jpeg(SyntheticImages.image(1000, 750, 9), 1.0f);
        if (large.length <= MAX_IMAGE_BYTES || large.length > 900_000) {
            throw new IllegalStateException("the oversize image must be over image.max.bytes and under the topic's"
                    + " 1 MB limit, but is " + large.length + " bytes");
        }
        image(cases, "image over image.max.bytes", large, FailureReason.TOO_LARGE);
        image(cases, "SVG pretending to be JPEG", ("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">"
                + "<rect width=\"10\" height=\"10\"/></svg>").getBytes(StandardCharsets.UTF_8), FailureReason.UNSUPPORTED_FORMAT);
        image(cases, "PDF pretending to be JPEG", "%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
                .getBytes(StandardCharsets.UTF_8), FailureReason.UNSUPPORTED_FORMAT);

        image(cases, "1x1 image", SyntheticImages.png(SyntheticImages.image(1, 1, 3)), null);
        image(cases, "extremely wide image (20000x2)", SyntheticImages.png(SyntheticImages.image(20000, 2, 4)), null);
        image(cases, "extremely tall image (3x9000)", SyntheticImages.png(SyntheticImages.image(3, 9000, 5)), null);
        image(cases, "CMYK JPEG", cmyk(), null);
        image(cases, "16-bit PNG", write(io.labelstream.image.ImageFormatsTestAccess.rgb16(photo), "png"), null);
        image(cases, "PNG with alpha", write(io.labelstream.image.ImageFormatsTestAccess.withAlpha(photo), "png"), null);
        image(cases, "palette PNG", write(io.labelstream.image.ImageFormatsTestAccess.palette(photo), "png"), null);
        image(cases, "grey JPEG", SyntheticImages.jpeg(io.labelstream.image.ImageFormatsTestAccess.grey(photo), 0.9f), null);
        image(cases, "progressive JPEG", io.labelstream.image.ImageFormatsTestAccess.progressive(photo), null);
        image(cases, "EXIF-rotated JPEG", io.labelstream.image.ImageFormatsTestAccess.exif(jpeg, 6), null);
        image(cases, "GIF", write(photo, "gif"), null);
        image(cases, "BMP", write(photo, "bmp"), null);
        image(cases, "TIFF", write(photo, "tiff"), null);
        cases.add(event("PNG declared as image/jpeg", "wrong-content-type",
                new InlineImage(ByteBuffer.wrap(png), "image/jpeg"), null));

        Path inside = root.resolve("ok.jpg");
        Files.write(inside, jpeg);
        Path secret = outside.resolve("secret.jpg");
        Files.write(secret, jpeg);
        cases.add(reference("reference inside the allowed folder", inside.toUri().toString(), null));
        cases.add(reference("reference to a missing file", root.resolve("missing.jpg").toUri().toString(),
                FailureReason.FETCH_FAILED));
        cases.add(reference("reference outside the allowed folders", secret.toUri().toString(),
                FailureReason.REFERENCE_REFUSED));
        cases.add(reference("reference escaping with ..", "file://" + root + "/../" + outside.getFileName()
                + "/secret.jpg", FailureReason.REFERENCE_REFUSED));
        cases.add(reference("reference to a host outside the allow-list", "http://forbidden.invalid/x.jpg",
                FailureReason.REFERENCE_REFUSED));
        cases.add(reference("reference to a server that never answers", httpBase + "/silent",
                FailureReason.FETCH_FAILED));
        cases.add(reference("reference to an endless body", httpBase + "/huge", FailureReason.TOO_LARGE));
        cases.add(reference("reference with a wrong SHA-256", inside.toUri().toString(), FailureReason.FETCH_FAILED,
                "00".repeat(32)));
        return cases;
    }

    private static void raw(List<Case> cases, String kind, byte[] value, FailureReason reason) {
        cases.add(new Case(kind, key(kind), value, reason));
    }

    private static void image(List<Case> cases, String kind, byte[] image, FailureReason reason) {
        cases.add(new Case(kind, key(kind), inline(key(kind), image, "image/jpeg"), reason));
    }

    private static Case event(String kind, String id, Object image, FailureReason reason) {
        return new Case(kind, key(kind), AvroSerdes.imageEvent().encode(ImageEvent.newBuilder().setId(id)
                .setImage(image).setEventTime(Instant.now()).build()), reason);
    }

    private static Case reference(String kind, String uri, FailureReason reason) {
        return reference(kind, uri, reason, null);
    }

    private static Case reference(String kind, String uri, FailureReason reason, String sha256) {
        return event(kind, key(kind), new ImageReference(uri, null, null, sha256), reason);
    }

    private static byte[] inline(String id, byte[] image, String contentType) {
        return AvroSerdes.imageEvent().encode(ImageEvent.newBuilder().setId(id)
                .setImage(new InlineImage(ByteBuffer.wrap(image), contentType)).setEventTime(Instant.now()).build());
    }

    public static String key(String kind) {
        return kind.replaceAll("[^A-Za-z0-9]+", "-").toLowerCase(java.util.Locale.ROOT);
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static byte[] otherSchemaRecord() {
        Schema other = SchemaBuilder.record("Thing").namespace("com.example").fields().requiredString("id")
                .endRecord();
        GenericRecord r = new GenericData.Record(other);
        r.put("id", "x");
        try {
            return new BinaryMessageEncoder<GenericRecord>(GenericData.get(), other).encode(r).array();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Overwrites the code-length counts of the first DHT segment so the table is impossible. */
    private static byte[] brokenHuffman(byte[] jpeg) {
        byte[] b = jpeg.clone();
        for (int i = 0; i < b.length - 21; i++) {
            if ((b[i] & 0xFF) == 0xFF && (b[i + 1] & 0xFF) == 0xC4) {
                Arrays.fill(b, i + 5, i + 21, (byte) 0xFF);
                return b;
            }
        }
        throw new IllegalStateException("no DHT segment");
    }

    /** Flips a byte of the IHDR chunk's CRC. */
    private static byte[] badCrc(byte[] png) {
        byte[] b = png.clone();
        b[8 + 4 + 4 + 13] ^= 0x5A; // signature, length, "IHDR", 13 data bytes: first CRC byte
        return b;
    }

    private static byte[] zeroFrameGif() {
        ByteBuffer b = ByteBuffer.allocate(14).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put("GIF89a".getBytes(StandardCharsets.US_ASCII)).putShort((short) 10).putShort((short) 10)
                .put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0x3B);
        return b.array();
    }

    private static byte[] cmyk() throws IOException {
        try {
            return io.labelstream.image.ImageFormatsTestAccess.cmykJpeg();
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    private static byte[] pngHeader(int w, int h) throws IOException {
        try {
            return io.labelstream.image.ImageFormatsTestAccess.pngHeaderOnly(w, h);
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    private static byte[] write(BufferedImage image, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(image, format, out)) {
            throw new IOException("no writer for " + format);
        }
        return out.toByteArray();
    }
}
