import Foundation
import Logging
import Observability

/// Every setting of the server, typed and validated. Each comes from, in order of precedence:
/// a command-line flag, a `CSMS_*` environment variable, the JSON config file, the default.
struct AppConfiguration: Sendable {
    var host: String
    var port: Int
    var dataDirectory: String
    var logLevel: Logger.Level
    var logFormat: LogFormat
    var maxBodyBytes: Int
    var http: HTTPConnectionLimits
    var databaseReaders: Int
    /// SQLite's `max_page_count` for the database; nil: only the disk limits its size.
    var databaseMaxPageCount: Int?
    var diskWarnPercent: Double
    var diskFailPercent: Double
    var memoryLimitBytes: UInt64
    var registryPollInterval: Duration
    var keyValueSweepInterval: Duration
    var shutdownTimeout: Duration
    /// HS256 signing key for access tokens; nil: generated once and kept in the data directory.
    var jwtSecret: String?
    var accessTokenLifetime: Duration
    var refreshTokenLifetime: Duration
    var bcryptCost: Int
    var adminEmail: String?
    var adminPassword: String?
    var offlineGrace: Duration
    var sessionMaxDuration: Duration
    /// Sessions longer than this are flagged implausible and not invoiced automatically.
    var sessionMaxBillableDuration: Duration
    var monitorInterval: Duration
    var invoiceDueDays: Int
    var eventHeartbeat: Duration
    var ocpp: OCPPService.Settings
    var ocppMessageRetention: Duration
    /// How long audit entries are kept; nil: forever.
    var auditRetention: Duration?
    var dashboard: DashboardSettings
    /// The longest a driver may reserve a connector for through the app.
    var reservationDriverMaximum: Duration
    /// How often stations whose local list a tag change made stale get a differential update.
    var localListSyncInterval: Duration
    /// The least power load management gives a charging car before it pauses the newest session.
    var loadMinimumPowerW: Int
    /// How often every managed site is shared again even without a session event.
    var loadManagementInterval: Duration
    /// How chargers reach this server; upload URLs start with it. Nil: http://host:port.
    var publicURL: String?
    var uploadMaxBytes: Int
    var tls: TLSSettings
    var rateLimits: RateLimitSettings
    /// Peers whose `X-Forwarded-For` is believed: the reverse proxies in front of us.
    var trustedProxies: Set<String>
    var tracing: TracingSettings

    var databasePath: String { (dataDirectory as NSString).appendingPathComponent("csms.sqlite") }
}

/// TLS for HTTPS and WSS, and the CA that signs chargers' certificates.
struct TLSSettings: Sendable {
    var certificate: String?
    var key: String?
    /// Client certificates are checked against it; nil: our CA.
    var clientCA: String?
    var caCertificate: String?
    var caKey: String?

    var enabled: Bool { certificate != nil }

    fileprivate init(reader: TypedReader) throws {
        certificate = try reader.optionalString(.tlsCert, minimumBytes: 1)
        key = try reader.optionalString(.tlsKey, minimumBytes: 1)
        clientCA = try reader.optionalString(.tlsClientCa, minimumBytes: 1)
        caCertificate = try reader.optionalString(.caCert, minimumBytes: 1)
        caKey = try reader.optionalString(.caKey, minimumBytes: 1)
        if (certificate == nil) != (key == nil), let raw = reader.sources.raw(.tlsCert) ?? reader.sources.raw(.tlsKey) {
            throw ConfigurationError(key: "tlsCert", value: raw.value, source: raw.source, allowed: "tlsCert and tlsKey go together")
        }
    }
}

/// One configurable key: its names in each source and how to describe it.
struct ConfigurationKey: Sendable {
    let name: String
    let help: String
    let defaultDescription: String
    /// Secrets are shown as `[redacted]` wherever the configuration is printed.
    var isSecret = false

