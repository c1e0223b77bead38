import Foundation
import Hummingbird
import Storage

/// `/api/v1/stations`: charge points and their connectors. Everyone signed in may read;
/// operators and admins change.
struct StationsController {
    let repository: StationRepository
    let connectorStatusChanges: any ConnectorStatusRecording
    /// The station's live OCPP connection and last messages.
    let connectionInfo: @Sendable (String) async throws -> StationConnection
    /// Closes the station's live connection if it falls below this security profile.
    let enforceSecurityProfile: @Sendable (_ stationID: String, _ profile: Int) -> Void
    let now: @Sendable () -> Date

    struct ConnectorInput: Decodable, Sendable {
        var connectorId: Int
        var type: String
        var maxPowerKw: Double
        var status: String?
    }

    struct CreateRequest: Decodable, Sendable {
        var id: String
        var name: String
        var operatorId: String?
        var address: String?
        var latitude: Double?
        var longitude: Double?
        var status: String?
        var registration: String?
        var ocppVersion: String?
        var tariffId: String?
        var siteId: String?
        var securityProfile: Int?
        var connectors: [ConnectorInput]?
    }

    struct PatchRequest: Decodable, Sendable {
        var version: Int64?
        var name: String?
        var operatorId: FieldUpdate<String>
        var address: FieldUpdate<String>
        var latitude: FieldUpdate<Double>
        var longitude: FieldUpdate<Double>
        var status: String?
        var registration: String?
        var tariffId: FieldUpdate<String>
        var siteId: FieldUpdate<String>
        var securityProfile: Int?

        enum CodingKeys: String, CodingKey {
            case version, name, operatorId, address, latitude, longitude, status, registration, tariffId, siteId
            case securityProfile
        }

        init(
            version: Int64? = nil, name: String? = nil, operatorId: FieldUpdate<String> = .unchanged,
            address: FieldUpdate<String> = .unchanged, latitude: FieldUpdate<Double> = .unchanged,
            longitude: FieldUpdate<Double> = .unchanged, status: String? = nil, registration: String? = nil,
            tariffId: FieldUpdate<String> = .unchanged, siteId: FieldUpdate<String> = .unchanged
        ) {
            self.version = version
            self.name = name
            self.operatorId = operatorId
            self.address = address
            self.latitude = latitude
            self.longitude = longitude
            self.status = status
            self.registration = registration
            self.tariffId = tariffId
            self.siteId = siteId
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            version = try container.decodeIfPresent(Int64.self, forKey: .version)
            name = try container.decodeIfPresent(String.self, forKey: .name)
            operatorId = try container.update(String.self, forKey: .operatorId)
            address = try container.update(String.self, forKey: .address)
            latitude = try container.update(Double.self, forKey: .latitude)
            longitude = try container.update(Double.self, forKey: .longitude)
            status = try container.decodeIfPresent(String.self, forKey: .status)
            registration = try container.decodeIfPresent(String.self, forKey: .registration)
            tariffId = try container.update(String.self, forKey: .tariffId)
            siteId = try container.update(String.self, forKey: .siteId)
            securityProfile = try container.decodeIfPresent(Int.self, forKey: .securityProfile)
        }
    }

    struct ConnectorPatch: Decodable, Sendable {
        var type: String?
        var maxPowerKw: Double?
        var status: String?
        var errorCode: String?
    }

