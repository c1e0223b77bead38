/// Handlers for vendor DataTransfer messages, by vendor id and message id.
struct DataTransferRegistry: Sendable {
    enum Status: String, Sendable {
        case accepted = "Accepted", rejected = "Rejected", unknownMessageId = "UnknownMessageId"
        case unknownVendorId = "UnknownVendorId"
    }

    typealias Handler = @Sendable (_ stationID: String, _ data: String?) async throws -> (status: Status, data: String?)
    private var handlers: [String: [String: Handler]] = [:]

    mutating func register(vendorID: String, messageID: String, _ handler: @escaping Handler) {
        handlers[vendorID, default: [:]][messageID] = handler
    }

    func handle(stationID: String, vendorID: String, messageID: String?, data: String?) async throws -> (status: Status, data: String?) {
        guard let vendor = handlers[vendorID] else { return (.unknownVendorId, nil) }
        guard let handler = vendor[messageID ?? ""] else { return (.unknownMessageId, nil) }
        return try await handler(stationID, data)
    }

    /// The handlers this server ships with.
    static var standard: DataTransferRegistry {
        var registry = DataTransferRegistry()
        // Lets an installer check the data path end to end from the charger's side.
        registry.register(vendorID: "csms", messageID: "Echo") { _, data in (.accepted, data) }
        return registry
    }
}
