import Foundation

/// A small JSON-schema subset — what the OCPP 1.6 schemas (2019-12 errata) use — checked against
/// parsed JSON. Each violation maps to the OCPP-J error code the specification assigns to it.
indirect enum OCPPSchema: Sendable {
    case string(maxLength: Int?)
    case dateTime
    case integer(minimum: Int? = nil)
    case number(minimum: Double? = nil)
    case boolean
    case enumeration(Set<String>)
    case object([Field])
    case array(OCPPSchema, minItems: Int = 0, maxItems: Int? = nil)

    struct Field: Sendable {
        let name: String
        let schema: OCPPSchema
        let required: Bool
    }

    static func ciString(_ length: Int) -> OCPPSchema { .string(maxLength: length) }
    static func oneOf(_ values: String...) -> OCPPSchema { .enumeration(Set(values)) }

    func validate(_ value: Any, path: String = "") throws(OCPPError) {
        let at = path.isEmpty ? "payload" : path
        switch self {
        case .string(let maxLength):
            guard let text = value as? String else { throw Self.type(at, "a string") }
            if let maxLength, text.count > maxLength {
                throw OCPPError(code: .typeConstraintViolation, description: "\(at) is longer than \(maxLength) characters")
            }
        case .dateTime:
            guard let text = value as? String else { throw Self.type(at, "a date-time string") }
            guard OCPPTime.parse(text) != nil else {
                throw OCPPError(code: .typeConstraintViolation, description: "\(at) is not an ISO 8601 date-time")
            }
        case .integer(let minimum):
            guard let number = value as? NSNumber, !Self.isBool(number), let integer = Self.integer(number) else {
                throw Self.type(at, "an integer")
            }
            if let minimum, integer < minimum {
                throw OCPPError(code: .propertyConstraintViolation, description: "\(at) must be at least \(minimum)")
            }
        case .number(let minimum):
            guard let number = value as? NSNumber, !Self.isBool(number) else { throw Self.type(at, "a number") }
            if let minimum, number.doubleValue < minimum {
                throw OCPPError(code: .propertyConstraintViolation, description: "\(at) must be at least \(minimum)")
            }
        case .boolean:
            guard let number = value as? NSNumber, Self.isBool(number) else { throw Self.type(at, "a boolean") }
        case .enumeration(let allowed):
            guard let text = value as? String else { throw Self.type(at, "a string") }
            guard allowed.contains(text) else {
                throw OCPPError(
                    code: .propertyConstraintViolation,
                    description: "\(at) must be one of \(allowed.sorted().joined(separator: ", "))")
            }
        case .object(let fields):
            guard let object = value as? [String: Any] else { throw Self.type(at, "an object") }
            let known = Set(fields.map(\.name))
            if let extra = object.keys.sorted().first(where: { !known.contains($0) }) {
                throw OCPPError(code: .formationViolation, description: "\(Self.join(path, extra)) is not allowed here")
            }
            for field in fields where field.required && object[field.name] == nil {
                throw OCPPError(code: .protocolError, description: "payload incomplete: \(Self.join(path, field.name)) is required")
            }
            for field in fields {
                if let member = object[field.name] { try field.schema.validate(member, path: Self.join(path, field.name)) }
            }
        case .array(let items, let minItems, let maxItems):
            guard let array = value as? [Any] else { throw Self.type(at, "an array") }
            if array.count < minItems || maxItems.map({ array.count > $0 }) == true {
                throw OCPPError(
                    code: .occurenceConstraintViolation,
                    description: "\(at) has \(array.count) items; allowed: \(minItems)…\(maxItems.map(String.init) ?? "")")
            }
            for (index, item) in array.enumerated() { try items.validate(item, path: "\(at)[\(index)]") }
        }
    }

    private static func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }

    private static func type(_ at: String, _ expected: String) -> OCPPError {
        OCPPError(code: .typeConstraintViolation, description: "\(at) must be \(expected)")
    }

    /// JSONSerialization gives booleans as NSNumber too; their Objective-C type code is "c".
    static func isBool(_ number: NSNumber) -> Bool {
        number.objCType.pointee == CChar(UInt8(ascii: "c"))
    }

    static func integer(_ number: NSNumber) -> Int? {
        let double = number.doubleValue
        guard double.rounded() == double, abs(double) < 9.0e15 else { return nil }
        return number.intValue
    }
}

/// Shorthand for schema fields.
func required(_ name: String, _ schema: OCPPSchema) -> OCPPSchema.Field {
    OCPPSchema.Field(name: name, schema: schema, required: true)
}

func optional(_ name: String, _ schema: OCPPSchema) -> OCPPSchema.Field {
    OCPPSchema.Field(name: name, schema: schema, required: false)
}
