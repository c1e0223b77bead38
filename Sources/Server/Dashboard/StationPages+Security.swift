import Foundation

/// The station page's security: the profile it must connect with, its certificates, what it
/// reported with SecurityEventNotification, and rotating the password it signs in with.
extension StationPages {
    /// How many security events the panel shows; `GET /api/v1/stations/{id}/security-events` has more.
    static let shownSecurityEvents = 10

    static let securityProfiles: [(value: String, label: String)] = [
        ("0", "0 — no authentication"), ("1", "1 — Basic auth"), ("2", "2 — TLS and Basic auth"), ("3", "3 — TLS and a client certificate"),
    ]

    static func security(
        _ station: Station, certificates: [StationCertificate], events: [SecurityEvent], path: String, now: Date, session: WebSession,
        format: DisplayFormat
    ) -> HTML {
        let profile = securityProfiles.first { $0.value == String(station.securityProfile) }?.label ?? String(station.securityProfile)
        let certificateRows = certificates.map { certificate -> HTML in
            """
            <tr data-certificate="\(certificate.serialNumber)">
              <td>\(certificate.kind)</td>
              <td>\(certificate.status.rawValue)</td>
              <td><code>\(certificate.serialNumber)</code><br><span class="muted">\(certificate.subject)</span></td>
              <td>\(format.time(certificate.notValidAfter))\(ending(certificate, now: now))</td>
            </tr>
            """
        }
        let eventRows = events.map { event -> HTML in
            """
            <tr data-security-event="\(event.id)">
              <td>\(format.time(event.occurredAt))</td>
              <td>\(event.type)\(event.critical ? " <span class=\"badge bad\">critical</span>" : HTML.empty)</td>
              <td>\(event.techInfo ?? "—")</td>
            </tr>
            """
        }
        return """
            <dl class="facts">
              <dt>Security profile</dt><dd id="security-profile">\(profile) <span class="muted">(change it in the settings below)</span></dd>
              <dt>Charger password</dt><dd>\(station.passwordHash == nil ? "none set" : "set")</dd>
            </dl>
            <form class="inline" method="post" action="\(path)/credentials/rotate" id="rotate-password" data-confirm="Send the charger a new password (AuthorizationKey)?">
              \(DashboardLayout.csrfField(session))<button type="submit">Rotate charger password</button>
            </form>
            <h3>Certificates</h3>
            \(DashboardLayout.table(id: "certificates", ["Kind", "Status", "Serial", "Ends"], certificateRows, empty: "No certificates issued or installed."))
            <h3>Security events</h3>
            \(DashboardLayout.table(id: "security-events", ["Occurred", "Type", "Details"], eventRows, empty: "No security events reported."))
            """
    }

    /// "ends in N days" for a certificate in use that ends within the alert's warning time.
    private static func ending(_ certificate: StationCertificate, now: Date) -> HTML {
        guard certificate.status == .installed || certificate.status == .issued else { return .empty }
        let left = certificate.notValidAfter.timeIntervalSince(now)
        guard left < CertificateService.expiryWarning else { return .empty }
        guard left > 0 else { return " <span class=\"badge bad\">ended</span>" }
        let days = Int((left / 86_400).rounded(.up))
        return " <span class=\"badge warn\">ends in \(days == 1 ? "1 day" : "\(days) days")</span>"
    }
}
