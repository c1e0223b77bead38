import Foundation
import OCPP

/// The ISO 8601 date-times clients send in queries and bodies: `YYYY-MM-DDThh:mm:ss`, then 0–9
/// fractional digits, then `Z`, `±hh:mm`, `±hhmm` or nothing (taken as UTC). The same lenient,
/// allocation-free reading chargers get (`OCPPDateTime`), so REST and OCPP accept one form.
enum ISO8601Timestamp {
    static func parse(_ text: String) -> Date? {
        OCPPDateTime(text)?.date
    }
}
