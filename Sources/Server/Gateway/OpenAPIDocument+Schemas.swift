import Foundation
import Storage

/// Small builders for JSON Schema 2020-12 (the dialect of OpenAPI 3.1).
enum JSONSchema {
    static func ref(_ name: String) -> DocumentValue { ["$ref": .string("#/components/schemas/\(name)")] }

    static let string: DocumentValue = ["type": "string"]
    static let boolean: DocumentValue = ["type": "boolean"]
    static let integer: DocumentValue = ["type": "integer"]
    static let number: DocumentValue = ["type": "number"]
    static let dateTime: DocumentValue = ["type": "string", "format": "date-time"]
    static let anyObject: DocumentValue = ["type": "object"]
    static let stringMap: DocumentValue = ["type": "object", "additionalProperties": ["type": "string"]]
    static let integerMap: DocumentValue = ["type": "object", "additionalProperties": ["type": "integer"]]
    /// A decimal amount as the API writes it ("12.50"): exact, never a binary float.
    static let decimalString: DocumentValue = ["type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"]
    /// A decimal as the API reads it: a number or a string, at most 12 whole and 6 decimal digits.
    static let decimalInput: DocumentValue = [
        "anyOf": [
            ["type": "string", "pattern": "^[+-]?[0-9]{1,12}(\\.[0-9]{1,6})?$"],
            ["type": "number"],
        ]
    ]
    static let email: DocumentValue = ["type": "string", "format": "email", "maxLength": 254]
    /// An OCPP IdToken: 1–20 printable ASCII characters.
    static let idTag: DocumentValue = ["type": "string", "pattern": "^[ -~]{1,20}$"]
    static let stationID: DocumentValue = ["type": "string", "pattern": "^[A-Za-z0-9._:-]{1,48}$"]

    static func string(_ minLength: Int, _ maxLength: Int) -> DocumentValue {
        ["type": "string", "minLength": .int(minLength), "maxLength": .int(maxLength)]
    }

    static func string(pattern: String) -> DocumentValue { ["type": "string", "pattern": .string(pattern)] }

    static func integer(_ minimum: Int, _ maximum: Int) -> DocumentValue {
        ["type": "integer", "minimum": .int(minimum), "maximum": .int(maximum)]
    }

    static func number(exclusiveMinimum: Double, maximum: Double) -> DocumentValue {
        ["type": "number", "exclusiveMinimum": .double(exclusiveMinimum), "maximum": .double(maximum)]
    }

    static func number(_ minimum: Double, _ maximum: Double) -> DocumentValue {
        ["type": "number", "minimum": .double(minimum), "maximum": .double(maximum)]
    }

    static func oneOf(_ values: [String]) -> DocumentValue {
        ["type": "string", "enum": .array(values.map(DocumentValue.string))]
    }

    static func oneOf<T: CaseIterable & RawRepresentable>(_ type: T.Type) -> DocumentValue where T.RawValue == String {
        oneOf(type.allCases.map(\.rawValue))
    }

    static func array(_ items: DocumentValue, maxItems: Int? = nil) -> DocumentValue {
        var schema: [String: DocumentValue] = ["type": "array", "items": items]
        if let maxItems { schema["maxItems"] = .int(maxItems) }
        return .object(schema)
    }

    /// An object with these properties; the API may add properties, so others are allowed.
    static func object(_ properties: [String: DocumentValue], required: [String] = []) -> DocumentValue {
        var schema: [String: DocumentValue] = ["type": "object", "properties": .object(properties)]
        if !required.isEmpty { schema["required"] = .array(required.map(DocumentValue.string)) }
        return .object(schema)
    }

    /// A request body: an optional property may also be sent as null, which the API reads as absent
    /// (or, on PATCH, as "clear it" where the field can be cleared).
    static func input(_ properties: [String: DocumentValue], required: [String] = []) -> DocumentValue {
        var properties = properties
        for (name, schema) in properties where !required.contains(name) { properties[name] = nullable(schema) }
        return object(properties, required: required)
    }

    /// A PATCH field that may be sent as null to clear it.
    static func nullable(_ schema: DocumentValue) -> DocumentValue { ["anyOf": [schema, ["type": "null"]]] }

    /// `{items, nextCursor}`, nextCursor null on the last page.
    static func list(_ item: DocumentValue) -> DocumentValue {
        object(["items": array(item), "nextCursor": nullable(string)], required: ["items", "nextCursor"])
    }

    /// `{items}` without paging.
    static func items(_ item: DocumentValue) -> DocumentValue {
        object(["items": array(item)], required: ["items"])
    }

    static func query(_ name: String, _ schema: DocumentValue, _ description: String? = nil, required: Bool = false)
        -> DocumentValue
    {
        var parameter: [String: DocumentValue] = ["name": .string(name), "in": "query", "schema": schema]
        if required { parameter["required"] = true }
        if let description { parameter["description"] = .string(description) }
        return .object(parameter)
    }

    static let limit: DocumentValue = ["$ref": "#/components/parameters/limit"]
    static let cursor: DocumentValue = ["$ref": "#/components/parameters/cursor"]
    static let paging: [DocumentValue] = [limit, cursor]
    static let trueOrFalse: DocumentValue = oneOf(["true", "false"])
}

