// swift-tools-version:6.1
import PackageDescription

// The measuring instruments for the OCPP endpoint, in their own package so the server's build and
// tests do not carry them: `ocpp-load`, a generator of many simulated charge points (closed loop or
// idle), and `ocpp-echo`, a do-nothing central system that answers every CALL with a canned
// CALLRESULT — the ceiling the generator can drive, measured in the same run as the server.
let package = Package(
    name: "ocpp-load",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "ocpp-load", targets: ["OCPPLoad"]),
        .executable(name: "ocpp-echo", targets: ["OCPPEcho"]),
    ],
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
        ),
        .executableTarget(
            name: "OCPPEcho",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
    ]
)
