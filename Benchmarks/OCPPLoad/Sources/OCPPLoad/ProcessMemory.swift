import Foundation

/// A process's resident memory, read from `/proc/PID/status` (Linux).
enum ProcessMemory {
    /// VmRSS in KiB, or nil when the process is gone or the file has no such line.
    static func residentKiB(pid: Int32) -> Int? {
        guard let status = procFile(pid: pid, "status") else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }
}

/// A process's CPU time (user + system), read from `/proc/PID/stat` (Linux).
enum ProcessCPU {
    /// Seconds of CPU the process has used so far, or nil when it is gone.
    static func seconds(pid: Int32) -> Double? {
        guard let stat = procFile(pid: pid, "stat") else { return nil }
        // The command name (field 2) may hold spaces; the fields after its ")" are fixed: utime and
        // stime are the 12th and 13th of them, in clock ticks.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// `/proc/PID/NAME` as text, or nil when the process is gone.
private func procFile(pid: Int32, _ name: String) -> String? {
    // Read to the end: /proc files report a size of 0, so size-based reads come back empty.
    guard let file = FileHandle(forReadingAtPath: "/proc/\(pid)/\(name)"), let data = try? file.readToEnd() else {
        return nil
    }
    try? file.close()
    return String(decoding: data, as: UTF8.self)
}
