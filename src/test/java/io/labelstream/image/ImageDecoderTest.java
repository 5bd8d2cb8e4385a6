package io.labelstream.image;

import io.labelstream.schema.FailureReason;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageDecoderTest {

    private final ImageDecoder decoder = new ImageDecoder(ImageLimits.defaults());

    @Test
    void decodesJpegAndPng() throws Exception {
        assertThat(decoder.decode(SyntheticImages.jpeg(64, 48, 1)).getWidth()).isEqualTo(64);
        BufferedImage png = decoder.decode(SyntheticImages.png(SyntheticImages.image(30, 20, 2)));
        assertThat(png.getHeight()).isEqualTo(20);
    }

    @Test
    void eachRefusalHasItsOwnReason() {
        assertReason(new byte[0], FailureReason.UNDECODABLE_IMAGE);
        assertReason("this is plain text, not an image".getBytes(), FailureReason.UNSUPPORTED_FORMAT);
        byte[] jpeg = SyntheticImages.jpeg(320, 240, 3);
        assertReason(Arrays.copyOf(jpeg, jpeg.length / 2), FailureReason.UNDECODABLE_IMAGE);
        ImageDecoder small = new ImageDecoder(new ImageLimits(100, 40_000_000));
        assertThatThrownBy(() -> small.decode(jpeg)).isInstanceOfSatisfying(ImageRejectedException.class,
                e -> assertThat(e.reason()).isEqualTo(FailureReason.TOO_LARGE));
    }

    @Test
    void refusesADecompressionBombFromItsHeaderWithoutDecodingIt() throws Exception {
        byte[] bomb = pngHeaderOnly(50_000, 50_000);
        assertThat(bomb.length).isLessThan(200);
        long before = usedHeap();
        assertThatThrownBy(() -> decoder.decode(bomb)).isInstanceOfSatisfying(ImageRejectedException.class, e -> {
            assertThat(e.reason()).isEqualTo(FailureReason.TOO_LARGE);
            assertThat(e.getMessage()).contains("50000×50000").contains("image.max.pixels");
        });
        // 2.5 gigapixels were never allocated.
        assertThat(usedHeap() - before).isLessThan(512L * 1024 * 1024);
    }

    private void assertReason(byte[] bytes, FailureReason reason) {
        assertThatThrownBy(() -> decoder.decode(bytes)).isInstanceOfSatisfying(ImageRejectedException.class,
                e -> assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason));
    }

    private static long usedHeap() {
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    /** A valid PNG signature and IHDR for a huge RGB image, followed by a tiny IDAT and IEND. */
    static byte[] pngHeaderOnly(int width, int height) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 2)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        chunk(out, "IHDR", ihdr.array());
        Deflater deflater = new Deflater();
        deflater.setInput(new byte[1024]);
        deflater.finish();
        byte[] compressed = new byte[256];
        int n = deflater.deflate(compressed);
        chunk(out, "IDAT", Arrays.copyOf(compressed, n));
        chunk(out, "IEND", new byte[0]);
        return out.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws Exception {
        out.write(ByteBuffer.allocate(4).putInt(data.length).array());
        byte[] typeBytes = type.getBytes("US-ASCII");
        out.write(typeBytes);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(typeBytes);
        crc.update(data);
        out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }
}
