import Foundation

/// A process's resident memory, read from `/proc/PID/status` (Linux).
enum ProcessMemory {
    /// VmRSS in KiB, or nil when the process is gone or the file has no such line.
    static func residentKiB(pid: Int32) -> Int? {
        // Read to the end: /proc files report a size of 0, so size-based reads come back empty.
        guard let file = FileHandle(forReadingAtPath: "/proc/\(pid)/status"),
            let data = try? file.readToEnd()
        else { return nil }
        try? file.close()
        let status = String(decoding: data, as: UTF8.self)
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }
}
