/// Why a session's numbers are not to be trusted. A session with a flag that `blocksInvoicing`
/// is closed and priced as far as possible but never invoiced automatically: an operator looks first.
enum SessionFlag: String, Codable, Sendable, CaseIterable {
    /// meterStart was outside the plausible register range; energy is not derived from registers.
    case implausibleMeterStart = "implausible_meter_start"
    /// meterStop was outside the plausible range or below meterStart.
    case implausibleMeterStop = "implausible_meter_stop"
    /// A meter value outside the plausible range was received and not applied.
    case implausibleMeterValue = "implausible_meter_value"
    /// The charger's clock was implausible at start or stop; the server's time was used instead.
    case implausibleTimestamp = "implausible_timestamp"
    /// The session lasted longer than the configured maximum session length.
    case implausibleDuration = "implausible_duration"
    /// The cost does not fit in the currency's minor units.
    case notPriced = "not_priced"

    /// An ignored meter value leaves the session's own numbers intact; every other flag does not.
    var blocksInvoicing: Bool { self != .implausibleMeterValue }
}
