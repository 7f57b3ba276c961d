// ImagingError: the ways an image request, checkpoint or output path can be wrong, each with what to do.

/// Errors of the imaging layer. Messages name the file or option and say how to fix it.
public enum ImagingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The checkpoint's tensors match no image architecture aigc knows.
    case unknownArchitecture(path: String, hint: String)
    /// `--arch` names an architecture whose tensors the checkpoint does not hold.
    case architectureMismatch(path: String, requested: String, detected: String?, reason: String)
    /// An option the architecture has no use for (a prompt for an unconditional GAN, ...).
    case unsupportedOption(option: String, architecture: String, reason: String)
    /// A request value out of range.
    case invalidRequest(option: String, value: String, reason: String)
    /// The folder the image should be written to does not exist.
    case outputFolderMissing(path: String)
    /// The visible label cannot be drawn legibly on an image this small.
    case labelDoesNotFit(width: Int, height: Int, needed: Int)
    /// A scheduler configuration (diffusers' scheduler_config.json) with a value aigc cannot use.
    case invalidSchedulerConfiguration(source: String, field: String, value: String, reason: String)
    /// `--scheduler` names no scheduler aigc has.
    case unknownScheduler(name: String, known: [String])

    public var description: String {
        switch self {
        case let .unknownArchitecture(path, hint):
            return "\(path): not an image generator aigc knows (DCGAN, MNIST VAE, toy DDPM): \(hint)"
        case let .architectureMismatch(path, requested, detected, reason):
            let guess = detected.map { "; it looks like \($0): pass --arch \($0) or leave --arch out" } ?? ""
            return "\(path): not a \(requested) checkpoint (\(reason))\(guess)"
        case let .unsupportedOption(option, architecture, reason):
            return "\(option) is not supported for this architecture (\(architecture)): \(reason)"
        case let .invalidRequest(option, value, reason):
            return "invalid \(option) \(value): \(reason)"
        case let .outputFolderMissing(path):
            return "\(path): the output folder does not exist; create it first or choose another -o path"
        case let .labelDoesNotFit(width, height, needed):
            return "a \(width)x\(height) image is too small for a legible visible label (needs \(needed) pixels of width); generate more images or leave out --label"
        case let .invalidSchedulerConfiguration(source, field, value, reason):
            return "\(source): scheduler setting \(field) = \(value) cannot be used: \(reason)"
        case let .unknownScheduler(name, known):
            return "unknown scheduler '\(name)'; choose one of \(known.joined(separator: ", "))"
        }
    }
}