extension OpenAPIDocument {
    static var schemas: [String: DocumentValue] {
        var schemas: [String: DocumentValue] = [:]
        schemas.merge(errorAndAccountSchemas) { $1 }
        schemas.merge(stationSchemas) { $1 }
        schemas.merge(siteAndReservationSchemas) { $1 }
        schemas.merge(driverSchemas) { $1 }
        schemas.merge(billingSchemas) { $1 }
        schemas.merge(operationsSchemas) { $1 }
        schemas.merge(auditSchemas) { $1 }
        schemas["TimeZone"] = JSONSchema.oneOf(TimeZone.knownTimeZoneIdentifiers.sorted())
        schemas["Currency"] = JSONSchema.oneOf(Locale.commonISOCurrencyCodes.map { $0.uppercased() }.sorted())
        return schemas
    }

    private static var errorAndAccountSchemas: [String: DocumentValue] {
        [
            "FieldError": JSONSchema.object(
                ["field": JSONSchema.string, "message": JSONSchema.string], required: ["field", "message"]),
            "ProblemDetails": JSONSchema.object(
                [
                    "type": JSONSchema.string, "title": JSONSchema.string, "status": JSONSchema.integer(400, 599),
                    "detail": JSONSchema.string, "instance": JSONSchema.string, "requestId": JSONSchema.string,
                    "errors": JSONSchema.array(JSONSchema.ref("FieldError")),
                ], required: ["type", "title", "status"]),
            "User": JSONSchema.object(
                [
                    "id": JSONSchema.string, "email": JSONSchema.string, "name": JSONSchema.string,
                    "role": JSONSchema.oneOf(Role.self), "status": JSONSchema.oneOf(UserStatus.self),
                    "version": JSONSchema.integer, "createdAt": JSONSchema.dateTime, "updatedAt": JSONSchema.dateTime,
                    "driverId": JSONSchema.string,
                ], required: ["id", "email", "name", "role", "status", "version", "createdAt", "updatedAt"]),
            "TokenPair": JSONSchema.object(
                [
                    "accessToken": JSONSchema.string, "refreshToken": JSONSchema.string, "tokenType": JSONSchema.oneOf(["Bearer"]),
                    "expiresIn": JSONSchema.integer,
                ], required: ["accessToken", "refreshToken", "tokenType", "expiresIn"]),
            "RegisterRequest": JSONSchema.object(
                ["email": JSONSchema.email, "password": JSONSchema.string(8, 72), "name": JSONSchema.string(1, 200)],
                required: ["email", "password", "name"]),
            "LoginRequest": JSONSchema.object(
                ["email": JSONSchema.string, "password": JSONSchema.string], required: ["email", "password"]),
            "RefreshRequest": JSONSchema.object(["refreshToken": JSONSchema.string], required: ["refreshToken"]),
            "CreateUserRequest": JSONSchema.object(
                [
                    "email": JSONSchema.email, "password": JSONSchema.string(8, 72), "name": JSONSchema.string(1, 200),
                    "role": JSONSchema.oneOf(Role.self),
                ], required: ["email", "password", "name", "role"]),
            "PatchUserRequest": JSONSchema.input([
                "version": JSONSchema.integer, "name": JSONSchema.string(1, 200), "role": JSONSchema.oneOf(Role.self),
                "status": JSONSchema.oneOf(UserStatus.self), "password": JSONSchema.string(8, 72),
            ]),
            "HealthCheckResult": JSONSchema.object(
                [
                    "status": JSONSchema.oneOf(["pass", "warn", "fail"]), "message": JSONSchema.string,
                    "responseTimeMs": JSONSchema.number, "metadata": JSONSchema.stringMap,
                ], required: ["status", "message", "responseTimeMs", "metadata"]),
            "HealthReport": JSONSchema.object(
                [
                    "status": JSONSchema.oneOf(["healthy", "degraded", "unhealthy"]),
                    "checks": ["type": "object", "additionalProperties": JSONSchema.ref("HealthCheckResult")],
                    "uptimeSeconds": JSONSchema.integer, "version": JSONSchema.string,
                ], required: ["status", "checks", "uptimeSeconds", "version"]),
            "Service": JSONSchema.object(
                [
                    "name": JSONSchema.string, "kind": JSONSchema.oneOf(["internal", "external"]), "version": JSONSchema.string,
                    "basePath": JSONSchema.string, "url": JSONSchema.string, "metadata": JSONSchema.stringMap,
                    "status": JSONSchema.string, "message": JSONSchema.string, "ttlSeconds": JSONSchema.integer,
                    "registeredAt": JSONSchema.dateTime, "lastHeartbeatAt": JSONSchema.dateTime,
                    "lastCheckedAt": JSONSchema.dateTime,
                    "checks": ["type": "object", "additionalProperties": JSONSchema.ref("HealthCheckResult")],
                    "metrics": JSONSchema.object([
                        "requests": JSONSchema.integer, "clientErrors": JSONSchema.integer, "serverErrors": JSONSchema.integer,
                        "averageResponseTimeMs": JSONSchema.number, "lastResponseTimeMs": JSONSchema.number,
                        "uptimeSeconds": JSONSchema.integer,
                    ]),
                ], required: ["name", "kind", "status", "message"]),
            "RegisterServiceRequest": JSONSchema.input(
                [
                    "name": JSONSchema.string(pattern: "^[a-z0-9._-]{1,64}$"), "url": JSONSchema.string(pattern: "^http://[^/?#\\s]"),
                    "metadata": JSONSchema.stringMap.merging(["maxProperties": 32]), "ttlSeconds": JSONSchema.integer(1, 86_400),
                ], required: ["name", "url"]),
            "Discovery": JSONSchema.object(
                ["name": JSONSchema.string, "url": JSONSchema.string, "source": JSONSchema.oneOf(["registry", "environment"])],
                required: ["name", "url", "source"]),
        ]
    }

