/// Which side starts an action's exchange.
public enum OCPPInitiator: Sendable {
    case chargePoint
    case centralSystem
    case either
}

/// One OCPP action: its name on the wire, its request and its response.
public protocol OCPPAction: Sendable {
    associatedtype Request: OCPPPayload
    associatedtype Response: OCPPPayload
    static var name: String { get }
    static var initiator: OCPPInitiator { get }
}

/// A value read from and written to JSON, checked against its schema while it is read.
public protocol OCPPJSONCodable: Sendable {
    init(json: JSONValue) throws(OCPPValidationError)
    var json: JSONValue { get }
}

/// A request or response payload, or an object nested in one.
public protocol OCPPPayload: OCPPJSONCodable, Codable, Hashable {}

extension OCPPPayload {
    /// Checks the constraints Swift's types cannot hold (lengths, ranges, item counts) before a
    /// value of ours goes on the wire.
    public func validate() throws(OCPPValidationError) {
        _ = try Self(json: json)
    }
}

extension OCPPPayload {
    /// Codable goes through the wire form, so `JSONDecoder` reads what a charger sends (an open
    /// object's members beyond its schema included) and checks the schema, and `JSONEncoder` writes
    /// what goes on the wire. Synthesized Codable would expect an `extra` member and check nothing.
    public init(from decoder: any Decoder) throws {
        let json = try JSONValue(from: decoder)
        do {
            try self.init(json: json)
        } catch {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "\(error.code.rawValue): \(error)", underlyingError: error))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }
}

/// A generated enumeration: a string from a closed set.
public protocol OCPPEnumeration: OCPPJSONCodable, RawRepresentable, CaseIterable, Codable, Hashable where RawValue == String {}

extension OCPPEnumeration {
    public init(json: JSONValue) throws(OCPPValidationError) {
        guard case .string(let text) = json else { throw .type("a string") }
        guard let value = Self(rawValue: text) else {
            throw OCPPValidationError(
                code: .propertyConstraintViolation,
                reason: "must be one of \(Self.allCases.map(\.rawValue).sorted().joined(separator: ", "))")
        }
        self = value
    }

    public var json: JSONValue { .string(rawValue) }
}

extension String: OCPPJSONCodable {
    public init(json: JSONValue) throws(OCPPValidationError) {
        guard case .string(let text) = json else { throw .type("a string") }
        self = text
    }

    public var json: JSONValue { .string(self) }
}

extension Int: OCPPJSONCodable {
    public init(json: JSONValue) throws(OCPPValidationError) {
        guard let value = json.integerValue else { throw .type("an integer") }
        self = value
    }

    public var json: JSONValue { .int(self) }
}

extension Double: OCPPJSONCodable {
    public init(json: JSONValue) throws(OCPPValidationError) {
        guard let value = json.numberValue else { throw .type("a number") }
        self = value
    }

    public var json: JSONValue { .double(self) }
}

extension Bool: OCPPJSONCodable {
    public init(json: JSONValue) throws(OCPPValidationError) {
        guard case .bool(let value) = json else { throw .type("a boolean") }
        self = value
    }

    public var json: JSONValue { .bool(self) }
}

extension OCPPDateTime: OCPPJSONCodable {
    public init(json: JSONValue) throws(OCPPValidationError) {
        guard case .string(let text) = json else { throw .type("a date-time string") }
        guard let value = OCPPDateTime(text) else {
            throw OCPPValidationError(code: .typeConstraintViolation, reason: "is not an ISO 8601 date-time")
        }
        self = value
    }

    public var json: JSONValue { .string(description) }
}

extension Array: OCPPJSONCodable where Element: OCPPJSONCodable {
    public init(json: JSONValue) throws(OCPPValidationError) {
        guard case .array(let items) = json else { throw .type("an array") }
        var result: [Element] = []
        result.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            do {
                result.append(try Element(json: item))
            } catch {
                throw error.within(index: index)
            }
        }
        self = result
    }

    public var json: JSONValue { .array(map(\.json)) }
}

extension JSONValue: OCPPJSONCodable {
    public init(json: JSONValue) throws(OCPPValidationError) { self = json }
    public var json: JSONValue { self }
}
