/// The lookup both tokens share (`ApplicationTokenSource`, `WebhookTokenSource`): an environment
/// variable (ignored when empty), then a systemd credential, then a file.
enum SecretLookup {
    /// nil when none of the three is there.
    static func find(
        variable: String, credential: String, file: String, environment: [String: String]
    ) throws(SecretError) -> Secret? {
        if let value = environment[variable], !trimmed(value).isEmpty {
            let source = SecretSource.environment(variable: variable)
            return Secret(value: try checked(value, source: source), source: source)
        }
        if let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty {
            let path = directory.hasSuffix("/") ? directory + credential : directory + "/" + credential
            switch TextFile.load(path, limit: 64 * 1024) {
            case .success(let file):
                // systemd makes credentials private to the service: no mode check.
                let source = SecretSource.credential(path: path)
                return Secret(value: try checked(file.text, source: source), source: source)
            case .failure(.notFound):
                break
            case .failure(let failure):
                throw .unreadable(path: path, reason: failure.reason)
            }
        }
        return try SecretFile.read(file)
    }

    /// The secret in `raw`, trimmed; an error when it is empty or more than one word.
    static func checked(_ raw: String, source: SecretSource) throws(SecretError) -> String {
        let value = trimmed(raw)
        guard !value.isEmpty else { throw .empty(source) }
        guard !value.contains(where: { $0.isWhitespace }) else { throw .malformed(source) }
        return value
    }

    static func trimmed(_ text: String) -> String {
        String(Substring(text).drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
