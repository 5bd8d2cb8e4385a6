package io.labelstream.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;

/**
 * A batch's input tensor in one native-order direct buffer, handed to ONNX Runtime without a copy. Images are
 * written into their slots (from several threads at once: slots never overlap, and only absolute bulk puts
 * are used), as float32 or converted to float16 on the way in.
 */
public final class TensorBatch {

    private final ModelInput input;
    private final int capacity;
    private final ByteBuffer bytes;
    private final FloatBuffer floats;
    private final ShortBuffer halves;

    TensorBatch(ModelInput input, int capacity) {
        this.input = input;
        this.capacity = capacity;
        int elementBytes = input.elementType() == ModelInput.ElementType.FLOAT32 ? Float.BYTES : Short.BYTES;
        this.bytes = ByteBuffer.allocateDirect(Math.toIntExact((long) capacity * input.valuesPerImage() * elementBytes))
                .order(ByteOrder.nativeOrder());
        this.floats = input.elementType() == ModelInput.ElementType.FLOAT32 ? bytes.asFloatBuffer() : null;
        this.halves = input.elementType() == ModelInput.ElementType.FLOAT16 ? bytes.asShortBuffer() : null;
    }

    public int capacity() {
        return capacity;
    }

    public ModelInput input() {
        return input;
    }

    /** Writes one image's values into {@code slot}. */
    public void write(int slot, float[] values) {
        int offset = slot * input.valuesPerImage();
        if (floats != null) {
            floats.put(offset, values, 0, input.valuesPerImage());
        } else {
            short[] converted = new short[input.valuesPerImage()];
            for (int i = 0; i < converted.length; i++) {
                converted[i] = Float16.fromFloat(values[i]);
            }
            halves.put(offset, converted);
        }
    }

    /** Copies slot {@code from} over slot {@code to}: closes the gap a rejected image leaves. */
    void move(int from, int to) {
        int per = input.valuesPerImage() * elementBytes();
        ByteBuffer source = bytes.duplicate().position(from * per).limit(from * per + per);
        bytes.duplicate().position(to * per).put(source);
    }

    /** Copies {@code slots} images starting at {@code fromSlot} into {@code target} starting at its slot 0. */
    void copyTo(int fromSlot, int slots, TensorBatch target) {
        int per = input.valuesPerImage() * elementBytes();
        ByteBuffer source = bytes.duplicate().position(fromSlot * per).limit((fromSlot + slots) * per);
        target.bytes.duplicate().position(0).put(source);
    }

    void zero(int fromSlot, int slots) {
        int per = input.valuesPerImage() * elementBytes();
        ByteBuffer view = bytes.duplicate().position(fromSlot * per);
        for (int i = 0; i < slots * per; i++) {
            view.put((byte) 0);
        }
    }

    /** The first {@code slots} images as a buffer view ONNX Runtime can wrap. */
    ByteBuffer view(int firstSlot, int slots) {
        int per = input.valuesPerImage() * elementBytes();
        return bytes.duplicate().position(firstSlot * per).limit((firstSlot + slots) * per).slice()
                .order(ByteOrder.nativeOrder());
    }

    private int elementBytes() {
        return input.elementType() == ModelInput.ElementType.FLOAT32 ? Float.BYTES : Short.BYTES;
    }

    /** IEEE 754 half-precision conversion (round to nearest even), for JDKs before Float.floatToFloat16. */
    static final class Float16 {
        private Float16() {
        }

        static short fromFloat(float value) {
            int bits = Float.floatToRawIntBits(value);
            int sign = (bits >>> 16) & 0x8000;
            int exponent = (bits >>> 23) & 0xFF;
            int mantissa = bits & 0x7FFFFF;
            if (exponent == 0xFF) {
                return (short) (sign | 0x7C00 | (mantissa != 0 ? 0x200 : 0));
            }
            int e = exponent - 127 + 15;
            if (e >= 0x1F) {
                return (short) (sign | 0x7C00);
            }
            if (e <= 0) {
                if (e < -10) {
                    return (short) sign;
                }
                mantissa |= 0x800000;
                int shift = 14 - e;
                int half = mantissa >> shift;
                int remainder = mantissa & ((1 << shift) - 1);
                int halfway = 1 << (shift - 1);
                if (remainder > halfway || (remainder == halfway && (half & 1) != 0)) {
                    half++;
                }
                return (short) (sign | half);
            }
            int half = (e << 10) | (mantissa >> 13);
            int remainder = mantissa & 0x1FFF;
            if (remainder > 0x1000 || (remainder == 0x1000 && (half & 1) != 0)) {
                half++;
            }
            return (short) (sign | half);
        }

        static float toFloat(short half) {
            int h = half & 0xFFFF;
            int sign = (h & 0x8000) << 16;
            int exponent = (h >>> 10) & 0x1F;
            int mantissa = h & 0x3FF;
            if (exponent == 0x1F) {
                return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
            }
            if (exponent == 0) {
                float v = mantissa / 1024f * (float) Math.pow(2, -14);
                return sign != 0 ? -v : v;
            }
            return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
        }
    }
}