    var environmentName: String {
        "CSMS_" + name.reduce(into: "") { result, character in
            if character.isUppercase { result += "_" }
            result += character.uppercased()
        }
    }

    var flagName: String {
        name.reduce(into: "") { result, character in
            if character.isUppercase { result += "-" }
            result += character.lowercased()
        }
    }
}

extension ConfigurationKey {
    static let host = ConfigurationKey(name: "host", help: "Address to listen on", defaultDescription: "127.0.0.1")
    static let port = ConfigurationKey(
        name: "port", help: "TCP port for HTTP and OCPP WebSockets (0 picks a free port)", defaultDescription: "8080")
    static let data = ConfigurationKey(
        name: "data", help: "Data directory: holds the database file csms.sqlite", defaultDescription: "./data")
    static let logLevel = ConfigurationKey(
        name: "logLevel", help: "trace, debug, info, notice, warning, error or critical", defaultDescription: "info")
    static let logFormat = ConfigurationKey(
        name: "logFormat", help: "json (one object per line) or text", defaultDescription: "json")
    static let maxBodyBytes = ConfigurationKey(
        name: "maxBodyBytes", help: "Largest accepted request body, in bytes", defaultDescription: "1048576")
    static let httpHeaderTimeoutSeconds = ConfigurationKey(
        name: "httpHeaderTimeoutSeconds", help: "Seconds a request head may take to arrive (slowloris); then 408 and close",
        defaultDescription: "10")
    static let httpIdleTimeoutSeconds = ConfigurationKey(
        name: "httpIdleTimeoutSeconds",
        help: "Seconds of silence allowed while a request body is read and between requests on an HTTP connection",
        defaultDescription: "60")
    static let httpMaxHeaderBytes = ConfigurationKey(
        name: "httpMaxHeaderBytes", help: "Largest request line plus headers, in bytes; more is answered 431",
        defaultDescription: "32768")
    static let httpMaxConnections = ConfigurationKey(
        name: "httpMaxConnections", help: "Open connections (HTTP and OCPP) above which new ones get 503 and are closed",
        defaultDescription: "1000")
    static let dbReaders = ConfigurationKey(
        name: "dbReaders", help: "Read-only database connections, each on its own thread (1–16)",
        defaultDescription: "2")
    static let dbMaxPageCount = ConfigurationKey(
        name: "dbMaxPageCount", help: "Largest database size in pages (4 KiB each); writes beyond it get 507. 0: no limit",
        defaultDescription: "0")
    static let diskWarnPercent = ConfigurationKey(
        name: "diskWarnPercent", help: "Disk use (%) of the data directory above which health warns",
        defaultDescription: "90")
    static let diskFailPercent = ConfigurationKey(
        name: "diskFailPercent", help: "Disk use (%) above which health fails", defaultDescription: "95")
    static let memoryLimitBytes = ConfigurationKey(
        name: "memoryLimitBytes", help: "Memory limit for the health check (warn > 75 %, fail > 90 % RSS)",
        defaultDescription: "the machine's memory or cgroup limit")
    static let registryPollSeconds = ConfigurationKey(
        name: "registryPollSeconds", help: "How often external services' /health is polled",
        defaultDescription: "10")
    static let kvSweepSeconds = ConfigurationKey(
        name: "kvSweepSeconds", help: "How often expired key/value entries are deleted", defaultDescription: "60")
    static let shutdownTimeoutSeconds = ConfigurationKey(
        name: "shutdownTimeoutSeconds", help: "How long in-flight requests may take to finish at shutdown",
        defaultDescription: "10")

