package io.labelstream.image;

/** Where a model wants the channel axis: planes (NCHW, PyTorch exports) or interleaved (NHWC, TensorFlow). */
public enum TensorLayout { NCHW, NHWC }
