// Parses the `--since` of reports: a duration back from now ("90s", "30m", "24h", "7d", "2w") or an
// ISO 8601 date or date-time ("2025-11-01", "2025-11-01T08:00:00Z", "2025-11-01T08:00:00.5+08:00").
import Foundation

/// Turning the user's `--since` into an instant.
public enum TimeFilter {
    /// The instant `text` names, durations counted back from `now`.
    public static func parseSince(_ text: String, now: Date = Date()) throws(StoreError) -> Date {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let unit = trimmed.last, let seconds = unitSeconds[unit], let amount = Int(trimmed.dropLast()), amount >= 0,
           amount <= 100 * 366 * 86_400 {
            return now.addingTimeInterval(-Double(amount) * seconds)
        }
        if let date = parseISO8601(trimmed) { return date }
        throw .invalidInput(field: "--since", reason: "'\(text)' is neither a duration like 30m, 24h, 7d, 2w nor an ISO 8601 date like 2025-11-01 or 2025-11-01T08:00:00Z")
    }

    static let unitSeconds: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]

    /// A date alone is midnight UTC; a date-time needs its offset ("Z" or "+08:00").
    static func parseISO8601(_ text: String) -> Date? {
        let full = ISO8601DateFormatter()
        full.formatOptions = [.withInternetDateTime]
        if let date = full.date(from: text) { return date }
        full.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = full.date(from: text) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        day.timeZone = TimeZone(identifier: "UTC")
        return text.count == 10 ? day.date(from: text) : nil
    }
}
