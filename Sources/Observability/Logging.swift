import Foundation
import Logging
import Synchronization

public enum LogFormat: String, Sendable, CaseIterable {
    case json, text
}

/// Writes one line per log event to standard error: JSON objects, or `key=value` text for people.
/// Metadata whose key names a secret is redacted here, the last line of defence: secrets are
/// never meant to reach a logger at all.
public struct LineLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let format: LogFormat
    private let output: LogOutput

    public init(label: String, format: LogFormat, level: Logger.Level, output: LogOutput = .standardError) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        if let error = event.error { merged["error"] = .string("\(error)") }
        switch format {
        case .json: output.write(jsonLine(event.level, event.message, merged))
        case .text: output.write(textLine(event.level, event.message, merged))
        }
    }

    static let sensitiveKeyFragments = ["password", "secret", "token", "authorization", "apikey", "api_key"]

    static func isSensitive(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return sensitiveKeyFragments.contains { lowered.contains($0) }
    }

    private static func outputKey(_ key: String) -> String {
        key == "hb.request.id" ? "requestId" : key
    }

    private func jsonLine(_ level: Logger.Level, _ message: Logger.Message, _ metadata: Logger.Metadata) -> String {
        var object: [String: Any] = [
            "time": Self.timestamp(), "level": level.rawValue, "logger": label, "message": message.description,
        ]
        for (key, value) in metadata {
            object[Self.outputKey(key)] = Self.isSensitive(key) ? "[redacted]" : Self.jsonValue(value)
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    private func textLine(_ level: Logger.Level, _ message: Logger.Message, _ metadata: Logger.Metadata) -> String {
        var line = "\(Self.timestamp()) \(level.rawValue.uppercased()) \(label): \(message)"
        for key in metadata.keys.sorted() {
            let value = Self.isSensitive(key) ? "[redacted]" : metadata[key]!.description
            line += " \(Self.outputKey(key))=\(value)"
        }
        return line + "\n"
    }

    private static func jsonValue(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible): return convertible.description
        case .array(let values): return values.map(jsonValue)
        case .dictionary(let dictionary): return dictionary.mapValues(jsonValue)
        }
    }

    private static func timestamp() -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(Date())
    }
}

/// Where log lines go; a lock keeps concurrent lines from interleaving.
public final class LogOutput: Sendable {
    public static let standardError = LogOutput { line in
        FileHandle.standardError.write(Data(line.utf8))
    }

    private let lock = Mutex(())
    private let sink: @Sendable (String) -> Void

    public init(_ sink: @escaping @Sendable (String) -> Void) {
        self.sink = sink
    }

    func write(_ line: String) {
        lock.withLock { _ in sink(line) }
    }
}

