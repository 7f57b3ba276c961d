// ServerMetrics: counters and histograms in the Prometheus text exposition format (version 0.0.4),
// plus gauges read from the engines when scraped.
import Foundation
import Synchronization

public final class ServerMetrics: Sendable {
    static let latencyBuckets: [Double] = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

    struct Histogram {
        var counts: [Int] = Array(repeating: 0, count: ServerMetrics.latencyBuckets.count)
        var sum = 0.0
        var total = 0
        mutating func observe(_ v: Double) {
            for (i, b) in ServerMetrics.latencyBuckets.enumerated() where v <= b { counts[i] += 1 }
            sum += v
            total += 1
        }
    }

    struct State {
        var requests: [String: Int] = [:]              // "endpoint|status"
        var promptTokens: [String: Int] = [:]          // model
        var completionTokens: [String: Int] = [:]
        var latency: [String: Histogram] = [:]         // endpoint
        var timeToFirstToken: [String: Histogram] = [:] // model
    }

    private let state = Mutex(State())

    public init() {}

    public func request(endpoint: String, status: Int, seconds: Double) {
        state.withLock { s in
            s.requests["\(endpoint)|\(status)", default: 0] += 1
            s.latency[endpoint, default: Histogram()].observe(seconds)
        }
    }

    public func tokens(model: String, prompt: Int, completion: Int) {
        state.withLock { s in
            s.promptTokens[model, default: 0] += prompt
            s.completionTokens[model, default: 0] += completion
        }
    }

    public func firstToken(model: String, seconds: Double) {
        state.withLock { $0.timeToFirstToken[model, default: Histogram()].observe(seconds) }
    }

    /// The exposition text; `engines` gives each model's queue depth and batch size now.
    public func render(engines: [(model: String, queued: Int, active: Int, generated: Int)]) -> String {
        let s = state.withLock { $0 }
        var out = ""
        func header(_ name: String, _ type: String, _ help: String) { out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n" }
        func label(_ v: String) -> String { v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") }
        header("aigc_requests_total", "counter", "HTTP requests by endpoint and status.")
        for (key, n) in s.requests.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: "|", maxSplits: 1).map(String.init)
            out += "aigc_requests_total{endpoint=\"\(label(parts[0]))\",status=\"\(parts[1])\"} \(n)\n"
        }
        header("aigc_prompt_tokens_total", "counter", "Prompt tokens processed.")
        for (m, n) in s.promptTokens.sorted(by: { $0.key < $1.key }) { out += "aigc_prompt_tokens_total{model=\"\(label(m))\"} \(n)\n" }
        header("aigc_completion_tokens_total", "counter", "Tokens generated.")
        for (m, n) in s.completionTokens.sorted(by: { $0.key < $1.key }) { out += "aigc_completion_tokens_total{model=\"\(label(m))\"} \(n)\n" }
        func histogram(_ name: String, _ help: String, _ key: String, _ values: [String: Histogram]) {
            header(name, "histogram", help)
            for (k, h) in values.sorted(by: { $0.key < $1.key }) {
                for (i, b) in Self.latencyBuckets.enumerated() { out += "\(name)_bucket{\(key)=\"\(label(k))\",le=\"\(b)\"} \(h.counts[i])\n" }
                out += "\(name)_bucket{\(key)=\"\(label(k))\",le=\"+Inf\"} \(h.total)\n"
                out += "\(name)_sum{\(key)=\"\(label(k))\"} \(h.sum)\n\(name)_count{\(key)=\"\(label(k))\"} \(h.total)\n"
            }
        }
        histogram("aigc_request_duration_seconds", "Request latency by endpoint.", "endpoint", s.latency)
        histogram("aigc_time_to_first_token_seconds", "Time from request to first generated token.", "model", s.timeToFirstToken)
        header("aigc_queue_depth", "gauge", "Requests waiting for a decode slot.")
        for e in engines { out += "aigc_queue_depth{model=\"\(label(e.model))\"} \(e.queued)\n" }
        header("aigc_active_sequences", "gauge", "Sequences in the decode batch.")
        for e in engines { out += "aigc_active_sequences{model=\"\(label(e.model))\"} \(e.active)\n" }
        return out
    }
}
