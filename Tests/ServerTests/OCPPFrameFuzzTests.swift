import Foundation
import NIOEmbedded
import OCPP
import Testing

@testable import Server

/// SplitMix64: small, seedable, the same sequence on every platform.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Randomized tests of the frame decoder and the schema validator: a fixed seed, so every run
/// covers the same ground, plus a random one printed for reproduction (`OCPP_FUZZ_SEED=<n>`
/// replaces it). Whatever arrives, the outcome is a decoded message or the CALLERROR code the
/// specification assigns — never a crash.
@Suite("OCPP frame fuzzing")
struct OCPPFrameFuzzTests {
    static let seeds: [UInt64] = {
        let random = ProcessInfo.processInfo.environment["OCPP_FUZZ_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64.max)
        print("OCPP fuzz seeds: 24601 and \(random) (set OCPP_FUZZ_SEED to repeat the second)")
        return [24601, random]
    }()

    /// What the server makes of one text frame: the CALL's action, or the CALLERROR code.
    enum Outcome: Equatable {
        case call(String)
        case other
        case error(OCPPErrorCode)
    }

    /// The server's decode and validation step for one text frame, on the generated 1.6 types:
    /// what the registry does before a handler runs.
    static func outcome(_ text: String) -> Outcome {
        _ = OCPPSecretRedaction.redact(text)
        let frame: OCPPFrame
        do {
            frame = try OCPPFrame.decode(text)
        } catch {
            return .error(error.code)
        }
        guard case .call(_, let action, let payload) = frame else { return .other }
        guard let type = OCPP16.allActions.first(where: { $0.name == action }) else { return .error(.notImplemented) }
        if type.initiator == .centralSystem { return .error(.notSupported) }
        do {
            try validate(type, payload)
        } catch let error as OCPPValidationError {
            return .error(error.code)
        } catch {
            return .error(.genericError)
        }
        return .call(action)
    }

    private static func validate<Action: OCPPAction>(_ action: Action.Type, _ payload: JSONObject) throws {
        _ = try Action.Request(json: .object(payload))
    }

    @Test("random bytes are refused with FormationViolation or decoded, never a crash", arguments: seeds)
    func randomBytes(seed: UInt64) async throws {
        try await withApp { _, dependencies async throws in
            try await Self.randomBytes(seed: seed, dependencies: dependencies)
        }
    }

    static func randomBytes(seed: UInt64, dependencies: AppDependencies) async throws {
        let channel = NIOAsyncTestingChannel()
        let connection = dependencies.ocpp.makeConnection(
            chargePointID: "CP-FUZZ", subprotocol: "ocpp1.6", channel: channel, registration: .accepted)
        defer { connection.closed() }
        var random = SeededGenerator(seed: seed)
        let alphabet = Array("[]{}\",:0123456789.eE-+truefalsnl \\u\n\t".utf8)
        for round in 0..<3_000 {
            // Tests share a cooperative pool two threads wide here: let the timing-sensitive ones run.
            if round % 100 == 0 { await Task.yield() }
            let length = Int.random(in: 0...120, using: &random)
            let bytes = (0..<length).map { _ in
                round % 2 == 0 ? UInt8.random(in: 0...255, using: &random) : alphabet.randomElement(using: &random)!
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let result = Self.outcome(text)
            let isJSONArray = (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) is [Any]
            if !isJSONArray {
                #expect(result == .error(.formationViolation), "seed \(seed) round \(round): \(text.debugDescription)")
                // And through the server's dispatch path: a FormationViolation on the wire, never a crash.
                await dependencies.ocpp.process(text, connection: connection, logger: TestCharger.logger)
                let reply = try await channel.nextMessage()
                #expect(reply.count == 5 && reply[0] == .int(4) && reply[2] == .string("FormationViolation"), "\(reply)")
            }
        }
    }

    @Test("random JSON frames get the error OCPP-J assigns to their shape", arguments: seeds)
    func randomJSON(seed: UInt64) async throws {
        var random = SeededGenerator(seed: seed)
        for round in 0..<3_000 {
            if round % 100 == 0 { await Task.yield() }
            var frame: [Any] = []
            let typeValue: Any = [2, 3, 4, 7, "2", true, 2.5, NSNull()].randomElement(using: &random)!
            frame.append(typeValue)
            if Int.random(in: 0..<10, using: &random) > 0 {
                frame.append(
                    Bool.random(using: &random)
                        ? "id\(Int.random(in: 0...999, using: &random))" : Self.randomJSON(depth: 1, using: &random))
            }
            let action = Bool.random(using: &random)
                ? FuzzSchema.chargePointRequests.keys.sorted().randomElement(using: &random)! : "Act\(round)"
            if typeValue as? Int == 2, !(typeValue is Bool), frame.count == 2, Bool.random(using: &random) { frame.append(action) }
            for _ in 0..<Int.random(in: 0...3, using: &random) { frame.append(Self.randomJSON(depth: 2, using: &random)) }
            let text = String(decoding: try JSONSerialization.data(withJSONObject: frame, options: [.fragmentsAllowed]), as: UTF8.self)
            let result = Self.outcome(text)
            let context = "seed \(seed) round \(round): \(text)"
            guard !(frame[0] is Bool), let typeID = frame[0] as? Int else {
                #expect(result == .error(.formationViolation), "\(context)")
                continue
            }
            guard frame.count > 1, let id = frame[1] as? String, !id.isEmpty, id.count <= OCPPFrame.maximumMessageIDLength else {
                #expect(result == .error(.formationViolation), "\(context)")
                continue
            }
            switch typeID {
            case 2:
                guard frame.count == 4, let name = frame[2] as? String, frame[3] is [String: Any] || frame[3] is NSNull else {
                    #expect(result == .error(.formationViolation), "\(context)")
                    continue
                }
                if FuzzSchema.chargePointRequests[name] == nil {
                    #expect(result == .error(.notImplemented), "\(context)")
                } else if case .error = result {
                    // A known action with a random payload: refused for its first violation.
                } else {
                    #expect(result == .call(name), "\(context)")
                }
            case 7:
                #expect(result == .other, "\(context)")
            default:
                #expect(result == .other || result == .error(.formationViolation), "\(context)")
            }
        }
    }

    @Test("valid frames of every action decode; each single mutation gets its own error code", arguments: seeds)
    func mutatedValidFrames(seed: UInt64) async throws {
        var random = SeededGenerator(seed: seed)
        for action in FuzzSchema.chargePointRequests.keys.sorted() {
            await Task.yield()
            let schema = FuzzSchema.chargePointRequests[action]!
            for round in 0..<60 {
                let payload = Self.sample(schema, using: &random)
                let valid = try Self.frame(action, payload)
                #expect(Self.outcome(valid) == .call(action), "seed \(seed) \(action) round \(round): \(valid)")
                guard let (mutated, expected) = Self.mutate(payload, schema, using: &random) else { continue }
                let text = try Self.frame(action, mutated)
                #expect(Self.outcome(text) == .error(expected), "seed \(seed) \(action) round \(round): \(text)")
                // And the raw text, damaged byte by byte: never a crash.
                var bytes = Array(valid.utf8)
                for _ in 0..<Int.random(in: 1...4, using: &random) where !bytes.isEmpty {
                    let at = Int.random(in: 0..<bytes.count, using: &random)
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0: bytes[at] = UInt8.random(in: 0...255, using: &random)
                    case 1: bytes.remove(at: at)
                    default: bytes.insert(Array("{}[]\",:0e-".utf8).randomElement(using: &random)!, at: at)
                    }
                }
                _ = Self.outcome(String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    static func frame(_ action: String, _ payload: Any) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: [2, "fuzz-1", action, payload], options: [.fragmentsAllowed])
        return String(decoding: data, as: UTF8.self)
    }

    static func randomJSON(depth: Int, using random: inout SeededGenerator) -> Any {
        switch Int.random(in: 0..<(depth > 0 ? 8 : 6), using: &random) {
        case 0: return NSNull()
        case 1: return Bool.random(using: &random)
        case 2: return Int.random(in: -1_000_000...1_000_000, using: &random)
        case 3: return Double.random(in: -1e6...1e6, using: &random)
        case 4: return String(repeating: "é", count: Int.random(in: 0...40, using: &random))
        case 5: return "2026-03-0\(Int.random(in: 1...9, using: &random))T10:00:00Z"
        case 6:
            return (0..<Int.random(in: 0...4, using: &random)).map { _ in randomJSON(depth: depth - 1, using: &random) }
        default:
            var object: [String: Any] = [:]
            for index in 0..<Int.random(in: 0...4, using: &random) { object["k\(index)"] = randomJSON(depth: depth - 1, using: &random) }
            return object
        }
    }

    /// A random value the schema accepts.
    static func sample(_ schema: FuzzSchema, using random: inout SeededGenerator) -> Any {
        switch schema {
        case .string(let maxLength):
            let length = Int.random(in: 0...min(maxLength ?? 30, 30), using: &random)
            return String((0..<length).map { _ in Character(UnicodeScalar(UInt8.random(in: 0x20...0x7E, using: &random))) })
        case .dateTime:
            return ["2026-03-01T10:15:53Z", "2026-03-01T10:15:53.123+02:00", "2025-12-31T23:59:59.5Z"].randomElement(using: &random)!
        case .integer(let minimum):
            return Int.random(in: (minimum ?? -1000)...((minimum ?? 0) + 100_000), using: &random)
        case .number(let minimum):
            return Double.random(in: (minimum ?? -1000)...((minimum ?? 0) + 1000), using: &random)
        case .boolean:
            return Bool.random(using: &random)
        case .enumeration(let allowed):
            return allowed.sorted().randomElement(using: &random)!
        case .object(let fields):
            var object: [String: Any] = [:]
            for field in fields where field.required || Bool.random(using: &random) {
                object[field.name] = sample(field.schema, using: &random)
            }
            return object
        case .array(let items, let minItems, let maxItems):
            let count = Int.random(in: minItems...max(minItems, min(maxItems ?? 3, 3)), using: &random)
            return (0..<count).map { _ in sample(items, using: &random) }
        }
    }

    /// One violation in a top-level or nested object field, with the code OCPP-J assigns to it.
    static func mutate(_ value: Any, _ schema: FuzzSchema, using random: inout SeededGenerator) -> (Any, OCPPErrorCode)? {
        guard case .object(let fields) = schema, var object = value as? [String: Any] else { return nil }
        let choice = Int.random(in: 0..<5, using: &random)
        if choice == 0 {
            object["unexpected\(Int.random(in: 0...9, using: &random))"] = 1
            return (object, .formationViolation)
        }
        if choice == 1, let field = fields.filter(\.required).randomElement(using: &random) {
            object.removeValue(forKey: field.name)
            return (object, .protocolError)
        }
        guard let field = fields.filter({ object[$0.name] != nil }).randomElement(using: &random) else { return nil }
        let member = object[field.name]!
        // Descend into a nested object now and then.
        if case .object = field.schema, Bool.random(using: &random), let (nested, code) = mutate(member, field.schema, using: &random) {
            object[field.name] = nested
            return (object, code)
        }
        switch field.schema {
        case .string(let maxLength?) where choice == 2:
            object[field.name] = String(repeating: "x", count: maxLength + 1)
            return (object, .typeConstraintViolation)
        case .enumeration where choice == 2:
            object[field.name] = "NotAValue"
            return (object, .propertyConstraintViolation)
        case .integer(let minimum?) where choice == 2:
            object[field.name] = minimum - 1
            return (object, .propertyConstraintViolation)
        case .string, .dateTime, .enumeration:
            object[field.name] = Bool.random(using: &random) ? 42 : [Any]()
            return (object, .typeConstraintViolation)
        case .integer:
            object[field.name] = Bool.random(using: &random) ? "7" : 1.5
            return (object, .typeConstraintViolation)
        case .number, .boolean, .object, .array:
            object[field.name] = "text"
            return (object, .typeConstraintViolation)
        }
    }
}

/// An oracle independent of the generated code: the 1.6 requests a charge point sends, written
/// down from the specification (edition 2, 2019-12 errata, the security whitepaper), in the small
/// JSON-schema subset they use. Samples and single mutations are drawn from it; the generated
/// validator must agree with it on every one.
indirect enum FuzzSchema: Sendable {
    case string(maxLength: Int?)
    case dateTime
    case integer(minimum: Int? = nil)
    case number(minimum: Double? = nil)
    case boolean
    case enumeration(Set<String>)
    case object([Field])
    case array(FuzzSchema, minItems: Int = 0, maxItems: Int? = nil)

    struct Field: Sendable {
        let name: String
        let schema: FuzzSchema
        let required: Bool
    }

    static func ciString(_ length: Int) -> FuzzSchema { .string(maxLength: length) }
    static func oneOf(_ values: String...) -> FuzzSchema { .enumeration(Set(values)) }
    static func required(_ name: String, _ schema: FuzzSchema) -> Field { Field(name: name, schema: schema, required: true) }
    static func optional(_ name: String, _ schema: FuzzSchema) -> Field { Field(name: name, schema: schema, required: false) }

    static let idTag = FuzzSchema.ciString(20)
    static let connectorId = FuzzSchema.integer(minimum: 0)

    static let measurands = FuzzSchema.enumeration([
        "Energy.Active.Export.Register", "Energy.Active.Import.Register", "Energy.Reactive.Export.Register",
        "Energy.Reactive.Import.Register", "Energy.Active.Export.Interval", "Energy.Active.Import.Interval",
        "Energy.Reactive.Export.Interval", "Energy.Reactive.Import.Interval", "Power.Active.Export",
        "Power.Active.Import", "Power.Offered", "Power.Reactive.Export", "Power.Reactive.Import", "Power.Factor",
        "Current.Import", "Current.Export", "Current.Offered", "Voltage", "Frequency", "Temperature", "SoC", "RPM",
    ])

    static let meterValue = FuzzSchema.object([
        required("timestamp", .dateTime),
        required(
            "sampledValue",
            .array(
                .object([
                    required("value", .string(maxLength: nil)),
                    optional(
                        "context",
                        .oneOf(
                            "Interruption.Begin", "Interruption.End", "Sample.Clock", "Sample.Periodic",
                            "Transaction.Begin", "Transaction.End", "Trigger", "Other")),
                    optional("format", .oneOf("Raw", "SignedData")),
                    optional("measurand", measurands),
                    optional("phase", .oneOf("L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1")),
                    optional("location", .oneOf("Cable", "EV", "Inlet", "Outlet", "Body")),
                    optional(
                        "unit",
                        .oneOf(
                            "Wh", "kWh", "varh", "kvarh", "W", "kW", "VA", "kVA", "var", "kvar", "A", "V", "K", "Celcius",
                            "Celsius", "Fahrenheit", "Percent")),
                ]), minItems: 1)),
    ])

    /// Requests a charge point sends to us.
    static let chargePointRequests: [String: FuzzSchema] = [
        "Authorize": .object([required("idTag", idTag)]),
        "BootNotification": .object([
            required("chargePointVendor", .ciString(20)), required("chargePointModel", .ciString(20)),
            optional("chargePointSerialNumber", .ciString(25)), optional("chargeBoxSerialNumber", .ciString(25)),
            optional("firmwareVersion", .ciString(50)), optional("iccid", .ciString(20)), optional("imsi", .ciString(20)),
            optional("meterType", .ciString(25)), optional("meterSerialNumber", .ciString(25)),
        ]),
        "DataTransfer": .object([
            required("vendorId", .ciString(255)), optional("messageId", .ciString(50)), optional("data", .string(maxLength: nil)),
        ]),
        "DiagnosticsStatusNotification": .object([
            required("status", .oneOf("Idle", "Uploaded", "UploadFailed", "Uploading"))
        ]),
        "FirmwareStatusNotification": .object([
            required(
                "status",
                .oneOf("Downloaded", "DownloadFailed", "Downloading", "Idle", "InstallationFailed", "Installing", "Installed"))
        ]),
        "Heartbeat": .object([]),
        "MeterValues": .object([
            required("connectorId", connectorId), optional("transactionId", .integer()),
            required("meterValue", .array(meterValue, minItems: 1)),
        ]),
        "StartTransaction": .object([
            required("connectorId", .integer(minimum: 1)), required("idTag", idTag), required("meterStart", .integer()),
            optional("reservationId", .integer()), required("timestamp", .dateTime),
        ]),
        "StatusNotification": .object([
            required("connectorId", connectorId),
            required(
                "errorCode",
                .oneOf(
                    "ConnectorLockFailure", "EVCommunicationError", "GroundFailure", "HighTemperature", "InternalError",
                    "LocalListConflict", "NoError", "OtherError", "OverCurrentFailure", "PowerMeterFailure",
                    "PowerSwitchFailure", "ReaderFailure", "ResetFailure", "UnderVoltage", "OverVoltage", "WeakSignal")),
            optional("info", .ciString(50)),
            required(
                "status",
                .oneOf(
                    "Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing", "Reserved",
                    "Unavailable", "Faulted")),
            optional("timestamp", .dateTime), optional("vendorId", .ciString(255)), optional("vendorErrorCode", .ciString(50)),
        ]),
        "StopTransaction": .object([
            optional("idTag", idTag), required("meterStop", .integer()), required("timestamp", .dateTime),
            required("transactionId", .integer()),
            optional(
                "reason",
                .oneOf(
                    "EmergencyStop", "EVDisconnected", "HardReset", "Local", "Other", "PowerLoss", "Reboot", "Remote",
                    "SoftReset", "UnlockCommand", "DeAuthorized")),
            optional("transactionData", .array(meterValue)),
        ]),
        // Security whitepaper.
        "SecurityEventNotification": .object([
            required("type", .ciString(50)), required("timestamp", .dateTime), optional("techInfo", .ciString(255)),
        ]),
        "SignCertificate": .object([required("csr", .ciString(5500))]),
        "LogStatusNotification": .object([
            required(
                "status",
                .oneOf("BadMessage", "Idle", "NotSupportedOperation", "PermissionDenied", "Uploaded", "UploadFailure", "Uploading")),
            optional("requestId", .integer()),
        ]),
        "SignedFirmwareStatusNotification": .object([
            required(
                "status",
                .oneOf(
                    "Downloaded", "DownloadFailed", "Downloading", "DownloadScheduled", "DownloadPaused", "Idle",
                    "InstallationFailed", "Installing", "Installed", "InstallRebooting", "InstallScheduled",
                    "InstallVerificationFailed", "InvalidSignature", "SignatureVerified")),
            optional("requestId", .integer()),
        ]),
    ]
}
