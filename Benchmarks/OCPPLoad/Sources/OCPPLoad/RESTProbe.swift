import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// GET /api/v1/stations at a fixed rate during the run, one request at a time, to show whether the
/// HTTP API stays responsive while the chargers load the server.
struct RESTProbe: Sendable {
    var baseURL: URL
    var token: String
    var perSecond: Double

    /// A token from the environment, or one from logging in with the given credentials.
    static func token(baseURL: URL, options: LoadOptions) async throws -> String {
        if let token = options.restToken, !token.isEmpty { return token }
        guard let email = options.restEmail, let password = options.restPassword else {
            throw UsageError("the REST probe needs OCPP_LOAD_REST_TOKEN or OCPP_LOAD_REST_EMAIL and OCPP_LOAD_REST_PASSWORD")
        }
        var request = URLRequest(url: baseURL.appendingPathComponent("api/v1/auth/login"))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: ["email": email, "password": password])
        let (data, response) = try await URLSession.shared.data(for: request)
        guard (response as? HTTPURLResponse)?.statusCode == 200,
            let body = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let token = body["accessToken"] as? String
        else { throw UsageError("login for the REST probe failed: \(String(decoding: data, as: UTF8.self))") }
        return token
    }

    /// Runs until `until`; latency counts from each request's scheduled time.
    func run(until end: ContinuousClock.Instant) async -> RESTFigures {
        var request = URLRequest(url: baseURL.appendingPathComponent("api/v1/stations"))
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.timeoutInterval = 30
        let period = Duration.nanoseconds(Int64(1e9 / perSecond))
        let clock = ContinuousClock()
        var scheduled = clock.now
        var latencies: [Int64] = []
        var errors = 0
        while scheduled < end {
            if clock.now < scheduled { try? await clock.sleep(until: scheduled) }
            do {
                let (_, response) = try await URLSession.shared.data(for: request)
                if (response as? HTTPURLResponse)?.statusCode != 200 { errors += 1 }
            } catch {
                errors += 1
            }
            let elapsed = clock.now - scheduled
            latencies.append(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
            scheduled += period
        }
        return RESTFigures(requests: latencies.count, errors: errors, ratePerSecond: perSecond, latency: LatencySummary(latencies))
    }
}
