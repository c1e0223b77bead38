/// The OCPP 1.6 JSON schemas (edition 2 with the 2019-12 errata) and the 1.6 security
/// whitepaper's, as `OCPPSchema` values: requests in both directions.
enum OCPPSchemas {
    static let idTag = OCPPSchema.ciString(20)
    static let connectorId = OCPPSchema.integer(minimum: 0)

    static let idTagInfo = OCPPSchema.object([
        optional("expiryDate", .dateTime), optional("parentIdTag", .ciString(20)),
        required("status", .oneOf("Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx")),
    ])

    static let measurands = OCPPSchema.enumeration([
        "Energy.Active.Export.Register", "Energy.Active.Import.Register", "Energy.Reactive.Export.Register",
        "Energy.Reactive.Import.Register", "Energy.Active.Export.Interval", "Energy.Active.Import.Interval",
        "Energy.Reactive.Export.Interval", "Energy.Reactive.Import.Interval", "Power.Active.Export",
        "Power.Active.Import", "Power.Offered", "Power.Reactive.Export", "Power.Reactive.Import", "Power.Factor",
        "Current.Import", "Current.Export", "Current.Offered", "Voltage", "Frequency", "Temperature", "SoC", "RPM",
    ])

    static let meterValue = OCPPSchema.object([
        required("timestamp", .dateTime),
        required(
            "sampledValue",
            .array(
                .object([
                    required("value", .string(maxLength: nil)),
                    optional(
                        "context",
                        .oneOf(
                            "Interruption.Begin", "Interruption.End", "Sample.Clock", "Sample.Periodic",
                            "Transaction.Begin", "Transaction.End", "Trigger", "Other")),
                    optional("format", .oneOf("Raw", "SignedData")),
                    optional("measurand", measurands),
                    optional("phase", .oneOf("L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1")),
                    optional("location", .oneOf("Cable", "EV", "Inlet", "Outlet", "Body")),
                    optional(
                        "unit",
                        .oneOf(
                            "Wh", "kWh", "varh", "kvarh", "W", "kW", "VA", "kVA", "var", "kvar", "A", "V", "K", "Celcius",
                            "Celsius", "Fahrenheit", "Percent")),
                ]), minItems: 1)),
    ])

    static let chargingProfilePurpose = OCPPSchema.oneOf("ChargePointMaxProfile", "TxDefaultProfile", "TxProfile")

    static let chargingProfile = OCPPSchema.object([
        required("chargingProfileId", .integer()), optional("transactionId", .integer()),
        required("stackLevel", .integer(minimum: 0)), required("chargingProfilePurpose", chargingProfilePurpose),
        required("chargingProfileKind", .oneOf("Absolute", "Recurring", "Relative")),
        optional("recurrencyKind", .oneOf("Daily", "Weekly")), optional("validFrom", .dateTime),
        optional("validTo", .dateTime),
        required(
            "chargingSchedule",
            .object([
                optional("duration", .integer()), optional("startSchedule", .dateTime),
                required("chargingRateUnit", .oneOf("A", "W")),
                required(
                    "chargingSchedulePeriod",
                    .array(
                        .object([
                            required("startPeriod", .integer(minimum: 0)), required("limit", .number(minimum: 0)),
                            optional("numberPhases", .integer(minimum: 1)),
                        ]), minItems: 1)),
                optional("minChargingRate", .number(minimum: 0)),
            ])),
    ])

    static let dataTransfer = OCPPSchema.object([
        required("vendorId", .ciString(255)), optional("messageId", .ciString(50)), optional("data", .string(maxLength: nil)),
    ])

    static let certificateHashData = OCPPSchema.object([
        required("hashAlgorithm", .oneOf("SHA256", "SHA384", "SHA512")), required("issuerNameHash", .ciString(128)),
        required("issuerKeyHash", .ciString(128)), required("serialNumber", .ciString(40)),
    ])