    private static var stationSchemas: [String: DocumentValue] {
        let connectorType = JSONSchema.oneOf(ConnectorType.self)
        let connectorStatus = JSONSchema.oneOf(ConnectorStatus.self)
        let power = JSONSchema.number(exclusiveMinimum: 0, maximum: 2000)
        return [
            "Connector": JSONSchema.object(
                [
                    "connectorId": JSONSchema.integer, "type": connectorType, "maxPowerKw": JSONSchema.number,
                    "status": connectorStatus, "errorCode": JSONSchema.string, "statusUpdatedAt": JSONSchema.dateTime,
                ], required: ["connectorId", "type", "maxPowerKw", "status", "statusUpdatedAt"]),
            "OCPPLogEntry": JSONSchema.object(
                [
                    "stationId": JSONSchema.string, "direction": JSONSchema.string, "messageType": JSONSchema.integer,
                    "action": JSONSchema.string, "messageId": JSONSchema.string, "payload": JSONSchema.string,
                    "at": JSONSchema.dateTime,
                    "answer": JSONSchema.nullable(
                        JSONSchema.object(
                            ["messageType": JSONSchema.integer, "payload": JSONSchema.string, "at": JSONSchema.dateTime],
                            required: ["messageType", "payload", "at"])),
                ], required: ["stationId", "direction", "messageType", "payload", "at"]),
            "StationConnection": JSONSchema.object(
                [
                    "connected": JSONSchema.boolean, "connectedAt": JSONSchema.dateTime, "registration": JSONSchema.string,
                    "outboundQueueDepth": JSONSchema.integer, "lastMessages": JSONSchema.array(JSONSchema.ref("OCPPLogEntry")),
                ], required: ["connected"]),
            "Station": JSONSchema.object(
                [
                    "id": JSONSchema.string, "version": JSONSchema.integer, "name": JSONSchema.string,
                    "operatorId": JSONSchema.string, "address": JSONSchema.string, "latitude": JSONSchema.number,
                    "longitude": JSONSchema.number, "status": JSONSchema.oneOf(StationStatus.self),
                    "ocppVersion": JSONSchema.string, "registration": JSONSchema.oneOf(RegistrationStatus.self),
                    "tariffId": JSONSchema.string, "siteId": JSONSchema.string, "securityProfile": JSONSchema.integer(0, 3),
                    "online": JSONSchema.boolean,
                    "lastSeenAt": JSONSchema.dateTime,
                    "vendor": JSONSchema.string, "model": JSONSchema.string, "serialNumber": JSONSchema.string,
                    "firmwareVersion": JSONSchema.string, "chargeBoxSerialNumber": JSONSchema.string, "iccid": JSONSchema.string,
                    "imsi": JSONSchema.string, "meterType": JSONSchema.string, "meterSerialNumber": JSONSchema.string,
                    "lastBootAt": JSONSchema.dateTime, "diagnosticsStatus": JSONSchema.string,
                    "firmwareStatus": JSONSchema.string, "configuration": JSONSchema.stringMap,
                    "createdAt": JSONSchema.dateTime, "updatedAt": JSONSchema.dateTime, "hasPassword": JSONSchema.boolean,
                    "connectors": JSONSchema.array(JSONSchema.ref("Connector")), "distanceKm": JSONSchema.number,
                    "connection": JSONSchema.ref("StationConnection"),
                ], required: ["id", "name", "status", "connectors"]),
            "Availability": JSONSchema.object(
                [
                    "stations": JSONSchema.integer, "online": JSONSchema.integer, "stationsByStatus": JSONSchema.integerMap,
                    "connectors": JSONSchema.integer, "connectorsByStatus": JSONSchema.integerMap,
                ], required: ["stations", "online", "stationsByStatus", "connectors", "connectorsByStatus"]),
            "ConnectorInput": JSONSchema.input(
                [
                    "connectorId": JSONSchema.integer(1, 100), "type": connectorType, "maxPowerKw": power,
                    "status": connectorStatus,
                ], required: ["connectorId", "type", "maxPowerKw"]),
            "CreateStationRequest": JSONSchema.input(
                [
                    "id": JSONSchema.stationID, "name": JSONSchema.string(1, 200), "operatorId": JSONSchema.string,
                    "address": JSONSchema.string(0, 500), "latitude": JSONSchema.number(-90, 90),
                    "longitude": JSONSchema.number(-180, 180), "status": JSONSchema.oneOf(StationStatus.self),
                    "registration": JSONSchema.oneOf(RegistrationStatus.self), "ocppVersion": JSONSchema.oneOf(["1.6"]),
                    "tariffId": JSONSchema.string, "siteId": JSONSchema.string(1, 100),
                    "securityProfile": JSONSchema.integer(0, 3),
                    "connectors": JSONSchema.array(JSONSchema.ref("ConnectorInput"), maxItems: 100),
                ], required: ["id", "name"]
            ).merging(["dependentRequired": ["latitude": ["longitude"], "longitude": ["latitude"]]]),
            "PatchStationRequest": JSONSchema.input([
                "version": JSONSchema.integer, "name": JSONSchema.string(1, 200), "operatorId": JSONSchema.string,
                "address": JSONSchema.string(0, 500),
                "latitude": JSONSchema.number(-90, 90),
                "longitude": JSONSchema.number(-180, 180), "status": JSONSchema.oneOf(StationStatus.self),
                "registration": JSONSchema.oneOf(RegistrationStatus.self), "tariffId": JSONSchema.string,
                "siteId": JSONSchema.string(1, 100), "securityProfile": JSONSchema.integer(0, 3),
            ]),
            "ConnectorPatchRequest": JSONSchema.input([
                "type": connectorType, "maxPowerKw": power, "status": connectorStatus,
                "errorCode": JSONSchema.string(1, 50),
            ]),
            "CredentialsRequest": JSONSchema.object(
                ["password": JSONSchema.string(pattern: "^[!-~]{16,40}$")], required: ["password"]),
            "StatusHistoryEntry": JSONSchema.object(
                [
                    "connectorId": JSONSchema.integer, "kind": JSONSchema.string, "previous": JSONSchema.string,
                    "status": JSONSchema.string, "errorCode": JSONSchema.string, "info": JSONSchema.string,
                    "vendorErrorCode": JSONSchema.string, "source": JSONSchema.string, "at": JSONSchema.dateTime,
                ], required: ["connectorId", "kind", "status", "source", "at"]),
        ]
    }

