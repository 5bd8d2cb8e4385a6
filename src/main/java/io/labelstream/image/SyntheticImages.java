package io.labelstream.image;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Random;

/**
 * Photo-like test images made offline: a lit gradient background, overlapping soft shapes and sensor-like
 * noise, so that encoded JPEGs have realistic entropy and decode cost (flat colours would compress to nothing).
 * Deterministic for a given seed.
 */
public final class SyntheticImages {

    private SyntheticImages() {
    }

    public static BufferedImage image(int width, int height, long seed) {
        Random random = new Random(seed);
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setPaint(new GradientPaint(0, 0, randomColor(random), width, height, randomColor(random)));
            g.fillRect(0, 0, width, height);
            int shapes = 6 + random.nextInt(10);
            for (int i = 0; i < shapes; i++) {
                Color c = randomColor(random);
                g.setColor(new Color(c.getRed(), c.getGreen(), c.getBlue(), 90 + random.nextInt(140)));
                int w = 1 + random.nextInt(Math.max(1, width / 2));
                int h = 1 + random.nextInt(Math.max(1, height / 2));
                int x = random.nextInt(Math.max(1, width)) - w / 4;
                int y = random.nextInt(Math.max(1, height)) - h / 4;
                switch (random.nextInt(3)) {
                    case 0 -> g.fillOval(x, y, w, h);
                    case 1 -> g.fillRect(x, y, w, h);
                    default -> {
                        g.setStroke(new BasicStroke(1 + random.nextInt(Math.max(1, width / 40))));
                        g.drawLine(x, y, x + w, y + h);
                    }
                }
            }
        } finally {
            g.dispose();
        }
        byte[] pixels = ((java.awt.image.DataBufferByte) image.getRaster().getDataBuffer()).getData();
        for (int i = 0; i < pixels.length; i++) {
            int v = (pixels[i] & 0xFF) + (int) Math.round(random.nextGaussian() * 6);
            pixels[i] = (byte) Math.max(0, Math.min(255, v));
        }
        return image;
    }

    public static byte[] jpeg(int width, int height, long seed) {
        return jpeg(image(width, height, seed), 0.9f);
    }

    public static byte[] jpeg(BufferedImage image, float quality) {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
            writer.setOutput(stream);
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(quality);
            writer.write(null, new IIOImage(image, null, null), param);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    public static byte[] png(BufferedImage image) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(image, "png", out)) {
                throw new IllegalStateException("no PNG writer");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static Color randomColor(Random random) {
        return new Color(random.nextInt(256), random.nextInt(256), random.nextInt(256));
    }
}
