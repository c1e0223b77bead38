import Storage
import Synchronization
import Tracing

/// Database reads and writes as spans, children of the span that asked for them. Work asked for
/// outside any trace (periodic tasks, the OCPP message log) is not traced: it would be a root span
/// per job, most of them noise.
struct DatabaseSpans: DatabaseTracing {
    let tracer: any Tracer

    func job(_ kind: DatabaseJobKind, file: StaticString, function: StaticString) -> (any DatabaseJobTrace)? {
        guard let parent = ServiceContext.current else { return nil }
        return DatabaseJobSpan(tracer: tracer, parent: parent, kind: kind, caller: Self.caller(file: file, function: function))
    }

    /// `Billing/SessionRepository.swift` and `start(stationID:)` become `SessionRepository.start`:
    /// which repository call it was, never what it bound.
    static func caller(file: StaticString, function: StaticString) -> String {
        let fileName = "\(file)".split(separator: "/").last.map { $0.split(separator: ".").first.map(String.init) ?? "" } ?? ""
        let functionName = "\(function)".split(separator: "(").first.map(String.init) ?? ""
        return fileName.isEmpty ? functionName : "\(fileName).\(functionName)"
    }
}

/// One job's span: made when the job starts on its connection's thread, ended when it is done
/// (a write: when its commit is). Storage calls it from one thread at a time; the lock only
/// makes that checkable.
final class DatabaseJobSpan: DatabaseJobTrace {
    private let tracer: any Tracer
    private let parent: ServiceContext
    private let kind: DatabaseJobKind
    private let caller: String
    private let queuedAt = ContinuousClock.now
    private let state = Mutex<(span: (any Span)?, ended: Bool)>((nil, false))

    init(tracer: any Tracer, parent: ServiceContext, kind: DatabaseJobKind, caller: String) {
        self.tracer = tracer
        self.parent = parent
        self.kind = kind
        self.caller = caller
    }

    func started(batchSize: Int) {
        state.withLock { state in
            guard !state.ended else { return }
            if let span = state.span {
                // The batch ran again, each write in a savepoint, after another write failed.
                span.addEvent("rerun in a savepoint")
                return
            }
            let span = tracer.startSpan("db.\(kind.rawValue) \(caller)", context: parent, ofKind: .client)
            var attributes = SpanAttributes()
            attributes["db.system"] = "sqlite"
            attributes["db.operation"] = kind.rawValue
            attributes["db.caller"] = caller
            attributes["db.batch_size"] = batchSize
            attributes["db.queue_wait_ms"] = (ContinuousClock.now - queuedAt).milliseconds
            span.attributes = attributes
            state.span = span
        }
    }

    func finished(_ error: (any Error)?) {
        let span = state.withLock { state -> (any Span)? in
            guard !state.ended else { return nil }
            state.ended = true
            return state.span
        }
        guard let span else { return }
        if let error {
            // The type only: an error's text may quote the SQL it ran.
            span.attributes["error.type"] = String(describing: type(of: error))
            span.setStatus(SpanStatus(code: .error))
        }
        span.end()
    }
}
