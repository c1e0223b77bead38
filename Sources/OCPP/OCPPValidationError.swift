/// A payload that breaks its schema: the Table 7 code, the field path (`meterValue[0].timestamp`;
/// empty for the payload itself) and what is wrong.
public struct OCPPValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: OCPPErrorCode
    public var path: String
    public var reason: String

    public init(code: OCPPErrorCode, path: String = "", reason: String) {
        self.code = code
        self.path = path
        self.reason = reason
    }

    /// Worded as the server words it today, so CALLERROR descriptions stay the same.
    public var description: String {
        let subject = path.isEmpty ? "payload" : path
        switch code {
        case .protocolError: return "payload incomplete: \(subject) \(reason)"
        default: return "\(subject) \(reason)"
        }
    }

    /// The same error seen from the enclosing object or array (paths are built only on failure).
    func within(_ key: String) -> OCPPValidationError {
        var copy = self
        copy.path = path.isEmpty ? key : (path.first == "[" ? key + path : key + "." + path)
        return copy
    }

    func within(index: Int) -> OCPPValidationError {
        var copy = self
        copy.path = path.isEmpty ? "[\(index)]" : (path.first == "[" ? "[\(index)]" + path : "[\(index)]." + path)
        return copy
    }

    static func type(_ expected: String) -> OCPPValidationError {
        OCPPValidationError(code: .typeConstraintViolation, reason: "must be \(expected)")
    }
}
