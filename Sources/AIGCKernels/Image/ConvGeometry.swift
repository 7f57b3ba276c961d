// The geometry of a 2-D convolution window (kernel, stride, padding, dilation), shared by conv2d,
// transposed conv2d and pooling; output sizes follow the formulas of PyTorch's nn.Conv2d and
// nn.ConvTranspose2d documentation (torch/nn/modules/conv.py).

/// How pixels outside the image are read.
public enum PaddingMode: String, Sendable, Equatable {
    /// Zeros (PyTorch `padding_mode='zeros'`).
    case zeros
    /// The nearest edge pixel (PyTorch `padding_mode='replicate'`).
    case replicate
}

/// Kernel size, stride, padding and dilation of a sliding window, per axis.
public struct ConvGeometry: Sendable, Equatable {
    /// Kernel rows (kH).
    public var kernelHeight: Int
    /// Kernel columns (kW).
    public var kernelWidth: Int
    /// Step between windows, vertically.
    public var strideHeight: Int
    /// Step between windows, horizontally.
    public var strideWidth: Int
    /// Rows added above and below.
    public var paddingHeight: Int
    /// Columns added left and right.
    public var paddingWidth: Int
    /// Rows between kernel taps (1: adjacent).
    public var dilationHeight: Int
    /// Columns between kernel taps (1: adjacent).
    public var dilationWidth: Int

    /// A window with its own settings per axis.
    public init(kernelHeight: Int, kernelWidth: Int, strideHeight: Int = 1, strideWidth: Int = 1,
                paddingHeight: Int = 0, paddingWidth: Int = 0, dilationHeight: Int = 1, dilationWidth: Int = 1) {
        precondition(kernelHeight > 0 && kernelWidth > 0 && strideHeight > 0 && strideWidth > 0, "kernel and stride must be positive")
        precondition(paddingHeight >= 0 && paddingWidth >= 0 && dilationHeight > 0 && dilationWidth > 0, "bad padding or dilation")
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.paddingHeight = paddingHeight
        self.paddingWidth = paddingWidth
        self.dilationHeight = dilationHeight
        self.dilationWidth = dilationWidth
    }

    /// A square window: the same kernel, stride, padding and dilation on both axes.
    public init(kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1) {
        self.init(kernelHeight: kernel, kernelWidth: kernel, strideHeight: stride, strideWidth: stride,
                  paddingHeight: padding, paddingWidth: padding, dilationHeight: dilation, dilationWidth: dilation)
    }

    /// Taps of the window (kH * kW).
    public var kernelArea: Int { kernelHeight * kernelWidth }

    /// Output size of a convolution (or pooling) over an input of `height` x `width`:
    /// (in + 2p - d(k-1) - 1) / s + 1, or 0 when the window does not fit.
    public func outputSize(height: Int, width: Int) -> (height: Int, width: Int) {
        func axis(_ n: Int, _ k: Int, _ s: Int, _ p: Int, _ d: Int) -> Int {
            let span = n + 2 * p - d * (k - 1) - 1
            return span < 0 ? 0 : span / s + 1
        }
        return (axis(height, kernelHeight, strideHeight, paddingHeight, dilationHeight),
                axis(width, kernelWidth, strideWidth, paddingWidth, dilationWidth))
    }

    /// Output size of a transposed convolution: (in - 1)s - 2p + d(k-1) + outputPadding + 1.
    public func transposedOutputSize(height: Int, width: Int, outputPaddingHeight: Int = 0, outputPaddingWidth: Int = 0)
        -> (height: Int, width: Int) {
        ((height - 1) * strideHeight - 2 * paddingHeight + dilationHeight * (kernelHeight - 1) + outputPaddingHeight + 1,
         (width - 1) * strideWidth - 2 * paddingWidth + dilationWidth * (kernelWidth - 1) + outputPaddingWidth + 1)
    }

    /// The output columns `o` whose input column o*stride - padding + tap lands in [0, size): a
    /// half-open range clipped to [0, outputCount). Lets the inner loops skip bounds checks.
    @inline(__always)
    static func validRange(tap: Int, stride: Int, padding: Int, size: Int, outputCount: Int) -> Range<Int> {
        // o*stride >= padding - tap  and  o*stride <= size - 1 + padding - tap
        let low = padding - tap
        let first = low <= 0 ? 0 : (low + stride - 1) / stride
        let high = size - 1 + padding - tap
        let last = high < 0 ? -1 : high / stride
        let lower = min(max(first, 0), outputCount), upper = min(max(last + 1, lower), outputCount)
        return lower..<upper
    }
}
