#if canImport(Glibc)
import Glibc
#endif

/// The current UTC time as ISO 8601 text, formatted once per second.
struct UTCClockText {
    private var second = 0
    private var text = ""

    mutating func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let seconds = spec.tv_sec
        if seconds != second || text.isEmpty {
            second = seconds
            var time = seconds
            var parts = tm()
            gmtime_r(&time, &parts)
            func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
            text = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
                + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
        }
        return text
    }
}
