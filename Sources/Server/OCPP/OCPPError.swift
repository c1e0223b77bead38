import OCPP

/// An error that becomes a CALLERROR on the wire: raised by a handler (a refusal the protocol
/// words as an error) or by validation.
struct OCPPError: Error, Sendable, Equatable {
    var code: OCPPErrorCode
    var description: String

    init(code: OCPPErrorCode, description: String) {
        self.code = code
        self.description = description
    }

    init(_ validation: OCPPValidationError) {
        self.init(code: validation.code, description: validation.description)
    }
}

