// swift-tools-version:6.2
import PackageDescription

// Shared settings for every target of ours (swift-log's habit): Swift 6 language mode,
// strict concurrency, explicit `any`.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "emnify-edge",
    products: [
        .executable(name: "emnify-edge", targets: ["emnify-edge"]),
        .executable(name: "emnify-edge-relay", targets: ["emnify-edge-relay"]),
        .executable(name: "emnify-emulator", targets: ["emnify-emulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // The daemon's session as services with graceful shutdown (swift-log's and NIO's ecosystem).
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The emulator only: it is not shipped on gateways, so its weight does not count.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // C at the edge: the two system libraries; CCurl's header carries the typed setopt/getinfo shim.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"])]
        ),

        // Shared vocabulary: ICCID forms, durations, backoff, atomic files, and the blocking executor (threads
        // off the cooperative pool for every blocking call). No I/O beyond files.
        .target(name: "EdgeCommon"),
        // The one process launcher (demo, diagnose, modem tools, tests): fork on a long-lived thread,
        // signals reset, no inherited descriptors, PR_SET_PDEATHSIG. CEdgeSpawn is its C half.
        .target(name: "CEdgeSpawn"),
        .target(name: "EdgeProcess", dependencies: ["CEdgeSpawn", "EdgeCommon"]),
        .target(
            name: "EdgeConfig",
            dependencies: ["EdgeCommon", .product(name: "TOMLKit", package: "TOMLKit")]
        ),
        .target(
            name: "EmnifyAPI",
            dependencies: ["CCurl", "EdgeCommon", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "ModemIdentity",
            dependencies: [
                "EdgeCommon", "EdgeProcess", .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        .target(
            name: "EdgeAgent",
            dependencies: ["EmnifyAPI", "EdgeCommon", .product(name: "Logging", package: "swift-log")]
        ),
        // A safe Swift wrapper of libmosquitto: connection, publish with PUBACK, subscribe, will, MQTT 5.
        .target(
            name: "EdgeMQTT",
            dependencies: ["CMosquitto", "EdgeCommon", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "EdgeReports", dependencies: ["EmnifyAPI", "ModemIdentity", "EdgeCommon"]),
        // What every long-running role and command is made of: the configuration mapped onto the parts
        // (API client, broker settings, modem reader, agent settings), the publisher adapter, signals,
        // systemd notification, and the daemon's session as services on swift-service-lifecycle.
        .target(
            name: "EdgeRuntime",
            dependencies: [
                "EdgeAgent", "EdgeCommon", "EdgeConfig", "EdgeMQTT", "EmnifyAPI", "ModemIdentity",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The fleet relay: the Data Streamer's webhook (Hummingbird), org-wide polling, and per-SIM
        // publishing onto an MQTT cluster. Not linked into the gateway's agent (its own executable).
        .target(
            name: "EdgeRelay",
            dependencies: [
                "EdgeAgent", "EdgeCommon", "EdgeConfig", "EdgeMQTT", "EdgeRuntime", "EmnifyAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // `emnify-edge diagnose`: the field checks, the closed-loop reset and the support bundle.
        .target(
            name: "EdgeDiagnostics",
            dependencies: [
                "EdgeCommon", "EdgeConfig", "EdgeProcess", "EmnifyAPI", "ModemIdentity", "EdgeMQTT", "EdgeAgent",
                "EdgeReports", "EdgeRuntime",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The commands only (swift-argument-parser); everything they run lives in the libraries above.
        .executableTarget(
            name: "emnify-edge",
            dependencies: [
                "EdgeConfig", "EmnifyAPI", "ModemIdentity", "EdgeReports", "EdgeCommon", "EdgeAgent", "EdgeMQTT",
                "EdgeDiagnostics", "EdgeRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The bridge template (a link to firmware-config/mosquitto/emnify-bridge.conf.in) compiled in as
            // bytes: bridge-config needs no installed file, and no Foundation Bundle to find one.
            resources: [.embedInCode("Resources/emnify-bridge.conf.in")],
            // GnuTLSImplicitInit.swift: GnuTLS's constructor looks this up in the dynamic symbol table.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--export-dynamic-symbol=_gnutls_global_init_skip"])]
        ),
        // `emnify-edge relay` execs this: the relay's HTTP server and TLS stack stay out of the agent's binary.
        .executableTarget(
            name: "emnify-edge-relay",
            dependencies: [
                "EdgeRelay", "EdgeConfig", "EdgeRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),

        // The emulator's gzip (not shipped: the agent's libcurl brings its own zlib).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "EmnifyEmulator",
            dependencies: [
                // EmnifyAPI: its libcurl transport delivers the Data Streamer stand-in's webhooks.
                "EdgeCommon", "CZlib", "EmnifyAPI",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                // `serve --http2`: HTTP/2 over TLS, ALPN offering h2 and http/1.1 (brings swift-nio-http2).
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "emnify-emulator",
            dependencies: [
                "EmnifyEmulator", "EdgeProcess", "EdgeCommon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),

        // The fuzz harnesses (`bash Tests/Fuzz/run`): a replay driver in the normal build, a libFuzzer
        // entry point when built with `--sanitize=fuzzer -Xswiftc -DEDGE_FUZZ_LIBFUZZER`. Not a product.
        .executableTarget(
            name: "edge-fuzz",
            dependencies: ["EdgeCommon", "EdgeConfig", "EmnifyAPI", "ModemIdentity"]
        ),

        // Test helpers: start the emulator, find the built binaries, temporary directories.
        .target(
            name: "TestSupport",
            dependencies: ["EmnifyEmulator", "EdgeCommon", "EdgeProcess"],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "EdgeCommonTests", dependencies: ["EdgeCommon"]),
        .testTarget(name: "EdgeConfigTests", dependencies: ["EdgeConfig", "TestSupport"]),
        .testTarget(
            name: "EmnifyAPITests", dependencies: ["EmnifyAPI", "TestSupport", "EmnifyEmulator"], exclude: ["Fixtures"]
        ),
        // In-memory API, identity and clock for the unit tests of the pipeline and of the session.
        .target(
            name: "AgentTestSupport", dependencies: ["EdgeAgent", "EdgeCommon", "EmnifyAPI"],
            path: "Tests/AgentTestSupport"
        ),
        .testTarget(name: "EdgeAgentTests", dependencies: ["EdgeAgent", "AgentTestSupport", "TestSupport"]),
        .testTarget(
            name: "EdgeRuntimeTests",
            dependencies: ["EdgeRuntime", "EdgeAgent", "EdgeMQTT", "EdgeCommon", "EmnifyAPI", "AgentTestSupport"]
        ),
        .testTarget(
            name: "ModemIdentityTests",
            dependencies: ["ModemIdentity", "EdgeReports", "EdgeCommon", "TestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "EdgeRelayTests",
            dependencies: [
                "EdgeRelay", "EdgeAgent", "EdgeMQTT", "EdgeCommon", "EmnifyAPI", "TestSupport",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "EdgeReportsTests", dependencies: ["EdgeReports", "EmnifyAPI"]),
        // Hummingbird: the small webhook receiver that the Data Streamer stand-in delivers to.
        .testTarget(
            name: "EmulatorTests",
            dependencies: [
                "EmnifyEmulator", "TestSupport", "EdgeCommon", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "EdgeMQTTTests", dependencies: ["EdgeMQTT", "EdgeCommon", "EdgeProcess", "TestSupport"]),
        .testTarget(name: "EdgeProcessTests", dependencies: ["EdgeProcess", "EdgeCommon", "TestSupport"]),
        .testTarget(
            name: "AgentIntegrationTests",
            dependencies: ["TestSupport", "EmnifyEmulator", "EmnifyAPI", "EdgeMQTT", "EdgeProcess", "EdgeCommon"]
        ),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "EmnifyEmulator"], exclude: ["Golden"]),
        .testTarget(
            name: "EdgeDiagnosticsTests",
            dependencies: ["EdgeDiagnostics", "EdgeAgent", "TestSupport", "EmnifyEmulator"]
        ),
        // firmware-config and packaging/: mosquitto snippet, udev rules, systemd unit, man page.
        .testTarget(name: "PackagingTests", dependencies: ["EdgeConfig", "EdgeProcess"]),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + swiftSettings
}
