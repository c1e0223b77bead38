/// The CALLs the simulated chargers send.
enum OCPPAction: String, CaseIterable, Sendable {
    case bootNotification = "BootNotification"
    case authorize = "Authorize"
    case startTransaction = "StartTransaction"
    case meterValues = "MeterValues"
    case stopTransaction = "StopTransaction"
    case heartbeat = "Heartbeat"
}
