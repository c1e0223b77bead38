import Foundation

/// OCPP-J error codes (OCPP-J 1.6 table 7), spelled as the specification spells them.
enum OCPPErrorCode: String, Sendable, Codable, CaseIterable {
    case notImplemented = "NotImplemented"
    case notSupported = "NotSupported"
    case internalError = "InternalError"
    case protocolError = "ProtocolError"
    case securityError = "SecurityError"
    case formationViolation = "FormationViolation"
    case propertyConstraintViolation = "PropertyConstraintViolation"
    case occurenceConstraintViolation = "OccurenceConstraintViolation"
    case typeConstraintViolation = "TypeConstraintViolation"
    case genericError = "GenericError"
}

/// An error that becomes a CALLERROR on the wire.
struct OCPPError: Error, Sendable, Equatable {
    var code: OCPPErrorCode
    var description: String
}

/// One OCPP-J frame. Payloads stay as parsed JSON (`Any`) for the schema check and the handler;
/// they never leave the connection's task.
enum OCPPFrame {
    case call(id: String, action: String, payload: [String: Any])
    case callResult(id: String, payload: [String: Any])
    case callError(id: String, code: String, description: String, details: [String: Any])
    /// A MessageTypeId we do not know: ignored, as OCPP-J says.
    case unknownType(Int)

    static let maximumMessageIDLength = 36

    /// Parses a text frame. A frame we cannot even read as a call throws with the message id
    /// when one could be found, so the CALLERROR can name it.
    static func parse(_ text: String) throws(FrameError) -> OCPPFrame {
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            throw FrameError(messageID: nil, error: OCPPError(code: .formationViolation, description: "the message is not valid JSON"))
        }
        guard let array = json as? [Any], let type = array.first as? Int, !(array.first is Bool) else {
            throw FrameError(messageID: nil, error: OCPPError(code: .formationViolation, description: "the message is not an OCPP-J array"))
        }
        let messageID = array.count > 1 ? array[1] as? String : nil
        func fail(_ description: String) -> FrameError {
            FrameError(messageID: messageID, error: OCPPError(code: .formationViolation, description: description))
        }
        guard let id = messageID, !id.isEmpty else { throw fail("the message id must be a string") }
        guard id.count <= maximumMessageIDLength else { throw fail("the message id is longer than 36 characters") }
        switch type {
        case 2:
            guard array.count == 4, let action = array[2] as? String else {
                throw fail("a CALL is [2, messageId, action, payload]")
            }
            if array[3] is NSNull { return .call(id: id, action: action, payload: [:]) }
            guard let payload = array[3] as? [String: Any] else { throw fail("the payload must be a JSON object") }
            return .call(id: id, action: action, payload: payload)
        case 3:
            guard array.count == 3 else { throw fail("a CALLRESULT is [3, messageId, payload]") }
            if array[2] is NSNull { return .callResult(id: id, payload: [:]) }
            guard let payload = array[2] as? [String: Any] else { throw fail("the payload must be a JSON object") }
            return .callResult(id: id, payload: payload)
        case 4:
            guard array.count == 5, let code = array[2] as? String, let description = array[3] as? String else {
                throw fail("a CALLERROR is [4, messageId, errorCode, errorDescription, errorDetails]")
            }
            return .callError(id: id, code: code, description: description, details: array[4] as? [String: Any] ?? [:])
        default:
            return .unknownType(type)
        }
    }

    struct FrameError: Error {
        let messageID: String?
        let error: OCPPError
    }

    static func encodeCall(id: String, action: String, payload: [String: Any]) -> String {
        encode([2, id, action, payload])
    }

    static func encodeResult(id: String, payload: [String: Any]) -> String {
        encode([3, id, payload])
    }

    static func encodeError(id: String, _ error: OCPPError) -> String {
        encode([4, id, error.code.rawValue, error.description, [String: Any]()])
    }

    private static func encode(_ frame: [Any]) -> String {
        // Only JSON-safe values (strings, numbers, booleans, arrays, dictionaries) are ever built.
        let data = (try? JSONSerialization.data(withJSONObject: frame, options: [.withoutEscapingSlashes])) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// OCPP timestamps: read leniently (0–9 fractional digits; `Z`, an offset or none), written as
/// UTC with milliseconds and `Z`.
enum OCPPTime {
    static func parse(_ text: String) -> Date? { ISO8601Timestamp.parse(text) }
    static func format(_ date: Date) -> String { WireFormat.formatDate(date) }
}
