import Hummingbird

/// A CSV export as a download: RFC 4180 rows with CRLF, quoted where needed, and cells that a
/// spreadsheet would run as a formula defused.
struct CSVDocument {
    private var text: String

    init(columns: [String]) {
        text = columns.joined(separator: ",") + "\r\n"
    }

    mutating func append(_ row: [String]) {
        text += row.map(Self.field).joined(separator: ",") + "\r\n"
    }

    func response(filename: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8",
                .contentDisposition: "attachment; filename=\"\(filename)\"",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// RFC 4180 quoting; a leading = + - @ is prefixed so spreadsheets do not run it as a formula.
    static func field(_ value: String) -> String {
        var value = value
        if let first = value.first, "=+-@".contains(first), Double(value) == nil { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