    struct CredentialsRequest: Decodable, Sendable {
        var password: String
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/stations") { request, context in
            let identity = try context.requireSignedIn()
            let query = try Self.query(from: request.uri.queryParameters)
            let page = try PageRequest(from: request.uri.queryParameters)
            let result = try await repository.list(query, page: page)
            if identity.role == .driver {
                return try jsonResponse(ListResponse(items: result.items.map(PublicStationView.init), nextCursor: result.nextCursor))
            }
            return try jsonResponse(ListResponse(items: result.items, nextCursor: result.nextCursor))
        }
        router.get("/api/v1/stations/availability") { _, context in
            return try jsonResponse(try await repository.availability())
        }
        router.get("/api/v1/stations/{id}") { _, context in
            let identity = try context.requireSignedIn()
            let id = try context.parameters.require("id")
            guard var view = try await repository.get(id) else { throw APIError.notFound("no station \(id)") }
            // The connection's last messages hold other drivers' id tags and charger internals.
            guard identity.role != .driver else { return try jsonResponse(PublicStationView(view)) }
            view.connection = try await connectionInfo(id)
            return try jsonResponse(view)
        }
        router.post("/api/v1/stations") { request, context in
            let view = try await create(try await request.decodeJSON(as: CreateRequest.self))
            return try jsonResponse(view, status: .created, headers: [.location: "/api/v1/stations/\(view.id)"])
        }
        router.patch("/api/v1/stations/{id}") { request, context in
            let id = try context.parameters.require("id")
            return try jsonResponse(try await update(id, try await request.decodeJSON(as: PatchRequest.self)))
        }
        router.delete("/api/v1/stations/{id}") { request, context in
            let id = try context.parameters.require("id")
            if request.uri.queryParameters["purge"] == "true" {
                do {
                    guard try await repository.delete(id) else { throw APIError.notFound("no station \(id)") }
                } catch let error as SQLiteError where error.kind == .foreignKeyViolation {
                    throw APIError.conflict("station \(id) has charging sessions; decommission it instead")
                }
                return Response(status: .noContent)
            }
            return try jsonResponse(try await decommission(id))
        }
        router.put("/api/v1/stations/{id}/credentials") { request, context in
            let id = try context.parameters.require("id")
            try await setPassword(id, try await request.decodeJSON(as: CredentialsRequest.self).password)
            return Response(status: .noContent)
        }
        router.delete("/api/v1/stations/{id}/credentials") { _, context in
            let id = try context.parameters.require("id")
            _ = try await repository.update(id, expectedVersion: nil, now: now()) { station in
                station.passwordHash = nil
                station.previousPasswordHash = nil
            }
            return Response(status: .noContent)
        }
        router.post("/api/v1/stations/{id}/connectors") { request, context in
            let id = try context.parameters.require("id")
            let input = try await request.decodeJSON(as: ConnectorInput.self)
            var validator = Validator()
            let connector = Self.validate(input, field: "", now: now(), validator: &validator)
            try validator.throwIfInvalid()
            let view = try await repository.addConnector(connector!, to: id, now: now())
            return try jsonResponse(view, status: .created)
        }
        router.patch("/api/v1/stations/{id}/connectors/{connectorId}") { request, context in
            let id = try context.parameters.require("id")
            let connectorID = try Self.connectorID(context)
            let body = try await request.decodeJSON(as: ConnectorPatch.self)
            var validator = Validator()
            let type = validator.parse(body.type, as: ConnectorType.self, field: "type")
            let status = validator.parse(body.status, as: ConnectorStatus.self, field: "status")
            if let power = body.maxPowerKw {
                validator.check(power > 0 && power <= 2000, "maxPowerKw", "must be above 0 and at most 2000")
            }
            validator.text(body.errorCode, "errorCode", length: 1...50)
            try validator.throwIfInvalid()
            let changedAt = now()
            let errorCode = body.errorCode
            let history = ConnectorStatusHistory(recorder: connectorStatusChanges) { before, after in
                guard after.status != before.status else { return nil }
                return ConnectorStatusChange(
                    stationID: id, connectorID: connectorID, previous: before.status, current: after.status,
                    errorCode: after.status == .faulted ? errorCode : nil, info: nil, vendorErrorCode: nil,
                    at: changedAt, source: .api)
            }
            let (view, _) = try await repository.updateConnector(
                connectorID, of: id, now: changedAt, history: history
            ) { connector in
                if let type { connector.type = type }
                if let power = body.maxPowerKw { connector.maxPowerKw = power }
                if let status {
                    connector.status = status
                    connector.errorCode = status == .faulted ? (errorCode ?? connector.errorCode) : nil
                }
            }
            return try jsonResponse(view)
        }
        router.delete("/api/v1/stations/{id}/connectors/{connectorId}") { _, context in
            let id = try context.parameters.require("id")
            try await repository.deleteConnector(try Self.connectorID(context), of: id, now: now())
            return Response(status: .noContent)
        }
    }

    // MARK: Writes shared with the dashboard

    func create(_ body: CreateRequest) async throws -> StationView {
        let (station, connectors) = try Self.validate(body, now: now())
        do {
            return try await repository.create(station, connectors: connectors)
        } catch let error as SQLiteError where error.kind == .uniqueViolation {
            throw APIError.conflict("a station with id \(station.id) already exists")
        }
    }

    func update(_ id: String, _ body: PatchRequest) async throws -> StationView {
        var validator = Validator()
        Self.validateText(
            name: body.name, operatorId: body.operatorId.newValue ?? nil, address: body.address.newValue ?? nil,
            tariffId: body.tariffId.newValue ?? nil, siteId: body.siteId.newValue ?? nil, validator: &validator)
        let status = validator.parse(body.status, as: StationStatus.self, field: "status")
        let registration = validator.parse(body.registration, as: RegistrationStatus.self, field: "registration")
        if case .set(let latitude?) = body.latitude {
            validator.check((-90...90).contains(latitude), "latitude", "must be from -90 to 90")
        }
        if let profile = body.securityProfile { validator.check((0...3).contains(profile), "securityProfile", "must be 0, 1, 2 or 3") }
        if case .set(let longitude?) = body.longitude {
            validator.check((-180...180).contains(longitude), "longitude", "must be from -180 to 180")
        }
        try validator.throwIfInvalid()
        let updated = try await repository.update(id, expectedVersion: body.version, now: now()) { station in
            if let name = body.name { station.name = name }
            body.operatorId.apply(to: &station.operatorId)
            body.address.apply(to: &station.address)
            body.latitude.apply(to: &station.latitude)
            body.longitude.apply(to: &station.longitude)
            body.tariffId.apply(to: &station.tariffId)
            body.siteId.apply(to: &station.siteId)
            if let profile = body.securityProfile { station.securityProfile = profile }
            if let status { station.status = status }
            if let registration { station.registration = registration }
            guard (station.latitude == nil) == (station.longitude == nil) else { throw StationError.incompleteCoordinates }
        }
        // A charger connected under the old rules would otherwise keep its weaker connection.
        if body.securityProfile != nil { enforceSecurityProfile(id, updated.station.securityProfile) }
        return updated
    }

    func decommission(_ id: String) async throws -> StationView {
        try await repository.update(id, expectedVersion: nil, now: now()) { $0.status = .decommissioned }
    }

    /// The charger's Basic-auth password, kept only as its salted hash.
    func setPassword(_ id: String, _ password: String) async throws {
        guard ChargePointPassword.allowedLength.contains(password.count), password.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else {
            throw APIError.validation(field: "password", "must be 16–40 printable ASCII characters without spaces")
        }
        let hash = ChargePointPassword.hash(password)
        _ = try await repository.update(id, expectedVersion: nil, now: now()) { station in
            station.passwordHash = hash
            station.previousPasswordHash = nil
        }
    }

    private static func connectorID(_ context: AppRequestContext) throws -> Int {
        guard let value = context.parameters.get("connectorId").flatMap(Int.init), value >= 1 else {
            throw APIError.validation(field: "connectorId", "must be a whole number from 1")
        }
        return value
    }

    static func validate(_ body: CreateRequest, now: Date) throws -> (Station, [Connector]) {
        var validator = Validator()
        validator.check(Station.isValidID(body.id), "id", "must be 1–48 characters of A–Z a–z 0–9 . _ - :")
        validateText(
            name: body.name, operatorId: body.operatorId, address: body.address, tariffId: body.tariffId,
            siteId: body.siteId, validator: &validator)
        if let profile = body.securityProfile { validator.check((0...3).contains(profile), "securityProfile", "must be 0, 1, 2 or 3") }
        if let latitude = body.latitude {
            validator.check((-90...90).contains(latitude), "latitude", "must be from -90 to 90")
        }
        if let longitude = body.longitude {
            validator.check((-180...180).contains(longitude), "longitude", "must be from -180 to 180")
        }
        validator.check(
            (body.latitude == nil) == (body.longitude == nil), "longitude", "latitude and longitude are set together")
        let status = validator.parse(body.status, as: StationStatus.self, field: "status")
        let registration = validator.parse(body.registration, as: RegistrationStatus.self, field: "registration")
        validator.check(body.ocppVersion == nil || body.ocppVersion == "1.6", "ocppVersion", "must be 1.6")
        var connectors: [Connector] = []
        var seen: Set<Int> = []
        for (index, input) in (body.connectors ?? []).enumerated() {
            validator.check(
                seen.insert(input.connectorId).inserted, "connectors[\(index)].connectorId", "is used twice")
            if let connector = validate(input, field: "connectors[\(index)].", now: now, validator: &validator) {
                connectors.append(connector)
            }
        }
        try validator.throwIfInvalid()
        var station = Station(id: body.id, name: body.name, now: now)
        station.operatorId = body.operatorId
        station.address = body.address
        station.latitude = body.latitude
        station.longitude = body.longitude
        station.tariffId = body.tariffId
        station.siteId = body.siteId
        if let profile = body.securityProfile { station.securityProfile = profile }
        if let status { station.status = status }
        if let registration { station.registration = registration }
        return (station, connectors)
    }

    /// The text fields' limits, the same on create and on update.
    static func validateText(
        name: String?, operatorId: String?, address: String?, tariffId: String?, siteId: String? = nil,
        validator: inout Validator
    ) {
        validator.text(name, "name", length: 1...200)
        validator.text(operatorId, "operatorId", length: 1...100)
        validator.text(address, "address", length: 0...500)
        validator.text(tariffId, "tariffId", length: 1...100)
        validator.text(siteId, "siteId", length: 1...100)
    }

    private static func validate(_ input: ConnectorInput, field prefix: String, now: Date, validator: inout Validator)
        -> Connector?
    {
        validator.check((1...100).contains(input.connectorId), prefix + "connectorId", "must be from 1 to 100")
        let type = validator.parse(input.type, as: ConnectorType.self, field: prefix + "type")
        validator.check(
            input.maxPowerKw > 0 && input.maxPowerKw <= 2000, prefix + "maxPowerKw", "must be above 0 and at most 2000")
        let status = validator.parse(input.status, as: ConnectorStatus.self, field: prefix + "status")
        guard let type else { return nil }
        var connector = Connector(connectorId: input.connectorId, type: type, maxPowerKw: input.maxPowerKw, now: now)
        if let status { connector.status = status }
        return connector
    }

    static func query(from parameters: Parameters) throws -> StationQuery {
        var validator = Validator()
        var query = StationQuery()
        query.status = validator.parse(parameters["status"].map(String.init), as: StationStatus.self, field: "status")
        if let online = parameters["online"] {
            validator.check(online == "true" || online == "false", "online", "must be true or false")
            query.online = online == "true"
        }
        query.connectorType = validator.parse(
            parameters["connectorType"].map(String.init), as: ConnectorType.self, field: "connectorType")
        if let power = parameters["minPowerKw"] {
            let value = Double(power)
            validator.check(value.map { $0 >= 0 } ?? false, "minPowerKw", "must be a number ≥ 0")
            query.minPowerKw = value
        }
        if let available = parameters["available"] {
            validator.check(available == "true" || available == "false", "available", "must be true or false")
            query.availableOnly = available == "true"
        }
        query.text = parameters["q"].map(String.init)
        query.siteID = parameters["siteId"].map(String.init)
        // Checked even without `near`, so a bad value is reported rather than silently ignored.
        let radius = parameters["radiusKm"].map { Double($0) } ?? 10
        validator.check(radius.map { $0 > 0 && $0 <= 20_000 } ?? false, "radiusKm", "must be above 0 and at most 20000")
        if let near = parameters["near"] {
            let parts = near.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            if parts.count == 2, (-90...90).contains(parts[0]), (-180...180).contains(parts[1]) {
                query.near = (parts[0], parts[1], radius ?? 10)
            } else {
                validator.fail("near", "must be 'latitude,longitude' within range")
            }
        }
        try validator.throwIfInvalid()
        return query
    }
}

extension PageRequest {
    /// `limit` (1–200, default 50) and `cursor` from the query string.
    init(from parameters: Parameters) throws {
        var limit = PageRequest.defaultLimit
        if let raw = parameters["limit"] {
            guard let value = Int(raw), (1...PageRequest.maximumLimit).contains(value) else {
                throw APIError.validation(field: "limit", "must be from 1 to \(PageRequest.maximumLimit)")
            }
            limit = value
        }
        self.init(limit: limit, cursor: parameters["cursor"].map(String.init))
    }
}
