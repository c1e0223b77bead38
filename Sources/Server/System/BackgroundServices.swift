import Logging
import ServiceLifecycle
import Storage

/// Runs `work` every `interval` until shutdown. A failed run is logged and retried next time.
struct PeriodicTask: Service {
    let name: String
    let interval: Duration
    let logger: Logger
    let work: @Sendable () async throws -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                do {
                    try await work()
                } catch {
                    logger.warning("\(name) failed", metadata: ["error": .string("\(error)")])
                }
            }
        }
    }
}

/// Closes the database — last, after the HTTP server and background tasks have stopped —
/// which checkpoints the WAL into the main file.
struct DatabaseService: Service {
    let database: Database
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        await database.close()
        logger.info("database closed", metadata: ["path": .string(database.path)])
    }
}

/// Flushes the OCPP recorder on an interval, and once more at shutdown before the database closes.
struct RecorderService: Service {
    let recorder: OCPPRecorder
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { break }
                do { try await recorder.flush() } catch {
                    logger.warning("OCPP recorder flush failed", metadata: ["error": .string("\(error)")])
                }
            }
        }
        try? await recorder.flush()
    }
}
