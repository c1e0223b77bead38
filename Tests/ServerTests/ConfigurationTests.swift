import Foundation
import Testing

@testable import Server

@Suite("Configuration")
struct ConfigurationTests {
    private func writeFile(_ json: String) throws -> String {
        let path = NSTemporaryDirectory() + "csms-config-\(UUID().uuidString).json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("defaults apply when nothing is set")
    func defaults() throws {
        let configuration = try AppConfiguration.load(from: ConfigurationSources())
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.dataDirectory == "./data")
        #expect(configuration.logLevel == .info)
        #expect(configuration.logFormat == .json)
        #expect(configuration.maxBodyBytes == 1_048_576)
        #expect(configuration.databasePath == "./data/csms.sqlite")
    }

    @Test("flags beat the environment, which beats the file, which beats the defaults")
    func precedence() throws {
        let file = try writeFile(#"{"port": 7000, "host": "0.0.0.0", "logFormat": "text", "maxBodyBytes": "2048"}"#)
        defer { try? FileManager.default.removeItem(atPath: file) }
        var sources = ConfigurationSources()
        try sources.loadFile(file)
        sources.environment = ["CSMS_PORT": "7001", "CSMS_HOST": "10.0.0.1"]
        sources.flags = ["port": "7002"]
        let configuration = try AppConfiguration.load(from: sources)
        #expect(configuration.port == 7002)
        #expect(configuration.host == "10.0.0.1")
        #expect(configuration.logFormat == .text)
        #expect(configuration.maxBodyBytes == 2048)
        #expect(configuration.logLevel == .info)
        let described = AppConfiguration.describe(sources)
        #expect(described["port"] == "7002 (--port)")
        #expect(described["host"] == "10.0.0.1 (CSMS_HOST)")
        #expect(described["logFormat"]?.contains("config file") == true)
    }

    @Test("environment names and flag names derive from the key")
    func keyNames() {
        #expect(ConfigurationKey.maxBodyBytes.environmentName == "CSMS_MAX_BODY_BYTES")
        #expect(ConfigurationKey.maxBodyBytes.flagName == "max-body-bytes")
        #expect(ConfigurationKey.data.environmentName == "CSMS_DATA")
    }

    @Test(
        "every bad value is refused with its key, its value, its source and what is allowed",
        arguments: [
            ("port", "abc", "must be an integer from 0 to 65535"),
            ("port", "70000", "must be an integer from 0 to 65535"),
            ("host", "  ", "must not be empty"),
            ("logLevel", "loud", "must be one of trace, debug, info, notice, warning, error, critical"),
            ("logFormat", "xml", "must be one of json, text"),
            ("maxBodyBytes", "0", "must be an integer from 1 to 104857600"),
            ("dbReaders", "64", "must be an integer from 1 to 16"),
            ("diskWarnPercent", "-5", "must be a number from 1.0 to 100.0"),
            ("memoryLimitBytes", "12", "must be an integer from 1048576"),
            ("registryPollSeconds", "0", "must be an integer from 1 to 3600"),
            ("kvSweepSeconds", "soon", "must be an integer from 1 to 86400"),
            ("shutdownTimeoutSeconds", "601", "must be an integer from 1 to 600"),
        ])
    func validation(key: String, value: String, allowed: String) throws {
        var sources = ConfigurationSources()
        sources.flags[key] = value
        let error = #expect(throws: ConfigurationError.self) { try AppConfiguration.load(from: sources) }
        #expect(error?.key == key)
        #expect(error?.value == value)
        #expect(error?.allowed.hasPrefix(allowed) == true, "\(error?.allowed ?? "")")
        #expect(error?.description.contains("\(key) = \"\(value)\"") == true)

        let environmentName = try #require(ConfigurationKey.all.first { $0.name == key }).environmentName
        let fromEnvironment = #expect(throws: ConfigurationError.self) {
            try AppConfiguration.load(from: ConfigurationSources(environment: [environmentName: value]))
        }
        #expect(fromEnvironment?.source == environmentName)
    }

    @Test("the fail threshold for disk may not be below the warn threshold")
    func diskThresholdOrder() {
        let error = #expect(throws: ConfigurationError.self) {
            try AppConfiguration.load(from: ConfigurationSources(flags: ["diskWarnPercent": "90", "diskFailPercent": "80"]))
        }
        #expect(error?.key == "diskFailPercent")
        #expect(error?.allowed.contains("diskWarnPercent") == true)
    }

    @Test("a config file with an unknown key, a bad shape or bad JSON is refused")
    func badFiles() throws {
        let unknown = try writeFile(#"{"prot": 8080}"#)
        let nested = try writeFile(#"{"port": {"value": 1}}"#)
        let broken = try writeFile(#"{"port": "#)
        defer { [unknown, nested, broken].forEach { try? FileManager.default.removeItem(atPath: $0) } }
        var sources = ConfigurationSources()
        #expect(throws: ConfigurationError(key: "prot", value: "8080", source: "config file \(unknown)", allowed: "unknown key; known keys: \(ConfigurationKey.all.map(\.name).joined(separator: ", "))")) {
            try sources.loadFile(unknown)
        }
        let shape = #expect(throws: ConfigurationError.self) { try sources.loadFile(nested) }
        #expect(shape?.key == "port")
        let syntax = #expect(throws: ConfigurationError.self) { try sources.loadFile(broken) }
        #expect(syntax?.allowed == "must be a JSON object")
        let missing = #expect(throws: ConfigurationError.self) { try sources.loadFile("/no/such/file.json") }
        #expect(missing?.allowed == "the file cannot be read")
    }
}

@Suite("The example environment file")
struct EnvironmentExampleTests {
    @Test(".env.example names every configuration key, and its values are accepted")
    func everyKeyListed() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent(".env.example"), encoding: .utf8)
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let trimmed = line.hasPrefix("# CSMS_") ? line.dropFirst(2) : line[...]
            guard trimmed.hasPrefix("CSMS_"), let equals = trimmed.firstIndex(of: "=") else { continue }
            values[String(trimmed[..<equals])] = String(trimmed[trimmed.index(after: equals)...])
        }
        for key in ConfigurationKey.all {
            #expect(values[key.environmentName] != nil, "\(key.environmentName) is missing from .env.example")
        }
        let given = values.filter { !$0.value.isEmpty && $0.key != "CSMS_CONFIG" }
        #expect(throws: Never.self) { try AppConfiguration.load(from: ConfigurationSources(environment: given)) }
    }
}
