// The per-request context routes see: Hummingbird's core storage plus the authenticated caller.
import Hummingbird

public struct AIGCRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The API key behind the request (nil when authentication is off).
    public var caller: Caller?

    public init(source: Source) {
        coreContext = .init(source: source)
        caller = nil
    }

    /// Request bodies up to 16 MiB (long prompts, embedding batches).
    public var maxUploadSize: Int { 16 << 20 }
}