    static let jwtSecret = ConfigurationKey(
        name: "jwtSecret", help: "HS256 key for access tokens, at least 32 bytes (environment or file only)",
        defaultDescription: "generated once, kept in DATA/jwt-secret", isSecret: true)
    static let accessTokenTtlSeconds = ConfigurationKey(
        name: "accessTokenTtlSeconds", help: "Access token lifetime", defaultDescription: "900")
    static let refreshTokenTtlDays = ConfigurationKey(
        name: "refreshTokenTtlDays", help: "Refresh token lifetime", defaultDescription: "30")
    static let bcryptCost = ConfigurationKey(
        name: "bcryptCost", help: "bcrypt cost for account passwords (4–16)", defaultDescription: "10")
    static let adminEmail = ConfigurationKey(
        name: "adminEmail", help: "Creates this admin at startup when there is no admin yet", defaultDescription: "unset")
    static let adminPassword = ConfigurationKey(
        name: "adminPassword", help: "Password of that first admin (environment or file only)",
        defaultDescription: "unset", isSecret: true)

    static let offlineGraceMinutes = ConfigurationKey(
        name: "offlineGraceMinutes", help: "Minutes a station may be offline before an alert", defaultDescription: "5")
    static let sessionMaxHours = ConfigurationKey(
        name: "sessionMaxHours", help: "Hours a session may stay active before an alert", defaultDescription: "24")
    static let sessionMaxBillableHours = ConfigurationKey(
        name: "sessionMaxBillableHours",
        help: "Hours after which a session is flagged implausible and not invoiced automatically",
        defaultDescription: "168")
    static let monitorIntervalSeconds = ConfigurationKey(
        name: "monitorIntervalSeconds", help: "How often the offline and long-session checks run",
        defaultDescription: "30")
    static let invoiceDueDays = ConfigurationKey(
        name: "invoiceDueDays", help: "Days from issue until an invoice is due", defaultDescription: "14")
    static let eventHeartbeatSeconds = ConfigurationKey(
        name: "eventHeartbeatSeconds", help: "Seconds between heartbeat comments on /api/v1/events",
        defaultDescription: "15")

    static let ocppHeartbeatIntervalSeconds = ConfigurationKey(
        name: "ocppHeartbeatIntervalSeconds", help: "Heartbeat interval told to chargers at BootNotification",
        defaultDescription: "300")
    static let ocppPingIntervalSeconds = ConfigurationKey(
        name: "ocppPingIntervalSeconds", help: "WebSocket ping interval; 0 turns pings off", defaultDescription: "30")
    static let ocppCallTimeoutSeconds = ConfigurationKey(
        name: "ocppCallTimeoutSeconds", help: "How long a CALL to a charger waits for its answer", defaultDescription: "30")
    static let ocppOutboundQueueSize = ConfigurationKey(
        name: "ocppOutboundQueueSize", help: "CALLs that may wait per charger before 503", defaultDescription: "16")
    static let ocppMaxFrameBytes = ConfigurationKey(
        name: "ocppMaxFrameBytes", help: "Largest WebSocket message from a charger", defaultDescription: "65536")
    static let ocppAutoRegister = ConfigurationKey(
        name: "ocppAutoRegister", help: "Unknown charge points are created (registration pending) instead of 404",
        defaultDescription: "false")
    static let ocppMessageRetentionDays = ConfigurationKey(
        name: "ocppMessageRetentionDays", help: "Days OCPP messages and meter values are kept", defaultDescription: "30")

    static let auditRetentionDays = ConfigurationKey(
        name: "auditRetentionDays", help: "Days audit entries are kept; 0 keeps them forever", defaultDescription: "0")

    static let uiEnabled = ConfigurationKey(
        name: "uiEnabled", help: "Serve the operator dashboard at /ui (false: / and /ui answer 404)", defaultDescription: "true")
    static let uiSessionHours = ConfigurationKey(
        name: "uiSessionHours", help: "How long a dashboard sign-in lasts", defaultDescription: "12")
    static let displayTimeZone = ConfigurationKey(
        name: "displayTimeZone", help: "IANA time zone the dashboard shows times and days in", defaultDescription: "UTC")

