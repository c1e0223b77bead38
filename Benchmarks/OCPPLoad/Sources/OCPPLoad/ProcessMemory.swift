import Foundation

/// A process's resident memory, read from `/proc/PID/status` (Linux).
enum ProcessMemory {
    /// VmRSS in KiB, or nil when the process is gone or the file has no such line.
    static func residentKiB(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.dropFirst(6).split(separator: " ").first ?? "")
        }
        return nil
    }
}
