import Foundation
import Logging
import Observability
import Synchronization
import Testing

@Suite("Log lines")
struct LoggingTests {
    private func capture(_ format: LogFormat, _ body: (Logger) -> Void) -> [String] {
        let lines = Mutex<[String]>([])
        let output = LogOutput { line in lines.withLock { $0.append(line) } }
        let logger = Logger(label: "test") { label in
            LineLogHandler(label: label, format: format, level: .info, output: output)
        }
        body(logger)
        return lines.withLock { $0 }
    }

    @Test("JSON lines carry level, message, the request id and metadata; below the level nothing")
    func jsonLines() throws {
        let lines = capture(.json) { logger in
            var logger = logger
            logger[metadataKey: "hb.request.id"] = "req-42"
            logger.debug("hidden")
            logger.info("request", metadata: ["status": "200"])
        }
        #expect(lines.count == 1)
        let object = try #require(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["level"] as? String == "info")
        #expect(object["message"] as? String == "request")
        #expect(object["requestId"] as? String == "req-42")
        #expect(object["status"] as? String == "200")
        #expect((object["time"] as? String)?.hasSuffix("Z") == true)
        #expect(lines[0].hasSuffix("\n") && !lines[0].dropLast().contains("\n"))
    }

    @Test("metadata named like a secret is redacted in both formats")
    func secretsRedacted() {
        for format in LogFormat.allCases {
            let lines = capture(format) { logger in
                logger.info("login", metadata: ["password": "hunter2", "refreshToken": "abc.def", "email": "a@b.c"])
            }
            #expect(!lines[0].contains("hunter2"))
            #expect(!lines[0].contains("abc.def"))
            #expect(lines[0].contains("a@b.c"))
            #expect(lines[0].contains("[redacted]"))
        }
    }
}
