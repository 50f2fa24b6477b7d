import EdgeConfig
import Testing

/// `ca_file = ""` is how many write "unset" in TOML: the error says how to really unset it.
@Suite struct EmptyOptionalValueTests {
    @Test(arguments: [
        ("api", "ca_file", "the system trust store"),
        ("mqtt", "ca_file", "no TLS"),
        ("mqtt", "password_file", "no password"),
        ("modem", "at_port", "the board profile's port"),
    ])
    func anEmptyOptionalValueSaysToRemoveTheLine(section: String, key: String, unset: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = try directory.write("edge.toml", "[\(section)]\n\(key) = \"\"\n", mode: 0o644)
        let check = ConfigurationCheck.run(path: path, environment: [:])
        #expect(!check.isValid)
        let expected = "\(path):2: \(section).\(key): the value is empty; remove the line to get the default (\(unset))"
        #expect(check.lines.first == expected, "\(check.lines)")
    }
}
