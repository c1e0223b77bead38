extension OpenAPIDocument {
    /// Every route of the REST API, as `buildRouter` registers it.
    static var operations: [Operation] {
        systemOperations + accountOperations + stationOperations + siteOperations + reservationOperations + driverOperations
            + billingOperations + operatorOperations + auditOperations
    }

    private static let idempotencyKey: DocumentValue = [
        "name": "Idempotency-Key", "in": "header", "required": false,
        "description": "Replays the first response to the same key and body for 24 h.",
        "schema": ["type": "string", "pattern": "^[!-~]{1,255}$"],
    ]
    private static let from = JSONSchema.query("from", JSONSchema.dateTime)
    private static let to = JSONSchema.query("to", JSONSchema.dateTime)

    private static var systemOperations: [Operation] {
        [
            Operation(
                method: "GET", path: "/health", tag: "System", summary: "Liveness",
                responses: [200: .json(JSONSchema.object(["status": JSONSchema.oneOf(["ok"])], required: ["status"]))]),
            Operation(
                method: "GET", path: "/health/ready", tag: "System", summary: "Readiness: every health check",
                responses: [200: .json(JSONSchema.ref("HealthReport")), 503: .json(JSONSchema.ref("HealthReport"))]),
            Operation(
                method: "GET", path: "/metrics", tag: "System", summary: "Prometheus metrics",
                responses: [200: .text(contentType: "text/plain")]),
            Operation(
                method: "GET", path: "/openapi.json", tag: "System", summary: "This document",
                responses: [200: .json(JSONSchema.anyObject)]),
        ]
    }

    private static var accountOperations: [Operation] {
        let service = JSONSchema.ref("Service")
        let user = JSONSchema.ref("User")
        return [
            Operation(
                method: "GET", path: "/api/v1/services", tag: "Registry", summary: "List services",
                responses: [200: .json(JSONSchema.list(service))]),
            Operation(
                method: "GET", path: "/api/v1/services/{name}", tag: "Registry", summary: "Get a service",
                responses: [200: .json(service)]),
            Operation(
                method: "POST", path: "/api/v1/services", tag: "Registry",
                summary: "Register an external service (or renew its registration)",
                body: JSONSchema.ref("RegisterServiceRequest"), responses: [200: .json(service), 201: .json(service)],
                failures: [409]),
            Operation(
                method: "PUT", path: "/api/v1/services/{name}/heartbeat", tag: "Registry",
                summary: "Heartbeat an external service", responses: [200: .json(service)],
                failures: [409]),
            Operation(
                method: "DELETE", path: "/api/v1/services/{name}", tag: "Registry",
                summary: "Deregister an external service", responses: [204: .empty],
                failures: [409]),
            Operation(
                method: "GET", path: "/api/v1/services/{name}/discover", tag: "Registry",
                summary: "Find a healthy instance", responses: [200: .json(JSONSchema.ref("Discovery"))]),
            Operation(
                method: "POST", path: "/api/v1/auth/register", tag: "Auth", summary: "Create a driver account",
                body: JSONSchema.ref("RegisterRequest"), responses: [201: .json(user)],
                failures: [409, 429]),
            Operation(
                method: "POST", path: "/api/v1/auth/login", tag: "Auth", summary: "Log in",
                body: JSONSchema.ref("LoginRequest"), responses: [200: .json(JSONSchema.ref("TokenPair"))],
                failures: [401, 429]),
            Operation(
                method: "POST", path: "/api/v1/auth/refresh", tag: "Auth", summary: "Exchange a refresh token",
                body: JSONSchema.ref("RefreshRequest"), responses: [200: .json(JSONSchema.ref("TokenPair"))],
                failures: [401, 429]),
            Operation(
                method: "POST", path: "/api/v1/auth/logout", tag: "Auth", summary: "Revoke a refresh token",
                body: JSONSchema.ref("RefreshRequest"), responses: [204: .empty]),
            Operation(
                method: "POST", path: "/api/v1/auth/logout-all", tag: "Auth", summary: "End every session of the caller",
                responses: [204: .empty]),
            Operation(
                method: "GET", path: "/api/v1/auth/me", tag: "Auth", summary: "The caller's account",
                responses: [200: .json(user)]),
            Operation(
                method: "GET", path: "/api/v1/users", tag: "Users", summary: "List accounts",
                query: [JSONSchema.query("role", JSONSchema.oneOf(Role.self)), JSONSchema.query("status", JSONSchema.oneOf(UserStatus.self))]
                    + JSONSchema.paging,
                responses: [200: .json(JSONSchema.list(user))]),
            Operation(
                method: "POST", path: "/api/v1/users", tag: "Users", summary: "Create an account",
                body: JSONSchema.ref("CreateUserRequest"), responses: [201: .json(user)], failures: [409]),
            Operation(
                method: "GET", path: "/api/v1/users/{id}", tag: "Users", summary: "Get an account",
                responses: [200: .json(user)]),
            Operation(
                method: "PATCH", path: "/api/v1/users/{id}", tag: "Users",
                summary: "Change an account (role, status, password end its sessions)",
                body: JSONSchema.ref("PatchUserRequest"), responses: [200: .json(user)], failures: [409]),
            Operation(
                method: "DELETE", path: "/api/v1/users/{id}", tag: "Users", summary: "Delete an account",
                responses: [204: .empty], failures: [409]),
        ]
    }

    private static var stationOperations: [Operation] {
        let station = JSONSchema.ref("Station")
        let connectorType = JSONSchema.oneOf(ConnectorType.self)
        return [
            Operation(
                method: "GET", path: "/api/v1/stations", tag: "Stations", summary: "Search stations",
                query: [
                    JSONSchema.query("status", JSONSchema.oneOf(StationStatus.self)),
                    JSONSchema.query("online", JSONSchema.trueOrFalse),
                    JSONSchema.query("connectorType", connectorType),
                    JSONSchema.query("minPowerKw", ["type": "number", "minimum": 0]),
                    JSONSchema.query("available", JSONSchema.trueOrFalse),
                    JSONSchema.query("q", JSONSchema.string, "Text in the id, name or address."),
                    JSONSchema.query("siteId", JSONSchema.string, "Only the stations of this site."),
                    JSONSchema.query(
                        "near", JSONSchema.string(pattern: "^-?[0-9.]+,-?[0-9.]+$"),
                        "'latitude,longitude'; results carry distanceKm and are nearest first."),
                    JSONSchema.query("radiusKm", JSONSchema.number(exclusiveMinimum: 0, maximum: 20_000), "With near; default 10."),
                ] + JSONSchema.paging,
                responses: [200: .json(JSONSchema.list(station))]),
            Operation(
                method: "POST", path: "/api/v1/stations/{id}/local-list", tag: "Stations",
                summary: "Send the local authorization list: full, or what changed since the charger's confirmed version",
                body: JSONSchema.ref("SendLocalListRequest"), responses: [200: .json(JSONSchema.ref("LocalListOutcome"))],
                failures: [409, 502, 504]),
            Operation(
                method: "POST", path: "/api/v1/stations/{id}/charging-profiles", tag: "Smart charging",
                summary: "Set a charging profile (SetChargingProfile), checked against OCPP's rules first",
                body: JSONSchema.ref("SetChargingProfileRequest"), responses: [201: .json(JSONSchema.ref("ChargingProfile"))],
                failures: [409, 502, 503, 504]),
            Operation(
                method: "GET", path: "/api/v1/stations/{id}/charging-profiles", tag: "Smart charging",
                summary: "The station's charging profiles, newest first",
                query: [JSONSchema.query("status", JSONSchema.oneOf(ChargingProfileStatus.self))],
                responses: [200: .json(JSONSchema.items(JSONSchema.ref("ChargingProfile")))]),
            Operation(
                method: "DELETE", path: "/api/v1/stations/{id}/charging-profiles", tag: "Smart charging",
                summary: "Clear charging profiles (ClearChargingProfile): by id, or by connector, purpose and stack level",
                query: [
                    JSONSchema.query("id", JSONSchema.integer(0, Int(Int32.max))), JSONSchema.query("connectorId", JSONSchema.integer(0, 100)),
                    JSONSchema.query("purpose", JSONSchema.oneOf(["ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"])),
                    JSONSchema.query("stackLevel", JSONSchema.integer(0, 1000)),
                ],
                responses: [
                    200: .json(
                        JSONSchema.object(
                            ["status": JSONSchema.string, "cleared": JSONSchema.array(JSONSchema.ref("ChargingProfile"))],
                            required: ["status", "cleared"]))
                ], failures: [409, 502, 503, 504]),
            Operation(
                method: "GET", path: "/api/v1/stations/{id}/composite-schedule", tag: "Smart charging",
                summary: "The charger's composite schedule for a connector (GetCompositeSchedule)",
                query: [
                    JSONSchema.query("connectorId", JSONSchema.integer(0, 100), required: true),
                    JSONSchema.query("duration", JSONSchema.integer(1, 604_800), "Seconds.", required: true),
                    JSONSchema.query("unit", JSONSchema.oneOf(["A", "W"])),
                ],
                responses: [200: .json(JSONSchema.anyObject)], failures: [409, 502, 503, 504]),
            Operation(
                method: "POST", path: "/api/v1/stations/{id}/credentials/rotate", tag: "Stations",
                summary: "Send the charger a new random AuthorizationKey; the stored password switches only if it accepts",
                responses: [
                    200: .json(JSONSchema.object(["status": JSONSchema.string, "rotated": JSONSchema.boolean], required: ["status", "rotated"]))
                ], failures: [409, 502, 503, 504]),
            Operation(
                method: "POST", path: "/api/v1/stations/{id}/firmware", tag: "Firmware and diagnostics",
                summary: "Update the firmware (UpdateFirmware); the job follows FirmwareStatusNotification",
                body: JSONSchema.ref("FirmwareRequest"), responses: [201: .json(JSONSchema.ref("StationJob"))],
                failures: [409, 502, 503, 504]),
            Operation(
                method: "POST", path: "/api/v1/stations/{id}/signed-firmware", tag: "Firmware and diagnostics",
                summary: "Update the firmware with a signed image (SignedUpdateFirmware)",
                body: JSONSchema.ref("SignedFirmwareRequest"), responses: [201: .json(JSONSchema.ref("StationJob"))],
                failures: [409, 502, 503, 504]),
            Operation(
                method: "POST", path: "/api/v1/stations/{id}/diagnostics", tag: "Firmware and diagnostics",
                summary: "Ask for diagnostics (GetDiagnostics), uploaded to this server's single-use upload URL",
                body: JSONSchema.ref("DiagnosticsRequest"), responses: [201: .json(JSONSchema.ref("StationJob"))],
                failures: [409, 502, 503, 504]),
            Operation(
                method: "POST", path: "/api/v1/stations/{id}/logs", tag: "Firmware and diagnostics",
                summary: "Ask for a diagnostics or security log (GetLog), uploaded to this server",
                body: JSONSchema.ref("LogRequest"), responses: [201: .json(JSONSchema.ref("StationJob"))],
                failures: [409, 502, 503, 504]),
            Operation(
                method: "GET", path: "/api/v1/stations/{id}/jobs", tag: "Firmware and diagnostics",
                summary: "The station's firmware, diagnostics and log jobs, newest first",
                query: [JSONSchema.query("kind", JSONSchema.oneOf(StationJobKind.self))],
                responses: [200: .json(JSONSchema.items(JSONSchema.ref("StationJob")))]),
            Operation(
                method: "GET", path: "/api/v1/stations/{id}/jobs/{jobId}", tag: "Firmware and diagnostics",
                summary: "One job with its status history", responses: [200: .json(JSONSchema.ref("StationJob"))]),
            Operation(
                method: "GET", path: "/api/v1/stations/{id}/jobs/{jobId}/file", tag: "Firmware and diagnostics",
                summary: "The file the charger uploaded", responses: [200: .text(contentType: "application/octet-stream")]),
            Operation(
                method: "GET", path: "/api/v1/stations/{id}/security-events", tag: "Firmware and diagnostics",
                summary: "SecurityEventNotifications, newest first",
                query: [JSONSchema.query("limit", JSONSchema.integer(1, 1000), "Default 100.")],
                responses: [200: .json(JSONSchema.items(JSONSchema.ref("SecurityEvent")))]),
            Operation(
                method: "GET", path: "/api/v1/stations/{id}/certificates", tag: "Security",
                summary: "Certificates our CA issued to the charger or installed on it, and what it reported installed",
                responses: [200: .json(JSONSchema.ref("StationCertificates"))]),
            Operation(
                method: "POST", path: "/api/v1/stations/{id}/certificates", tag: "Security",
                summary: "Install a root certificate on the charger (InstallCertificate)",
                body: JSONSchema.ref("InstallCertificateRequest"),
                responses: [200: .json(JSONSchema.object(["status": JSONSchema.string], required: ["status"]))],
                failures: [409, 502, 503, 504]),
            Operation(
                method: "POST", path: "/api/v1/stations/{id}/certificates/installed-ids", tag: "Security",
                summary: "Ask the charger which certificates it holds (GetInstalledCertificateIds); kept",
                body: JSONSchema.object(
                    ["certificateType": JSONSchema.oneOf(["CentralSystemRootCertificate", "ManufacturerRootCertificate"])],
                    required: ["certificateType"]),
                responses: [200: .json(JSONSchema.anyObject)], failures: [409, 502, 503, 504]),
            Operation(
                method: "POST", path: "/api/v1/stations/{id}/certificates/delete", tag: "Security",
                summary: "Delete a certificate from the charger (DeleteCertificate) by its hash data",
                body: JSONSchema.object(["certificateHashData": JSONSchema.anyObject], required: ["certificateHashData"]),
                responses: [200: .json(JSONSchema.object(["status": JSONSchema.string], required: ["status"]))],
                failures: [409, 502, 503, 504]),
            Operation(
                method: "GET", path: "/api/v1/certificate-authority", tag: "Security",
                summary: "Our CA's certificate (PEM): what chargers of security profile 3 chain to",
                responses: [200: .text(contentType: "application/x-pem-file")]),
            Operation(
                method: "PUT", path: "/api/v1/uploads/{token}", tag: "Firmware and diagnostics",
                summary: "A charger uploads its diagnostics or log file (the raw body) to the URL it was given; once",
                responses: [201: .empty], failures: [413]),
            Operation(
                method: "POST", path: "/api/v1/uploads/{token}", tag: "Firmware and diagnostics",
                summary: "The same upload by POST", responses: [201: .empty], failures: [413]),
            Operation(
                method: "GET", path: "/api/v1/stations/{id}/local-list", tag: "Stations",
                summary: "The local list's versions (ours, confirmed, the charger's) and whether an update is due",
                responses: [200: .json(JSONSchema.ref("LocalListOutcome"))]),
            Operation(
                method: "GET", path: "/api/v1/stations/availability", tag: "Stations",
                summary: "Counts of stations and connectors by status",
                responses: [200: .json(JSONSchema.ref("Availability"))]),
            Operation(
                method: "GET", path: "/api/v1/stations/{id}", tag: "Stations", summary: "Get a station",
                responses: [200: .json(station)]),
            Operation(
                method: "POST", path: "/api/v1/stations", tag: "Stations", summary: "Create a station",
                body: JSONSchema.ref("CreateStationRequest"), responses: [201: .json(station)], failures: [409]),
            Operation(
                method: "PATCH", path: "/api/v1/stations/{id}", tag: "Stations", summary: "Change a station",
                body: JSONSchema.ref("PatchStationRequest"), responses: [200: .json(station)],
                failures: [409]),
            Operation(
                method: "DELETE", path: "/api/v1/stations/{id}", tag: "Stations",
                summary: "Decommission a station (purge=true deletes it)",
                query: [JSONSchema.query("purge", JSONSchema.string, "true deletes the station; anything else decommissions it.")],
                responses: [200: .json(station), 204: .empty], failures: [409]),
            Operation(
                method: "PUT", path: "/api/v1/stations/{id}/credentials", tag: "Stations",
                summary: "Set the charge point's Basic-auth password",
                body: JSONSchema.ref("CredentialsRequest"), responses: [204: .empty], failures: [409]),
            Operation(
                method: "DELETE", path: "/api/v1/stations/{id}/credentials", tag: "Stations",
                summary: "Remove the charge point's password", responses: [204: .empty],
                failures: [409]),
            Operation(
                method: "POST", path: "/api/v1/stations/{id}/connectors", tag: "Stations", summary: "Add a connector",
                body: JSONSchema.ref("ConnectorInput"), responses: [201: .json(station)], failures: [409]),
            Operation(
                method: "PATCH", path: "/api/v1/stations/{id}/connectors/{connectorId}", tag: "Stations",
                summary: "Change a connector", body: JSONSchema.ref("ConnectorPatchRequest"),
                responses: [200: .json(station)], failures: [409]),
            Operation(
                method: "DELETE", path: "/api/v1/stations/{id}/connectors/{connectorId}", tag: "Stations",
                summary: "Remove a connector", responses: [204: .empty], failures: [409]),
            Operation(
                method: "GET", path: "/api/v1/stations/{id}/status-history", tag: "Monitoring",
                summary: "Connector status changes",
                query: [from, to, JSONSchema.query("limit", JSONSchema.integer(1, 200), "Default 1000 when absent.")],
                responses: [200: .json(JSONSchema.items(JSONSchema.ref("StatusHistoryEntry")))]),
            Operation(
                method: "GET", path: "/api/v1/stations/{id}/metrics", tag: "Analytics",
                summary: "A station's energy, revenue, sessions and uptime in a window",
                query: [
                    JSONSchema.query("from", JSONSchema.dateTime, required: true), JSONSchema.query("to", JSONSchema.dateTime, required: true),
                ],
                responses: [200: .json(JSONSchema.ref("StationMetrics"))]),
            Operation(
                method: "POST", path: "/api/v1/stations/{id}/ocpp/{action}", tag: "OCPP",
                summary: "Send a raw OCPP 1.6 CALL (the body is its payload, checked against the action's schema)",
                body: JSONSchema.anyObject, bodyRequired: false,
                responses: [200: .json(JSONSchema.object(["response": JSONSchema.anyObject], required: ["response"]))],
                failures: [409, 502, 504]),
            Operation(
                method: "POST", path: "/api/v1/stations/{id}/commands/{command}", tag: "OCPP",
                summary:
                    "A typed command: remote-start, remote-stop, reset, unlock, change-availability, "
                    + "get-configuration, change-configuration, clear-cache, trigger-message, get-local-list-version",
                body: JSONSchema.anyObject, bodyRequired: false,
                responses: [200: .json(JSONSchema.anyObject)], failures: [409, 502, 504]),
            Operation(
                method: "GET", path: "/api/v1/stations/{id}/ocpp-log", tag: "OCPP",
                summary: "The station's recent OCPP messages",
                query: [JSONSchema.query("limit", JSONSchema.integer(1, 500), "Default 50.")],
                responses: [200: .json(JSONSchema.items(JSONSchema.ref("OCPPLogEntry")))]),
        ]
    }

    private static var driverOperations: [Operation] {
        let driver = JSONSchema.ref("Driver")
        let idTag = JSONSchema.ref("IdTag")
        return [
            Operation(
                method: "GET", path: "/api/v1/drivers", tag: "Drivers", summary: "Search drivers",
                query: [
                    JSONSchema.query("q", JSONSchema.string), JSONSchema.query("status", JSONSchema.oneOf(DriverStatus.self)),
                    JSONSchema.query("membership", JSONSchema.oneOf(Membership.self)),
                ] + JSONSchema.paging,
                responses: [200: .json(JSONSchema.list(driver))]),
            Operation(
                method: "POST", path: "/api/v1/drivers", tag: "Drivers", summary: "Create a driver",
                body: JSONSchema.ref("CreateDriverRequest"), responses: [201: .json(driver)], failures: [409]),
            Operation(
                method: "GET", path: "/api/v1/drivers/{id}", tag: "Drivers",
                summary: "Get a driver (a driver only their own)", responses: [200: .json(driver)]),
            Operation(
                method: "PATCH", path: "/api/v1/drivers/{id}", tag: "Drivers",
                summary: "Change a driver (a driver only their own name, phone and vehicles)",
                body: JSONSchema.ref("PatchDriverRequest"), responses: [200: .json(driver)], failures: [403, 409]),
            Operation(
                method: "DELETE", path: "/api/v1/drivers/{id}", tag: "Drivers", summary: "Delete a driver",
                responses: [204: .empty], failures: [409]),
            Operation(
                method: "GET", path: "/api/v1/drivers/{id}/id-tags", tag: "Drivers", summary: "A driver's id tags",
                query: JSONSchema.paging, responses: [200: .json(JSONSchema.list(idTag))]),
            Operation(
                method: "GET", path: "/api/v1/me/driver", tag: "Drivers",
                summary: "The caller's driver profile and id tags",
                responses: [200: .json(JSONSchema.ref("OwnDriverProfile"))], failures: [404]),
            Operation(
                method: "POST", path: "/api/v1/me/charging/start", tag: "Drivers",
                summary: "Start charging with the caller's app token",
                body: JSONSchema.ref("ChargingStartRequest"), responses: [200: .json(JSONSchema.anyObject)],
                failures: [404, 409, 502, 504]),
            Operation(
                method: "POST", path: "/api/v1/me/charging/{sessionId}/stop", tag: "Drivers",
                summary: "Stop one of the caller's sessions",
                responses: [200: .json(JSONSchema.anyObject)], failures: [409, 502, 504]),
            Operation(
                method: "PUT", path: "/api/v1/id-tags/{idTag}", tag: "Id tags", summary: "Create or replace an RFID tag",
                body: JSONSchema.ref("PutIdTagRequest"), responses: [200: .json(idTag), 201: .json(idTag)],
                failures: [409]),
            Operation(
                method: "GET", path: "/api/v1/id-tags/{idTag}", tag: "Id tags",
                summary: "Get an id tag (a driver only their own)", responses: [200: .json(idTag)]),
            Operation(
                method: "GET", path: "/api/v1/id-tags", tag: "Id tags", summary: "List id tags",
                query: [
                    JSONSchema.query("status", JSONSchema.oneOf(IdTagStatus.self)),
                    JSONSchema.query("kind", JSONSchema.oneOf(["rfid", "app"])), JSONSchema.query("driverId", JSONSchema.string),
                ] + JSONSchema.paging,
                responses: [200: .json(JSONSchema.list(idTag))]),
            Operation(
                method: "DELETE", path: "/api/v1/id-tags/{idTag}", tag: "Id tags", summary: "Delete an id tag",
                responses: [204: .empty], failures: [409]),
            Operation(
                method: "POST", path: "/api/v1/id-tags/{idTag}/authorize", tag: "Id tags",
                summary: "What Authorize would answer for this tag now",
                body: JSONSchema.ref("AuthorizeRequest"), bodyRequired: false,
                responses: [
                    200: .json(JSONSchema.object(["idTagInfo": JSONSchema.ref("IdTagInfo")], required: ["idTagInfo"]))
                ]),
        ]
    }

    private static var siteOperations: [Operation] {
        let site = JSONSchema.ref("Site")
        return [
            Operation(
                method: "GET", path: "/api/v1/sites", tag: "Sites", summary: "List sites",
                query: JSONSchema.paging, responses: [200: .json(JSONSchema.list(site))]),
            Operation(
                method: "GET", path: "/api/v1/sites/{id}", tag: "Sites", summary: "Get a site with its stations",
                responses: [200: .json(site)]),
            Operation(
                method: "POST", path: "/api/v1/sites", tag: "Sites", summary: "Create a site",
                body: JSONSchema.ref("CreateSiteRequest"), responses: [201: .json(site)]),
            Operation(
                method: "PATCH", path: "/api/v1/sites/{id}", tag: "Sites", summary: "Change a site",
                body: JSONSchema.ref("PatchSiteRequest"), responses: [200: .json(site)], failures: [409]),
            Operation(
                method: "GET", path: "/api/v1/sites/{id}/allocation", tag: "Sites",
                summary: "How load management shares the site's power now, and each charger's accepted limit",
                responses: [200: .json(JSONSchema.ref("SiteAllocation"))]),
            Operation(
                method: "DELETE", path: "/api/v1/sites/{id}", tag: "Sites", summary: "Delete a site no station belongs to",
                responses: [204: .empty], failures: [409]),
        ]
    }

    private static var reservationOperations: [Operation] {
        let reservation = JSONSchema.ref("Reservation")
        // What a call to the charger can meet: not connected or a clash (409), a CALLERROR or a
        // broken answer (502), no answer in time (504), a full command queue (503).
        let chargerFailures: Set<Int> = [404, 409, 502, 503, 504]
        return [
            Operation(
                method: "GET", path: "/api/v1/reservations", tag: "Reservations",
                summary: "List reservations, newest first (a driver only their own)",
                query: [
                    JSONSchema.query("stationId", JSONSchema.string), JSONSchema.query("driverId", JSONSchema.string),
                    JSONSchema.query("status", JSONSchema.oneOf(ReservationStatus.self)),
                ] + JSONSchema.paging,
                responses: [200: .json(JSONSchema.list(reservation))]),
            Operation(
                method: "GET", path: "/api/v1/reservations/{id}", tag: "Reservations", summary: "Get a reservation",
                responses: [200: .json(reservation)]),
            Operation(
                method: "POST", path: "/api/v1/reservations", tag: "Reservations",
                summary: "Reserve a connector for an id tag or a driver (ReserveNow)",
                body: JSONSchema.ref("CreateReservationRequest"), responses: [201: .json(reservation)],
                failures: chargerFailures),
            Operation(
                method: "DELETE", path: "/api/v1/reservations/{id}", tag: "Reservations",
                summary: "Cancel an open reservation (CancelReservation)", responses: [200: .json(reservation)],
                failures: chargerFailures),
            Operation(
                method: "POST", path: "/api/v1/me/reservations", tag: "Reservations",
                summary: "Reserve a connector for the caller's app token for a few minutes",
                body: JSONSchema.ref("DriverReservationRequest"), responses: [201: .json(reservation)],
                failures: chargerFailures),
        ]
    }

    private static var billingOperations: [Operation] {
        let tariff = JSONSchema.ref("Tariff")
        let session = JSONSchema.ref("Session")
        let invoice = JSONSchema.ref("Invoice")
        return [
            Operation(
                method: "GET", path: "/api/v1/tariffs", tag: "Tariffs", summary: "List tariffs",
                query: JSONSchema.paging, responses: [200: .json(JSONSchema.list(tariff))]),
            Operation(
                method: "GET", path: "/api/v1/tariffs/{id}", tag: "Tariffs", summary: "Get a tariff",
                responses: [200: .json(tariff)]),
            Operation(
                method: "POST", path: "/api/v1/tariffs", tag: "Tariffs", summary: "Create a tariff",
                body: JSONSchema.ref("CreateTariffRequest"), responses: [201: .json(tariff)], failures: [409]),
            Operation(
                method: "PATCH", path: "/api/v1/tariffs/{id}", tag: "Tariffs", summary: "Change a tariff",
                body: JSONSchema.ref("PatchTariffRequest"), responses: [200: .json(tariff)],
                failures: [409]),
            Operation(
                method: "DELETE", path: "/api/v1/tariffs/{id}", tag: "Tariffs",
                summary: "Delete a tariff no station uses", responses: [204: .empty], failures: [409]),
            Operation(
                method: "GET", path: "/api/v1/tariffs/{id}/quote", tag: "Tariffs",
                summary: "Price a charge under this tariff",
                query: [
                    JSONSchema.query("energyKwh", JSONSchema.string(pattern: "^[+]?[0-9]{1,6}(\\.[0-9]{1,6})?$"), required: true),
                    JSONSchema.query(
                        "durationMinutes", JSONSchema.string(pattern: "^[+]?[0-9]{1,5}(\\.[0-9]{1,6})?$"),
                        "Minutes ≥ 0.", required: true),
                    // Empty is "none": the dashboard's form sends its blank choice.
                    JSONSchema.query("membership", JSONSchema.oneOf(Membership.allCases.map(\.rawValue) + [""])),
                    JSONSchema.query("startAt", JSONSchema.dateTime, "Default now."),
                ],
                responses: [200: .json(JSONSchema.ref("CostBreakdown"))]),
            Operation(
                method: "GET", path: "/api/v1/sessions", tag: "Sessions",
                summary: "List sessions (a driver only their own)",
                query: [
                    JSONSchema.query("stationId", JSONSchema.string), JSONSchema.query("driverId", JSONSchema.string),
                    JSONSchema.query("status", JSONSchema.oneOf(SessionStatus.self)), from, to,
                ] + JSONSchema.paging,
                responses: [200: .json(JSONSchema.list(session))]),
            Operation(
                method: "GET", path: "/api/v1/sessions/export.csv", tag: "Sessions", summary: "Sessions as CSV",
                query: [from, to], responses: [200: .text(contentType: "text/csv")]),
            Operation(
                method: "GET", path: "/api/v1/sessions/{id}", tag: "Sessions",
                summary: "Get a session, with its cost so far while active",
                responses: [200: .json(session)]),
            Operation(
                method: "POST", path: "/api/v1/sessions", tag: "Sessions", summary: "Record a session by hand",
                headers: [idempotencyKey], body: JSONSchema.ref("StartSessionRequest"),
                responses: [200: .json(session), 201: .json(session)], failures: [404, 409]),
            Operation(
                method: "POST", path: "/api/v1/sessions/{id}/stop", tag: "Sessions", summary: "Stop a session by hand",
                headers: [idempotencyKey], body: JSONSchema.ref("StopSessionRequest"),
                responses: [200: .json(session)], failures: [409]),
            Operation(
                method: "GET", path: "/api/v1/invoices", tag: "Invoices",
                summary: "List invoices (a driver only their own)",
                query: [
                    JSONSchema.query("driverId", JSONSchema.string), JSONSchema.query("status", JSONSchema.oneOf(Invoice.Status.self)),
                    from, to,
                ] + JSONSchema.paging,
                responses: [200: .json(JSONSchema.list(invoice))]),
            Operation(
                method: "GET", path: "/api/v1/invoices/{id}", tag: "Invoices", summary: "Get an invoice",
                responses: [200: .json(invoice)]),
            Operation(
                method: "POST", path: "/api/v1/invoices/{id}/payments", tag: "Invoices", summary: "Record a payment",
                headers: [idempotencyKey], body: JSONSchema.ref("PaymentRequest"),
                responses: [201: .json(invoice)], failures: [409]),
            Operation(
                method: "POST", path: "/api/v1/invoices/{id}/void", tag: "Invoices", summary: "Void an unpaid invoice",
                responses: [200: .json(invoice)], failures: [409]),
        ]
    }

    private static var operatorOperations: [Operation] {
        let alert = JSONSchema.ref("Alert")
        let series = JSONSchema.ref("Series")
        let window: [DocumentValue] = [
            JSONSchema.query("from", JSONSchema.dateTime, required: true), JSONSchema.query("to", JSONSchema.dateTime, required: true),
        ]
        let seriesQuery =
            window + [
                JSONSchema.query("groupBy", JSONSchema.oneOf(Granularity.self), "Default day."),
                JSONSchema.query("tz", JSONSchema.ref("TimeZone"), "Default UTC."),
                JSONSchema.query("stationId", JSONSchema.string),
                JSONSchema.query("siteId", JSONSchema.string, "Only the stations of this site."),
            ]
        return [
            Operation(
                method: "GET", path: "/api/v1/alerts", tag: "Monitoring", summary: "List alerts",
                query: [
                    JSONSchema.query("state", JSONSchema.oneOf(AlertState.self)),
                    JSONSchema.query("severity", JSONSchema.oneOf(AlertSeverity.self)),
                    JSONSchema.query("stationId", JSONSchema.string),
                ] + JSONSchema.paging,
                responses: [200: .json(JSONSchema.list(alert))]),
            Operation(
                method: "POST", path: "/api/v1/alerts/{id}/acknowledge", tag: "Monitoring",
                summary: "Acknowledge an alert", responses: [200: .json(alert)], failures: [409]),
            Operation(
                method: "POST", path: "/api/v1/alerts/{id}/resolve", tag: "Monitoring", summary: "Resolve an alert",
                responses: [200: .json(alert)], failures: [409]),
            Operation(
                method: "GET", path: "/api/v1/events", tag: "Monitoring",
                summary: "Live events as server-sent events (Last-Event-ID resumes)",
                query: [JSONSchema.query("stationId", JSONSchema.string)],
                headers: [["name": "Last-Event-ID", "in": "header", "schema": ["type": "string", "pattern": "^[0-9]{1,18}$"]]],
                responses: [200: .text(contentType: "text/event-stream")]),
            Operation(
                method: "GET", path: "/api/v1/analytics/overview", tag: "Analytics",
                summary: "Stations, connectors, sessions, alerts and today's totals",
                query: [JSONSchema.query("tz", JSONSchema.ref("TimeZone"), "Default UTC.")],
                responses: [200: .json(JSONSchema.ref("Overview"))]),
            Operation(
                method: "GET", path: "/api/v1/analytics/energy", tag: "Analytics",
                summary: "Energy delivered per bucket", query: seriesQuery,
                responses: [200: .json(series)]),
            Operation(
                method: "GET", path: "/api/v1/analytics/revenue", tag: "Analytics",
                summary: "Revenue per bucket and currency", query: seriesQuery,
                responses: [200: .json(series)]),
            Operation(
                method: "GET", path: "/api/v1/analytics/sessions", tag: "Analytics",
                summary: "Sessions started per bucket", query: seriesQuery,
                responses: [200: .json(series)]),
            Operation(
                method: "GET", path: "/api/v1/analytics/utilization", tag: "Analytics",
                summary: "Share of time per connector status",
                query: window + [JSONSchema.query("stationId", JSONSchema.string), JSONSchema.query("siteId", JSONSchema.string)],
                responses: [200: .json(JSONSchema.items(JSONSchema.ref("ConnectorUtilization")))]),
        ]
    }
}
