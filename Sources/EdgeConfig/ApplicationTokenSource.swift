/// Finds the emnify application token, first match wins:
/// 1. the environment variable `EMNIFY_APPLICATION_TOKEN` (ignored when empty),
/// 2. the systemd credential `$CREDENTIALS_DIRECTORY/application-token` (`LoadCredential=`),
/// 3. the file `api.token_file`, which must not be readable or writable by group or others.
///
/// The environment is a parameter so that tests need not change the process's.
public enum ApplicationTokenSource {
    public static let environmentVariable = "EMNIFY_APPLICATION_TOKEN"
    public static let credentialName = "application-token"

    public static func resolve(
        api: APIConfig, environment: [String: String]
    ) throws(SecretError) -> Secret {
        let found = try SecretLookup.find(
            variable: environmentVariable, credential: credentialName, file: api.tokenFile, environment: environment)
        guard let found else { throw .applicationTokenMissing(tokenFile: api.tokenFile) }
        return found
    }
}

/// Secret files: `api.token_file`, `relay.webhook_token_file` and `mqtt.password_file`.
public enum SecretFile {
    /// The secret in `path` with its permission finding; nil when there is no such file.
    public static func read(_ path: String) throws(SecretError) -> Secret? {
        switch TextFile.load(path, limit: 64 * 1024) {
        case .success(let file):
            let source = SecretSource.file(path: path)
            let value = try SecretLookup.checked(file.text, source: source)
            let finding = PermissionFinding.check(path: path, mode: file.mode)
            return Secret(value: value, source: source, permissionFinding: finding)
        case .failure(.notFound):
            return nil
        case .failure(let failure):
            throw .unreadable(path: path, reason: failure.reason)
        }
    }

    /// The broker password from `mqtt.password_file`; nil when the key is not set.
    public static func mqttPassword(_ mqtt: MQTTConfig) throws(SecretError) -> Secret? {
        guard let path = mqtt.passwordFile else { return nil }
        guard let secret = try read(path) else { throw .passwordFileMissing(path: path) }
        return secret
    }
}