    static let reservationMaxMinutes = ConfigurationKey(
        name: "reservationMaxMinutes", help: "The longest a driver may reserve a connector for through the app",
        defaultDescription: "30")

    static let localListSyncSeconds = ConfigurationKey(
        name: "localListSyncSeconds",
        help: "How often connected stations whose local list misses a tag change get a differential update",
        defaultDescription: "60")

    static let loadMinimumPowerW = ConfigurationKey(
        name: "loadMinimumPowerW", help: "The least power, in W, load management gives a charging car (6 A × 3 × 230 V)",
        defaultDescription: "4140")
    static let loadManagementSeconds = ConfigurationKey(
        name: "loadManagementSeconds", help: "How often every managed site is shared again without a session event",
        defaultDescription: "5")

    static let publicUrl = ConfigurationKey(
        name: "publicUrl", help: "How chargers reach this server, e.g. https://csms.example.com (upload URLs start with it)",
        defaultDescription: "http://HOST:PORT")
    static let uploadMaxMegabytes = ConfigurationKey(
        name: "uploadMaxMegabytes", help: "The largest diagnostics or log file a charger may upload", defaultDescription: "50")

    static let tlsCert = ConfigurationKey(
        name: "tlsCert", help: "PEM certificate chain: serve HTTPS and WSS (security profile 2) with it", defaultDescription: "off")
    static let tlsKey = ConfigurationKey(name: "tlsKey", help: "PEM private key of tlsCert", defaultDescription: "off")
    static let tlsClientCa = ConfigurationKey(
        name: "tlsClientCa", help: "PEM CA whose client certificates chargers may present (security profile 3)",
        defaultDescription: "our CA")
    static let caCert = ConfigurationKey(
        name: "caCert", help: "PEM certificate of the CA that signs chargers' certificates", defaultDescription: "DATA/ca/ca.pem")
    static let caKey = ConfigurationKey(name: "caKey", help: "PEM private key of caCert", defaultDescription: "DATA/ca/ca-key.pem")

    static let rateLimitAuth = ConfigurationKey(
        name: "rateLimitAuth", help: "Sign-in, registration and token refresh per client address: QUOTA/WINDOWs or off",
        defaultDescription: "20/60s")
    static let rateLimitReads = ConfigurationKey(
        name: "rateLimitReads", help: "Reads (GET) per user, or per address when anonymous: QUOTA/WINDOWs or off",
        defaultDescription: "1200/60s")
    static let rateLimitWrites = ConfigurationKey(
        name: "rateLimitWrites", help: "Changes (POST, PUT, PATCH, DELETE) per user: QUOTA/WINDOWs or off",
        defaultDescription: "300/60s")
    static let rateLimitCommands = ConfigurationKey(
        name: "rateLimitCommands", help: "Requests that call a charger per user: QUOTA/WINDOWs or off", defaultDescription: "60/60s")
    static let rateLimitExports = ConfigurationKey(
        name: "rateLimitExports", help: "CSV exports and file downloads per user: QUOTA/WINDOWs or off", defaultDescription: "20/60s")
    static let trustedProxies = ConfigurationKey(
        name: "trustedProxies", help: "Comma-separated proxy addresses whose X-Forwarded-For names the client",
        defaultDescription: "none")
    static let ocppMaxMessagesPerSecond = ConfigurationKey(
        name: "ocppMaxMessagesPerSecond", help: "CALLs per second a charger may send before its answers are delayed (0: off)",
        defaultDescription: "50")
    static let otlpEndpoint = ConfigurationKey(
        name: "otlpEndpoint", help: "OTLP/HTTP base URL, e.g. http://127.0.0.1:4318: turns tracing on (spans go to /v1/traces)",
        defaultDescription: "off")
    static let otelServiceName = ConfigurationKey(
        name: "otelServiceName", help: "service.name of our spans", defaultDescription: "csms")

