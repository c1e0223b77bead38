import Foundation
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

    static func outcome(_ text: String) -> Outcome {
        _ = OCPPSecretRedaction.redact(text)
        let frame: OCPPFrame
        do {
            frame = try OCPPFrame.parse(text)
        } catch {
            return .error(error.error.code)
        }
        guard case .call(_, let action, let payload) = frame else { return .other }
        guard let schema = OCPPSchemas.chargePointRequests[action] else {
            return .error(OCPPSchemas.centralSystemRequests[action] != nil ? .notSupported : .notImplemented)
        }
        do {
            try schema.validate(payload)
        } catch {
            return .error(error.code)
        }
        return .call(action)
    }

    @Test("random bytes are refused with FormationViolation or decoded, never a crash", arguments: seeds)
    func randomBytes(seed: UInt64) async {
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
                ? OCPPSchemas.chargePointRequests.keys.sorted().randomElement(using: &random)! : "Act\(round)"
            if typeValue as? Int == 2, !(typeValue is Bool), frame.count == 2, Bool.random(using: &random) { frame.append(action) }
            for _ in 0..<Int.random(in: 0...3, using: &random) { frame.append(Self.randomJSON(depth: 2, using: &random)) }
            let text = String(decoding: try JSONSerialization.data(withJSONObject: frame, options: [.fragmentsAllowed]), as: UTF8.self)
            let result = Self.outcome(text)
            let context = "seed \(seed) round \(round): \(text)"
            guard let number = frame[0] as? NSNumber, !OCPPSchema.isBool(number), let typeID = frame[0] as? Int else {
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
                if OCPPSchemas.chargePointRequests[name] == nil {
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
        for action in OCPPSchemas.chargePointRequests.keys.sorted() {
            await Task.yield()
            let schema = OCPPSchemas.chargePointRequests[action]!
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
    static func sample(_ schema: OCPPSchema, using random: inout SeededGenerator) -> Any {
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
    static func mutate(_ value: Any, _ schema: OCPPSchema, using random: inout SeededGenerator) -> (Any, OCPPErrorCode)? {
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
