import NIOCore

/// The message type and id of an OCPP-J frame a charger received, read without a JSON parser so
/// the generator spends its time sending, not decoding (the same for every server measured).
struct ReplyHead {
    var messageType: Int
    var messageID: String

    init?(_ buffer: ByteBuffer) {
        let bytes = buffer.readableBytesView
        guard let open = bytes.firstIndex(of: UInt8(ascii: "[")),
            let digit = bytes[(open + 1)...].firstIndex(where: { (0x30...0x39).contains($0) }),
            let quote = bytes[(digit + 1)...].firstIndex(of: UInt8(ascii: "\"")),
            let end = bytes[(quote + 1)...].firstIndex(of: UInt8(ascii: "\""))
        else { return nil }
        messageType = Int(bytes[digit] - 0x30)
        messageID = String(decoding: bytes[(quote + 1)..<end], as: UTF8.self)
    }

    /// The `transactionId` of a StartTransaction answer.
    func transactionID(in buffer: ByteBuffer) -> Int? {
        let text = String(buffer: buffer)
        guard let key = text.range(of: "\"transactionId\"") else { return nil }
        let digits = text[key.upperBound...].drop { $0 == ":" || $0 == " " }.prefix { $0.isNumber || $0 == "-" }
        return Int(digits)
    }
}
