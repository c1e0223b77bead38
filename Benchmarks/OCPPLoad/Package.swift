// swift-tools-version:6.1
import PackageDescription

// A load generator for the OCPP endpoint: many simulated charge points, each sending CALLs one at
// a time (as chargers do) and timing the answers. Its own package, so the server's build and
// tests do not carry it.
let package = Package(
    name: "ocpp-load",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "OCPPLoad",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        )
    ]
)
