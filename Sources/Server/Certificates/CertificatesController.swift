import Foundation
import Hummingbird
import OCPP

/// Staff: a station's certificates (`/api/v1/stations/{id}/certificates`), installing, listing
/// and deleting them on the charger, and our CA's certificate.
struct CertificatesController {
    let service: CertificateService
    let stations: StationRepository

    struct InstallRequest: Decodable, Sendable {
        var certificateType: String
        var certificate: String
    }

    struct ListRequest: Decodable, Sendable {
        var certificateType: String
    }

    struct DeleteRequest: Decodable, Sendable {
        var certificateHashData: JSONValue
    }

    struct Listing: Encodable, Sendable {
        var items: [StationCertificate]
        var installedIds: [InstalledCertificateID]
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/certificate-authority") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/x-pem-file"],
                body: .init(byteBuffer: .init(string: service.authority.certificatePEM)))
        }
        router.get("/api/v1/stations/{id}/certificates") { _, context in
            let id = try await requireStation(context)
            return try jsonResponse(
                Listing(items: try await service.repository.list(stationID: id), installedIds: try await service.repository.installedIDs(stationID: id)))
        }
        router.post("/api/v1/stations/{id}/certificates") { request, context in
            let id = try await requireStation(context)
            let body = try await request.decodeJSON(as: InstallRequest.self)
            var validator = Validator()
            let type = validator.parse(
                body.certificateType, as: OCPP16.CertificateUseEnumType.self, field: "certificateType")
            validator.text(body.certificate, "certificate", length: 1...5500)
            try validator.throwIfInvalid()
            let status = try await OCPPController.mapCallErrors(station: id, action: "InstallCertificate") {
                try await service.install(stationID: id, type: type!, pem: body.certificate)
            }
            return try jsonResponse(["status": status])
        }
        router.post("/api/v1/stations/{id}/certificates/installed-ids") { request, context in
            let id = try await requireStation(context)
            let body = try await request.decodeJSON(as: ListRequest.self)
            var validator = Validator()
            let type = validator.parse(
                body.certificateType, as: OCPP16.CertificateUseEnumType.self,
                field: "certificateType")
            try validator.throwIfInvalid()
            let answer = try await OCPPController.mapCallErrors(station: id, action: "GetInstalledCertificateIds") {
                try await service.installedIDs(stationID: id, type: type!)
            }
            return JSONReply(status: .ok, headers: [:], data: Data(JSONWriter.bytes(answer.json))).response
        }
        router.post("/api/v1/stations/{id}/certificates/delete") { request, context in
            let id = try await requireStation(context)
            let body = try await request.decodeJSON(as: DeleteRequest.self)
            let hashData: OCPP16.CertificateHashDataType
            do throws(OCPPValidationError) {
                hashData = try .init(json: body.certificateHashData)
            } catch {
                throw InvalidInput(field: "certificateHashData" + (error.path.isEmpty ? "" : "." + error.path), error.reason)
            }
            let status = try await OCPPController.mapCallErrors(station: id, action: "DeleteCertificate") {
                try await service.delete(stationID: id, hashData)
            }
            return try jsonResponse(["status": status])
        }
    }

    private func requireStation(_ context: AppRequestContext) async throws -> String {
        let id = try context.parameters.require("id")
        guard try await stations.station(id) != nil else { throw APIError.notFound("no station \(id)") }
        return id
    }
}
