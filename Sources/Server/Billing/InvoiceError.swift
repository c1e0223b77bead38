/// What invoices and payments refuse.
enum InvoiceError: DomainError {
    case notFound(String)
    case notPayable(Invoice.Status)
    case paidCannotBeVoided
    case hasPayments
    case tooManyDecimals(Currency)
    case moreThanDue(Money)

    var kind: DomainErrorKind {
        switch self {
        case .notFound: .notFound
        case .notPayable, .paidCannotBeVoided, .hasPayments: .conflict
        case .tooManyDecimals, .moreThanDue: .invalid
        }
    }

    var fields: [FieldError] {
        switch self {
        case .tooManyDecimals(let currency):
            [FieldError(field: "amount", message: "has more decimals than \(currency.code) allows (\(currency.minorDigits))")]
        case .moreThanDue(let due):
            [FieldError(field: "amount", message: "is more than the \(due.decimalString) \(due.currency.code) due")]
        default: []
        }
    }

    var description: String {
        switch self {
        case .notFound(let id): "no invoice \(id)"
        case .notPayable(let status): "the invoice is \(status.rawValue); it takes no payments"
        case .paidCannotBeVoided: "a paid invoice cannot be voided"
        case .hasPayments: "an invoice with payments cannot be voided"
        default: fields.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        }
    }
}
