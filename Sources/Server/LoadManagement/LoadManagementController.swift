import Hummingbird

/// `GET /api/v1/sites/{id}/allocation`: how the site's power is shared now, and what each
/// charger last accepted.
struct LoadManagementController {
    let repository: LoadAllocationRepository

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/sites/{id}/allocation") { _, context in
            try jsonResponse(try await repository.siteAllocation(try context.parameters.require("id")))
        }
    }
}
