import Foundation

/// An exact decimal with up to six fractional digits, kept as an integer count of millionths.
/// Prices (0.3499 EUR/kWh), percentages and quantities use it; binary floating point never
/// touches money.
struct Decimal6: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    static let scale: Int64 = 1_000_000
    static let zero = Decimal6(micros: 0)

    var micros: Int64

    init(micros: Int64) {
        self.micros = micros
    }

    init(integer: Int64) {
        micros = integer * Self.scale
    }

    /// Parses `12`, `-0.5`, `0.349900`; nil for anything else (exponents, more than six decimals).
    init?(_ text: String) {
        var text = Substring(text.trimmingCharacters(in: .whitespaces))
        var negative = false
        if text.first == "-" {
            negative = true
            text = text.dropFirst()
        } else if text.first == "+" {
            text = text.dropFirst()
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = parts.first, !whole.isEmpty,
            whole.allSatisfy(\.isASCIIDigit), whole.count <= 12
        else { return nil }
        var fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.allSatisfy(\.isASCIIDigit), parts.count == 1 || !fraction.isEmpty else { return nil }
        while fraction.count > 6, fraction.last == "0" { fraction = fraction.dropLast() }
        guard fraction.count <= 6 else { return nil }
        let padded = fraction + String(repeating: "0", count: 6 - fraction.count)
        guard let wholeValue = Int64(whole), let fractionValue = Int64(padded) else { return nil }
        micros = (wholeValue * Self.scale + fractionValue) * (negative ? -1 : 1)
    }

    /// At least `minimumFractionDigits`, more only as far as they are not zero.
    func formatted(minimumFractionDigits: Int = 2) -> String {
        let magnitude = micros.magnitude
        var fraction = String(magnitude % UInt64(Self.scale))
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.count > minimumFractionDigits, fraction.last == "0" { fraction.removeLast() }
        let whole = String(magnitude / UInt64(Self.scale))
        return (micros < 0 ? "-" : "") + whole + (fraction.isEmpty ? "" : "." + fraction)
    }

    var description: String { formatted() }

    static func < (lhs: Self, rhs: Self) -> Bool { lhs.micros < rhs.micros }

    /// On the wire: a decimal string; a JSON number is accepted on input too.
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text: String
        if let string = try? container.decode(String.self) {
            text = string
        } else {
            text = "\(try container.decode(Decimal.self))"
        }
        guard let value = Decimal6(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "must be a decimal number with at most 6 decimal places")
        }
        self = value
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(formatted())
    }
}

/// A currency and how many minor digits it has (EUR 2, JPY 0, KWD 3).
struct Currency: Sendable, Hashable, Codable, CustomStringConvertible {
    let code: String

    init?(_ code: String) {
        let upper = code.uppercased()
        guard upper.count == 3, Locale.commonISOCurrencyCodes.contains(upper) else { return nil }
        self.code = upper
    }

    var minorDigits: Int {
        switch code {
        case "JPY", "KRW", "ISK", "CLP", "VND", "XOF", "XAF", "UGX", "PYG", "RWF", "KMF", "GNF", "VUV", "XPF", "BIF", "DJF":
            0
        case "BHD", "KWD", "OMR", "JOD", "TND", "LYD", "IQD": 3
        default: 2
        }
    }

    var description: String { code }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let currency = Currency(try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be an ISO 4217 currency code")
        }
        self = currency
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}

/// An amount in a currency's minor units (cents). Every stored or invoiced amount is one.
struct Money: Sendable, Hashable, Encodable {
    var minorUnits: Int64
    var currency: Currency

    static func zero(_ currency: Currency) -> Money { Money(minorUnits: 0, currency: currency) }

    var decimalString: String {
        let digits = currency.minorDigits
        let divisor = Int64(pow(10, Double(digits)))
        let magnitude = minorUnits.magnitude
        let whole = magnitude / UInt64(divisor)
        let fraction = String(magnitude % UInt64(divisor))
        let padded = String(repeating: "0", count: max(0, digits - fraction.count)) + fraction
        return (minorUnits < 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + padded : "")
    }

    /// Parses a decimal into minor units; nil if it has more decimals than the currency allows.
    init?(_ text: String, currency: Currency) {
        guard let value = Decimal6(text) else { return nil }
        let factor = Int64(pow(10, Double(6 - currency.minorDigits)))
        guard value.micros % factor == 0 else { return nil }
        self.minorUnits = value.micros / factor
        self.currency = currency
    }

    init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// The sum, or nil when it does not fit: amounts come from outside numbers and are never trusted to fit.
    func adding(_ other: Money) -> Money? {
        precondition(currency == other.currency, "adding amounts in different currencies")
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        return overflow ? nil : Money(minorUnits: sum, currency: currency)
    }

    /// The difference, or nil when it does not fit.
    func subtracting(_ other: Money) -> Money? {
        precondition(currency == other.currency, "subtracting amounts in different currencies")
        let (difference, overflow) = minorUnits.subtractingReportingOverflow(other.minorUnits)
        return overflow ? nil : Money(minorUnits: difference, currency: currency)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(decimalString)
    }
}

enum Rounding {
    /// `value × multiplier / divisor`, exact in 128 bits, rounded half away from zero: the
    /// commercial rule used for every invoice line and for tax. Nil when the result does not fit.
    static func halfUp(_ value: Int64, times multiplier: Int64 = 1, dividedBy divisor: Int64) -> Int64? {
        precondition(divisor > 0)
        let negative = (value < 0) != (multiplier < 0)
        let product = value.magnitude.multipliedFullWidth(by: multiplier.magnitude)
        // dividingFullWidth traps when the quotient does not fit in 64 bits.
        guard product.high < UInt64(divisor) else { return nil }
        let (quotient, remainder) = UInt64(divisor).dividingFullWidth(product)
        let rounded = remainder >= UInt64(divisor) - remainder ? quotient + 1 : quotient
        guard rounded <= UInt64(Int64.max) else { return nil }
        return negative ? -Int64(rounded) : Int64(rounded)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
