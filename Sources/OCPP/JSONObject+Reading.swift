/// The checks generated validators call, one per constraint kind, each giving the Table 7 code the
/// server has always given: unknown member → FormationViolation, missing required member →
/// ProtocolError, wrong JSON type or too long a string → TypeConstraintViolation, a value out of
/// range or off its step or not in its enumeration → PropertyConstraintViolation, too few or too
/// many items → OccurenceConstraintViolation.
extension JSONObject {
    public static func payload(_ json: JSONValue) throws(OCPPValidationError) -> JSONObject {
        guard case .object(let object) = json else { throw .type("an object") }
        return object
    }

    /// Unknown members first (the first in name order) unless the object is open (`known` nil), then
    /// missing required ones, in schema order.
    public func check(known: [String]?, required: [String]) throws(OCPPValidationError) {
        var unknown: String?
        for member in members where known.map({ !$0.contains(member.key) }) ?? false {
            if unknown.map({ member.key < $0 }) ?? true { unknown = member.key }
        }
        if let unknown { throw OCPPValidationError(code: .formationViolation, path: unknown, reason: "is not allowed here") }
        for name in required where self[name] == nil {
            throw OCPPValidationError(code: .protocolError, path: name, reason: "is required")
        }
    }

    /// The members an open object (additionalProperties not false) carries beyond its schema.
    public func extra(known: [String]) -> JSONObject {
        var object = JSONObject()
        for member in members where !known.contains(member.key) { object[member.key] = member.value }
        return object
    }

    public func value<T: OCPPJSONCodable>(_ key: String) throws(OCPPValidationError) -> T {
        guard let json = self[key] else { throw OCPPValidationError(code: .protocolError, path: key, reason: "is required") }
        do { return try T(json: json) } catch { throw error.within(key) }
    }

    public func optionalValue<T: OCPPJSONCodable>(_ key: String) throws(OCPPValidationError) -> T? {
        guard let json = self[key] else { return nil }
        do { return try T(json: json) } catch { throw error.within(key) }
    }

    public func string(_ key: String, maxLength: Int) throws(OCPPValidationError) -> String {
        let text: String = try value(key)
        try Self.length(text, maxLength, key)
        return text
    }

    public func optionalString(_ key: String, maxLength: Int) throws(OCPPValidationError) -> String? {
        guard let text: String = try optionalValue(key) else { return nil }
        try Self.length(text, maxLength, key)
        return text
    }

    public func int(_ key: String, minimum: Int? = nil, maximum: Int? = nil) throws(OCPPValidationError) -> Int {
        let number: Int = try value(key)
        try Self.range(Double(number), minimum.map(Double.init), maximum.map(Double.init), nil, key)
        return number
    }

    public func optionalInt(_ key: String, minimum: Int? = nil, maximum: Int? = nil) throws(OCPPValidationError) -> Int? {
        guard let number: Int = try optionalValue(key) else { return nil }
        try Self.range(Double(number), minimum.map(Double.init), maximum.map(Double.init), nil, key)
        return number
    }

    public func double(_ key: String, minimum: Double? = nil, maximum: Double? = nil, multipleOf: Double? = nil)
        throws(OCPPValidationError) -> Double
    {
        let number: Double = try value(key)
        try Self.range(number, minimum, maximum, multipleOf, key)
        return number
    }

    public func optionalDouble(_ key: String, minimum: Double? = nil, maximum: Double? = nil, multipleOf: Double? = nil)
        throws(OCPPValidationError) -> Double?
    {
        guard let number: Double = try optionalValue(key) else { return nil }
        try Self.range(number, minimum, maximum, multipleOf, key)
        return number
    }

    public func array<T: OCPPJSONCodable>(_ key: String, minItems: Int = 0, maxItems: Int? = nil) throws(OCPPValidationError) -> [T] {
        let items: [T] = try value(key)
        try Self.count(items.count, minItems, maxItems, key)
        return items
    }

    public func optionalArray<T: OCPPJSONCodable>(_ key: String, minItems: Int = 0, maxItems: Int? = nil)
        throws(OCPPValidationError) -> [T]?
    {
        guard let items: [T] = try optionalValue(key) else { return nil }
        try Self.count(items.count, minItems, maxItems, key)
        return items
    }

    public func stringArray(_ key: String, maxLength: Int, minItems: Int = 0, maxItems: Int? = nil) throws(OCPPValidationError) -> [String] {
        let items: [String] = try array(key, minItems: minItems, maxItems: maxItems)
        for (index, item) in items.enumerated() { try Self.length(item, maxLength, "\(key)[\(index)]") }
        return items
    }

    public func optionalStringArray(_ key: String, maxLength: Int, minItems: Int = 0, maxItems: Int? = nil)
        throws(OCPPValidationError) -> [String]?
    {
        guard let items: [String] = try optionalArray(key, minItems: minItems, maxItems: maxItems) else { return nil }
        for (index, item) in items.enumerated() { try Self.length(item, maxLength, "\(key)[\(index)]") }
        return items
    }

    static func length(_ text: String, _ maxLength: Int, _ path: String) throws(OCPPValidationError) {
        // Most values are ASCII: the byte count bounds the character count, so skip counting.
        if text.utf8.count > maxLength, text.count > maxLength {
            throw OCPPValidationError(code: .typeConstraintViolation, path: path, reason: "is longer than \(maxLength) characters")
        }
    }

    static func range(_ number: Double, _ minimum: Double?, _ maximum: Double?, _ multipleOf: Double?, _ path: String)
        throws(OCPPValidationError)
    {
        if let minimum, number < minimum {
            throw OCPPValidationError(code: .propertyConstraintViolation, path: path, reason: "must be at least \(Self.format(minimum))")
        }
        if let maximum, number > maximum {
            throw OCPPValidationError(code: .propertyConstraintViolation, path: path, reason: "must be at most \(Self.format(maximum))")
        }
        if let multipleOf {
            // 7.4 / 0.1 is 74.00000000000001 in binary floating point: allow for that, not more.
            let quotient = number / multipleOf
            if abs(quotient - quotient.rounded()) > 1e-9 * max(1, abs(quotient)) {
                throw OCPPValidationError(
                    code: .propertyConstraintViolation, path: path, reason: "must be a multiple of \(Self.format(multipleOf))")
            }
        }
    }

    static func count(_ count: Int, _ minItems: Int, _ maxItems: Int?, _ path: String) throws(OCPPValidationError) {
        if count < minItems || maxItems.map({ count > $0 }) == true {
            throw OCPPValidationError(
                code: .occurenceConstraintViolation, path: path,
                reason: "has \(count) items; allowed: \(minItems)…\(maxItems.map(String.init) ?? "")")
        }
    }

    private static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }

    /// Sets a member when the value is present (optional members are left out, never `null`).
    public mutating func set<T: OCPPJSONCodable>(_ key: String, _ value: T?) {
        if let value { append(key, value.json) }
    }
}
