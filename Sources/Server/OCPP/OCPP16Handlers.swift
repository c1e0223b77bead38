import Foundation
import OCPP

/// OCPP 1.6's inbound actions: each decodes nothing itself (the registry hands it a validated
/// request) and maps between the 1.6 types and the version-neutral `ChargerActivity`.
enum OCPP16Handlers {
    static func registry(
        activity: ChargerActivity, dataTransfer: DataTransferRegistry, heartbeatInterval: Int,
        certificates: CertificateService? = nil
    ) -> OCPPHandlerRegistry {
        var registry = OCPPHandlerRegistry(subprotocol: OCPP16.subprotocol, actions: OCPP16.allActions)
        let now = activity.now

        registry.register(OCPP16.BootNotification.self) { request, call in
            let identity = ChargerIdentity(
                vendor: request.chargePointVendor, model: request.chargePointModel, serialNumber: request.chargePointSerialNumber,
                chargeBoxSerialNumber: request.chargeBoxSerialNumber, firmwareVersion: request.firmwareVersion,
                iccid: request.iccid, imsi: request.imsi, meterType: request.meterType, meterSerialNumber: request.meterSerialNumber)
            let (registration, at) = try await activity.booted(stationID: call.stationID, identity: identity)
            call.connection.registration = registration
            let status: OCPP16.BootNotification.Response.Status =
                switch registration {
                case .accepted: .accepted
                case .pending: .pending
                case .rejected: .rejected
                }
            return OCPP16.BootNotification.Response(status: status, currentTime: OCPPDateTime(at), interval: heartbeatInterval)
        }
        registry.register(OCPP16.Heartbeat.self) { _, _ in
            OCPP16.Heartbeat.Response(currentTime: OCPPDateTime(now()))
        }
        registry.register(OCPP16.Authorize.self) { request, _ in
            OCPP16.Authorize.Response(idTagInfo: try idTagInfo(try await activity.authorize(request.idTag)))
        }
        registry.register(OCPP16.StatusNotification.self) { request, call in
            try await activity.statusChanged(
                stationID: call.stationID, connectorID: request.connectorId, status: connectorStatus(request.status),
                errorCode: request.errorCode == .noError ? nil : request.errorCode.rawValue, info: request.info,
                vendorErrorCode: request.vendorErrorCode, reportedAt: request.timestamp?.date)
            return OCPP16.StatusNotification.Response()
        }
        registry.register(OCPP16.StartTransaction.self) { request, call in
            let (transactionID, info) = try await activity.transactionStarted(
                stationID: call.stationID, connectorID: request.connectorId, idTag: request.idTag,
                meterStartWh: request.meterStart, reportedAt: request.timestamp.date, reservationID: request.reservationId)
            return OCPP16.StartTransaction.Response(idTagInfo: try idTagInfo(info), transactionId: transactionID)
        }
        registry.register(OCPP16.MeterValues.self) { request, call in
            try await activity.meterValues(
                stationID: call.stationID, connectorID: request.connectorId, transactionID: request.transactionId,
                samples: request.meterValue.map(meterSample))
            return OCPP16.MeterValues.Response()
        }
        registry.register(OCPP16.StopTransaction.self) { request, call in
            // transactionData has MeterValues' meterValue shape, repeated inline by the 1.6 schemas.
            let samples = try (request.transactionData ?? []).map {
                meterSample(try OCPP16.MeterValues.Request.MeterValue(json: $0.json))
            }
            let info = try await activity.transactionStopped(
                stationID: call.stationID, transactionID: request.transactionId, meterStopWh: request.meterStop,
                reportedAt: request.timestamp.date, reason: request.reason?.rawValue, idTag: request.idTag, samples: samples)
            return OCPP16.StopTransaction.Response(idTagInfo: try info.map(idTagInfo))
        }
        registry.register(OCPP16.DataTransfer.self) { request, call in
            let (status, data) = try await dataTransfer.handle(
                stationID: call.stationID, vendorID: request.vendorId, messageID: request.messageId, data: request.data)
            return OCPP16.DataTransfer.Response(status: try convert(status), data: data)
        }
        registry.register(OCPP16.DiagnosticsStatusNotification.self) { request, call in
            try await activity.jobs.uploadStatus(stationID: call.stationID, request.status.rawValue, kind: .diagnostics)
            return OCPP16.DiagnosticsStatusNotification.Response()
        }
        registry.register(OCPP16.FirmwareStatusNotification.self) { request, call in
            try await activity.jobs.firmwareStatus(stationID: call.stationID, request.status.rawValue)
            return OCPP16.FirmwareStatusNotification.Response()
        }
        registry.register(OCPP16.SignedFirmwareStatusNotification.self) { request, call in
            try await activity.jobs.firmwareStatus(
                stationID: call.stationID, request.status.rawValue, requestID: request.requestId, signed: true)
            return OCPP16.SignedFirmwareStatusNotification.Response()
        }
        registry.register(OCPP16.LogStatusNotification.self) { request, call in
            try await activity.jobs.uploadStatus(
                stationID: call.stationID, request.status.rawValue, kind: .log, requestID: request.requestId)
            return OCPP16.LogStatusNotification.Response()
        }
        if let certificates {
            // Answered first; CertificateSigned follows once the charger has its answer.
            registry.register(OCPP16.SignCertificate.self) { request, call in
                let (accepted, followUp) = await certificates.signRequest(
                    stationID: call.stationID, csr: request.csr,
                    trusted: call.connection.authenticatedOverTLS && call.connection.registration == .accepted)
                return HandlerReply(.init(status: accepted ? .accepted : .rejected), afterReply: followUp)
            }
        }
        registry.register(OCPP16.SecurityEventNotification.self) { request, call in
            try await activity.jobs.securityEvent(
                stationID: call.stationID, type: request.type, occurredAt: request.timestamp.date, techInfo: request.techInfo)
            return OCPP16.SecurityEventNotification.Response()
        }
        return registry
    }

