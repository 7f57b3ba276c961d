// ImageTensor: a batch of float images in NCHW order (batch, channels, height, width), the value
// that image layers take and return.
import AIGCKernels

/// Float images laid out [N, C, H, W] (row-major: a plane is one channel of one image). A value
/// type: layers that change the shape return a new tensor, elementwise layers work in place.
public struct ImageTensor: Sendable, Equatable {
    /// Images (N).
    public let batch: Int
    /// Channels per image (C).
    public let channels: Int
    /// Rows per plane (H).
    public let height: Int
    /// Columns per plane (W).
    public let width: Int
    /// batch * channels * height * width values.
    public var values: [Float]

    /// Zeros of the given shape.
    public init(batch: Int, channels: Int, height: Int, width: Int) {
        self.init(batch: batch, channels: channels, height: height, width: width,
                  values: [Float](repeating: 0, count: batch * channels * height * width))
    }

    /// `values` in NCHW order; their count must match the shape.
    public init(batch: Int, channels: Int, height: Int, width: Int, values: [Float]) {
        precondition(batch > 0 && channels > 0 && height > 0 && width > 0, "empty image shape [\(batch), \(channels), \(height), \(width)]")
        precondition(values.count == batch * channels * height * width,
                     "[\(batch), \(channels), \(height), \(width)] needs \(batch * channels * height * width) values, got \(values.count)")
        self.batch = batch
        self.channels = channels
        self.height = height
        self.width = width
        self.values = values
    }

    /// [N, C, H, W].
    public var shape: [Int] { [batch, channels, height, width] }
    /// Values in one plane (H * W).
    public var planeSize: Int { height * width }
    /// Values in one image (C * H * W).
    public var imageSize: Int { channels * height * width }
    /// All values (N * C * H * W).
    public var count: Int { values.count }

    /// Runs `body` on the values in place.
    public mutating func withMutablePointer<R>(_ body: (FloatPointer) throws -> R) rethrows -> R {
        try values.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    }

    /// Runs `body` on the values, read-only.
    public func withPointer<R>(_ body: (ConstFloatPointer) throws -> R) rethrows -> R {
        try values.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// [a, b] along the channels (torch.cat(dim=1)): [N, Ca + Cb, H, W], as U-Net up blocks join a skip connection.
    public static func concatenatingChannels(_ a: ImageTensor, _ b: ImageTensor) -> ImageTensor {
        precondition(a.batch == b.batch && a.height == b.height && a.width == b.width, "cannot concatenate \(a.shape) and \(b.shape)")
        var values = [Float]()
        values.reserveCapacity(a.count + b.count)
        for n in 0..<a.batch {
            values.append(contentsOf: a.values[(n * a.imageSize)..<((n + 1) * a.imageSize)])
            values.append(contentsOf: b.values[(n * b.imageSize)..<((n + 1) * b.imageSize)])
        }
        return ImageTensor(batch: a.batch, channels: a.channels + b.channels, height: a.height, width: a.width, values: values)
    }
}