    /// Requests a charge point sends to us.
    static let chargePointRequests: [String: OCPPSchema] = [
        "Authorize": .object([required("idTag", idTag)]),
        "BootNotification": .object([
            required("chargePointVendor", .ciString(20)), required("chargePointModel", .ciString(20)),
            optional("chargePointSerialNumber", .ciString(25)), optional("chargeBoxSerialNumber", .ciString(25)),
            optional("firmwareVersion", .ciString(50)), optional("iccid", .ciString(20)), optional("imsi", .ciString(20)),
            optional("meterType", .ciString(25)), optional("meterSerialNumber", .ciString(25)),
        ]),
        "DataTransfer": dataTransfer,
        "DiagnosticsStatusNotification": .object([
            required("status", .oneOf("Idle", "Uploaded", "UploadFailed", "Uploading"))
        ]),
        "FirmwareStatusNotification": .object([
            required(
                "status",
                .oneOf("Downloaded", "DownloadFailed", "Downloading", "Idle", "InstallationFailed", "Installing", "Installed"))
        ]),
        "Heartbeat": .object([]),
        "MeterValues": .object([
            required("connectorId", connectorId), optional("transactionId", .integer()),
            required("meterValue", .array(meterValue, minItems: 1)),
        ]),
        "StartTransaction": .object([
            required("connectorId", .integer(minimum: 1)), required("idTag", idTag), required("meterStart", .integer()),
            optional("reservationId", .integer()), required("timestamp", .dateTime),
        ]),
        "StatusNotification": .object([
            required("connectorId", connectorId),
            required(
                "errorCode",
                .oneOf(
                    "ConnectorLockFailure", "EVCommunicationError", "GroundFailure", "HighTemperature", "InternalError",
                    "LocalListConflict", "NoError", "OtherError", "OverCurrentFailure", "PowerMeterFailure",
                    "PowerSwitchFailure", "ReaderFailure", "ResetFailure", "UnderVoltage", "OverVoltage", "WeakSignal")),
            optional("info", .ciString(50)),
            required(
                "status",
                .oneOf(
                    "Available", "Preparing", "Charging", "SuspendedEVSE", "SuspendedEV", "Finishing", "Reserved",
                    "Unavailable", "Faulted")),
            optional("timestamp", .dateTime), optional("vendorId", .ciString(255)), optional("vendorErrorCode", .ciString(50)),
        ]),
        "StopTransaction": .object([
            optional("idTag", idTag), required("meterStop", .integer()), required("timestamp", .dateTime),
            required("transactionId", .integer()),
            optional(
                "reason",
                .oneOf(
                    "EmergencyStop", "EVDisconnected", "HardReset", "Local", "Other", "PowerLoss", "Reboot", "Remote",
                    "SoftReset", "UnlockCommand", "DeAuthorized")),
            optional("transactionData", .array(meterValue)),
        ]),
        // Security whitepaper.
        "SecurityEventNotification": .object([
            required("type", .ciString(50)), required("timestamp", .dateTime), optional("techInfo", .ciString(255)),
        ]),
        "SignCertificate": .object([required("csr", .ciString(5500))]),
        "LogStatusNotification": .object([
            required(
                "status",
                .oneOf("BadMessage", "Idle", "NotSupportedOperation", "PermissionDenied", "Uploaded", "UploadFailure", "Uploading")),
            optional("requestId", .integer()),
        ]),
        "SignedFirmwareStatusNotification": .object([
            required(
                "status",
                .oneOf(
                    "Downloaded", "DownloadFailed", "Downloading", "DownloadScheduled", "DownloadPaused", "Idle",
                    "InstallationFailed", "Installing", "Installed", "InstallRebooting", "InstallScheduled",
                    "InstallVerificationFailed", "InvalidSignature", "SignatureVerified")),
            optional("requestId", .integer()),
        ]),
    ]

