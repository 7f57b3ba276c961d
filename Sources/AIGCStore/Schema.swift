// The schema, as named migrations written once per dialect side by side, so the two backends keep
// the same tables, columns and constraints. Instants are BIGINT milliseconds since 1970 (UTC) in
// both, so values round-trip exactly; in psql, `to_timestamp(created_at / 1000.0)` shows them.
// A migration, once released, is never edited: add a new one.

/// One step of the schema, in SQLite's and PostgreSQL's dialects.
struct SchemaMigration: Sendable {
    let name: String
    let sqlite: [String]
    let postgres: [String]
}

enum Schema {
    /// Applied in this order; each name is recorded once applied (GRDB's `grdb_migrations` table in
    /// SQLite, `aigc_migrations` in PostgreSQL).
    static let migrations: [SchemaMigration] = [apiKeys, usage, conversations, jobs]

    static let apiKeys = SchemaMigration(name: "001_api_keys", sqlite: ["""
        CREATE TABLE api_keys (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            secret_sha256 TEXT NOT NULL UNIQUE CHECK (length(secret_sha256) = 64),
            created_at INTEGER NOT NULL,
            revoked_at INTEGER,
            quota_tokens INTEGER CHECK (quota_tokens >= 0),
            rpm INTEGER CHECK (rpm > 0))
        """, "CREATE INDEX api_keys_prefix ON api_keys (prefix)"], postgres: ["""
        CREATE TABLE api_keys (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            prefix TEXT NOT NULL,
            secret_sha256 TEXT NOT NULL UNIQUE CHECK (length(secret_sha256) = 64),
            created_at BIGINT NOT NULL,
            revoked_at BIGINT,
            quota_tokens BIGINT CHECK (quota_tokens >= 0),
            rpm INTEGER CHECK (rpm > 0))
        """, "CREATE INDEX api_keys_prefix ON api_keys (prefix)"])

    static let usage = SchemaMigration(name: "002_usage", sqlite: ["""
        CREATE TABLE usage_records (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            key_id INTEGER REFERENCES api_keys (id) ON DELETE SET NULL,
            model TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            prompt_tokens INTEGER NOT NULL CHECK (prompt_tokens >= 0),
            completion_tokens INTEGER NOT NULL CHECK (completion_tokens >= 0),
            latency_ms INTEGER NOT NULL CHECK (latency_ms >= 0),
            status INTEGER NOT NULL,
            price_micros INTEGER NOT NULL,
            created_at INTEGER NOT NULL)
        """, "CREATE INDEX usage_records_key_time ON usage_records (key_id, created_at)",
        "CREATE INDEX usage_records_time ON usage_records (created_at)"], postgres: ["""
        CREATE TABLE usage_records (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            key_id BIGINT REFERENCES api_keys (id) ON DELETE SET NULL,
            model TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            prompt_tokens INTEGER NOT NULL CHECK (prompt_tokens >= 0),
            completion_tokens INTEGER NOT NULL CHECK (completion_tokens >= 0),
            latency_ms INTEGER NOT NULL CHECK (latency_ms >= 0),
            status INTEGER NOT NULL,
            price_micros BIGINT NOT NULL,
            created_at BIGINT NOT NULL)
        """, "CREATE INDEX usage_records_key_time ON usage_records (key_id, created_at)",
        "CREATE INDEX usage_records_time ON usage_records (created_at)"])

    static let conversations = SchemaMigration(name: "003_conversations", sqlite: ["""
        CREATE TABLE conversations (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            model TEXT NOT NULL,
            system_prompt TEXT,
            parameters TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL)
        """, "CREATE INDEX conversations_updated ON conversations (updated_at, id)", """
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
            content TEXT NOT NULL,
            generation TEXT,
            created_at INTEGER NOT NULL)
        """, "CREATE INDEX messages_conversation ON messages (conversation_id, id)"], postgres: ["""
        CREATE TABLE conversations (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            model TEXT NOT NULL,
            system_prompt TEXT,
            parameters TEXT NOT NULL DEFAULT '{}',
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL)
        """, "CREATE INDEX conversations_updated ON conversations (updated_at, id)", """
        CREATE TABLE messages (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
            content TEXT NOT NULL,
            generation TEXT,
            created_at BIGINT NOT NULL)
        """, "CREATE INDEX messages_conversation ON messages (conversation_id, id)"])

    static let jobs = SchemaMigration(name: "004_jobs", sqlite: ["""
        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
            worker TEXT,
            result TEXT,
            error TEXT,
            created_at INTEGER NOT NULL,
            claimed_at INTEGER,
            finished_at INTEGER)
        """, "CREATE INDEX jobs_queued ON jobs (id) WHERE state = 'queued'"], postgres: ["""
        CREATE TABLE jobs (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
            worker TEXT,
            result TEXT,
            error TEXT,
            created_at BIGINT NOT NULL,
            claimed_at BIGINT,
            finished_at BIGINT)
        """, "CREATE INDEX jobs_queued ON jobs (id) WHERE state = 'queued'"])
}