    static func meterSample(_ value: OCPP16.MeterValues.Request.MeterValue) -> MeterSample {
        MeterSample(
            timestamp: value.timestamp.date,
            readings: value.sampledValue.map {
                SampledReading(
                    value: $0.value, measurand: $0.measurand?.rawValue, phase: $0.phase?.rawValue, unit: $0.unit?.rawValue,
                    context: $0.context?.rawValue, location: $0.location?.rawValue, format: $0.format?.rawValue)
            })
    }

    /// The domain's verdict on a tag in one of 1.6's (per-action, identical) IdTagInfo types.
    static func idTagInfo<Info: OCPP16IdTagInfo>(_ info: IdTagInfo) throws -> Info {
        Info(expiryDate: info.expiryDate.map(OCPPDateTime.init), parentIdTag: info.parentIdTag, status: try convert(info.status))
    }

    static func connectorStatus(_ status: OCPP16.StatusNotification.Request.Status) throws -> ConnectorStatus {
        try convert(status)
    }

    /// Between two enumerations spelled alike on the wire; a value one lacks is our bug.
    static func convert<From: RawRepresentable, To: RawRepresentable>(_ value: From) throws -> To
    where From.RawValue == String, To.RawValue == String {
        guard let converted = To(rawValue: value.rawValue) else { throw UnmappedValue(value: value.rawValue, type: "\(To.self)") }
        return converted
    }
}

/// A value with no counterpart in the other enumeration: a bug of ours, answered as InternalError.
struct UnmappedValue: Error, CustomStringConvertible {
    var value: String
    var type: String
    var description: String { "\(value) has no counterpart in \(type)" }
}

/// 1.6 repeats IdTagInfo inline in Authorize, StartTransaction and StopTransaction: one shape.
protocol OCPP16IdTagInfo {
    associatedtype Status: OCPPEnumeration
    init(expiryDate: OCPPDateTime?, parentIdTag: String?, status: Status)
}

extension OCPP16.Authorize.Response.IdTagInfo: OCPP16IdTagInfo {}
extension OCPP16.StartTransaction.Response.IdTagInfo: OCPP16IdTagInfo {}
extension OCPP16.StopTransaction.Response.IdTagInfo: OCPP16IdTagInfo {}
