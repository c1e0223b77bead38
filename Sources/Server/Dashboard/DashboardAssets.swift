import Crypto
import Foundation
import Hummingbird

/// The dashboard's stylesheet and script, compiled into the binary (`embedInCode`), served with
/// an ETag of their content so a browser revalidates them cheaply.
struct DashboardAsset: Sendable {
    let contentType: String
    let bytes: [UInt8]
    let etag: String

    init(contentType: String, bytes: [UInt8]) {
        self.contentType = contentType
        self.bytes = bytes
        etag = "\"" + SHA256.hash(data: bytes).prefix(12).map { String(format: "%02x", $0) }.joined() + "\""
    }

    static let all: [String: DashboardAsset] = [
        "dashboard.css": DashboardAsset(contentType: "text/css; charset=utf-8", bytes: PackageResources.dashboard_css),
        "dashboard.js": DashboardAsset(contentType: "text/javascript; charset=utf-8", bytes: PackageResources.dashboard_js),
    ]

    /// The asset, or 304 when the browser's copy is current.
    func response(ifNoneMatch: String?) -> Response {
        var headers: HTTPFields = [.eTag: etag, .cacheControl: "public, max-age=300, must-revalidate"]
        if let ifNoneMatch, ifNoneMatch.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == etag }) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
