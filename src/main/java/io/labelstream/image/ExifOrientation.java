package io.labelstream.image;

import com.twelvemonkeys.imageio.metadata.Directory;
import com.twelvemonkeys.imageio.metadata.Entry;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEG;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEGSegment;
import com.twelvemonkeys.imageio.metadata.jpeg.JPEGSegmentUtil;
import com.twelvemonkeys.imageio.metadata.tiff.TIFF;
import com.twelvemonkeys.imageio.metadata.tiff.TIFFReader;

import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import java.awt.Graphics2D;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * Cameras store pixels as the sensor saw them and record how to turn them upright in the EXIF Orientation tag
 * (1–8). People expect the upright image to be labeled, so it is applied before preprocessing.
 */
final class ExifOrientation {

    static final int NORMAL = 1;

    private ExifOrientation() {
    }

    /** The JPEG's EXIF orientation, or {@link #NORMAL} when it has none or it cannot be read. */
    static int ofJpeg(byte[] jpeg) {
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(jpeg))) {
            List<JPEGSegment> segments = JPEGSegmentUtil.readSegments(in, JPEG.APP1, "Exif");
            for (JPEGSegment segment : segments) {
                byte[] data;
                try (InputStream s = segment.data()) {
                    data = s.readAllBytes();
                }
                int start = 0;
                while (start < data.length && data[start] == 0) {
                    start++; // the identifier's padding before the TIFF header ("II" or "MM")
                }
                try (ImageInputStream tiff = new MemoryCacheImageInputStream(
                        new ByteArrayInputStream(data, start, data.length - start))) {
                    Directory directory = new TIFFReader().read(tiff);
                    Entry entry = directory.getEntryById(TIFF.TAG_ORIENTATION);
                    if (entry != null && entry.getValue() instanceof Number n && n.intValue() >= 1 && n.intValue() <= 8) {
                        return n.intValue();
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // Broken EXIF is common and harmless: the pixels are still good, so they are used as stored.
        }
        return NORMAL;
    }

    /** The upright image for an EXIF orientation (a new image, or the same one for {@link #NORMAL}). */
    static BufferedImage apply(BufferedImage image, int orientation) {
        if (orientation <= NORMAL || orientation > 8) {
            return image;
        }
        int w = image.getWidth();
        int h = image.getHeight();
        boolean swap = orientation >= 5;
        // Maps a stored pixel position to its upright position: x' = m00·x + m01·y + m02, y' = m10·x + m11·y + m12.
        AffineTransform t = switch (orientation) {
            case 2 -> new AffineTransform(-1, 0, 0, 1, w, 0);   // mirrored left-right
            case 3 -> new AffineTransform(-1, 0, 0, -1, w, h);  // upside down
            case 4 -> new AffineTransform(1, 0, 0, -1, 0, h);   // mirrored top-bottom
            case 5 -> new AffineTransform(0, 1, 1, 0, 0, 0);    // transposed
            case 6 -> new AffineTransform(0, 1, -1, 0, h, 0);   // needs 90° clockwise
            case 7 -> new AffineTransform(0, -1, -1, 0, h, w);  // transversed
            default -> new AffineTransform(0, -1, 1, 0, 0, w);  // 8: needs 90° counter-clockwise
        };
        // Same colour model as the source: drawing grey onto RGB would gamma-convert it.
        java.awt.image.ColorModel model = image.getColorModel();
        BufferedImage upright = new BufferedImage(model, model.createCompatibleWritableRaster(swap ? h : w, swap ? w : h),
                model.isAlphaPremultiplied(), null);
        Graphics2D g = upright.createGraphics();
        try {
            g.drawImage(image, t, null);
        } finally {
            g.dispose();
        }
        return upright;
    }
}