    /// Requests we send to a charge point (the passthrough validates against these).
    static let centralSystemRequests: [String: OCPPSchema] = [
        "CancelReservation": .object([required("reservationId", .integer())]),
        "ChangeAvailability": .object([required("connectorId", connectorId), required("type", .oneOf("Inoperative", "Operative"))]),
        "ChangeConfiguration": .object([required("key", .ciString(50)), required("value", .ciString(500))]),
        "ClearCache": .object([]),
        "ClearChargingProfile": .object([
            optional("id", .integer()), optional("connectorId", connectorId),
            optional("chargingProfilePurpose", chargingProfilePurpose), optional("stackLevel", .integer(minimum: 0)),
        ]),
        "DataTransfer": dataTransfer,
        "GetCompositeSchedule": .object([
            required("connectorId", connectorId), required("duration", .integer(minimum: 0)),
            optional("chargingRateUnit", .oneOf("A", "W")),
        ]),
        "GetConfiguration": .object([optional("key", .array(.ciString(50)))]),
        "GetDiagnostics": .object([
            required("location", .string(maxLength: nil)), optional("retries", .integer(minimum: 0)),
            optional("retryInterval", .integer(minimum: 0)), optional("startTime", .dateTime), optional("stopTime", .dateTime),
        ]),
        "GetLocalListVersion": .object([]),
        "RemoteStartTransaction": .object([
            optional("connectorId", .integer(minimum: 1)), required("idTag", idTag), optional("chargingProfile", chargingProfile),
        ]),
        "RemoteStopTransaction": .object([required("transactionId", .integer())]),
        "ReserveNow": .object([
            required("connectorId", connectorId), required("expiryDate", .dateTime), required("idTag", idTag),
            optional("parentIdTag", idTag), required("reservationId", .integer()),
        ]),
        "Reset": .object([required("type", .oneOf("Hard", "Soft"))]),
        "SendLocalList": .object([
            required("listVersion", .integer()),
            optional("localAuthorizationList", .array(.object([required("idTag", idTag), optional("idTagInfo", idTagInfo)]))),
            required("updateType", .oneOf("Differential", "Full")),
        ]),
        "SetChargingProfile": .object([required("connectorId", connectorId), required("csChargingProfiles", chargingProfile)]),
        "TriggerMessage": .object([
            required(
                "requestedMessage",
                .oneOf(
                    "BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification", "Heartbeat",
                    "MeterValues", "StatusNotification")),
            optional("connectorId", .integer(minimum: 1)),
        ]),
        "UnlockConnector": .object([required("connectorId", .integer(minimum: 1))]),
        "UpdateFirmware": .object([
            required("location", .string(maxLength: nil)), optional("retries", .integer(minimum: 0)),
            required("retrieveDate", .dateTime), optional("retryInterval", .integer(minimum: 0)),
        ]),
        // Security whitepaper.
        "CertificateSigned": .object([required("certificateChain", .ciString(10_000))]),
        "DeleteCertificate": .object([required("certificateHashData", certificateHashData)]),
        "ExtendedTriggerMessage": .object([
            required(
                "requestedMessage",
                .oneOf(
                    "BootNotification", "LogStatusNotification", "FirmwareStatusNotification", "Heartbeat", "MeterValues",
                    "SignChargePointCertificate", "StatusNotification")),
            optional("connectorId", .integer(minimum: 1)),
        ]),
        "GetInstalledCertificateIds": .object([
            required("certificateType", .oneOf("CentralSystemRootCertificate", "ManufacturerRootCertificate"))
        ]),
        "GetLog": .object([
            required("logType", .oneOf("DiagnosticsLog", "SecurityLog")), required("requestId", .integer()),
            optional("retries", .integer(minimum: 0)), optional("retryInterval", .integer(minimum: 0)),
            required(
                "log",
                .object([
                    required("remoteLocation", .ciString(512)), optional("oldestTimestamp", .dateTime),
                    optional("latestTimestamp", .dateTime),
                ])),
        ]),
        "InstallCertificate": .object([
            required("certificateType", .oneOf("CentralSystemRootCertificate", "ManufacturerRootCertificate")),
            required("certificate", .ciString(5500)),
        ]),
        "SignedUpdateFirmware": .object([
            optional("retries", .integer(minimum: 0)), optional("retryInterval", .integer(minimum: 0)),
            required("requestId", .integer()),
            required(
                "firmware",
                .object([
                    required("location", .ciString(512)), required("retrieveDateTime", .dateTime),
                    optional("installDateTime", .dateTime), required("signingCertificate", .ciString(5500)),
                    required("signature", .ciString(800)),
                ])),
        ]),
    ]
}
