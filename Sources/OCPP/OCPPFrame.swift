/// One OCPP-J frame: `[2, id, action, payload]`, `[3, id, payload]` or
/// `[4, id, code, description, details]`, with payloads as parsed JSON objects.
public enum OCPPFrame: Sendable, Equatable {
    case call(id: String, action: String, payload: JSONObject)
    case callResult(id: String, payload: JSONObject)
    case callError(id: String, code: String, description: String, details: JSONObject)
    /// A MessageTypeId we do not know: ignored, as OCPP-J says.
    case unknownType(Int)

    public static let maximumMessageIDLength = 36

    /// A frame we cannot read: always a FormationViolation, with the message id when one could
    /// be found so the CALLERROR can name it.
    public struct DecodingError: Error, Sendable, Equatable {
        public let messageID: String?
        public let description: String
        public var code: OCPPErrorCode { .formationViolation }
    }

    public static func decode(_ text: String) throws(DecodingError) -> OCPPFrame {
        let json: JSONValue
        do {
            json = try JSONParser.parse(text)
        } catch {
            throw DecodingError(messageID: nil, description: "the message is not valid JSON")
        }
        return try decode(json)
    }

    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(DecodingError) -> OCPPFrame {
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes)
        } catch {
            throw DecodingError(messageID: nil, description: "the message is not valid JSON")
        }
        return try decode(json)
    }

    public static func decode(_ json: JSONValue) throws(DecodingError) -> OCPPFrame {
        guard case .array(let array) = json, let type = array.first?.integerValue else {
            throw DecodingError(messageID: nil, description: "the message is not an OCPP-J array")
        }
        var messageID: String?
        if array.count > 1, case .string(let id) = array[1] { messageID = id }
        func fail(_ description: String) -> DecodingError {
            DecodingError(messageID: messageID, description: description)
        }
        guard let id = messageID, !id.isEmpty else { throw fail("the message id must be a string") }
        guard id.count <= maximumMessageIDLength else { throw fail("the message id is longer than 36 characters") }
        switch type {
        case 2:
            guard array.count == 4, case .string(let action) = array[2] else { throw fail("a CALL is [2, messageId, action, payload]") }
            return .call(id: id, action: action, payload: try payload(array[3], fail))
        case 3:
            guard array.count == 3 else { throw fail("a CALLRESULT is [3, messageId, payload]") }
            return .callResult(id: id, payload: try payload(array[2], fail))
        case 4:
            guard array.count == 5, case .string(let code) = array[2], case .string(let description) = array[3] else {
                throw fail("a CALLERROR is [4, messageId, errorCode, errorDescription, errorDetails]")
            }
            let details: JSONObject = if case .object(let object) = array[4] { object } else { JSONObject() }
            return .callError(id: id, code: code, description: description, details: details)
        default:
            return .unknownType(type)
        }
    }

    /// A `null` payload counts as `{}` (some chargers send it for empty requests).
    private static func payload(_ value: JSONValue, _ fail: (String) -> DecodingError) throws(DecodingError) -> JSONObject {
        switch value {
        case .null: return JSONObject()
        case .object(let object): return object
        default: throw fail("the payload must be a JSON object")
        }
    }

    public var json: JSONValue {
        switch self {
        case .call(let id, let action, let payload): .array([.int(2), .string(id), .string(action), .object(payload)])
        case .callResult(let id, let payload): .array([.int(3), .string(id), .object(payload)])
        case .callError(let id, let code, let description, let details):
            .array([.int(4), .string(id), .string(code), .string(description), .object(details)])
        case .unknownType(let type): .array([.int(type)])
        }
    }

    public var text: String { JSONWriter.string(json) }

    public static func callError(id: String, _ error: OCPPValidationError) -> OCPPFrame {
        .callError(id: id, code: error.code.rawValue, description: error.description, details: JSONObject())
    }
}
