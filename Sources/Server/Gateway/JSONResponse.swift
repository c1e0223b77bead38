import Foundation
import Hummingbird

/// Encodes a value as the API's JSON, with a status.
func jsonResponse<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws
    -> Response
{
    try JSONReply(value, status: status, headers: headers).response
}

/// An encoded JSON response whose bytes can still be read (to store it for idempotent replays).
struct JSONReply: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var data: Data

    init<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws {
        self.status = status
        self.headers = headers
        self.data = try WireFormat.encoder.encode(value)
    }

    init(status: HTTPResponse.Status, headers: HTTPFields, data: Data) {
        self.status = status
        self.headers = headers
        self.data = data
    }

    var response: Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// A list response: `{items, nextCursor}`.
struct ListResponse<Item: Encodable & Sendable>: Encodable, Sendable {
    var items: [Item]
    var nextCursor: String?

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        // Always present, null on the last page, so clients can test it without a key check.
        try container.encode(nextCursor, forKey: .nextCursor)
    }

    private enum CodingKeys: String, CodingKey { case items, nextCursor }
}
