import Foundation

/// The station page's firmware updates and diagnostics and log uploads: each job with the steps
/// it went through and its file, and the forms that start one.
extension StationPages {
    /// How many of a job's latest steps its row shows; the API has them all.
    static let shownSteps = 3

    static func jobs(_ jobs: [StationJob], path: String, now: Date, session: WebSession, format: DisplayFormat) -> HTML {
        let rows = jobs.map { job -> HTML in
            let steps = HTML(
                job.history.suffix(shownSteps).map { step -> HTML in "<li>\(step.status) <span class=\"muted\">\(format.time(step.at))</span></li>" })
            let failed: HTML = job.failed ? " <span class=\"badge bad\">failed</span>" : .empty
            return """
                <tr data-job="\(job.id)">
                  <td>\(kindLabel(job.kind))</td>
                  <td>\(job.status)\(failed)</td>
                  <td>\(format.time(job.createdAt))</td>
                  <td>\(job.finishedAt.map { format.time($0) } ?? "running")</td>
                  <td><ol class="steps" start="\(max(1, job.history.count - shownSteps + 1))">\(steps)</ol></td>
                  <td>\(file(job, path: path))</td>
                </tr>
                """
        }
        let csrf = DashboardLayout.csrfField(session)
        return """
            \(DashboardLayout.table(id: "jobs", ["Kind", "Status", "Started", "Finished", "Last steps", "File"], rows, empty: "No firmware updates or diagnostics yet."))
            <form class="inline" method="post" action="\(path)/firmware" id="update-firmware">
              \(csrf)
              <label for="firmware-location">Firmware URL <input id="firmware-location" name="location" type="url" required maxlength="512" placeholder="https://files.example.com/firmware.bin"></label>
              <label for="firmware-retrieve-at">Retrieve at (\(DisplayFormat.zoneName(format.timeZone))) <input id="firmware-retrieve-at" name="retrieveAt" type="datetime-local" value="\(format.momentInput(now))"></label>
              <button type="submit">Update firmware</button>
            </form>
            <form class="inline" method="post" action="\(path)/diagnostics" id="get-diagnostics">
              \(csrf)
              <label for="diagnostics-from">From (optional) <input id="diagnostics-from" name="startTime" type="datetime-local"></label>
              <label for="diagnostics-to">To (optional) <input id="diagnostics-to" name="stopTime" type="datetime-local"></label>
              <button type="submit">Get diagnostics</button>
            </form>
            """
    }

    private static func kindLabel(_ kind: StationJobKind) -> String {
        switch kind {
        case .firmware: "firmware"
        case .signedFirmware: "signed firmware"
        case .diagnostics: "diagnostics"
        case .log: "log"
        }
    }

    /// The uploaded file with its download link; what the charger named before it landed.
    private static func file(_ job: StationJob, path: String) -> HTML {
        guard job.kind.uploads else { return .empty }
        let name = job.fileName ?? "\(job.kind.rawValue)-\(job.id)"
        guard job.uploadPath != nil else {
            return job.fileName.map { "<span class=\"muted\">\($0), not uploaded yet</span>" } ?? "<span class=\"muted\">not uploaded yet</span>"
        }
        let size = job.uploadBytes.map { " · \($0) bytes" } ?? ""
        return "<a href=\"\(path)/jobs/\(DashboardLayout.segment(job.id))/file\" download>\(name)</a><span class=\"muted\">\(size)</span>"
    }
}
