/// An invoice with its amount due and the payments received against it.
struct InvoiceView: Encodable, Sendable {
    var invoice: Invoice
    var payments: [Payment]

    func encode(to encoder: any Encoder) throws {
        try invoice.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(invoice.amountDue, forKey: .amountDue)
        try container.encode(payments, forKey: .payments)
    }

    private enum Keys: String, CodingKey { case amountDue, payments }
}