    static let all: [ConfigurationKey] = [
        .host, .port, .data, .logLevel, .logFormat, .maxBodyBytes,
        .httpHeaderTimeoutSeconds, .httpIdleTimeoutSeconds, .httpMaxHeaderBytes, .httpMaxConnections,
        .dbReaders, .diskWarnPercent, .diskFailPercent,
        .memoryLimitBytes, .registryPollSeconds, .kvSweepSeconds, .shutdownTimeoutSeconds, .jwtSecret,
        .accessTokenTtlSeconds, .refreshTokenTtlDays, .bcryptCost, .adminEmail, .adminPassword, .offlineGraceMinutes,
        .sessionMaxHours, .monitorIntervalSeconds, .invoiceDueDays, .eventHeartbeatSeconds, .ocppHeartbeatIntervalSeconds,
        .ocppPingIntervalSeconds, .ocppCallTimeoutSeconds, .ocppOutboundQueueSize, .ocppMaxFrameBytes, .ocppAutoRegister,
        .ocppMessageRetentionDays, .auditRetentionDays,
        .sessionMaxBillableHours, .dbMaxPageCount, .uiEnabled, .uiSessionHours, .displayTimeZone,
        .reservationMaxMinutes, .localListSyncSeconds, .loadMinimumPowerW, .loadManagementSeconds,
        .publicUrl, .uploadMaxMegabytes, .tlsCert, .tlsKey, .tlsClientCa, .caCert, .caKey,
        .rateLimitAuth, .rateLimitReads, .rateLimitWrites, .rateLimitCommands, .rateLimitExports, .trustedProxies,
        .ocppMaxMessagesPerSecond,
        .otlpEndpoint, .otelServiceName,
    ]
}

/// A setting that was given but is not acceptable. Its description is the one line printed at exit.
struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    let key: String
    let value: String
    let source: String
    let allowed: String

    var description: String {
        "invalid configuration: \(key) = \"\(value)\" (from \(source)): \(allowed)"
    }
}

/// The raw settings from each source, before they are typed.
struct ConfigurationSources: Sendable {
    var flags: [String: String] = [:]
    var environment: [String: String] = [:]
    var file: [String: String] = [:]
    var filePath: String?

    /// Reads a JSON object of `key: value` (strings, numbers or booleans). Unknown keys are errors,
    /// so a typo in the file is not silently ignored.
    mutating func loadFile(_ path: String) throws {
        let source = "config file \(path)"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: "config", value: path, source: "--config", allowed: "the file cannot be read")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConfigurationError(key: "config", value: path, source: "--config", allowed: "must be a JSON object")
        }
        let known = Set(ConfigurationKey.all.map(\.name))
        for (key, value) in object {
            guard known.contains(key) else {
                throw ConfigurationError(
                    key: key, value: "\(value)", source: source,
                    allowed: "unknown key; known keys: \(ConfigurationKey.all.map(\.name).joined(separator: ", "))")
            }
            switch value {
            case let text as String: file[key] = text
            case let number as NSNumber: file[key] = number.stringValue
            default:
                throw ConfigurationError(
                    key: key, value: "\(value)", source: source, allowed: "must be a string, number or boolean")
            }
        }
        filePath = path
    }

    /// The winning raw value of `key` and where it came from.
    func raw(_ key: ConfigurationKey) -> (value: String, source: String)? {
        if let value = flags[key.name] { return (value, "--\(key.flagName)") }
        if let value = environment[key.environmentName] { return (value, key.environmentName) }
        if let value = file[key.name] { return (value, "config file \(filePath ?? "")") }
        return nil
    }
}

