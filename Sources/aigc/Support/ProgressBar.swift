// A progress line on stderr: redrawn in place on a terminal, a line every few seconds in logs.
import Foundation

final class ProgressBar: @unchecked Sendable {
    /// What the counts are: bytes (shown in MB and MB/s) or steps (shown as n/total and steps/s).
    enum Unit { case bytes, steps }

    let label: String
    let unit: Unit
    private let isTerminal = isatty(STDERR_FILENO) != 0
    private var lastLine = Date.distantPast
    private let started = Date()
    private let lock = NSLock()

    init(label: String, unit: Unit = .bytes) {
        self.label = label
        self.unit = unit
    }

    func update(done: Int64, total: Int64?, force: Bool = false) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        if !isTerminal && !force && now.timeIntervalSince(lastLine) < 5 { return }
        lastLine = now
        let seconds = max(now.timeIntervalSince(started), 1e-3)
        let scale = unit == .bytes ? 1e6 : 1
        let rate = Double(done) / seconds / scale
        var line = label
        if let total, total > 0 {
            let fraction = min(1, Double(done) / Double(total))
            let width = 30, filled = Int(fraction * Double(width))
            line += " [" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "]"
            line += unit == .bytes ? String(format: " %3.0f%% %.1f/%.1f MB", fraction * 100, Double(done) / 1e6, Double(total) / 1e6)
                : String(format: " %3.0f%% %lld/%lld steps", fraction * 100, done, total)
        } else {
            line += unit == .bytes ? String(format: " %.1f MB", Double(done) / 1e6) : " \(done) steps"
        }
        line += String(format: unit == .bytes ? " %.1f MB/s" : " %.2f steps/s", rate)
        FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    func finish(_ message: String) {
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + message + "\n").utf8))
    }
}
