#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Chargers hold their connections for days, so the process needs a descriptor per charger. The soft
/// limit is often 1024 while the hard one is far higher: lift it at startup so that the connection
/// cap, not `EMFILE` in the middle of an accept, is what refuses a connection.
enum OpenFileLimit {
    /// Raises the soft limit to the hard limit; returns the soft limit in force afterwards.
    static func raiseToMaximum() -> Int? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur > rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
