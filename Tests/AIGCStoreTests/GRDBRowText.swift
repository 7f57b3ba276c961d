// Reads a SQLite table's rows as text with GRDB, for tests that inspect what is really stored (in a file
// of its own: GRDB and PostgresNIO both export common names such as `Configuration`).
import GRDB

enum GRDBRowText {
    /// Each row of `table` rendered by GRDB (column names and values).
    static func all(_ db: Database, table: String) throws -> [String] {
        try Row.fetchAll(db, sql: "SELECT * FROM \(table)").map(\.description)
    }

    /// A single value, e.g. of a PRAGMA.
    static func value(_ db: Database, _ sql: String) throws -> String? {
        try String.fetchOne(db, sql: sql)
    }
}