extension AppConfiguration {
    static func load(from sources: ConfigurationSources) throws -> AppConfiguration {
        let reader = TypedReader(sources: sources)
        let diskWarn = try reader.number(.diskWarnPercent, default: 90, in: 1...100)
        let diskFail = try reader.number(.diskFailPercent, default: 95, in: 1...100)
        if diskFail < diskWarn, let raw = sources.raw(.diskFailPercent) ?? sources.raw(.diskWarnPercent) {
            throw ConfigurationError(
                key: "diskFailPercent", value: raw.value, source: raw.source,
                allowed: "must be at least diskWarnPercent (\(diskWarn))")
        }
        return AppConfiguration(
            host: try reader.string(.host, default: "127.0.0.1"),
            port: try reader.integer(.port, default: 8080, in: 0...65535),
            dataDirectory: try reader.string(.data, default: "./data"),
            logLevel: try reader.choice(.logLevel, default: .info),
            logFormat: try reader.choice(.logFormat, default: .json),
            maxBodyBytes: try reader.integer(.maxBodyBytes, default: 1 << 20, in: 1...(100 << 20)),
            http: HTTPConnectionLimits(
                headerTimeout: .seconds(try reader.integer(.httpHeaderTimeoutSeconds, default: 10, in: 1...300)),
                idleTimeout: .seconds(try reader.integer(.httpIdleTimeoutSeconds, default: 60, in: 1...3600)),
                maxHeaderBytes: try reader.integer(.httpMaxHeaderBytes, default: 32 * 1024, in: 1024...(1 << 20)),
                maxConnections: try reader.integer(.httpMaxConnections, default: 16_384, in: 1...1_000_000)),
            databaseReaders: try reader.integer(.dbReaders, default: 2, in: 1...16),
            databaseMaxPageCount: { $0 == 0 ? nil : $0 }(
                try reader.integer(.dbMaxPageCount, default: 0, in: 0...4_294_967_294)),
            diskWarnPercent: diskWarn,
            diskFailPercent: diskFail,
            memoryLimitBytes: UInt64(
                try reader.integer(
                    .memoryLimitBytes, default: Int(MemoryHealthCheck.defaultLimitBytes()), in: (1 << 20)...Int.max)),
            registryPollInterval: .seconds(try reader.integer(.registryPollSeconds, default: 10, in: 1...3600)),
            keyValueSweepInterval: .seconds(try reader.integer(.kvSweepSeconds, default: 60, in: 1...86400)),
            shutdownTimeout: .seconds(try reader.integer(.shutdownTimeoutSeconds, default: 10, in: 1...600)),
            jwtSecret: try reader.optionalString(.jwtSecret, minimumBytes: 32),
            accessTokenLifetime: .seconds(try reader.integer(.accessTokenTtlSeconds, default: 900, in: 30...86_400)),
            refreshTokenLifetime: .seconds(
                86_400 * (try reader.integer(.refreshTokenTtlDays, default: 30, in: 1...365))),
            bcryptCost: try reader.integer(.bcryptCost, default: 10, in: 4...16),
            adminEmail: try reader.optionalString(.adminEmail, minimumBytes: 3),
            adminPassword: try reader.optionalString(.adminPassword, minimumBytes: 8),
            offlineGrace: .seconds(60 * (try reader.integer(.offlineGraceMinutes, default: 5, in: 1...10_080))),
            sessionMaxDuration: .seconds(3600 * (try reader.integer(.sessionMaxHours, default: 24, in: 1...720))),
            sessionMaxBillableDuration: .seconds(
                3600 * (try reader.integer(.sessionMaxBillableHours, default: 168, in: 1...8760))),
            monitorInterval: .seconds(try reader.integer(.monitorIntervalSeconds, default: 30, in: 1...3600)),
            invoiceDueDays: try reader.integer(.invoiceDueDays, default: 14, in: 0...365),
            eventHeartbeat: .seconds(try reader.integer(.eventHeartbeatSeconds, default: 15, in: 1...300)),
            ocpp: OCPPService.Settings(
                heartbeatInterval: try reader.integer(.ocppHeartbeatIntervalSeconds, default: 300, in: 10...86_400),
                pingInterval: { (seconds: Int) in seconds == 0 ? nil : Duration.seconds(seconds) }(
                    try reader.integer(.ocppPingIntervalSeconds, default: 30, in: 0...3600)),
                callTimeout: .seconds(try reader.integer(.ocppCallTimeoutSeconds, default: 30, in: 1...600)),
                outboundQueueCapacity: try reader.integer(.ocppOutboundQueueSize, default: 16, in: 1...1000),
                maxFrameSize: try reader.integer(.ocppMaxFrameBytes, default: 65_536, in: 1024...(16 << 20)),
                autoRegister: try reader.choice(.ocppAutoRegister, default: BooleanSetting.false) == .true,
                maxMessagesPerSecond: { $0 == 0 ? nil : $0 }(
                    try reader.integer(.ocppMaxMessagesPerSecond, default: 50, in: 0...100_000))),
            ocppMessageRetention: .seconds(86_400 * (try reader.integer(.ocppMessageRetentionDays, default: 30, in: 1...3650))),
            auditRetention: { $0 == 0 ? nil : Duration.seconds(86_400 * $0) }(
                try reader.integer(.auditRetentionDays, default: 0, in: 0...36_500)),
            dashboard: DashboardSettings(
                enabled: try reader.choice(.uiEnabled, default: BooleanSetting.true) == .true,
                sessionLifetime: .seconds(3600 * (try reader.integer(.uiSessionHours, default: 12, in: 1...720))),
                timeZone: try reader.timeZone(.displayTimeZone, default: "UTC")),
            reservationDriverMaximum: .seconds(60 * (try reader.integer(.reservationMaxMinutes, default: 30, in: 1...1440))),
            localListSyncInterval: .seconds(try reader.integer(.localListSyncSeconds, default: 60, in: 1...86_400)),
            loadMinimumPowerW: try reader.integer(.loadMinimumPowerW, default: 4140, in: 0...1_000_000),
            loadManagementInterval: .seconds(try reader.integer(.loadManagementSeconds, default: 5, in: 1...3600)),
            publicURL: try reader.optionalURL(.publicUrl),
            uploadMaxBytes: (1 << 20) * (try reader.integer(.uploadMaxMegabytes, default: 50, in: 1...512)),
            tls: try TLSSettings(reader: reader),
            rateLimits: try RateLimitSettings(reader: reader),
            trustedProxies: try reader.addresses(.trustedProxies),
            tracing: TracingSettings(
                otlpEndpoint: try reader.optionalURL(.otlpEndpoint, example: "http://127.0.0.1:4318"),
                serviceName: try reader.string(.otelServiceName, default: "csms")))
    }

