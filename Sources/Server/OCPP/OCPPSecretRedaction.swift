import Foundation
import OCPP

/// Removes secrets from OCPP frames before they are logged, stored in the message log or shown as
/// a station's last messages: a charger password set through `ChangeConfiguration`
/// (`AuthorizationKey`; `BasicAuthPassword` as OCPP 2.0.1 names it) or echoed by `GetConfiguration`,
/// private keys in PEM form, and passwords inside URLs (`GetDiagnostics`, `UpdateFirmware`,
/// `GetLog` locations). It works on the JSON structure, not on the action, so the charger's answers
/// (which carry no action) are covered too.
enum OCPPSecretRedaction {
    static let placeholder = "[redacted]"

    /// Configuration keys whose value is a secret; compared case-insensitively.
    static let secretKeys: Set<String> = [
        "authorizationkey", "basicauthpassword", "password", "privatekey", "secret", "apikey", "token",
    ]

    static func isSecretKey(_ key: String) -> Bool {
        let folded = key.lowercased()
        return secretKeys.contains(folded) || folded.hasSuffix("password") || folded.hasSuffix("privatekey")
            || folded.hasSuffix("secret")
    }

    /// `text` with every secret replaced by the placeholder. Text that could hold none is returned
    /// as it is, without parsing; text that is not JSON but looks like it holds a key is replaced whole.
    static func redact(_ text: String) -> String {
        guard mayHoldSecret(text) else { return text }
        guard let json = try? JSONParser.parse(text) else {
            return containsPrivateKey(text) ? placeholder : text
        }
        let (redacted, changed) = redact(json)
        return changed ? JSONWriter.string(redacted) : text
    }

    /// `value` with every secret replaced by the placeholder (the audit log's command entries).
    static func redacted(_ value: JSONValue) -> JSONValue {
        redact(value).0
    }

    /// A cheap test first: most frames (heartbeats, meter values) hold none of these. It runs on
    /// every logged frame, so it scans the bytes in place, once, instead of lowercasing a copy or
    /// searching once per word: only a byte that starts one of the words (either case) is looked at
    /// further.
    static func mayHoldSecret(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            let count = bytes.count
            var index = 0
            while index < count {
                let needle = firstByteNeedle[Int(bytes[index])]
                if needle >= 0, matches(bytes, at: index, needles[Int(needle)]) { return true }
                index += 1
            }
            return false
        }
    }

    private static let needles: [[UInt8]] = ["key", "password", "secret", "token", "://"].map { Array($0.utf8) }

    /// For each byte, the needle it may start (its lowercase first byte), or -1. The needles start
    /// with different bytes.
    private static let firstByteNeedle: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (offset, needle) in needles.enumerated() {
            let first = needle[0]
            table[Int(first)] = Int8(offset)
            if first >= 0x61 && first <= 0x7A { table[Int(first - 0x20)] = Int8(offset) }
        }
        return table
    }()

    /// Whether `needle` (lowercase ASCII) starts at `start`, ignoring ASCII case.
    private static func matches(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, _ needle: [UInt8]) -> Bool {
        guard bytes.count - start >= needle.count else { return false }
        for offset in 1..<needle.count {
            let byte = bytes[start + offset]
            let expected = needle[offset]
            guard byte == expected || (expected >= 0x61 && expected <= 0x7A && byte == expected - 0x20) else { return false }
        }
        return true
    }

    private static func containsPrivateKey(_ text: String) -> Bool {
        text.range(of: "PRIVATE KEY", options: .caseInsensitive) != nil
    }

    private static func redact(_ value: JSONValue) -> (JSONValue, Bool) {
        switch value {
        case .object(let object):
            var result = JSONObject()
            var changed = false
            // A configuration entry: {"key": "AuthorizationKey", "value": "..."}.
            let entryIsSecret = if case .string(let key)? = object["key"] { isSecretKey(key) } else { false }
            for member in object.members {
                if case .string = member.value, (entryIsSecret && member.key == "value") || isSecretKey(member.key) {
                    result[member.key] = .string(placeholder)
                    changed = true
                    continue
                }
                let (redacted, memberChanged) = redact(member.value)
                result[member.key] = redacted
                changed = changed || memberChanged
            }
            return (.object(result), changed)
        case .array(let items):
            var changed = false
            let result = items.map { item -> JSONValue in
                let (redacted, itemChanged) = redact(item)
                changed = changed || itemChanged
                return redacted
            }
            return (.array(result), changed)
        case .string(let text):
            if containsPrivateKey(text) { return (.string(placeholder), true) }
            let withoutPassword = urlWithoutPassword(text) ?? text
            let withoutToken = urlWithoutUploadToken(withoutPassword) ?? withoutPassword
            return withoutToken == text ? (value, false) : (.string(withoutToken), true)
        default:
            return (value, false)
        }
    }

    /// Our upload URL's single-use token (`…/api/v1/uploads/TOKEN` → `…/api/v1/uploads/[redacted]`):
    /// GetDiagnostics and GetLog carry it to the charger; the log keeps the URL without it.
    static func urlWithoutUploadToken(_ text: String) -> String? {
        guard let path = text.range(of: uploadPath), text[path.upperBound...].first.map({ $0 != "[" }) ?? false else {
            return nil
        }
        let tokenEnd = text[path.upperBound...].firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? text.endIndex
        return String(text[..<path.upperBound]) + placeholder + String(text[tokenEnd...])
    }

    static let uploadPath = "/api/v1/uploads/"

    /// `ftp://user:secret@host/path` → `ftp://user:[redacted]@host/path`; nil when there is no password.
    static func urlWithoutPassword(_ text: String) -> String? {
        guard let scheme = text.range(of: "://") else { return nil }
        let afterScheme = text[scheme.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return nil }
        return String(text[..<authority.index(after: colon)]) + placeholder + String(text[at...])
    }
}
