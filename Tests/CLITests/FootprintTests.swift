import Foundation
import Testing
import TestSupport

/// What the process costs just by starting.
@Suite struct FootprintTests {
    /// Debian's libcurl loads GnuTLS, which would initialise itself at load time (about 0.6 MB
    /// resident) although emnify-edge never uses it; the binary opts out. GnuTLS logs its
    /// initialisation when GNUTLS_DEBUG_LEVEL is set: curl, on the same libcurl, shows that it does.
    @Test func gnuTLSIsLoadedButNotInitialised() async throws {
        let debug = ["GNUTLS_DEBUG_LEVEL": "3"]
        let control = try await ChildProcess.run(
            "/usr/bin/curl", ["--version"], environment: debug, timeout: .seconds(30))
        #expect(control.standardError.contains("gnutls["), "curl's libcurl initialises GnuTLS (the control)")
        let edge = try await EdgeCLI.run(["--version"], environment: debug)
        #expect(edge.exitCode == 0)
        #expect(!edge.standardError.contains("gnutls["), "emnify-edge: \(edge.standardError)")
    }
}