    private static var siteAndReservationSchemas: [String: DocumentValue] {
        var siteInput: [String: DocumentValue] = [
            "version": JSONSchema.integer, "name": JSONSchema.string(1, 200), "address": JSONSchema.string(0, 500),
            "timeZone": JSONSchema.ref("TimeZone"), "maxPowerKw": JSONSchema.number(0.1, 100_000),
        ]
        let patch = JSONSchema.input(siteInput)
        siteInput["version"] = nil
        return [
            "Site": JSONSchema.object(
                [
                    "id": JSONSchema.string, "version": JSONSchema.integer, "name": JSONSchema.string,
                    "address": JSONSchema.string, "timeZone": JSONSchema.string, "maxPowerKw": JSONSchema.number,
                    "createdAt": JSONSchema.dateTime, "updatedAt": JSONSchema.dateTime,
                    "stationIds": JSONSchema.array(JSONSchema.string),
                ], required: ["id", "version", "name", "timeZone", "createdAt", "updatedAt", "stationIds"]),
            "CreateSiteRequest": JSONSchema.input(siteInput, required: ["name"]),
            "PatchSiteRequest": patch,
            "Reservation": JSONSchema.object(
                [
                    "id": JSONSchema.string, "version": JSONSchema.integer, "stationId": JSONSchema.string,
                    "connectorId": JSONSchema.integer, "reservationId": JSONSchema.integer, "idTag": JSONSchema.string,
                    "parentIdTag": JSONSchema.string, "driverId": JSONSchema.string, "expiresAt": JSONSchema.dateTime,
                    "status": JSONSchema.oneOf(ReservationStatus.self), "chargerAnswer": JSONSchema.string,
                    "cancelAnswer": JSONSchema.string, "failure": JSONSchema.string, "sessionId": JSONSchema.string,
                    "transactionId": JSONSchema.integer, "createdBy": JSONSchema.string, "createdAt": JSONSchema.dateTime,
                    "updatedAt": JSONSchema.dateTime, "endedAt": JSONSchema.dateTime,
                ],
                required: [
                    "id", "version", "stationId", "connectorId", "reservationId", "idTag", "expiresAt", "status", "createdAt",
                    "updatedAt",
                ]),
            "CreateReservationRequest": JSONSchema.object(
                [
                    "stationId": JSONSchema.stationID, "connectorId": JSONSchema.integer(0, 100),
                    "idTag": JSONSchema.idTag, "driverId": JSONSchema.string(1, 100), "expiresAt": JSONSchema.dateTime,
                ], required: ["stationId", "connectorId", "expiresAt"]
            ).merging(["oneOf": [["required": ["idTag"]], ["required": ["driverId"]]]]),
            "SetChargingProfileRequest": JSONSchema.object(
                ["connectorId": JSONSchema.integer(0, 100), "chargingProfile": JSONSchema.anyObject],
                required: ["connectorId", "chargingProfile"]),
            "ChargingProfile": JSONSchema.object(
                [
                    "id": JSONSchema.string, "version": JSONSchema.integer, "stationId": JSONSchema.string,
                    "connectorId": JSONSchema.integer, "chargingProfileId": JSONSchema.integer, "purpose": JSONSchema.string,
                    "stackLevel": JSONSchema.integer, "transactionId": JSONSchema.integer, "profile": JSONSchema.anyObject,
                    "status": JSONSchema.oneOf(ChargingProfileStatus.self), "chargerAnswer": JSONSchema.string,
                    "source": JSONSchema.oneOf(["operator", "load-management", "passthrough"]),
                    "createdAt": JSONSchema.dateTime, "updatedAt": JSONSchema.dateTime, "endedAt": JSONSchema.dateTime,
                ],
                required: [
                    "id", "stationId", "connectorId", "chargingProfileId", "purpose", "stackLevel", "profile", "status", "source",
                    "createdAt", "updatedAt",
                ]),
            "SiteAllocation": JSONSchema.object(
                [
                    "siteId": JSONSchema.string, "maxPowerKw": JSONSchema.number, "allocatedW": JSONSchema.integer,
                    "connectors": JSONSchema.array(
                        JSONSchema.object(
                            [
                                "stationId": JSONSchema.string, "connectorId": JSONSchema.integer,
                                "transactionId": JSONSchema.integer, "limitW": JSONSchema.integer,
                                "acknowledgedLimitW": JSONSchema.integer,
                                "state": JSONSchema.oneOf(["charging", "paused", "ignoring"]),
                                "reportedPowerW": JSONSchema.integer, "updatedAt": JSONSchema.dateTime,
                            ], required: ["stationId", "connectorId", "transactionId", "limitW", "state", "updatedAt"])),
                ], required: ["siteId", "allocatedW", "connectors"]),
            "StationJob": JSONSchema.object(
                [
                    "id": JSONSchema.string, "version": JSONSchema.integer, "stationId": JSONSchema.string,
                    "kind": JSONSchema.oneOf(StationJobKind.self), "requestId": JSONSchema.integer, "location": JSONSchema.string,
                    "status": JSONSchema.string,
                    "history": JSONSchema.array(
                        JSONSchema.object(["status": JSONSchema.string, "at": JSONSchema.dateTime], required: ["status", "at"])),
                    "chargerAnswer": JSONSchema.string, "fileName": JSONSchema.string, "failed": JSONSchema.boolean,
                    "uploadExpiresAt": JSONSchema.dateTime, "uploadBytes": JSONSchema.integer, "uploadedAt": JSONSchema.dateTime,
                    "createdBy": JSONSchema.string, "createdAt": JSONSchema.dateTime, "updatedAt": JSONSchema.dateTime,
                    "finishedAt": JSONSchema.dateTime,
                ], required: ["id", "stationId", "kind", "location", "status", "history", "failed", "createdAt", "updatedAt"]),
            "FirmwareRequest": JSONSchema.object(
                [
                    "location": JSONSchema.string(1, 512), "retrieveAt": JSONSchema.dateTime,
                    "retries": JSONSchema.integer(0, 100), "retryIntervalSeconds": JSONSchema.integer(0, 86_400),
                ], required: ["location", "retrieveAt"]),
            "SignedFirmwareRequest": JSONSchema.object(
                [
                    "location": JSONSchema.string(1, 512), "retrieveAt": JSONSchema.dateTime, "installAt": JSONSchema.dateTime,
                    "signingCertificate": JSONSchema.string(1, 5500), "signature": JSONSchema.string(1, 800),
                    "retries": JSONSchema.integer(0, 100), "retryIntervalSeconds": JSONSchema.integer(0, 86_400),
                ], required: ["location", "retrieveAt", "signingCertificate", "signature"]),
            "DiagnosticsRequest": JSONSchema.object([
                "startTime": JSONSchema.dateTime, "stopTime": JSONSchema.dateTime, "retries": JSONSchema.integer(0, 100),
                "retryIntervalSeconds": JSONSchema.integer(0, 86_400),
            ]),
            "LogRequest": JSONSchema.object(
                [
                    "logType": JSONSchema.oneOf(["DiagnosticsLog", "SecurityLog"]), "oldestTimestamp": JSONSchema.dateTime,
                    "latestTimestamp": JSONSchema.dateTime, "retries": JSONSchema.integer(0, 100),
                    "retryIntervalSeconds": JSONSchema.integer(0, 86_400),
                ], required: ["logType"]),
            "StationCertificates": JSONSchema.object(
                [
                    "items": JSONSchema.array(
                        JSONSchema.object(
                            [
                                "id": JSONSchema.string, "version": JSONSchema.integer, "stationId": JSONSchema.string,
                                "kind": JSONSchema.string, "status": JSONSchema.oneOf(StationCertificate.Status.self),
                                "serialNumber": JSONSchema.string, "subject": JSONSchema.string, "issuer": JSONSchema.string,
                                "notValidBefore": JSONSchema.dateTime, "notValidAfter": JSONSchema.dateTime, "pem": JSONSchema.string,
                                "createdAt": JSONSchema.dateTime, "updatedAt": JSONSchema.dateTime,
                            ], required: ["id", "stationId", "kind", "status", "serialNumber", "notValidAfter", "pem"])),
                    "installedIds": JSONSchema.array(JSONSchema.anyObject),
                ], required: ["items", "installedIds"]),
            "InstallCertificateRequest": JSONSchema.object(
                [
                    "certificateType": JSONSchema.oneOf(["CentralSystemRootCertificate", "ManufacturerRootCertificate"]),
                    "certificate": JSONSchema.string(1, 5500),
                ], required: ["certificateType", "certificate"]),
            "SecurityEvent": JSONSchema.object(
                [
                    "id": JSONSchema.integer, "stationId": JSONSchema.string, "type": JSONSchema.string,
                    "techInfo": JSONSchema.string, "occurredAt": JSONSchema.dateTime, "receivedAt": JSONSchema.dateTime,
                    "critical": JSONSchema.boolean,
                ], required: ["id", "stationId", "type", "occurredAt", "receivedAt", "critical"]),
            "SendLocalListRequest": JSONSchema.object(
                ["type": JSONSchema.oneOf(LocalListUpdateType.self)], required: ["type"]),
            "LocalListOutcome": JSONSchema.object(
                [
                    "state": JSONSchema.nullable(
                        JSONSchema.object(
                            [
                                "stationId": JSONSchema.string, "version": JSONSchema.integer,
                                "confirmedVersion": JSONSchema.integer, "chargerVersion": JSONSchema.integer,
                                "lastStatus": JSONSchema.string, "lastUpdateType": JSONSchema.oneOf(LocalListUpdateType.self),
                                "lastSentAt": JSONSchema.dateTime, "stale": JSONSchema.boolean, "needsFull": JSONSchema.boolean,
                                "entries": JSONSchema.integer, "updatedAt": JSONSchema.dateTime,
                            ],
                            required: ["stationId", "version", "stale", "needsFull", "entries", "updatedAt"])),
                    "sent": JSONSchema.object(
                        [
                            "updateType": JSONSchema.oneOf(LocalListUpdateType.self), "listVersion": JSONSchema.integer,
                            "entries": JSONSchema.integer, "status": JSONSchema.string,
                        ], required: ["updateType", "listVersion", "entries", "status"]),
                ]),
            "DriverReservationRequest": JSONSchema.object(
                [
                    "stationId": JSONSchema.stationID, "connectorId": JSONSchema.integer(0, 100),
                    "minutes": JSONSchema.integer(1, 1440),
                ], required: ["stationId", "connectorId", "minutes"]),
        ]
    }