    /// The effective settings with their sources, secrets redacted: logged once at startup.
    static func describe(_ sources: ConfigurationSources) -> [String: String] {
        var described: [String: String] = [:]
        for key in ConfigurationKey.all {
            if let raw = sources.raw(key) {
                described[key.name] = key.isSecret ? "[redacted]" : "\(raw.value) (\(raw.source))"
            }
        }
        return described
    }
}

extension RateLimitSettings {
    fileprivate init(reader: TypedReader) throws {
        let keys: [(RouteClass, ConfigurationKey)] = [
            (.auth, .rateLimitAuth), (.reads, .rateLimitReads), (.writes, .rateLimitWrites),
            (.commands, .rateLimitCommands), (.exports, .rateLimitExports),
        ]
        var rules: [RouteClass: RateLimitRule] = [:]
        for (routeClass, key) in keys {
            guard let raw = reader.sources.raw(key) else {
                rules[routeClass] = Self.defaultRules[routeClass]
                continue
            }
            if raw.value.trimmingCharacters(in: .whitespaces).lowercased() == "off" { continue }
            guard let rule = RateLimitRule(raw.value) else {
                throw ConfigurationError(
                    key: key.name, value: raw.value, source: raw.source,
                    allowed: "must be QUOTA/WINDOWs such as 1200/60s (quota 1–1000000, window 1–86400 s) or off")
            }
            rules[routeClass] = rule
        }
        self.init(rules: rules)
    }
}

