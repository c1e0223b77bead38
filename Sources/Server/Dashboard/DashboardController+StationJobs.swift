import Foundation
import Hummingbird
import NIOCore

/// Starting a firmware update or a diagnostics upload from the station page, and downloading
/// what the charger uploaded: the same service calls, checks and error mapping as
/// `StationJobsController`'s API routes.
extension DashboardController {
    func addStationJobRoutes(to router: some RouterMethods<AppRequestContext>) {
        let jobs = dependencies.jobs

        router.post("/ui/stations/{id}/firmware") { _, context in
            let id = try context.parameters.require("id")
            guard try await dependencies.stations.station(id) != nil else { throw APIError.notFound("no station \(id)") }
            let form = context.form
            let outcome: FormOutcome
            do {
                let retrieveAt = try moment(form, "retrieveAt") ?? dependencies.now()
                let job = try await OCPPController.mapCallErrors(station: id, action: "UpdateFirmware") {
                    try await jobs.updateFirmware(
                        stationID: id, location: form.text("location") ?? "", retrieveAt: retrieveAt,
                        retries: .init(retries: nil, retryIntervalSeconds: nil), by: context.identity?.userID)
                }
                outcome = .done(
                    "update firmware: sent; the charger fetches \(job.location) from \(format.time(retrieveAt)) and reports its progress below")
            } catch {
                outcome = try Self.failure("update firmware", error)
            }
            return try await redirect(to: DashboardLayout.stationPath(id), with: outcome, context: context)
        }
        router.post("/ui/stations/{id}/diagnostics") { _, context in
            let id = try context.parameters.require("id")
            guard try await dependencies.stations.station(id) != nil else { throw APIError.notFound("no station \(id)") }
            let form = context.form
            let outcome: FormOutcome
            do {
                let (startTime, stopTime) = (try moment(form, "startTime"), try moment(form, "stopTime"))
                let job = try await OCPPController.mapCallErrors(station: id, action: "GetDiagnostics") {
                    try await jobs.getDiagnostics(
                        stationID: id, startTime: startTime, stopTime: stopTime, retries: .init(retries: nil, retryIntervalSeconds: nil),
                        by: context.identity?.userID)
                }
                let file = job.fileName.map { "it will upload \($0)" } ?? "it named no file"
                outcome = .done("get diagnostics: sent; \(file), which is listed below once it lands")
            } catch {
                outcome = try Self.failure("get diagnostics", error)
            }
            return try await redirect(to: DashboardLayout.stationPath(id), with: outcome, context: context)
        }
        router.get("/ui/stations/{id}/jobs/{jobId}/file") { _, context in
            try StationJobsController.fileResponse(
                try await jobs.repository.job(try context.parameters.require("jobId"), stationID: try context.parameters.require("id")))
        }
    }

    /// A `datetime-local` field in the display zone; nil when left empty.
    private func moment(_ form: FormFields, _ name: String) throws -> Date? {
        guard let text = form.text(name) else { return nil }
        guard let date = format.moment(text) else {
            throw APIError.validation(field: name, "must be a date and time, as yyyy-MM-ddTHH:mm")
        }
        return date
    }
}