    private static var driverSchemas: [String: DocumentValue] {
        let vehicles = JSONSchema.array(JSONSchema.ref("Vehicle"), maxItems: 20)
        return [
            "Vehicle": JSONSchema.input(
                [
                    "make": JSONSchema.string(1, 100), "model": JSONSchema.string(1, 100),
                    "batteryKwh": JSONSchema.number(exclusiveMinimum: 0, maximum: 1000),
                    "connectorTypes": JSONSchema.array(JSONSchema.oneOf(ConnectorType.self)),
                ], required: ["make", "model"]),
            "Driver": JSONSchema.object(
                [
                    "id": JSONSchema.string, "version": JSONSchema.integer, "userId": JSONSchema.string, "name": JSONSchema.string,
                    "email": JSONSchema.string, "phone": JSONSchema.string, "status": JSONSchema.oneOf(DriverStatus.self),
                    "membership": JSONSchema.oneOf(Membership.self), "vehicles": JSONSchema.array(JSONSchema.ref("Vehicle")),
                    "priority": JSONSchema.integer, "createdAt": JSONSchema.dateTime, "updatedAt": JSONSchema.dateTime,
                ], required: ["id", "version", "name", "email", "status", "membership", "vehicles", "createdAt", "updatedAt"]),
            "CreateDriverRequest": JSONSchema.input(
                [
                    "name": JSONSchema.string(1, 200), "email": JSONSchema.email, "phone": JSONSchema.string(3, 32),
                    "status": JSONSchema.oneOf(DriverStatus.self), "membership": JSONSchema.oneOf(Membership.self),
                    "vehicles": vehicles, "userId": JSONSchema.string,
                ], required: ["name", "email"]),
            "PatchDriverRequest": JSONSchema.input([
                "version": JSONSchema.integer, "name": JSONSchema.string(1, 200), "email": JSONSchema.email,
                "phone": JSONSchema.string(3, 32), "status": JSONSchema.oneOf(DriverStatus.self),
                "membership": JSONSchema.oneOf(Membership.self), "vehicles": vehicles,
                "priority": JSONSchema.integer(-100, 100),
            ]),
            "IdTag": JSONSchema.object(
                [
                    "id": JSONSchema.string, "version": JSONSchema.integer, "status": JSONSchema.oneOf(IdTagStatus.self),
                    "kind": JSONSchema.oneOf(["rfid", "app"]), "driverId": JSONSchema.string, "expiresAt": JSONSchema.dateTime,
                    "parentIdTag": JSONSchema.string, "maxActiveTransactions": JSONSchema.integer,
                    "createdAt": JSONSchema.dateTime, "updatedAt": JSONSchema.dateTime,
                ], required: ["id", "version", "status", "kind", "createdAt", "updatedAt"]),
            "PutIdTagRequest": JSONSchema.input(
                [
                    "status": JSONSchema.oneOf(IdTagStatus.self), "driverId": JSONSchema.string,
                    "expiresAt": JSONSchema.dateTime, "parentIdTag": JSONSchema.idTag,
                    "maxActiveTransactions": JSONSchema.integer(1, 100),
                ], required: ["status"]),
            "AuthorizeRequest": JSONSchema.input(["forStartTransaction": JSONSchema.boolean]),
            "IdTagInfo": JSONSchema.object(
                [
                    "status": JSONSchema.oneOf(["Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"]),
                    "expiryDate": JSONSchema.dateTime, "parentIdTag": JSONSchema.string,
                ], required: ["status"]),
            "OwnDriverProfile": JSONSchema.object(
                ["driver": JSONSchema.ref("Driver"), "idTags": JSONSchema.array(JSONSchema.ref("IdTag"))],
                required: ["driver", "idTags"]),
        ]
    }