/// Whether text is a literal IPv4 or IPv6 address, as a peer's address is written.
enum IPAddressText {
    static func isValid(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }
}

private struct TypedReader {
    let sources: ConfigurationSources

    func string(_ key: ConfigurationKey, default defaultValue: String) throws -> String {
        guard let raw = sources.raw(key) else { return defaultValue }
        let trimmed = raw.value.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            throw ConfigurationError(key: key.name, value: raw.value, source: raw.source, allowed: "must not be empty")
        }
        return trimmed
    }

    func optionalString(_ key: ConfigurationKey, minimumBytes: Int) throws -> String? {
        guard let raw = sources.raw(key) else { return nil }
        guard raw.value.utf8.count >= minimumBytes else {
            // A secret's value is never echoed, not even in an error.
            throw ConfigurationError(
                key: key.name, value: key.isSecret ? "[redacted]" : raw.value, source: raw.source,
                allowed: "must be at least \(minimumBytes) bytes")
        }
        return raw.value
    }

    func integer(_ key: ConfigurationKey, default defaultValue: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let raw = sources.raw(key) else { return defaultValue }
        guard let value = Int(raw.value.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw ConfigurationError(
                key: key.name, value: raw.value, source: raw.source,
                allowed: "must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func number(_ key: ConfigurationKey, default defaultValue: Double, in range: ClosedRange<Double>) throws -> Double {
        guard let raw = sources.raw(key) else { return defaultValue }
        guard let value = Double(raw.value.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw ConfigurationError(
                key: key.name, value: raw.value, source: raw.source,
                allowed: "must be a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// An http(s) URL without a trailing slash, or nil when not given.
    func optionalURL(_ key: ConfigurationKey, example: String = "https://csms.example.com") throws -> String? {
        guard let raw = sources.raw(key) else { return nil }
        var value = raw.value.trimmingCharacters(in: .whitespaces)
        while value.hasSuffix("/") { value.removeLast() }
        guard let url = URL(string: value), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil,
            url.query == nil, url.fragment == nil
        else {
            throw ConfigurationError(
                key: key.name, value: raw.value, source: raw.source, allowed: "must be an http or https URL such as \(example)")
        }
        return value
    }

    /// Comma-separated literal IP addresses.
    func addresses(_ key: ConfigurationKey) throws -> Set<String> {
        guard let raw = sources.raw(key) else { return [] }
        var addresses: Set<String> = []
        for entry in raw.value.split(separator: ",") {
            let address = entry.trimmingCharacters(in: .whitespaces)
            guard IPAddressText.isValid(address) else {
                throw ConfigurationError(
                    key: key.name, value: raw.value, source: raw.source,
                    allowed: "must be comma-separated IPv4 or IPv6 addresses such as 10.0.0.2,::1")
            }
            addresses.insert(address)
        }
        return addresses
    }

    func timeZone(_ key: ConfigurationKey, default defaultValue: String) throws -> TimeZone {
        let identifier = try string(key, default: defaultValue)
        guard let zone = TimeZone(identifier: identifier) else {
            throw ConfigurationError(
                key: key.name, value: identifier, source: sources.raw(key)?.source ?? "default",
                allowed: "must be an IANA time zone such as Europe/Berlin or UTC")
        }
        return zone
    }

    func choice<T: CaseIterable & RawRepresentable>(_ key: ConfigurationKey, default defaultValue: T) throws -> T
    where T.RawValue == String {
        guard let raw = sources.raw(key) else { return defaultValue }
        guard let value = T(rawValue: raw.value.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw ConfigurationError(
                key: key.name, value: raw.value, source: raw.source,
                allowed: "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}

enum BooleanSetting: String, CaseIterable {
    case `true`, `false`
}
