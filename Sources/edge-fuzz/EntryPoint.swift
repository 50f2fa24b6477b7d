#if canImport(Glibc)
    import Glibc
#endif

/// Standard error without the C `stderr` global (not concurrency-safe in Swift 6).
func writeError(_ text: String) {
    var text = text
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

#if EDGE_FUZZ_LIBFUZZER
    // The libFuzzer build (`bash Tests/Fuzz/run`): libFuzzer owns `main`; EDGE_FUZZ_TARGET names the
    // harness.
    nonisolated(unsafe) private var selected: FuzzTarget?

    @_cdecl("LLVMFuzzerInitialize")
    public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutableRawPointer) -> CInt {
        let name = getenv("EDGE_FUZZ_TARGET").map { String(cString: $0) } ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            writeError("edge-fuzz: set EDGE_FUZZ_TARGET to one of: \(names)\n")
            exit(2)
        }
        selected = target
        return 0
    }

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        selected?.run(bytes)
        return 0
    }
#else
    /// The replay driver (the normal build): `edge-fuzz TARGET FILE…` runs the harness on each file,
    /// so a crash libFuzzer found can be re-run and debugged without the fuzzer build.
    @main
    enum ReplayDriver {
        static func main() {
            let arguments = CommandLine.arguments.dropFirst()
            guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
                let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
                writeError("usage: edge-fuzz \(names) FILE...\n")
                exit(2)
            }
            for path in arguments.dropFirst() {
                guard let bytes = readFile(path) else {
                    writeError("edge-fuzz: cannot read \(path)\n")
                    exit(1)
                }
                target.run(bytes)
                print("\(target.rawValue): \(path): ok")
            }
        }

        static func readFile(_ path: String) -> [UInt8]? {
            guard let file = fopen(path, "rb") else { return nil }
            defer { fclose(file) }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = fread(&buffer, 1, buffer.count, file)
                if count <= 0 { break }
                bytes += buffer[0..<count]
            }
            return bytes
        }
    }
#endif