    private static var billingSchemas: [String: DocumentValue] {
        let price = JSONSchema.decimalInput
        let window = JSONSchema.input(
            [
                "daysOfWeek": JSONSchema.array(JSONSchema.oneOf(Weekday.self)).merging(["minItems": 1]),
                "start": JSONSchema.string(pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"),
                "end": JSONSchema.string(pattern: "^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"),
                "energyPrice": price, "timePrice": price,
            ], required: ["start", "end"])
        var tariffInput: [String: DocumentValue] = [
            "version": JSONSchema.integer, "name": JSONSchema.string(1, 200),
            "currency": JSONSchema.ref("Currency"), "energyPrice": price,
            "timePrice": price, "sessionFee": price,
            "idleFee": price, "idleGraceMinutes": JSONSchema.integer(0, 1440),
            "taxRatePercent": price, "timeZone": JSONSchema.ref("TimeZone"),
            "validFrom": JSONSchema.dateTime, "validTo": JSONSchema.dateTime,
            "windows": JSONSchema.array(window, maxItems: 50),
            "membershipDiscounts": ["type": "object", "additionalProperties": price],
            "isDefault": JSONSchema.boolean,
        ]
        let patch = JSONSchema.input(tariffInput)
        tariffInput["version"] = nil
        return [
            "CostLine": JSONSchema.object(
                [
                    "kind": JSONSchema.oneOf(["energy", "time", "session_fee", "idle_fee", "discount"]),
                    "description": JSONSchema.string, "quantity": JSONSchema.string, "unit": JSONSchema.string,
                    "unitPrice": JSONSchema.string, "amount": JSONSchema.decimalString,
                ], required: ["kind", "description", "quantity", "unit", "unitPrice", "amount"]),
            "CostBreakdown": JSONSchema.object(
                [
                    "currency": JSONSchema.string, "lines": JSONSchema.array(JSONSchema.ref("CostLine")),
                    "subtotal": JSONSchema.decimalString, "tax": JSONSchema.decimalString,
                    "taxRatePercent": JSONSchema.string, "total": JSONSchema.decimalString,
                ], required: ["currency", "lines", "subtotal", "tax", "taxRatePercent", "total"]),
            "Tariff": JSONSchema.object(
                [
                    "id": JSONSchema.string, "version": JSONSchema.integer, "name": JSONSchema.string, "currency": JSONSchema.string,
                    "energyPrice": JSONSchema.decimalString, "timePrice": JSONSchema.decimalString,
                    "sessionFee": JSONSchema.decimalString, "idleFee": JSONSchema.decimalString,
                    "idleGraceMinutes": JSONSchema.integer, "taxRatePercent": JSONSchema.decimalString,
                    "timeZone": JSONSchema.string, "validFrom": JSONSchema.dateTime, "validTo": JSONSchema.dateTime,
                    "windows": JSONSchema.array(JSONSchema.anyObject),
                    "membershipDiscounts": ["type": "object", "additionalProperties": JSONSchema.decimalString],
                    "isDefault": JSONSchema.boolean, "createdAt": JSONSchema.dateTime, "updatedAt": JSONSchema.dateTime,
                ],
                required: [
                    "id", "version", "name", "currency", "energyPrice", "idleGraceMinutes", "taxRatePercent",
                    "timeZone", "windows", "membershipDiscounts", "isDefault", "createdAt", "updatedAt",
                ]),
            "CreateTariffRequest": JSONSchema.input(tariffInput, required: ["name", "currency", "energyPrice"]),
            "PatchTariffRequest": patch,
            "Session": JSONSchema.object(
                [
                    "id": JSONSchema.string, "version": JSONSchema.integer, "transactionId": JSONSchema.integer,
                    "stationId": JSONSchema.string, "connectorId": JSONSchema.integer, "idTag": JSONSchema.string,
                    "driverId": JSONSchema.string, "startedAt": JSONSchema.dateTime, "stoppedAt": JSONSchema.dateTime,
                    "meterStartWh": JSONSchema.integer, "meterStopWh": JSONSchema.integer, "energyWh": JSONSchema.integer,
                    "currentPowerW": JSONSchema.integer, "lastSampleAt": JSONSchema.dateTime,
                    "chargingEndedAt": JSONSchema.dateTime, "status": JSONSchema.oneOf(SessionStatus.self),
                    "stopReason": JSONSchema.string, "tariff": JSONSchema.ref("Tariff"), "cost": JSONSchema.ref("CostBreakdown"),
                    "invoiceId": JSONSchema.string, "createdAt": JSONSchema.dateTime, "updatedAt": JSONSchema.dateTime,
                    "durationSeconds": JSONSchema.integer, "estimatedCost": JSONSchema.ref("CostBreakdown"),
                ],
                required: [
                    "id", "version", "transactionId", "stationId", "connectorId", "idTag", "startedAt",
                    "meterStartWh", "energyWh", "status", "createdAt", "updatedAt", "durationSeconds",
                ]),
            "StartSessionRequest": JSONSchema.object(
                [
                    "stationId": JSONSchema.stationID, "connectorId": JSONSchema.integer(1, 100), "idTag": JSONSchema.idTag,
                    "startedAt": JSONSchema.dateTime, "meterStartWh": JSONSchema.integer(0, 1_000_000_000_000),
                ], required: ["stationId", "connectorId", "idTag", "startedAt", "meterStartWh"]),
            "StopSessionRequest": JSONSchema.input(
                [
                    "meterStopWh": JSONSchema.integer(0, 1_000_000_000_000), "stoppedAt": JSONSchema.dateTime,
                    "reason": JSONSchema.string(0, 200),
                ], required: ["meterStopWh", "stoppedAt"]),
            "Payment": JSONSchema.object(
                [
                    "id": JSONSchema.string, "amount": JSONSchema.decimalString, "method": JSONSchema.string,
                    "reference": JSONSchema.string, "receivedAt": JSONSchema.dateTime,
                ], required: ["id", "amount", "method", "receivedAt"]),
            "Invoice": JSONSchema.object(
                [
                    "id": JSONSchema.string, "version": JSONSchema.integer, "number": JSONSchema.string,
                    "driverId": JSONSchema.string, "sessionId": JSONSchema.string, "lines": JSONSchema.array(JSONSchema.ref("CostLine")),
                    "subtotal": JSONSchema.decimalString, "tax": JSONSchema.decimalString, "total": JSONSchema.decimalString,
                    "amountPaid": JSONSchema.decimalString, "currency": JSONSchema.string,
                    "status": JSONSchema.oneOf(Invoice.Status.self), "issuedAt": JSONSchema.dateTime,
                    "dueAt": JSONSchema.dateTime, "paidAt": JSONSchema.dateTime, "amountDue": JSONSchema.decimalString,
                    "payments": JSONSchema.array(JSONSchema.ref("Payment")),
                ],
                required: [
                    "id", "number", "sessionId", "lines", "subtotal", "tax", "total", "amountPaid", "currency",
                    "status", "issuedAt", "dueAt",
                ]),
            "PaymentRequest": JSONSchema.input(
                [
                    "amount": JSONSchema.decimalInput, "method": JSONSchema.string(1, 50), "reference": JSONSchema.string(0, 200),
                ], required: ["amount", "method"]),
        ]
    }

    private static var operationsSchemas: [String: DocumentValue] {
        let revenue = JSONSchema.stringMap
        return [
            "Alert": JSONSchema.object(
                [
                    "id": JSONSchema.string, "version": JSONSchema.integer, "kind": JSONSchema.oneOf(AlertKind.self),
                    "severity": JSONSchema.oneOf(AlertSeverity.self), "state": JSONSchema.oneOf(AlertState.self),
                    "conditionKey": JSONSchema.string, "stationId": JSONSchema.string, "connectorId": JSONSchema.integer,
                    "message": JSONSchema.string, "details": JSONSchema.stringMap, "raisedAt": JSONSchema.dateTime,
                    "acknowledgedAt": JSONSchema.dateTime, "resolvedAt": JSONSchema.dateTime, "updatedAt": JSONSchema.dateTime,
                ], required: ["id", "kind", "severity", "state", "message", "raisedAt"]),
            "Overview": JSONSchema.object(
                [
                    "stations": JSONSchema.integer, "online": JSONSchema.integer, "offline": JSONSchema.integer,
                    "connectorsByStatus": JSONSchema.integerMap, "activeSessions": JSONSchema.integer,
                    "today": JSONSchema.object(
                        [
                            "from": JSONSchema.dateTime, "to": JSONSchema.dateTime, "energyWh": JSONSchema.integer,
                            "sessions": JSONSchema.integer, "revenue": revenue,
                        ], required: ["from", "to", "energyWh", "sessions", "revenue"]),
                    "openAlerts": JSONSchema.integer,
                ],
                required: ["stations", "online", "offline", "connectorsByStatus", "activeSessions", "today", "openAlerts"]
            ),
            "Series": JSONSchema.object(
                [
                    "from": JSONSchema.dateTime, "to": JSONSchema.dateTime, "groupBy": JSONSchema.oneOf(Granularity.self),
                    "timeZone": JSONSchema.string, "stationId": JSONSchema.string, "siteId": JSONSchema.string,
                    "buckets": JSONSchema.array(
                        JSONSchema.object(
                            [
                                "start": JSONSchema.dateTime, "end": JSONSchema.dateTime, "sessions": JSONSchema.integer,
                                "energyWh": JSONSchema.integer, "revenue": revenue, "completed": JSONSchema.integer,
                                "averageDurationSeconds": JSONSchema.integer,
                            ], required: ["start", "end", "sessions"])),
                ], required: ["from", "to", "groupBy", "timeZone", "buckets"]),
            "ConnectorUtilization": JSONSchema.object(
                [
                    "stationId": JSONSchema.string, "connectorId": JSONSchema.integer,
                    "seconds": JSONSchema.integerMap,
                    "shares": ["type": "object", "additionalProperties": JSONSchema.number],
                ], required: ["stationId", "connectorId", "seconds", "shares"]),
            "StationMetrics": JSONSchema.object(
                [
                    "stationId": JSONSchema.string, "from": JSONSchema.dateTime, "to": JSONSchema.dateTime,
                    "energyWh": JSONSchema.integer, "revenue": revenue, "sessions": JSONSchema.integer,
                    "completedSessions": JSONSchema.integer, "averageDurationSeconds": JSONSchema.integer,
                    "uptimeShare": JSONSchema.number(0, 1),
                ],
                required: [
                    "stationId", "from", "to", "energyWh", "revenue", "sessions", "completedSessions",
                    "averageDurationSeconds", "uptimeShare",
                ]),
            "ChargingStartRequest": JSONSchema.input(
                ["stationId": JSONSchema.string, "connectorId": JSONSchema.integer(1, 100)],
                required: ["stationId", "connectorId"]),
        ]
    }
}
