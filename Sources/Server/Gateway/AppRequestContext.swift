import Foundation
import Hummingbird

/// The request context of every route.
struct AppRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The client's `X-Request-ID`, or one made up for this request; in every log line and response.
    var requestID: String = ""
    /// Set by `AuthenticationMiddleware` from a valid bearer token.
    var identity: Identity?
    /// Why a presented token was refused, for the 401 a protected route gives.
    var authenticationFailure: AuthenticationFailure?
    /// The dashboard user, from the session cookie (dashboard routes only; see `DashboardMiddleware`).
    var webSession: WebSession?
    /// A dashboard form's fields, already checked against the session's CSRF token.
    var form = FormFields()
    /// The connection's peer address (a proxy's, behind one).
    let clientAddress: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress
    }

    var requestDecoder: JSONDecoder { WireFormat.decoder }
    var responseEncoder: JSONEncoder { WireFormat.encoder }
    /// The gateway's body-limit middleware enforces the configured limit before this applies.
    var maxUploadSize: Int { .max }
}

/// The one JSON shape of the API: UTC ISO 8601 dates with milliseconds, sorted keys.
enum WireFormat {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(formatDate(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseDate(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "expected an ISO 8601 date-time such as 2026-01-31T10:00:00Z")
            }
            return date
        }
        return decoder
    }()

    private static let outputStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func formatDate(_ date: Date) -> String {
        outputStyle.format(date)
    }

    /// Accepts 0–9 fractional digits and `Z`, an offset, or no offset (taken as UTC).
    static func parseDate(_ text: String) -> Date? {
        ISO8601Timestamp.parse(text)
    }
}
