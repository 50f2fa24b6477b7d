/// Finds the relay's webhook token, the secret emnify's Data Streamer sends as
/// `Authorization: Bearer <secret>` (a header of the data stream; no signature is documented, so
/// it is the webhook's only authentication). First match wins, as for the application token:
/// 1. the environment variable `EMNIFY_WEBHOOK_TOKEN` (ignored when empty),
/// 2. the systemd credential `$CREDENTIALS_DIRECTORY/webhook-token` (`LoadCredential=`),
/// 3. the file `relay.webhook_token_file`, which must not be readable or writable by group or others.
///
/// The token must be at least `minimumLength` characters of a bearer token's alphabet (RFC 6750
/// b64token), so that it is hard to guess and the Data Streamer's header carries it unchanged.
public enum WebhookTokenSource {
    public static let environmentVariable = "EMNIFY_WEBHOOK_TOKEN"
    public static let credentialName = "webhook-token"
    public static let minimumLength = 16

    public static func resolve(
        relay: RelayConfig, environment: [String: String]
    ) throws(SecretError) -> Secret {
        let found = try SecretLookup.find(
            variable: environmentVariable, credential: credentialName, file: relay.webhookTokenFile,
            environment: environment)
        guard let found else { throw .webhookTokenMissing(tokenFile: relay.webhookTokenFile) }
        guard isBearerToken(found.value) else { throw .notABearerToken(found.source) }
        guard found.value.count >= minimumLength else { throw .tooShort(found.source, minimum: minimumLength) }
        return found
    }

    /// `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
    static func isBearerToken(_ value: String) -> Bool {
        let body = value.reversed().drop(while: { $0 == "=" })
        return !body.isEmpty
            && body.allSatisfy { character in
                character.isASCII && (character.isLetter || character.isNumber || "-._~+/".contains(character))
            }
    }
}
