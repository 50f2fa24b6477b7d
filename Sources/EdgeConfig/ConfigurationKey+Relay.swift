import EdgeCommon

/// The kinds of value only the relay's file has: an address (`relay.listen`), a list of addresses
/// (`mqtt.hosts`) and a duration that may be `"off"` (`relay.poll_interval`).
extension ConfigurationKey {
    static func address(
        _ section: String, _ name: String, _ keyPath: Path<HostAndPort>, examplePort: Int, _ summary: String
    ) -> ConfigurationKey {
        ConfigurationKey(
            section: section, name: name, type: "\"host:port\"", summary: summary, unsetMeaning: nil,
            assign: { value, configuration in
                store(ValueReader.string(value).flatMap { Validators.hostAndPort($0, example: examplePort) }) {
                    configuration[keyPath: keyPath] = $0
                }
            },
            render: { quoted($0[keyPath: keyPath].description) }
        )
    }

    static func addresses(
        _ section: String, _ name: String, _ keyPath: Path<[HostAndPort]>, examplePort: Int, unset: String,
        _ summary: String
    ) -> ConfigurationKey {
        ConfigurationKey(
            section: section, name: name, type: "array of \"host:port\"", summary: summary, unsetMeaning: unset,
            assign: { value, configuration in
                store(ValueReader.addresses(value, examplePort: examplePort)) { configuration[keyPath: keyPath] = $0 }
            },
            render: { configuration in
                let addresses = configuration[keyPath: keyPath]
                guard !addresses.isEmpty else { return nil }
                return "[" + addresses.map { quoted($0.description) }.joined(separator: ", ") + "]"
            }
        )
    }

    /// A duration, or the string `"off"` stored as nil.
    static func durationOrOff(
        _ section: String, _ name: String, _ keyPath: Path<Duration?>, offMeaning: String,
        check: @escaping @Sendable (Duration) -> Message? = { _ in nil }, _ summary: String
    ) -> ConfigurationKey {
        ConfigurationKey(
            section: section, name: name, type: "duration or \"off\"", summary: summary + " \"off\": \(offMeaning).",
            unsetMeaning: nil,
            assign: { value, configuration in
                if case .string(let text) = value, text.lowercased() == "off" {
                    configuration[keyPath: keyPath] = nil
                    return nil
                }
                let read = ValueReader.duration(value).mapError { Message($0.text + ", or \"off\"") }
                return store(read, check: check) { configuration[keyPath: keyPath] = $0 }
            },
            render: { configuration in quoted(configuration[keyPath: keyPath].map(DurationText.format) ?? "off") }
        )
    }
}

extension ValueReader {
    /// A non-empty array of distinct `"host:port"` strings.
    static func addresses(_ value: ConfigurationValue, examplePort: Int) -> Result<[HostAndPort], Message> {
        let example = "[\"nats-1:\(examplePort)\", \"nats-2:\(examplePort)\"]"
        guard case .array(let elements) = value else {
            if case .string(let text) = value {
                return .failure("expected an array of \"host:port\" strings, found a string; write [\(quoted(text))]")
            }
            return .failure("expected an array of \"host:port\" strings such as \(example), found \(value.typeName)")
        }
        guard !elements.isEmpty else {
            return .failure("the list is empty; name the nodes (\(example)), or remove the key to use host and port")
        }
        var addresses: [HostAndPort] = []
        for (index, element) in elements.enumerated() {
            let position = "entry \(index + 1)"
            guard case .string(let text) = element else {
                return .failure("\(position) is \(element.typeName); each entry is a \"host:port\" string")
            }
            switch Validators.hostAndPort(text, example: examplePort) {
            case .failure(let message): return .failure("\(position): \(message.text)")
            case .success(let address):
                if addresses.contains(address) {
                    return .failure("\(position): \(quoted(address.description)) is listed twice")
                }
                addresses.append(address)
            }
        }
        return .success(addresses)
    }
}
